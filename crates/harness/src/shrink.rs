//! Shrinking a divergent case to a minimal reproducer, deterministically.
//!
//! A candidate is kept only if it shows the same divergence: the same coarse signature (which
//! engines disagree, and the kinds of outcome on each side) and the same known-bug explanation
//! (none, for a new finding), so a new bug never shrinks into a known one; and never one whose
//! divergence NaN canonicalization removes (NaN bits the spec leaves nondeterministic). Passes, repeated to
//! a fixpoint or until the budget is spent:
//! 1. the input bytes (chunks removed, zeroed, bytes lowered), each candidate regenerated: the
//!    result stays a case the generator can produce;
//! 2. plan parts that are not needed (calls, or scenario streams, headers, chunks…), dropped;
//! 3. the module, with wasm-shrink (seeded: deterministic): unused items, simpler constants;
//! 4. runs of instructions deleted from the diverging functions wherever the module still
//!    validates (wasm-shrink's mutators leave dead code and unneeded arithmetic behind);
//! 5. arguments set to zero where that keeps the divergence.
//!
//! The budget is counted in evaluations, so the result is the same on any machine; a wall-clock
//! limit only guards against pathological cases, and the record says which limit ended it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wasmdiff_cases::signature::{diverging_exports, diverging_functions, function_instructions};
use wasmdiff_cases::{
    Case, Existing, Report, SHRUNK_DIR, ShrinkRecord, Signature, Size, write_case,
};
use wasmdiff_engines::rewrite;
use wasmdiff_gen::{Generator, Plan, TestCase, Value};
use wasmdiff_oracle::DivergenceKind;

use crate::differential::{Checked, Differential};

#[derive(Clone, Debug)]
pub struct ShrinkBudget {
    /// Candidates to try at most (each runs every engine).
    pub evaluations: usize,
    /// A safety net for pathological cases; reaching it makes the result machine-dependent.
    pub time: Duration,
    /// Set from outside to stop early (a second Ctrl-C): the case found so far is kept.
    pub interrupt: Option<Arc<AtomicBool>>,
}

impl Default for ShrinkBudget {
    fn default() -> ShrinkBudget {
        ShrinkBudget {
            evaluations: 4000,
            time: Duration::from_secs(180),
            interrupt: None,
        }
    }
}

/// A shrunk case and how it was shrunk.
pub struct Shrunk {
    pub checked: Checked,
    /// The smallest input found that shows the divergence through the generator.
    pub input: Option<Vec<u8>>,
    pub record: ShrinkRecord,
}

/// The seed wasm-shrink's mutations are drawn from: fixed, for determinism.
const WASM_SHRINK_SEED: u64 = 42;

struct Shrinker<'a> {
    differential: &'a mut Differential,
    coarse: Signature,
    known: Vec<&'static str>,
    budget: ShrinkBudget,
    /// Evaluations the current pass may reach (the input passes leave half to the others).
    pass_limit: usize,
    start: Instant,
    evaluations: usize,
}

