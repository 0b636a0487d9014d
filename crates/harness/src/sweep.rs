//! Running the corner sweep ([`wasmdiff_gen::sweep`]): a chunk on every engine at once,
//! compared call by call (each call is one tuple, independent of the others), then its
//! exported state. Every disagreement becomes a case of its one tuple (the one function, its
//! call) and is checked like any case: explained by a known bug or by NaN nondeterminism, or
//! a finding. Engines that lack a chunk's features sit out that chunk, so only its tuples.

use wasmdiff_engines::{CallOutcome, Execution};
use wasmdiff_gen::sweep::{self, Chunk};
use wasmdiff_gen::{GenerateError, Generator, Plan, TestCase};
use wasmdiff_oracle::{Step, Verdict, compare};

use crate::differential::{Checked, Differential};

/// What a chunk gave.
pub struct ChunkResult {
    /// Calls compared (two per tuple).
    pub calls: usize,
    pub agreed: usize,
    pub inconclusive: usize,
    /// Engines that sat the chunk out (it needs features they lack).
    pub sat_out: usize,
    pub disagreements: Vec<Disagreement>,
    /// The chunk's own run, for the engines' statistics.
    pub executions: Vec<Execution>,
}

/// A disagreement in a chunk, checked as a case of its own.
pub struct Disagreement {
    /// The instruction the chunk sweeps.
    pub instruction: &'static str,
    /// The call in the chunk; `None` when the chunk as a whole, or up to that call, is the
    /// case (a module-level disagreement, or one that needs the calls before it).
    pub call: Option<usize>,
    /// The check, which may find it explained: NaN bits the spec leaves open make it
    /// inconclusive, a known bug labels it.
    pub checked: Checked,
}

/// The test case of a whole chunk.
pub fn chunk_case(chunk: &Chunk) -> TestCase {
    TestCase {
        module: chunk.module.clone(),
        plan: Plan::Calls(chunk.calls.clone()),
        generator: Generator::Sweep,
    }
}

/// Runs chunk `index` of the sweep on `differential`'s engines. Where an engine's run stops
/// at an inconclusive call (a limit), the calls after it run again on fresh instances of
/// every engine, so that they are still compared.
pub fn check_chunk(
    differential: &mut Differential,
    index: usize,
) -> Result<ChunkResult, GenerateError> {
    let chunk = sweep::chunk(index)?;
    let mut result = ChunkResult {
        calls: chunk.calls.len(),
        agreed: 0,
        inconclusive: 0,
        sat_out: 0,
        disagreements: Vec::new(),
        executions: Vec::new(),
    };
    let mut first = 0;
    while first < chunk.calls.len() {
        let mut case = chunk_case(&chunk);
        case.plan = Plan::Calls(chunk.calls[first..].to_vec());
        let (executions, verdict) = differential.run(&case);
        if first == 0 {
            result.sat_out = executions
                .iter()
                .filter(|e| matches!(e, Execution::Skipped { .. }))
                .count();
        }
        let ran = executions
            .iter()
            .all(|e| matches!(e, Execution::Ran { .. } | Execution::Skipped { .. }));
        if !ran {
            // Rejected, failed to instantiate, or crashed: the whole run tells, unless a
            // crash happened in one call, whose tuple alone then tells.
            let remaining = chunk.calls.len() - first;
            match verdict {
                Verdict::Diverge(divergence) => {
                    let call = match divergence.step {
                        Step::Call(call) => Some(first + call),
                        _ => None,
                    };
                    let checked = tuple_or_prefix(differential, &chunk, call)?;
                    result.disagreements.push(checked);
                }
                Verdict::Inconclusive { .. } => result.inconclusive += remaining,
                Verdict::Agree => result.agreed += remaining,
            }
            result.executions = executions;
            return Ok(result);
        }
        // Every engine ran: calls up to the first at which one stopped are compared.
        let stopped = executions
            .iter()
            .filter_map(|e| match e {
                Execution::Ran { calls, .. } if calls.len() < chunk.calls.len() - first => {
                    Some(calls.len())
                }
                _ => None,
            })
            .min();
        let compared = stopped.unwrap_or(chunk.calls.len() - first);
        for call in 0..compared {
            let one: Vec<Execution> = executions.iter().map(|e| call_alone(e, call)).collect();
            match compare(&one) {
                Verdict::Agree => result.agreed += 1,
                Verdict::Inconclusive { .. } => result.inconclusive += 1,
                Verdict::Diverge(_) => {
                    let checked = tuple_or_prefix(differential, &chunk, Some(first + call))?;
                    result.disagreements.push(checked);
                }
            }
        }
        let state: Vec<Execution> = executions.iter().map(state_alone).collect();
        if let Verdict::Diverge(_) = compare(&state) {
            // A store (or growth) left the state apart: each tuple that agreed on its call,
            // run alone, says whether it did.
            let before = result.disagreements.len();
            let disagreed: Vec<usize> =
                result.disagreements.iter().filter_map(|d| d.call).collect();
            for call in (first..first + compared).filter(|c| !disagreed.contains(c)) {
                let (module, invocation) = chunk.single(call)?;
                let checked = differential.check_case(tuple_case(module, invocation));
                if checked.verdict.divergence().is_some() {
                    result.agreed -= 1;
                    result
                        .disagreements
                        .push(disagreement(&chunk, Some(call), checked));
                }
            }
            if result.disagreements.len() == before {
                let checked = differential.check_case(case);
                result
                    .disagreements
                    .push(disagreement(&chunk, None, checked));
            }
        }
        if first == 0 {
            result.executions = executions;
        }
        first += compared;
    }
    Ok(result)
}

