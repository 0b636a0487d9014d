//! One filter under several host profiles ([`Execution::Hosted`] runs). The engines are
//! compared under each host first: engines that disagree under one are an engine finding,
//! whatever the hosts do. Where they agree under every host, the filter's observable
//! behaviour under each host is compared with the first host's: a difference is a
//! portability divergence, what a filter author moving between proxies meets.

use serde::Serialize;
use wasmdiff_engines::{Execution, HostRun, Trap, TrapKind};
use wasmdiff_gen::proxy::HostProfile;
use wasmdiff_proxy::portability::{HostDifference, first_difference};

use crate::{DivergenceKind, Reason, Step, Verdict, compare_refs, diverge};

/// How a filter fared under two hosts on one engine, when it differed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Difference {
    /// Both ran: the first observable difference.
    Observable(HostDifference),
    /// At least one did not get through the scenario (say, the filter does not link there).
    Outcome { left: String, right: String },
}

/// Where the filter differs between two of one engine's runs, if it does.
pub fn difference(left: &Execution, right: &Execution) -> Option<Difference> {
    // The host's own trap messages are the same on every engine; the engines' are not.
    let trap_text = |trap: &Trap| match trap.kind {
        TrapKind::HostError => format!("trap {}: {}", trap.kind, trap.message),
        _ => format!("trap {}", trap.kind),
    };
    match (left, right) {
        (Execution::Traced { trace: a }, Execution::Traced { trace: b }) => {
            first_difference(a, b, trap_text).map(Difference::Observable)
        }
        _ if left == right => None,
        _ => Some(Difference::Outcome {
            left: left.summary(),
            right: right.summary(),
        }),
    }
}

/// Which axis a verdict on hosted runs belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Axis {
    /// The engines do not agree under the host of this index (they diverge, or cannot be
    /// compared): the verdict on that host's executions alone.
    Engines { host: usize, verdict: Verdict },
    /// The engines agree under every host: agreement, or a portability divergence.
    Hosts(Verdict),
}

/// Each engine's execution under the host of index `host` (an execution that is not
/// hosted stands for itself).
pub fn under<'e>(executions: &[&'e Execution], host: usize) -> Vec<&'e Execution> {
    executions
        .iter()
        .map(|e| match e {
            Execution::Hosted { runs } => &runs[host].execution,
            other => *other,
        })
        .collect()
}

/// Where the runs under the later hosts first differ from the run under the first: the two
/// hosts and the difference.
pub fn first_host_difference(runs: &[HostRun]) -> Option<(HostProfile, HostProfile, Difference)> {
    let (first, others) = runs.split_first()?;
    others.iter().find_map(|other| {
        difference(&first.execution, &other.execution).map(|d| (first.host, other.host, d))
    })
}

/// The verdict on each engine's runs under every host, and its axis. Engines that diverge
/// under some host come first; then an inconclusive comparison under one (but for too few
/// engines: one engine is enough to see a filter differ between hosts); then the hosts.
pub fn compare_hosted(executions: &[&Execution]) -> Axis {
    let hosts = executions
        .iter()
        .find_map(|e| match e {
            Execution::Hosted { runs } => Some(runs.len()),
            _ => None,
        })
        .unwrap_or(0);
    let verdicts: Vec<Verdict> = (0..hosts)
        .map(|host| compare_refs(&under(executions, host)))
        .collect();
    let too_few = |v: &Verdict| {
        matches!(
            v,
            Verdict::Inconclusive {
                reason: Reason::TooFewEngines,
                ..
            }
        )
    };
    let engines_axis = verdicts
        .iter()
        .position(|v| v.divergence().is_some())
        .or_else(|| {
            verdicts
                .iter()
                .position(|v| *v != Verdict::Agree && !too_few(v))
        });
    if let Some(host) = engines_axis {
        return Axis::Engines {
            host,
            verdict: verdicts[host].clone(),
        };
    }
    // The engines agree under each host, so the first engine that ran under all of them
    // speaks for every one.
    let ran: Vec<usize> = (0..executions.len())
        .filter(|&i| match executions[i] {
            Execution::Hosted { runs } => runs
                .iter()
                .all(|r| !matches!(r.execution, Execution::Skipped { .. })),
            _ => false,
        })
        .collect();
    let difference = ran.first().and_then(|&first| match executions[first] {
        Execution::Hosted { runs } => first_host_difference(runs),
        _ => None,
    });
    match difference {
        Some((_, _, difference)) => {
            let step = match difference {
                Difference::Observable(d) => d.parting_event.map_or(Step::FinalState, Step::Event),
                // The filter did not link, or did not instantiate, under one host.
                Difference::Outcome { .. } => Step::Instantiate,
            };
            Axis::Hosts(diverge(DivergenceKind::Portability, step, vec![ran]))
        }
        // No difference, but too few engines to vouch for the engine axis: say so.
        None => Axis::Hosts(verdicts.into_iter().find(too_few).unwrap_or(Verdict::Agree)),
    }
}
