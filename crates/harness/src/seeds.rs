//! Seed modules for mutation campaigns: the modules of the spec test suite's scripts (with
//! `spectest` imports defined in) and the `.wasm` files below a directory (a corpus of
//! regression cases, say).

use std::path::Path;

use anyhow::Context;

use crate::wast::{script, spectest};

/// Every seed module below `path` (a file or a directory): valid, without imports, each
/// once, in path order (and script order within a script).
pub fn load(path: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut files = Vec::new();
    collect(path, &mut files)?;
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    for file in files {
        let modules = match file.extension().and_then(|e| e.to_str()) {
            Some("wast") => match script::read(&file) {
                Ok(script) => script
                    .commands
                    .into_iter()
                    .filter_map(|c| match c.kind {
                        script::CommandKind::Module { bytes, .. } => spectest::link(&bytes).ok(),
                        _ => None,
                    })
                    .collect(),
                // A script the `wast` crate cannot read gives no seeds; `wasmdiff wast` says why.
                Err(_) => Vec::new(),
            },
            Some("wasm") => vec![
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?,
            ],
            _ => Vec::new(),
        };
        for module in modules {
            if wasmdiff_gen::plan::exported_functions(&module).is_ok() && !seeds.contains(&module) {
                seeds.push(module);
            }
        }
    }
    Ok(seeds)
}

fn collect(path: &Path, files: &mut Vec<std::path::PathBuf>) -> anyhow::Result<()> {
    if path.is_file() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    let entries =
        std::fs::read_dir(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for entry in entries {
        collect(&entry, files)?;
    }
    Ok(())
}
