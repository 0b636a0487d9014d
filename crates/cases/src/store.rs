//! Case directories, written crash-safe: files go to a temporary directory, are synced, and
//! the directory is renamed into place, so a case is either whole or absent.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use wasmdiff_engines::outcome::fnv1a;
use wasmdiff_oracle::{Step, Verdict};

use crate::report::Report;

pub const INPUT_FILE: &str = "input.bin";
pub const MODULE_FILE: &str = "module.wasm";
pub const WAT_FILE: &str = "module.wat";
pub const REPORT_FILE: &str = "report.json";

/// A stable directory name: what diverged, where, and a digest of the reproducer.
pub fn finding_name(verdict: &Verdict, reproducer: &[u8]) -> String {
    let what = match verdict {
        Verdict::Diverge(d) => {
            let index = match &d.step {
                Step::Call(i) | Step::Event(i) => i.to_string(),
                _ => String::new(),
            };
            format!("{}-{}{index}", d.kind, d.step.kind())
        }
        Verdict::Inconclusive { .. } => "inconclusive".to_string(),
        Verdict::Agree => "agree".to_string(),
    };
    format!("{what}-{:016x}", fnv1a(reproducer))
}

/// The module as text, or a comment saying why it cannot be printed.
pub fn module_text(module: &[u8]) -> String {
    wasmprinter::print_bytes(module)
        .unwrap_or_else(|e| format!(";; wasmprinter cannot print this module: {e}\n"))
}

fn write_synced(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file =
        fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Whether [`write_case`] replaces an existing case directory of the same name.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Keep it: a finding of the same name is the same finding.
    Keep,
    /// Replace it (a new shrink result).
    Replace,
}

/// Writes a case directory `dir/name` with the input (if any), the module in binary and text
/// form, and the report.
pub fn write_case(
    dir: &Path,
    name: &str,
    input: Option<&[u8]>,
    module: &[u8],
    report: &Report,
    existing: Existing,
) -> anyhow::Result<PathBuf> {
    static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);
    let target = dir.join(name);
    if target.is_dir() && existing == Existing::Keep {
        return Ok(target);
    }
    let tmp = dir.join(format!(
        ".tmp-{name}-{}-{}",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir_all(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    if let Some(input) = input {
        write_synced(&tmp.join(INPUT_FILE), input)?;
    }
    write_synced(&tmp.join(MODULE_FILE), module)?;
    write_synced(&tmp.join(WAT_FILE), module_text(module).as_bytes())?;
    let json = serde_json::to_vec_pretty(report).context("cannot serialize the report")?;
    write_synced(&tmp.join(REPORT_FILE), &json)?;
    if existing == Existing::Replace && target.is_dir() {
        fs::remove_dir_all(&target)
            .with_context(|| format!("cannot replace {}", target.display()))?;
    }
    match fs::rename(&tmp, &target) {
        Ok(()) => Ok(target),
        // Another worker saved the same finding first.
        Err(_) if target.is_dir() => {
            fs::remove_dir_all(&tmp).ok();
            Ok(target)
        }
        Err(e) => {
            Err(e).with_context(|| format!("cannot move the finding to {}", target.display()))
        }
    }
}
