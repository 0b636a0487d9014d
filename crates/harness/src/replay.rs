//! Replaying stored cases, checking regression expectations, and bucketing cases by signature.

use std::collections::BTreeMap;

use anyhow::Context;
use wasmdiff_cases::{Case, EngineRecord, Expectation, Signature, describe};
use wasmdiff_engines::{EngineSpec, Limits};
use wasmdiff_oracle::Verdict;

use crate::differential::{Checked, Differential, Target};

/// The engines a case was recorded with that this build cannot run, each with why: not
/// built, or unavailable on this machine. A replay of such a case is skipped, and says so.
pub fn missing_engines(case: &Case) -> Vec<(String, String)> {
    case.report
        .engines
        .iter()
        .filter_map(|record| {
            let why = match wasmdiff_engines::all()
                .into_iter()
                .find(|s| s.name == record.name)
            {
                None => "not in this build".to_string(),
                Some(spec) => (spec.available)().err()?,
            };
            Some((record.name.clone(), why))
        })
        .collect()
}

/// The engine configurations a case was recorded with, or `engines` if given.
pub fn lineup(case: &Case, engines: Option<&str>) -> anyhow::Result<Vec<&'static EngineSpec>> {
    let list = match engines {
        Some(list) => list.to_string(),
        None => case
            .report
            .engines
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>()
            .join(","),
    };
    wasmdiff_engines::parse_list_for(&list, &case.report.plan)
        .with_context(|| format!("case {}", case.dir.display()))
}

/// Runs cases, keeping one [`Differential`] per lineup.
#[derive(Default)]
pub struct Replayer {
    lineups: BTreeMap<(Target, Vec<&'static str>), Differential>,
}

/// A replayed case.
pub struct Replayed {
    pub checked: Checked,
    pub names: Vec<&'static str>,
    /// The signature of the divergence now observed, if any.
    pub signature: Option<Signature>,
}

impl Replayer {
    pub fn replay(
        &mut self,
        case: &Case,
        specs: &[&'static EngineSpec],
    ) -> anyhow::Result<Replayed> {
        let names: Vec<&'static str> = specs.iter().map(|s| s.name).collect();
        let target = Target::of(&case.report.plan);
        let differential = match self.lineups.entry((target, names.clone())) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(Differential::for_target(specs, Limits::default(), target)?)
            }
        };
        let checked = differential.check_case(case.test_case());
        let signature = Signature::of(
            &checked.verdict,
            &names,
            &checked.executions,
            &checked.case.module,
            &checked.case.plan,
        );
        Ok(Replayed {
            checked,
            names,
            signature,
        })
    }
}

/// The expectation a case shows now: agreement, or this divergence pinned to the versions of
/// the engines it ran on.
pub fn expectation_now(replayed: &Replayed, specs: &[&'static EngineSpec]) -> Expectation {
    match (&replayed.checked.verdict, &replayed.signature) {
        (Verdict::Diverge(_), Some(signature)) => Expectation::Diverge {
            signature: signature.clone(),
            pinned: specs.iter().map(|s| EngineRecord::of(s)).collect(),
            known_bugs: replayed
                .checked
                .known_bugs
                .iter()
                .map(|b| b.id.to_string())
                .collect(),
        },
        _ => Expectation::Agree,
    }
}

/// Whether a replay meets a stored expectation; the error says what differs and what to do.
pub fn check_expectation(expectation: &Expectation, replayed: &Replayed) -> Result<(), String> {
    match expectation {
        Expectation::Agree => match &replayed.checked.verdict {
            Verdict::Agree => Ok(()),
            _ => Err(format!(
                "expected every engine to agree, got: {}",
                replayed.signature.as_ref().map_or_else(
                    || describe(
                        &replayed.checked.verdict,
                        &replayed.names,
                        &replayed.checked.case.plan,
                        &replayed.checked.executions
                    ),
                    Signature::to_string
                )
            )),
        },
        Expectation::Diverge {
            signature,
            pinned,
            known_bugs,
        } => {
            for record in pinned {
                let current = wasmdiff_engines::all()
                    .into_iter()
                    .find(|s| s.name == record.name);
                let Some(spec) = current else {
                    return Err(format!("engine {} is not in this build", record.name));
                };
                let version = (spec.version)();
                if version != record.version {
                    return Err(format!(
                        "{} is now {} {version}, this case was pinned to {}: replay it (`wasmdiff replay`) and update its \
                         expectation (`wasmdiff promote --force`)",
                        record.name, spec.engine, record.version
                    ));
                }
            }
            match &replayed.signature {
                Some(now) if now != signature => {
                    return Err(format!("expected `{signature}`, got `{now}`"));
                }
                None => {
                    return Err(format!(
                        "expected `{signature}`, but the engines no longer diverge"
                    ));
                }
                Some(_) => {}
            }
            let explained: Vec<&str> = replayed.checked.known_bugs.iter().map(|b| b.id).collect();
            if explained != *known_bugs {
                return Err(format!(
                    "expected known bugs [{}] to explain it, explained by [{}]",
                    known_bugs.join(", "),
                    explained.join(", ")
                ));
            }
            Ok(())
        }
    }
}

/// Cases with the same signature: one bug.
pub struct Bucket {
    /// `None` for cases that do not diverge.
    pub signature: Option<Signature>,
    /// Whether the cases are unshrunk, so grouped by their coarse signature.
    pub coarse: bool,
    /// Cases in the bucket, smallest module first.
    pub cases: Vec<Case>,
}

/// Groups cases by signature, biggest bucket first. Shrunk cases carry a full signature;
/// unshrunk ones are grouped by their coarse signature, marked as such.
pub fn triage(cases: Vec<Case>) -> Vec<Bucket> {
    let mut buckets: BTreeMap<(Option<Signature>, bool), Vec<Case>> = BTreeMap::new();
    for case in cases {
        let key = match (&case.report.signature, &case.report.shrink) {
            (Some(signature), Some(_)) => (Some(signature.clone()), false),
            (Some(signature), None) => (Some(signature.coarse()), true),
            (None, _) => (None, false),
        };
        buckets.entry(key).or_default().push(case);
    }
    let mut buckets: Vec<Bucket> = buckets
        .into_iter()
        .map(|((signature, coarse), mut cases)| {
            cases.sort_by_key(|c| (c.module.len(), c.dir.clone()));
            Bucket {
                signature,
                coarse,
                cases,
            }
        })
        .collect();
    buckets.sort_by(|a, b| {
        b.cases
            .len()
            .cmp(&a.cases.len())
            .then_with(|| a.signature.cmp(&b.signature))
    });
    buckets
}