fn tuple_case(module: Vec<u8>, invocation: wasmdiff_gen::Invocation) -> TestCase {
    TestCase {
        module,
        plan: Plan::Calls(vec![invocation]),
        generator: Generator::Sweep,
    }
}

/// The case of call `call`'s tuple alone, if it shows a divergence (or an explained one);
/// else the chunk up to that call, whose earlier calls it needs (a memory grown before it,
/// say); the whole chunk when no call is named.
fn tuple_or_prefix(
    differential: &mut Differential,
    chunk: &Chunk,
    call: Option<usize>,
) -> Result<Disagreement, GenerateError> {
    let Some(call) = call else {
        let checked = differential.check_case(chunk_case(chunk));
        return Ok(disagreement(chunk, None, checked));
    };
    let (module, invocation) = chunk.single(call)?;
    let alone = differential.check_case(tuple_case(module, invocation));
    if !matches!(alone.verdict, Verdict::Agree) {
        return Ok(disagreement(chunk, Some(call), alone));
    }
    let mut prefix = chunk_case(chunk);
    prefix.plan = Plan::Calls(chunk.calls[..=call].to_vec());
    Ok(disagreement(chunk, None, differential.check_case(prefix)))
}

fn disagreement(chunk: &Chunk, call: Option<usize>, checked: Checked) -> Disagreement {
    Disagreement {
        instruction: chunk.probes[call.unwrap_or(0)].name,
        call,
        checked,
    }
}

/// An engine's outcome of one call of a chunk, as a run of that call alone (no state); an
/// engine whose run stopped before it has no say.
fn call_alone(execution: &Execution, call: usize) -> Execution {
    match execution {
        Execution::Ran { calls, .. } => match calls.get(call) {
            Some(outcome) => Execution::Ran {
                calls: vec![outcome.clone()],
                exports: Vec::new(),
            },
            None => Execution::Skipped {
                reason: "its run stopped at an earlier call".to_string(),
            },
        },
        other => other.clone(),
    }
}

/// An engine's exported state after a chunk, as a run without calls; an engine whose run
/// stopped early (so took no state) has no say.
fn state_alone(execution: &Execution) -> Execution {
    match execution {
        Execution::Ran { calls, exports }
            if !calls.last().is_some_and(CallOutcome::is_inconclusive) =>
        {
            Execution::Ran {
                calls: Vec::new(),
                exports: exports.clone(),
            }
        }
        Execution::Ran { .. } => Execution::Skipped {
            reason: "its run stopped early".to_string(),
        },
        other => other.clone(),
    }
}
