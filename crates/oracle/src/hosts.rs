//! One filter under several host profiles ([`Execution::Hosted`] runs). The engines are
//! compared under each host first: engines that disagree under one are an engine finding,
//! whatever the hosts do. Where they agree under every host, the filter's observable
//! behaviour under each host is compared with the first host's: a difference is a
//! portability divergence, what a filter author moving between proxies meets.

use serde::Serialize;
use wasmdiff_engines::{Execution, Trap, TrapKind};
use wasmdiff_proxy::portability::{HostDifference, first_difference};

use crate::{DivergenceKind, Step, Verdict, compare, diverge};

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
pub fn under(executions: &[&Execution], host: usize) -> Vec<Execution> {
    executions
        .iter()
        .map(|e| match e {
            Execution::Hosted { runs } => runs[host].execution.clone(),
            other => (*other).clone(),
        })
        .collect()
}

/// The verdict on each engine's runs under every host, and its axis.
pub fn compare_hosted(executions: &[&Execution]) -> Axis {
    let hosts = executions
        .iter()
        .find_map(|e| match e {
            Execution::Hosted { runs } => Some(runs.len()),
            _ => None,
        })
        .unwrap_or(0);
    for host in 0..hosts {
        let verdict = compare(&under(executions, host));
        if verdict != Verdict::Agree {
            return Axis::Engines { host, verdict };
        }
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
    let Some(&first) = ran.first() else {
        return Axis::Hosts(Verdict::Agree);
    };
    let Execution::Hosted { runs } = executions[first] else {
        unreachable!("only hosted executions ran under every host")
    };
    for other in &runs[1..] {
        if let Some(difference) = difference(&runs[0].execution, &other.execution) {
            let step = match difference {
                Difference::Observable(d) => d.parting_event.map_or(Step::FinalState, Step::Event),
                Difference::Outcome { .. } => Step::Compile,
            };
            return Axis::Hosts(diverge(DivergenceKind::Portability, step, vec![ran]));
        }
    }
    Axis::Hosts(Verdict::Agree)
}