impl Shrinker<'_> {
    fn exhausted(&self) -> Option<&'static str> {
        if self.evaluations >= self.budget.evaluations.min(self.pass_limit) {
            Some("evaluation budget")
        } else if self.start.elapsed() >= self.budget.time {
            Some("time budget")
        } else if self
            .budget
            .interrupt
            .as_ref()
            .is_some_and(|i| i.load(Ordering::Relaxed))
        {
            Some("interrupted")
        } else {
            None
        }
    }

    /// Whether `case` shows the divergence being shrunk.
    fn interesting(&mut self, case: &TestCase) -> bool {
        if self.exhausted().is_some() {
            return false;
        }
        self.evaluations += 1;
        let (executions, verdict) = self.differential.run(case);
        let names = self.differential.lineup().names();
        if Signature::coarse_of(&verdict, &names, &executions).as_ref() != Some(&self.coarse) {
            return false;
        }
        // Spec-permitted NaN nondeterminism (a candidate that lost the canonicalization around
        // a NaN, say) is no divergence to keep.
        let (verdict, known) = self.differential.explain(case, &executions, verdict);
        let known: Vec<&str> = known.iter().map(|b| b.id).collect();
        verdict.divergence().is_some() && known == self.known
    }

    /// Takes `candidate` in place of `input` (and its case) if it makes a smaller interesting
    /// case: a smaller module first, then a shorter input.
    fn try_input(&mut self, candidate: Vec<u8>, input: &mut Vec<u8>, case: &mut TestCase) -> bool {
        let Ok(candidate_case) = self.differential.generate(&candidate) else {
            return false;
        };
        if (candidate_case.module.len(), candidate.len()) >= (case.module.len(), input.len())
            || !self.interesting(&candidate_case)
        {
            return false;
        }
        *input = candidate;
        *case = candidate_case;
        true
    }

    /// Input-level passes; returns the smallest interesting input and its case.
    fn shrink_input(&mut self, mut input: Vec<u8>, mut case: TestCase) -> (Vec<u8>, TestCase) {
        let measure = |case: &TestCase, input: &[u8]| (case.module.len(), input.len());
        loop {
            let before = measure(&case, &input);
            let mut size = input.len() / 2;
            while size >= 1 {
                let mut at = 0;
                while at + size <= input.len() && self.exhausted().is_none() {
                    let mut candidate = input.clone();
                    candidate.drain(at..at + size);
                    if !self.try_input(candidate, &mut input, &mut case) {
                        at += size;
                    }
                }
                size /= 2;
            }
            for at in 0..input.len() {
                for lower in [0, input[at] / 2, input[at].saturating_sub(1)] {
                    if lower < input[at] && self.exhausted().is_none() {
                        let mut candidate = input.clone();
                        candidate[at] = lower;
                        if self.try_input(candidate, &mut input, &mut case) {
                            break;
                        }
                    }
                }
            }
            if measure(&case, &input) == before || self.exhausted().is_some() {
                return (input, case);
            }
        }
    }

    /// Drops each part of the plan the divergence does not need, last first.
    fn simplify_plan(&mut self, case: &mut TestCase) {
        for index in (0..case.plan.simplifications().len()).rev() {
            let Some(plan) = case.plan.simplifications().into_iter().nth(index) else {
                continue;
            };
            let candidate = TestCase {
                plan,
                ..case.clone()
            };
            if self.interesting(&candidate) {
                *case = candidate;
            }
        }
    }

    /// Deletes runs of instructions from the diverging functions (all of them when the
    /// divergence names none), halving the run length down to one, wherever the module still
    /// validates and the divergence persists.
    fn delete_instructions(&mut self, case: &mut TestCase) {
        let (executions, verdict) = self.differential.run(case);
        let Some(divergence) = verdict.divergence() else {
            return;
        };
        let exports = diverging_exports(
            &divergence.step,
            &case.plan,
            &executions[divergence.classes[0][0]],
        );
        let lengths = rewrite::body_lengths(&case.module);
        // Invalid candidates cost no engine run but an encoding and a validation: on a large
        // module with no diverging function named, that adds up.
        let mut invalid_left = self.budget.evaluations;
        for body in diverging_functions(&case.module, exports.as_deref())
            .into_iter()
            .rev()
        {
            // The body's final `end` stays.
            let mut length = lengths[body] - 1;
            let mut run = length;
            while run >= 1 && invalid_left > 0 && self.exhausted().is_none() {
                let mut at = 0;
                while at + run <= length && invalid_left > 0 && self.exhausted().is_none() {
                    let kept = match rewrite::without_instructions(&case.module, body, at..at + run)
                    {
                        Some(module) => {
                            let candidate = TestCase {
                                module,
                                plan: case.plan.clone(),
                                generator: case.generator,
                            };
                            let kept = self.interesting(&candidate);
                            if kept {
                                *case = candidate;
                            }
                            kept
                        }
                        None => {
                            invalid_left -= 1;
                            false
                        }
                    };
                    if kept {
                        length -= run;
                    } else {
                        at += run;
                    }
                }
                run /= 2;
            }
        }
    }

    /// Sets each call argument to zero where the divergence persists: fewer values to read.
    fn zero_arguments(&mut self, case: &mut TestCase) {
        let positions: Vec<(usize, usize)> = case
            .plan
            .calls()
            .iter()
            .enumerate()
            .flat_map(|(call, c)| (0..c.args.len()).map(move |arg| (call, arg)))
            .collect();
        for (call, arg) in positions {
            let mut candidate = case.clone();
            let Plan::Calls(calls) = &mut candidate.plan else {
                return;
            };
            let value = &mut calls[call].args[arg];
            let zero = Value::zero(value.ty());
            if *value != zero {
                *value = zero;
                if self.interesting(&candidate) {
                    *case = candidate;
                }
            }
        }
    }

    /// wasm-shrink on the module, with half the remaining evaluation budget (the other half is
    /// for deleting instructions).
    fn shrink_module(&mut self, case: &mut TestCase) {
        let attempts = self
            .budget
            .evaluations
            .saturating_sub(self.evaluations)
            .div_ceil(2)
            .min(2000) as u32;
        if attempts == 0 {
            return;
        }
        let plan = case.plan.clone();
        let generator = case.generator;
        let shrunk = wasm_shrink::WasmShrink::default()
            .attempts(attempts)
            .seed(WASM_SHRINK_SEED)
            .run(case.module.clone(), |module: &[u8]| {
                let candidate = TestCase {
                    module: module.to_vec(),
                    plan: plan.clone(),
                    generator,
                };
                anyhow::Ok(self.interesting(&candidate))
            });
        // An error means wasm-shrink found nothing to do (or the module is beyond its
        // mutators): the case stays as it is.
        if let Ok(info) = shrunk
            && info.output.len() < case.module.len()
        {
            case.module = info.output;
        }
    }
}

