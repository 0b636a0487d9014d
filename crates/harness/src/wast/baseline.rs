//! The spec suite's expected failures per engine and version (`corpus/wast-baseline.json`): a
//! run is checked against it, so that CI fails on a change (a new failure, or one gone), not
//! on long-known non-conformance; an engine upgrade asks for the baseline to be looked at again.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::Matrix;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub engines: BTreeMap<String, EngineBaseline>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineBaseline {
    pub version: String,
    /// Per file, the lines of the commands that fail.
    pub failures: BTreeMap<String, Vec<usize>>,
}

impl Baseline {
    pub fn load(path: &Path) -> anyhow::Result<Baseline> {
        let json =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_slice(&json)
            .with_context(|| format!("{} is not a spec-suite baseline", path.display()))
    }

    /// `self` with the matrix's engines and files as they failed now (other entries kept).
    pub fn updated(mut self, matrix: &Matrix) -> Baseline {
        for (engine, name) in matrix.engines.iter().enumerate() {
            let entry = self.engines.entry(name.clone()).or_default();
            if entry.version != matrix.versions[engine] {
                entry.failures.clear();
                entry.version = matrix.versions[engine].clone();
            }
            for (file, cells) in &matrix.files {
                match cells[engine].failed_lines.is_empty() {
                    true => entry.failures.remove(file),
                    false => entry
                        .failures
                        .insert(file.clone(), cells[engine].failed_lines.clone()),
                };
            }
        }
        self
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let mut json = serde_json::to_string_pretty(self)?;
        json.push('\n');
        std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))
    }

    /// How the matrix differs from the baseline, for its engines and files: one line each.
    pub fn differences(&self, matrix: &Matrix) -> Vec<String> {
        let mut differences = Vec::new();
        for (engine, name) in matrix.engines.iter().enumerate() {
            let version = &matrix.versions[engine];
            let Some(entry) = self.engines.get(name) else {
                differences.push(format!("{name}: not in the baseline"));
                continue;
            };
            if &entry.version != version {
                differences.push(format!(
                    "{name} is now {version}, the baseline has {}: look at its failures again and write the baseline",
                    entry.version
                ));
                continue;
            }
            for (file, cells) in &matrix.files {
                let now = &cells[engine].failed_lines;
                let before = entry.failures.get(file).map_or(&[][..], Vec::as_slice);
                let new: Vec<String> = now
                    .iter()
                    .filter(|l| !before.contains(l))
                    .map(usize::to_string)
                    .collect();
                let gone: Vec<String> = before
                    .iter()
                    .filter(|l| !now.contains(l))
                    .map(usize::to_string)
                    .collect();
                if !new.is_empty() {
                    differences.push(format!(
                        "{name}: {file}: now fails at lines {}",
                        new.join(", ")
                    ));
                }
                if !gone.is_empty() {
                    differences.push(format!(
                        "{name}: {file}: now passes at lines {} (the baseline expects failures)",
                        gone.join(", ")
                    ));
                }
            }
        }
        differences
    }
}
