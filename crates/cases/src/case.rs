//! A case on disk: `module.wasm`, `report.json` (the calls, what each engine observed, the
//! verdict, its signature, an expectation for stored regressions), `module.wat` for people and
//! `input.bin` when a generator made it. A case replays from `module.wasm` and the calls alone,
//! without the generator, so stored cases survive generator upgrades. A shrunk case lives in
//! its finding's `shrunk/` directory.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use wasmdiff_gen::TestCase;

use crate::report::Report;
use crate::store::{INPUT_FILE, MODULE_FILE, REPORT_FILE};

/// Where a finding keeps its shrunk case.
pub const SHRUNK_DIR: &str = "shrunk";

#[derive(Clone, Debug)]
pub struct Case {
    pub dir: PathBuf,
    pub module: Vec<u8>,
    pub input: Option<Vec<u8>>,
    pub report: Report,
}

impl Case {
    /// Reads the case in `dir`; a missing or corrupt file is an error naming it.
    pub fn load(dir: &Path) -> anyhow::Result<Case> {
        if !dir.is_dir() {
            bail!("{} is not a case directory", dir.display());
        }
        let report_path = dir.join(REPORT_FILE);
        let json = fs::read(&report_path)
            .with_context(|| format!("cannot read {}", report_path.display()))?;
        let report: Report = serde_json::from_slice(&json)
            .with_context(|| format!("{} is not a valid case report", report_path.display()))?;
        let module_path = dir.join(MODULE_FILE);
        let module = fs::read(&module_path)
            .with_context(|| format!("cannot read {}", module_path.display()))?;
        if !module.starts_with(b"\0asm") {
            bail!("{} is not a Wasm binary", module_path.display());
        }
        let input_path = dir.join(INPUT_FILE);
        let input = match fs::read(&input_path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", input_path.display()));
            }
        };
        Ok(Case {
            dir: dir.to_path_buf(),
            module,
            input,
            report,
        })
    }

    /// The module and its calls, ready to run.
    pub fn test_case(&self) -> TestCase {
        TestCase {
            module: self.module.clone(),
            plan: self.report.plan.clone(),
            generator: self.report.generator,
        }
    }

    /// The directory's name, for listings.
    pub fn name(&self) -> String {
        let name = |p: &Path| {
            p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        };
        match self.dir.file_name() {
            // `finding/shrunk` reads better than `shrunk`.
            Some(n) if n == SHRUNK_DIR => self
                .dir
                .parent()
                .map_or_else(|| name(&self.dir), |p| format!("{}/{SHRUNK_DIR}", name(p))),
            _ => name(&self.dir),
        }
    }
}

/// Whether `dir` holds a case.
pub fn is_case(dir: &Path) -> bool {
    dir.join(REPORT_FILE).is_file()
}

/// Which version of a finding [`find_cases`] returns.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// Its shrunk case when there is one: the reproducer to read and replay.
    Shrunk,
    /// The case as found: what shrinking starts from.
    Original,
}

/// The cases at `path`: the case itself, or every case below a directory of cases, in name
/// order. Temporary directories are skipped.
pub fn find_cases(path: &Path, version: Version) -> anyhow::Result<Vec<PathBuf>> {
    if is_case(path) {
        let shrunk = path.join(SHRUNK_DIR);
        let use_shrunk = version == Version::Shrunk && is_case(&shrunk);
        return Ok(vec![if use_shrunk {
            shrunk
        } else {
            path.to_path_buf()
        }]);
    }
    let entries = fs::read_dir(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    dirs.sort();
    let mut cases = Vec::new();
    for dir in dirs {
        cases.extend(find_cases(&dir, version)?);
    }
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wasmdiff-case-{name}-{}", std::process::id()));
        fs::remove_dir_all(&dir).ok();
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn error(dir: &Path) -> String {
        format!("{:#}", Case::load(dir).unwrap_err())
    }

    #[test]
    fn corrupt_case_directories_give_errors_naming_the_file() {
        let dir = scratch("corrupt");
        assert!(error(&dir).contains("report.json"), "{}", error(&dir));
        fs::write(dir.join(REPORT_FILE), b"{\"summary\": ").unwrap();
        assert!(
            error(&dir).contains("report.json is not a valid case report"),
            "{}",
            error(&dir)
        );
        fs::write(dir.join(REPORT_FILE), b"{\"summary\": \"x\"}").unwrap();
        assert!(
            error(&dir).contains("report.json is not a valid case report"),
            "{}",
            error(&dir)
        );
        assert!(error(&dir.join("missing")).contains("is not a case directory"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_case_with_a_bad_module_file_names_it() {
        let dir = scratch("module");
        let report = include_str!("../../../corpus/regressions/wasmi-2-0-0-select-eqz/report.json");
        fs::write(dir.join(REPORT_FILE), report).unwrap();
        assert!(error(&dir).contains("module.wasm"), "{}", error(&dir));
        fs::write(dir.join(MODULE_FILE), b"(module)").unwrap();
        assert!(
            error(&dir).contains("module.wasm is not a Wasm binary"),
            "{}",
            error(&dir)
        );
        fs::write(dir.join(MODULE_FILE), b"\0asm\x01\0\0\0").unwrap();
        let case = Case::load(&dir).unwrap();
        assert_eq!(case.input, None);
        assert_eq!(case.test_case().plan, case.report.plan);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn finding_directories_are_searched_in_order_preferring_shrunk_versions() {
        let dir = scratch("find");
        let report = include_str!("../../../corpus/regressions/wasmi-2-0-0-select-eqz/report.json");
        for case in ["b", "a", "a/shrunk", ".tmp-c"] {
            fs::create_dir_all(dir.join(case)).unwrap();
            fs::write(dir.join(case).join(REPORT_FILE), report).unwrap();
        }
        let relative = |paths: Vec<PathBuf>| -> Vec<String> {
            paths
                .iter()
                .map(|p| p.strip_prefix(&dir).unwrap().display().to_string())
                .collect()
        };
        assert_eq!(
            relative(find_cases(&dir, Version::Shrunk).unwrap()),
            ["a/shrunk", "b"]
        );
        assert_eq!(
            relative(find_cases(&dir, Version::Original).unwrap()),
            ["a", "b"]
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