/// How big a case is, as recorded before and after shrinking.
pub fn size(checked: &Checked, input: Option<&[u8]>) -> Size {
    let instructions = match checked.verdict.divergence() {
        Some(d) => {
            let exports = diverging_exports(
                &d.step,
                &checked.case.plan,
                &checked.executions[d.classes[0][0]],
            );
            let functions = function_instructions(&checked.case.module).unwrap_or_default();
            diverging_functions(&checked.case.module, exports.as_deref())
                .iter()
                .filter_map(|f| functions.get(*f))
                .map(Vec::len)
                .sum()
        }
        None => 0,
    };
    Size {
        module_bytes: checked.case.module.len(),
        instructions,
        plan: checked.case.plan.size(),
        input_bytes: input.map(<[u8]>::len),
    }
}

/// Shrinks `case` (and its generator `input`, if any) while it shows the same divergence on
/// `differential`'s engines.
pub fn shrink(
    differential: &mut Differential,
    case: &TestCase,
    input: Option<&[u8]>,
    budget: ShrinkBudget,
) -> anyhow::Result<Shrunk> {
    let original = differential.check_case(case.clone());
    let names = differential.lineup().names();
    let Some(coarse) = Signature::coarse_of(&original.verdict, &names, &original.executions) else {
        anyhow::bail!(
            "the case does not diverge on {}: nothing to shrink",
            names.join(", ")
        );
    };
    let from = size(&original, input);
    let known = original.known_bugs.iter().map(|b| b.id).collect();
    let mut shrinker = Shrinker {
        differential,
        coarse,
        known,
        pass_limit: budget.evaluations / 2,
        budget,
        start: Instant::now(),
        evaluations: 0,
    };
    let mut case = original.case.clone();
    let mut input = input.map(<[u8]>::to_vec);
    // An SDK filter that behaves differently between hosts is the filter its author wrote:
    // only its scenario shrinks (the input could regenerate another filter).
    let module_passes = !(shrinker.coarse.kind == DivergenceKind::Portability
        && case.generator == Generator::SdkFilter);
    if let Some(bytes) = input.clone()
        && case.generator.shrinks_by_input()
        && module_passes
    {
        let (bytes, regenerated) = shrinker.shrink_input(bytes, case.clone());
        // The module-level passes go on from the case the generator made for the smaller input.
        case = regenerated;
        input = Some(bytes);
    }
    shrinker.pass_limit = usize::MAX;
    loop {
        let before = (case.module.len(), case.plan.clone());
        shrinker.simplify_plan(&mut case);
        if module_passes {
            shrinker.shrink_module(&mut case);
            shrinker.delete_instructions(&mut case);
        }
        shrinker.simplify_plan(&mut case);
        shrinker.zero_arguments(&mut case);
        if (case.module.len(), case.plan.clone()) == before || shrinker.exhausted().is_some() {
            break;
        }
    }
    let ended_by = shrinker.exhausted().unwrap_or("fixpoint").to_string();
    let evaluations = shrinker.evaluations;
    let checked = differential.check_case(case);
    let record = ShrinkRecord {
        from,
        to: size(&checked, input.as_deref()),
        evaluations,
        ended_by,
    };
    Ok(Shrunk {
        checked,
        input,
        record,
    })
}

/// Shrinks a stored case on `differential` and writes the result as `shrunk/` next to it (a
/// shrunk case is shrunk again in place). Returns the shrunk case's directory and report.
pub fn shrink_stored(
    differential: &mut Differential,
    case: &Case,
    budget: ShrinkBudget,
) -> anyhow::Result<(PathBuf, Report)> {
    let shrunk = shrink(
        differential,
        &case.test_case(),
        case.input.as_deref(),
        budget,
    )?;
    let specs = differential.lineup().specs();
    let mut report = Report::new(
        &shrunk.checked.case,
        &specs,
        &shrunk.checked.executions,
        &shrunk.checked.verdict,
        case.report.origin.clone(),
    )
    .with_known_bugs(&shrunk.checked.known_bugs);
    report.shrink = Some(shrunk.record);
    let (parent, name) = match case.dir.file_name() {
        Some(name) if name == SHRUNK_DIR => {
            (case.dir.parent().unwrap_or(Path::new(".")), SHRUNK_DIR)
        }
        _ => (case.dir.as_path(), SHRUNK_DIR),
    };
    let dir = write_case(
        parent,
        name,
        shrunk.input.as_deref(),
        &shrunk.checked.case.module,
        &report,
        Existing::Replace,
    )?;
    Ok((dir, report))
}
