//! Seed corpora for the cargo-fuzz targets, made of stored cases (regression cases, shrunk
//! findings): a case's input seeds the target whose generator made the case, and a valid
//! module seeds `mutate`, whose inputs are modules.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use wasmdiff_cases::Case;
use wasmdiff_engines::{Limits, outcome::fnv1a};
use wasmdiff_gen::{Generator, Plan};
use wasmdiff_oracle::DivergenceKind;

use crate::differential::{Differential, Target};

/// Generators of each target, made once for many cases (on the target's default lineup, as
/// the fuzz target has it: the lineup decides which features byte 0 picks).
#[derive(Default)]
pub struct SeedSorter {
    generators: Vec<(Target, Differential)>,
}

impl SeedSorter {
    fn generator(&mut self, target: Target) -> anyhow::Result<&Differential> {
        if !self.generators.iter().any(|(t, _)| *t == target) {
            let differential =
                Differential::for_target(&target.default_engines(), Limits::default(), target)?;
            self.generators.push((target, differential));
        }
        Ok(&self
            .generators
            .iter()
            .find(|(t, _)| *t == target)
            .unwrap()
            .1)
    }

    /// The fuzz inputs `case` gives, each with the target it is for: its input, for the target
    /// whose generator made it (its plan's, or `mutate`'s for a mutated seed), if that input still
    /// gives a test case from the same generator (a shrunk case's input makes the bigger module
    /// it was shrunk from, or a smaller one: a seed near the bug either way); and a valid module
    /// with calls, for `mutate`, whose inputs are modules.
    ///
    /// A case whose divergence no known bug explains gives nothing: a fuzz target stops at
    /// such an input, so as a seed it would end every run before fuzzing began.
    pub fn seeds(&mut self, case: &Case) -> anyhow::Result<Vec<(Target, Vec<u8>)>> {
        let mut seeds = Vec::new();
        let stops_a_target = case
            .report
            .verdict
            .divergence()
            .is_some_and(|d| d.kind != DivergenceKind::Portability)
            && case.report.known_bugs.is_empty();
        if stops_a_target {
            return Ok(seeds);
        }
        let target = match case.report.generator {
            Generator::MutatedSeed => Some(Target::Mutate),
            Generator::File => None,
            _ => Some(Target::of(&case.report.plan)),
        };
        if let (Some(target), Some(input)) = (target, &case.input)
            && self
                .generator(target)?
                .generate(input)
                .is_ok_and(|made| made.generator == case.report.generator)
        {
            seeds.push((target, input.clone()));
            // The same bytes make the same filter and scenario, there run under every host.
            if target == Target::ProxyWasm {
                seeds.push((Target::ProxyHosts, input.clone()));
            }
        }
        if matches!(case.report.plan, Plan::Calls(_))
            && wasmdiff_gen::plan::exported_functions(&case.module).is_ok()
        {
            seeds.push((Target::Mutate, case.module.clone()));
        }
        Ok(seeds)
    }
}

/// Writes each seed as `root/<fuzz target>/<digest>` (libFuzzer's corpus layout, named by
/// content, so a seed is stored once however often it is written) and returns how many seeds
/// each target got.
pub fn write_seeds(
    root: &Path,
    seeds: &[(Target, Vec<u8>)],
) -> anyhow::Result<BTreeMap<&'static str, usize>> {
    let mut counts = BTreeMap::new();
    for (target, input) in seeds {
        let dir: PathBuf = root.join(target.fuzz_target());
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let file = dir.join(format!("{:016x}", fnv1a(input)));
        std::fs::write(&file, input).with_context(|| format!("cannot write {}", file.display()))?;
        *counts.entry(target.fuzz_target()).or_default() += 1;
    }
    Ok(counts)
}
