//! One filter under several host profiles on several engines: the grid, and which axis each
//! difference belongs to. Engines that disagree under one host are an engine finding, as
//! everywhere else; a filter that behaves differently under two hosts, the same way on every
//! engine, is a portability difference: what a filter author moving between proxies meets.

use serde::Serialize;
use wasmdiff_gen::proxy::{HostProfile, Scenario};
use wasmdiff_gen::{Generator, Plan, TestCase};
use wasmdiff_oracle::Verdict;
pub use wasmdiff_oracle::hosts::Difference;
use wasmdiff_oracle::hosts::difference;

use crate::{Checked, Differential};

/// Two hosts compared on every engine: the engines grouped by the difference they show.
#[derive(Clone, Debug, Serialize)]
pub struct HostComparison {
    pub left: HostProfile,
    pub right: HostProfile,
    /// Each distinct difference (`None`: no difference) with the engines (indices) showing it.
    pub groups: Vec<(Option<Difference>, Vec<usize>)>,
}

/// The whole grid.
pub struct Portability {
    /// Each host's run on every engine, in the order asked.
    pub runs: Vec<(HostProfile, Checked)>,
    /// The first host against each of the others.
    pub comparisons: Vec<HostComparison>,
}

impl Portability {
    /// Whether the engines disagree under some host (the engine axis).
    pub fn engines_differ(&self) -> bool {
        self.runs
            .iter()
            .any(|(_, checked)| matches!(checked.verdict, Verdict::Diverge(_)))
    }

    /// Whether some engine sees a filter behave differently under two hosts (the host axis).
    pub fn hosts_differ(&self) -> bool {
        self.comparisons
            .iter()
            .any(|c| c.groups.iter().any(|(difference, _)| difference.is_some()))
    }
}

/// Runs `module` through `scenario` under each of `hosts` on every engine of `differential`.
pub fn portability(
    differential: &mut Differential,
    module: &[u8],
    scenario: &Scenario,
    hosts: &[HostProfile],
) -> Portability {
    let runs: Vec<(HostProfile, Checked)> = hosts
        .iter()
        .map(|&host| {
            let case = TestCase {
                module: module.to_vec(),
                plan: Plan::Proxy(scenario.under(host)),
                generator: Generator::File,
            };
            (host, differential.check_case(case))
        })
        .collect();
    let comparisons = match runs.split_first() {
        Some(((left, first), others)) => others
            .iter()
            .map(|(right, other)| compare(*left, first, *right, other))
            .collect(),
        None => Vec::new(),
    };
    Portability { runs, comparisons }
}

fn compare(
    left: HostProfile,
    ours: &Checked,
    right: HostProfile,
    theirs: &Checked,
) -> HostComparison {
    let mut groups: Vec<(Option<Difference>, Vec<usize>)> = Vec::new();
    for (engine, (a, b)) in ours.executions.iter().zip(&theirs.executions).enumerate() {
        let difference = difference(a, b);
        match groups.iter_mut().find(|(d, _)| *d == difference) {
            Some((_, engines)) => engines.push(engine),
            None => groups.push((difference, vec![engine])),
        }
    }
    HostComparison {
        left,
        right,
        groups,
    }
}
