//! The oracle: compares what each engine observed and returns a [`Verdict`].
//!
//! Engines are compared step by step (compile, instantiate, each call in order, the exported
//! state). At each step the engines are grouped into classes of agreeing outcomes; more than
//! one class is a divergence. An outcome whose exact point legitimately differs between engines
//! (stack exhaustion, a harness limit, the fuel budget) makes the rest incomparable: the verdict
//! is then inconclusive, which is counted, never a finding and never a silent skip.
//!
//! The oracle knows no engine by name: engines map their own behaviour onto the shared
//! outcome types in their own files.

use std::fmt;

use serde::{Deserialize, Serialize};
use wasmdiff_engines::{
    CallOutcome, CrashKind, Execution, ExportState, ExportValue, Stage, Trap, TrapKind,
};
use wasmdiff_gen::Value;
use wasmdiff_proxy::{Event, Outcome, Trace};

pub mod hosts;

/// Where in the run engines were compared.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// Whether the engines accepted the module at all.
    Compile,
    Instantiate,
    /// The call at this index of the invocation plan.
    Call(usize),
    /// The exported item of this name, after all calls.
    Export(String),
    /// The exported state as a whole (an engine crashed reading it).
    Exports,
    /// The event at this index of a proxy-wasm trace (a callback or a host call).
    Event(usize),
    /// The proxy-wasm host's final state (traffic forwarded, responses, callouts, logs, …).
    FinalState,
}

/// A kind of step, without its index or name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    Compile,
    Instantiate,
    Call,
    Export,
    Event,
    FinalState,
}

impl StepKind {
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::Compile => "compile",
            StepKind::Instantiate => "instantiate",
            StepKind::Call => "call",
            StepKind::Export => "export",
            StepKind::Event => "event",
            StepKind::FinalState => "final-state",
        }
    }
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Step {
    pub fn kind(&self) -> StepKind {
        match self {
            Step::Compile => StepKind::Compile,
            Step::Instantiate => StepKind::Instantiate,
            Step::Call(_) => StepKind::Call,
            Step::Export(_) | Step::Exports => StepKind::Export,
            Step::Event(_) => StepKind::Event,
            Step::FinalState => StepKind::FinalState,
        }
    }
}

impl From<Stage> for Step {
    fn from(stage: Stage) -> Step {
        match stage {
            Stage::Compile => Step::Compile,
            Stage::Instantiate => Step::Instantiate,
            Stage::Call(i) => Step::Call(i),
            Stage::Exports => Step::Exports,
            Stage::Event(i) => Step::Event(i),
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Compile => f.write_str("compile"),
            Step::Instantiate => f.write_str("instantiate"),
            Step::Call(i) => write!(f, "call #{i}"),
            Step::Export(name) => write!(f, "export `{name}`"),
            Step::Exports => f.write_str("the exported state"),
            Step::Event(i) => write!(f, "trace event #{i}"),
            Step::FinalState => f.write_str("final host state"),
        }
    }
}

/// What kind of disagreement a divergence is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DivergenceKind {
    /// An engine crashed (panicked, or its process died or answered nonsense).
    Crash,
    /// An engine's process did not answer before the deadline, while others did.
    Hang,
    /// An engine's process outgrew its memory cap.
    OutOfMemory,
    /// Some engines accepted the module, others rejected it.
    Acceptance,
    /// Instantiation succeeded on some engines, or trapped differently.
    Instantiation,
    /// Some engines returned, others trapped.
    TrapVsReturn,
    /// All trapped, with different trap kinds.
    TrapKind,
    /// All returned, different values.
    ReturnValue,
    /// Exported memories, globals or tables differ after the calls.
    ExportedState,
    /// proxy-wasm traces differ: a callback's result, or a host call (arguments, bytes read
    /// or written, status).
    Trace,
    /// proxy-wasm traces agree but the host ends in different states.
    FinalState,
    /// The proxy-wasm host itself panicked (a wasmdiff bug), whatever the engines agree on.
    HostPanic,
    /// The engines answered in shapes that cannot be compared (some ran the calls while others
    /// only validated, say, or fewer calls came back from some): a harness problem, never
    /// taken for agreement.
    Incomparable,
    /// The engines agree under every host profile, and the filter's observable behaviour
    /// differs between hosts: a difference between proxies, not an engine's bug; a finding
    /// alone (one class: the engines that ran it).
    Portability,
}

impl DivergenceKind {
    pub fn name(&self) -> &'static str {
        match self {
            DivergenceKind::Crash => "crash",
            DivergenceKind::Hang => "hang",
            DivergenceKind::OutOfMemory => "out-of-memory",
            DivergenceKind::Acceptance => "acceptance",
            DivergenceKind::Instantiation => "instantiation",
            DivergenceKind::TrapVsReturn => "trap-vs-return",
            DivergenceKind::TrapKind => "trap-kind",
            DivergenceKind::ReturnValue => "return-value",
            DivergenceKind::ExportedState => "exported-state",
            DivergenceKind::Trace => "trace",
            DivergenceKind::FinalState => "final-state",
            DivergenceKind::HostPanic => "host-panic",
            DivergenceKind::Incomparable => "incomparable",
            DivergenceKind::Portability => "portability",
        }
    }
}

impl fmt::Display for DivergenceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Engines (by lineup index) that agree with each other at the diverging step.
pub type Class = Vec<usize>;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Divergence {
    pub kind: DivergenceKind,
    pub step: Step,
    /// Classes in order of first appearance in the lineup (the failed engines first for a
    /// crash); at least two, but for a crash or a host panic, which is a finding alone.
    pub classes: Vec<Class>,
}

impl Divergence {
    /// The engines that could be wrong, by lineup index: for a crash, a hang or an
    /// out-of-memory, the engines that failed; otherwise those outside the largest class.
    /// `None` when classes tie for largest: no majority to judge by.
    pub fn odd_ones(&self, executions: &[Execution]) -> Option<Vec<usize>> {
        if matches!(
            self.kind,
            DivergenceKind::Crash | DivergenceKind::Hang | DivergenceKind::OutOfMemory
        ) {
            let failed = self.classes.iter().flatten().copied();
            return Some(
                failed
                    .filter(|&i| matches!(executions[i], Execution::Crashed { .. }))
                    .collect(),
            );
        }
        let largest = self.classes.iter().map(Vec::len).max()?;
        let [majority] = self
            .classes
            .iter()
            .filter(|c| c.len() == largest)
            .collect::<Vec<_>>()[..]
        else {
            return None;
        };
        let mut odd: Vec<usize> = self.classes.iter().flatten().copied().collect();
        odd.retain(|i| !majority.contains(i));
        odd.sort_unstable();
        Some(odd)
    }
}

/// Why a comparison could not decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// An outcome whose exact point legitimately differs between engines: stack exhaustion,
    /// a harness limit, the fuel budget, a deadline every engine missed.
    Limit(TrapKind),
    /// Fewer than two engines took part (the others sat the test case out): nothing was
    /// compared.
    TooFewEngines,
    /// The engines disagree only until NaNs are made canonical: NaN bits that the spec leaves
    /// nondeterministic reached an observable value.
    NanNondeterminism,
}

impl Reason {
    pub fn name(&self) -> &'static str {
        match self {
            Reason::Limit(kind) => kind.name(),
            Reason::TooFewEngines => "too-few-engines",
            Reason::NanNondeterminism => "nan-nondeterminism",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    /// Every engine saw the same thing at every step.
    Agree,
    /// Comparison stopped at `step` for `reason`, on `engines`.
    Inconclusive {
        step: Step,
        reason: Reason,
        engines: Vec<usize>,
    },
    Diverge(Divergence),
}

impl Verdict {
    pub fn divergence(&self) -> Option<&Divergence> {
        match self {
            Verdict::Diverge(d) => Some(d),
            _ => None,
        }
    }

    pub fn is_conclusive(&self) -> bool {
        !matches!(self, Verdict::Inconclusive { .. })
    }
}

/// Two values are the same if their bits are, except that any scalar NaN equals any NaN:
/// NaN bits are nondeterministic by the spec, and generated modules canonicalize NaNs where
/// they could become visible otherwise.
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::F32(x), Value::F32(y)) => {
            x == y || (f32::from_bits(*x).is_nan() && f32::from_bits(*y).is_nan())
        }
        (Value::F64(x), Value::F64(y)) => {
            x == y || (f64::from_bits(*x).is_nan() && f64::from_bits(*y).is_nan())
        }
        _ => a == b,
    }
}

fn same_values(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_value(x, y))
}

fn same_call(a: &CallOutcome, b: &CallOutcome) -> bool {
    match (a, b) {
        (CallOutcome::Returned(x), CallOutcome::Returned(y)) => same_values(x, y),
        (CallOutcome::Trapped(x), CallOutcome::Trapped(y)) => x.kind.agrees_with(&y.kind),
        _ => false,
    }
}

/// Exported items agree if they are the same, or if one engine only saw a digest and it is
/// the other's, or if an engine could not see the item at all (it has no say).
fn same_export(a: &ExportState, b: &ExportState) -> bool {
    a.name == b.name
        && match (&a.value, &b.value) {
            (ExportValue::Unobserved, _) | (_, ExportValue::Unobserved) => true,
            (ExportValue::Global(x), ExportValue::Global(y)) => same_value(x, y),
            (x @ ExportValue::Digest { .. }, y) | (y, x @ ExportValue::Digest { .. }) => {
                x.digest().is_some() && x.digest() == y.digest()
            }
            (x, y) => x == y,
        }
}

/// Partitions engine indices into classes of agreeing items, in order of first appearance.
/// An item joins a class only if it agrees with every member: agreement need not be
/// transitive (a coarse trap kind agrees with two finer ones that disagree).
fn classes<T>(items: &[T], same: impl Fn(&T, &T) -> bool) -> Vec<Class> {
    let mut classes: Vec<Class> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match classes
            .iter_mut()
            .find(|c| c.iter().all(|&member| same(&items[member], item)))
        {
            Some(class) => class.push(i),
            None => classes.push(vec![i]),
        }
    }
    classes
}

fn diverge(kind: DivergenceKind, step: Step, classes: Vec<Class>) -> Verdict {
    Verdict::Diverge(Divergence {
        kind,
        step,
        classes,
    })
}

/// Compares the executions of one test case, one per engine, in lineup order. Engines that
/// sat the job out ([`Execution::Skipped`]) have no say; the verdict still numbers engines by
/// their place in the lineup. With fewer than two engines left, nothing is compared: the
/// verdict is inconclusive (a crash or a host panic is still a finding).
pub fn compare(executions: &[Execution]) -> Verdict {
    compare_refs(&executions.iter().collect::<Vec<_>>())
}

/// [`compare`] on borrowed executions.
pub fn compare_refs(executions: &[&Execution]) -> Verdict {
    let present: Vec<usize> = (0..executions.len())
        .filter(|&i| !matches!(executions[i], Execution::Skipped { .. }))
        .collect();
    let asked: Vec<&Execution> = present.iter().map(|&i| executions[i]).collect();
    let renumber = |engines: Vec<usize>| engines.into_iter().map(|i| present[i]).collect();
    match compare_present(&asked) {
        Verdict::Agree => Verdict::Agree,
        Verdict::Inconclusive {
            step,
            reason,
            engines,
        } => Verdict::Inconclusive {
            step,
            reason,
            engines: renumber(engines),
        },
        Verdict::Diverge(d) => Verdict::Diverge(Divergence {
            classes: d.classes.into_iter().map(renumber).collect(),
            ..d
        }),
    }
}

/// Whether an execution ran into a limit of kind `kind` anywhere.
fn hit(execution: &Execution, kind: TrapKind) -> bool {
    match execution {
        Execution::InstantiationFailed { trap } => trap.kind == kind,
        Execution::Ran { calls, .. } => calls
            .iter()
            .any(|c| matches!(c, CallOutcome::Trapped(t) if t.kind == kind)),
        Execution::Traced { trace } => trace.events.iter().any(
            |e| matches!(e, Event::Callback { outcome: Outcome::Trapped(t), .. } if t.kind == kind),
        ),
        _ => false,
    }
}

/// A crash's kind, if the execution is one.
fn crash_kind(execution: &Execution) -> Option<CrashKind> {
    match execution {
        Execution::Crashed { kind, .. } => Some(*kind),
        _ => None,
    }
}

/// Crashes first. A hang is no finding where another engine ran out of fuel (the module runs
/// too long: engines without fuel stop at the deadline instead), nor a process over its
/// memory cap where another engine's growth was refused; nor is a module every engine hangs
/// on (none has fuel to tell).
fn compare_crashes(executions: &[&Execution]) -> Option<Verdict> {
    let crashed: Class = (0..executions.len())
        .filter(|&i| crash_kind(&executions[i]).is_some())
        .collect();
    if crashed.is_empty() {
        return None;
    }
    if crashed.len() == executions.len()
        && executions
            .iter()
            .all(|e| crash_kind(e) == Some(CrashKind::Hang))
    {
        return Some(Verdict::Inconclusive {
            step: crash_step(executions, &crashed),
            reason: Reason::Limit(TrapKind::Timeout),
            engines: crashed,
        });
    }
    let excuse = |kind: CrashKind| match kind {
        CrashKind::Hang => Some(TrapKind::OutOfFuel),
        CrashKind::OutOfMemory => Some(TrapKind::ResourceLimit),
        _ => None,
    };
    let excused = |i: &usize| {
        let kind = crash_kind(&executions[*i]).expect("crashed");
        excuse(kind).is_some_and(|limit| executions.iter().any(|e| hit(e, limit)))
    };
    let unexcused: Vec<usize> = crashed.iter().copied().filter(|i| !excused(i)).collect();
    let Some(&first) = unexcused.first() else {
        let reason = excuse(crash_kind(&executions[crashed[0]]).expect("crashed"))
            .expect("excused crashes have a reason");
        return Some(Verdict::Inconclusive {
            step: crash_step(executions, &crashed),
            reason: Reason::Limit(reason),
            engines: crashed,
        });
    };
    let kind = match crash_kind(&executions[first]).expect("crashed") {
        CrashKind::Hang => DivergenceKind::Hang,
        CrashKind::OutOfMemory => DivergenceKind::OutOfMemory,
        CrashKind::Panic | CrashKind::Died | CrashKind::BadAnswer | CrashKind::Harness => {
            DivergenceKind::Crash
        }
    };
    // The failed engines first, by kind of failure, then the rest.
    let mut grouped = classes(executions, |a, b| crash_kind(a) == crash_kind(b));
    grouped.sort_by_key(|class| crash_kind(&executions[class[0]]).is_none());
    Some(diverge(kind, crash_step(executions, &unexcused), grouped))
}

/// The earliest step at which one of `engines` crashed.
fn crash_step(executions: &[&Execution], engines: &[usize]) -> Step {
    engines
        .iter()
        .filter_map(|&i| match executions[i] {
            Execution::Crashed { at, .. } => Some(*at),
            _ => None,
        })
        .min()
        .unwrap_or_default()
        .into()
}

/// What an engine answered, as far as it can be compared with others: engines of different
/// shapes at the same point cannot agree.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Accepted,
    Ran,
    Traced,
    Hosted,
    Other,
}

fn shape(execution: &Execution) -> Shape {
    match execution {
        Execution::Accepted => Shape::Accepted,
        Execution::Ran { .. } => Shape::Ran,
        Execution::Traced { .. } => Shape::Traced,
        Execution::Hosted { .. } => Shape::Hosted,
        _ => Shape::Other,
    }
}

fn compare_present(executions: &[&Execution]) -> Verdict {
    if let Some(verdict) = compare_crashes(executions) {
        return verdict;
    }
    let traces: Vec<&Trace<Trap>> = executions
        .iter()
        .filter_map(|e| match e {
            Execution::Traced { trace } => Some(trace),
            _ => None,
        })
        .collect();
    if traces.iter().any(|t| !t.state.host_panics.is_empty()) {
        let panicked = classes(executions, |a, b| host_panicked(a) == host_panicked(b));
        return diverge(DivergenceKind::HostPanic, Step::FinalState, panicked);
    }
    if executions.len() < 2 {
        return Verdict::Inconclusive {
            step: Step::Compile,
            reason: Reason::TooFewEngines,
            engines: (0..executions.len()).collect(),
        };
    }

    let accepted = classes(executions, |a, b| {
        matches!(a, Execution::Rejected { .. }) == matches!(b, Execution::Rejected { .. })
    });
    if accepted.len() > 1 {
        return diverge(DivergenceKind::Acceptance, Step::Compile, accepted);
    }
    if matches!(executions[0], Execution::Rejected { .. }) {
        return Verdict::Agree;
    }

    let instantiation: Vec<Option<TrapKind>> = executions
        .iter()
        .map(|e| match e {
            Execution::InstantiationFailed { trap } => Some(trap.kind),
            _ => None,
        })
        .collect();
    if let Some(verdict) = inconclusive(Step::Instantiate, &instantiation, |k| Some(*k)) {
        return verdict;
    }
    let instantiated = classes(&instantiation, |a, b| match (a, b) {
        (Some(a), Some(b)) => a.agrees_with(b),
        (a, b) => a == b,
    });
    if instantiated.len() > 1 {
        return diverge(
            DivergenceKind::Instantiation,
            Step::Instantiate,
            instantiated,
        );
    }
    if instantiation[0].is_some() {
        return Verdict::Agree;
    }

    // Every engine got past instantiation the same way: all must have answered alike.
    let shapes = classes(executions, |a, b| shape(a) == shape(b));
    if shapes.len() > 1 {
        return diverge(DivergenceKind::Incomparable, Step::Instantiate, shapes);
    }
    match shape(executions[0]) {
        Shape::Accepted => Verdict::Agree,
        Shape::Traced => compare_traces(&traces),
        Shape::Hosted => match hosts::compare_hosted(executions) {
            hosts::Axis::Engines { verdict, .. } | hosts::Axis::Hosts(verdict) => verdict,
        },
        Shape::Ran => {
            let runs: Vec<(&[CallOutcome], &[ExportState])> = executions
                .iter()
                .filter_map(|e| match e {
                    Execution::Ran { calls, exports } => {
                        Some((calls.as_slice(), exports.as_slice()))
                    }
                    _ => None,
                })
                .collect();
            compare_runs(&runs)
        }
        Shape::Other => unreachable!("crashes, rejections and failed instantiations are handled"),
    }
}

fn host_panicked(execution: &Execution) -> bool {
    matches!(execution, Execution::Traced { trace } if !trace.state.host_panics.is_empty())
}

fn compare_runs(runs: &[(&[CallOutcome], &[ExportState])]) -> Verdict {
    let call_count = runs.iter().map(|(calls, _)| calls.len()).max().unwrap_or(0);
    for index in 0..call_count {
        let step: Vec<Option<&CallOutcome>> =
            runs.iter().map(|(calls, _)| calls.get(index)).collect();
        // Engines only stop early after an inconclusive outcome, which is caught here first.
        if let Some(verdict) = inconclusive(Step::Call(index), &step, |o| match o {
            CallOutcome::Trapped(t) => Some(t.kind),
            CallOutcome::Returned(_) => None,
        }) {
            return verdict;
        }
        let agreeing = classes(&step, |a, b| match (a, b) {
            (Some(a), Some(b)) => same_call(a, b),
            (a, b) => a.is_none() && b.is_none(),
        });
        if agreeing.len() > 1 {
            let outcomes: Vec<&CallOutcome> = step.iter().flatten().copied().collect();
            let traps = outcomes
                .iter()
                .filter(|o| matches!(o, CallOutcome::Trapped(_)))
                .count();
            let kind = match traps {
                _ if outcomes.len() < step.len() => DivergenceKind::Incomparable,
                0 => DivergenceKind::ReturnValue,
                n if n == outcomes.len() => DivergenceKind::TrapKind,
                _ => DivergenceKind::TrapVsReturn,
            };
            return diverge(kind, Step::Call(index), agreeing);
        }
    }

    let exports: Vec<&[ExportState]> = runs.iter().map(|(_, exports)| *exports).collect();
    let agreeing = classes(&exports, |a, b| {
        a.len() == b.len() && a.iter().zip(*b).all(|(x, y)| same_export(x, y))
    });
    if agreeing.len() > 1 {
        let (first, second) = (exports[agreeing[0][0]], exports[agreeing[1][0]]);
        let name = first
            .iter()
            .zip(second)
            .find(|(x, y)| !same_export(x, y))
            .map(|(x, _)| x.name.clone())
            .unwrap_or_else(|| "(export lists differ)".to_string());
        return diverge(DivergenceKind::ExportedState, Step::Export(name), agreeing);
    }
    Verdict::Agree
}

fn same_event(a: &Event<Trap>, b: &Event<Trap>) -> bool {
    match (a, b) {
        (
            Event::Callback {
                name,
                args,
                outcome,
            },
            Event::Callback {
                name: other_name,
                args: other_args,
                outcome: other_outcome,
            },
        ) => {
            name == other_name
                && same_values(args, other_args)
                && match (outcome, other_outcome) {
                    (Outcome::Returned(x), Outcome::Returned(y)) => same_values(x, y),
                    (Outcome::Trapped(x), Outcome::Trapped(y)) => x.kind.agrees_with(&y.kind),
                    _ => false,
                }
        }
        (a, b) => a == b,
    }
}

/// Traces event by event, then the final host state.
fn compare_traces(traces: &[&Trace<Trap>]) -> Verdict {
    let longest = traces.iter().map(|t| t.events.len()).max().unwrap_or(0);
    for index in 0..longest {
        let step: Vec<Option<&Event<Trap>>> = traces.iter().map(|t| t.events.get(index)).collect();
        if let Some(verdict) = inconclusive(Step::Event(index), &step, |event| match event {
            Event::Callback {
                outcome: Outcome::Trapped(trap),
                ..
            } => Some(trap.kind),
            _ => None,
        }) {
            return verdict;
        }
        let agreeing = classes(&step, |a, b| match (a, b) {
            (Some(a), Some(b)) => same_event(a, b),
            (a, b) => a.is_none() && b.is_none(),
        });
        if agreeing.len() > 1 {
            return diverge(DivergenceKind::Trace, Step::Event(index), agreeing);
        }
    }
    let agreeing = classes(traces, |a, b| a.state == b.state);
    if agreeing.len() > 1 {
        return diverge(DivergenceKind::FinalState, Step::FinalState, agreeing);
    }
    Verdict::Agree
}

/// The inconclusive verdict for `step` if any engine's outcome there is nondeterministic.
fn inconclusive<T>(
    step: Step,
    outcomes: &[Option<T>],
    trap: impl Fn(&T) -> Option<TrapKind>,
) -> Option<Verdict> {
    let mut reason = None;
    let engines: Vec<usize> = outcomes
        .iter()
        .enumerate()
        .filter_map(|(i, o)| {
            let kind = o
                .as_ref()
                .and_then(&trap)
                .filter(TrapKind::is_inconclusive)?;
            reason.get_or_insert(kind);
            Some(i)
        })
        .collect();
    reason.map(|reason| Verdict::Inconclusive {
        step,
        reason: Reason::Limit(reason),
        engines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmdiff_engines::Trap;

    fn ran(calls: Vec<CallOutcome>) -> Execution {
        Execution::Ran {
            calls,
            exports: Vec::new(),
        }
    }

    fn ret(values: &[Value]) -> CallOutcome {
        CallOutcome::Returned(values.to_vec())
    }

    fn trap(kind: TrapKind) -> CallOutcome {
        CallOutcome::Trapped(Trap::new(kind, "engine words differ"))
    }

    #[test]
    fn identical_runs_agree() {
        let run = ran(vec![ret(&[Value::I32(1)]), trap(TrapKind::Unreachable)]);
        assert_eq!(compare(&[run.clone(), run.clone(), run]), Verdict::Agree);
    }

    #[test]
    fn any_nan_equals_any_nan_but_only_for_scalars() {
        let a = ran(vec![ret(&[
            Value::F32(0x7fc0_0000),
            Value::F64(0xfff8_0000_0000_0001),
        ])]);
        let b = ran(vec![ret(&[
            Value::F32(0xffc0_0001),
            Value::F64(0x7ff8_0000_0000_0000),
        ])]);
        assert_eq!(compare(&[a, b]), Verdict::Agree);
        let zero = ran(vec![ret(&[Value::F32(0)])]);
        let negative_zero = ran(vec![ret(&[Value::F32(0x8000_0000)])]);
        assert!(compare(&[zero, negative_zero]).divergence().is_some());
        let v1 = ran(vec![ret(&[Value::V128(0x7fc0_0000)])]);
        let v2 = ran(vec![ret(&[Value::V128(0x7fc0_0001)])]);
        assert!(compare(&[v1, v2]).divergence().is_some());
    }

    #[test]
    fn a_wrong_engine_is_outvoted_into_its_own_class() {
        let good = ran(vec![ret(&[]), ret(&[Value::I32(4)])]);
        let bad = ran(vec![ret(&[]), ret(&[Value::I32(-4)])]);
        let verdict = compare(&[good.clone(), bad, good]);
        assert_eq!(
            verdict,
            Verdict::Diverge(Divergence {
                kind: DivergenceKind::ReturnValue,
                step: Step::Call(1),
                classes: vec![vec![0, 2], vec![1]],
            })
        );
    }

    #[test]
    fn trap_kinds_are_compared_and_messages_are_not() {
        let a = ran(vec![trap(TrapKind::MemoryOutOfBounds)]);
        let b = ran(vec![trap(TrapKind::TableOutOfBounds)]);
        assert_eq!(
            compare(&[a.clone(), b.clone()]).divergence().unwrap().kind,
            DivergenceKind::TrapKind
        );
        let c = ran(vec![ret(&[])]);
        assert_eq!(
            compare(&[a, c]).divergence().unwrap().kind,
            DivergenceKind::TrapVsReturn
        );
    }

    #[test]
    fn nondeterministic_outcomes_are_inconclusive_even_against_a_result() {
        let overflow = ran(vec![ret(&[]), trap(TrapKind::StackExhausted)]);
        let result = ran(vec![ret(&[]), ret(&[Value::I32(1)]), ret(&[])]);
        assert_eq!(
            compare(&[result, overflow]),
            Verdict::Inconclusive {
                step: Step::Call(1),
                reason: Reason::Limit(TrapKind::StackExhausted),
                engines: vec![1],
            }
        );
    }

    #[test]
    fn a_divergence_before_an_inconclusive_step_is_still_found() {
        let a = ran(vec![ret(&[Value::I64(1)]), trap(TrapKind::OutOfFuel)]);
        let b = ran(vec![ret(&[Value::I64(2)]), trap(TrapKind::OutOfFuel)]);
        assert_eq!(compare(&[a, b]).divergence().unwrap().step, Step::Call(0));
    }

    #[test]
    fn crashes_acceptance_and_instantiation_are_findings() {
        let ok = ran(vec![]);
        let crash = Execution::panicked("panic");
        assert_eq!(
            compare(&[ok.clone(), crash]).divergence().unwrap().kind,
            DivergenceKind::Crash
        );
        let rejected = Execution::Rejected {
            message: "no".into(),
        };
        assert_eq!(
            compare(&[ok.clone(), rejected.clone()])
                .divergence()
                .unwrap()
                .kind,
            DivergenceKind::Acceptance
        );
        assert_eq!(compare(&[rejected.clone(), rejected]), Verdict::Agree);
        let failed = |kind| Execution::InstantiationFailed {
            trap: Trap::new(kind, ""),
        };
        assert_eq!(
            compare(&[ok, failed(TrapKind::TableOutOfBounds)])
                .divergence()
                .unwrap()
                .kind,
            DivergenceKind::Instantiation
        );
        assert_eq!(
            compare(&[
                failed(TrapKind::TableOutOfBounds),
                failed(TrapKind::MemoryOutOfBounds)
            ])
            .divergence()
            .unwrap()
            .kind,
            DivergenceKind::Instantiation
        );
        assert!(
            !compare(&[
                failed(TrapKind::ResourceLimit),
                failed(TrapKind::MemoryOutOfBounds)
            ])
            .is_conclusive()
        );
    }

    #[test]
    fn exported_state_is_compared_nan_aware_for_globals_and_bitwise_for_memory() {
        let with = |global: Value, memory: Vec<u8>| Execution::Ran {
            calls: vec![],
            exports: vec![
                ExportState {
                    name: "g".into(),
                    value: ExportValue::Global(global),
                },
                ExportState {
                    name: "m".into(),
                    value: ExportValue::Memory(memory),
                },
            ],
        };
        let a = with(Value::F64(0x7ff8_0000_0000_0000), vec![0, 1]);
        let b = with(Value::F64(0x7ff8_0000_0000_0002), vec![0, 1]);
        assert_eq!(compare(&[a.clone(), b]), Verdict::Agree);
        let c = with(Value::F64(0x7ff8_0000_0000_0000), vec![0, 2]);
        let divergence = compare(&[a, c]).divergence().cloned().unwrap();
        assert_eq!(
            (divergence.kind, divergence.step),
            (DivergenceKind::ExportedState, Step::Export("m".into()))
        );
    }

    fn crashed(kind: CrashKind) -> Execution {
        Execution::crashed(kind, "process trouble", Stage::Compile)
    }

    #[test]
    fn skipped_engines_have_no_say_but_keep_their_place() {
        let skipped = Execution::Skipped {
            reason: "needs simd".into(),
        };
        let four = ran(vec![ret(&[Value::I32(4)])]);
        let five = ran(vec![ret(&[Value::I32(5)])]);
        assert_eq!(
            compare(&[four.clone(), skipped.clone(), four.clone()]),
            Verdict::Agree
        );
        let verdict = compare(&[four.clone(), skipped, five]);
        assert_eq!(
            verdict.divergence().unwrap().classes,
            vec![vec![0], vec![2]]
        );
    }

    #[test]
    fn a_hang_is_a_finding_unless_others_ran_out_of_fuel() {
        let returned = ran(vec![ret(&[])]);
        let verdict = compare(&[returned, crashed(CrashKind::Hang)]);
        let divergence = verdict.divergence().unwrap();
        assert_eq!(divergence.kind, DivergenceKind::Hang);
        // The failed engines come first.
        assert_eq!(divergence.classes, vec![vec![1], vec![0]]);

        let out_of_fuel = ran(vec![trap(TrapKind::OutOfFuel)]);
        assert_eq!(
            compare(&[out_of_fuel, crashed(CrashKind::Hang)]),
            Verdict::Inconclusive {
                step: Step::Compile,
                reason: Reason::Limit(TrapKind::OutOfFuel),
                engines: vec![1],
            }
        );
        let all_hung = compare(&[crashed(CrashKind::Hang), crashed(CrashKind::Hang)]);
        assert!(matches!(
            all_hung,
            Verdict::Inconclusive {
                reason: Reason::Limit(TrapKind::Timeout),
                ..
            }
        ));
    }

    #[test]
    fn running_out_of_memory_is_excused_only_by_a_refused_growth() {
        let refused = ran(vec![trap(TrapKind::ResourceLimit)]);
        assert!(!compare(&[refused, crashed(CrashKind::OutOfMemory)]).is_conclusive());
        let fine = ran(vec![ret(&[])]);
        assert_eq!(
            compare(&[fine.clone(), crashed(CrashKind::OutOfMemory)])
                .divergence()
                .unwrap()
                .kind,
            DivergenceKind::OutOfMemory
        );
        // A dead process is a crash whatever the others did.
        let out_of_fuel = ran(vec![trap(TrapKind::OutOfFuel)]);
        assert_eq!(
            compare(&[out_of_fuel, crashed(CrashKind::Died)])
                .divergence()
                .unwrap()
                .kind,
            DivergenceKind::Crash
        );
    }

    #[test]
    fn a_coarse_trap_kind_cannot_hide_two_finer_ones_that_disagree() {
        let coarse = ran(vec![trap(TrapKind::IndirectCallFailed)]);
        let null = ran(vec![trap(TrapKind::UndefinedElement)]);
        let mismatch = ran(vec![trap(TrapKind::IndirectCallTypeMismatch)]);
        assert_eq!(compare(&[coarse.clone(), null.clone()]), Verdict::Agree);
        // Two coarse kinds agree where both may mean a null entry.
        let missing = ran(vec![trap(TrapKind::IndirectCallMissing)]);
        assert_eq!(
            compare(&[coarse.clone(), missing.clone(), null.clone()]),
            Verdict::Agree
        );
        assert!(compare(&[missing, mismatch.clone()]).divergence().is_some());
        let verdict = compare(&[coarse, null, mismatch]);
        assert_eq!(
            verdict.divergence().unwrap().classes,
            vec![vec![0, 1], vec![2]]
        );
    }

    #[test]
    fn digests_stand_for_contents_and_unobserved_items_do_not_vote() {
        let state = |value: ExportValue| Execution::Ran {
            calls: vec![],
            exports: vec![ExportState {
                name: "m".into(),
                value,
            }],
        };
        let memory = ExportValue::Memory(vec![1, 2, 3]);
        let (items, digest) = memory.digest().unwrap();
        let same = ExportValue::Digest { items, digest };
        let other = ExportValue::Digest {
            items,
            digest: digest ^ 1,
        };
        assert_eq!(
            compare(&[state(memory.clone()), state(same)]),
            Verdict::Agree
        );
        assert!(
            compare(&[state(memory.clone()), state(other)])
                .divergence()
                .is_some()
        );
        assert_eq!(
            compare(&[state(memory), state(ExportValue::Unobserved)]),
            Verdict::Agree
        );
    }
    // Shapes the oracle cannot compare are never agreement (each of these agreed before).

    #[test]
    fn engines_that_ran_against_engines_that_only_validated_are_incomparable() {
        let ran = ran(vec![ret(&[Value::I32(1)])]);
        let verdict = compare(&[ran.clone(), Execution::Accepted, ran]);
        let divergence = verdict.divergence().expect("not agreement");
        assert_eq!(divergence.kind, DivergenceKind::Incomparable);
        assert_eq!(divergence.classes, vec![vec![0, 2], vec![1]]);
    }

    #[test]
    fn a_run_against_a_trace_is_incomparable() {
        let trace = Execution::Traced {
            trace: Trace {
                events: Vec::new(),
                state: Default::default(),
            },
        };
        let verdict = compare(&[ran(vec![]), trace]);
        assert_eq!(
            verdict.divergence().map(|d| d.kind),
            Some(DivergenceKind::Incomparable)
        );
    }

    #[test]
    fn missing_calls_without_a_reason_are_incomparable() {
        let all = ran(vec![ret(&[]), ret(&[Value::I64(3)])]);
        let fewer = ran(vec![ret(&[])]);
        let verdict = compare(&[all, fewer]);
        let divergence = verdict.divergence().expect("not agreement");
        assert_eq!(
            (divergence.kind, &divergence.step),
            (DivergenceKind::Incomparable, &Step::Call(1))
        );
    }

    #[test]
    fn one_engine_alone_compares_nothing() {
        let skipped = Execution::Skipped {
            reason: "needs simd".into(),
        };
        let four = ran(vec![ret(&[Value::I32(4)])]);
        assert_eq!(
            compare(&[skipped.clone(), four.clone()]),
            Verdict::Inconclusive {
                step: Step::Compile,
                reason: Reason::TooFewEngines,
                engines: vec![1],
            }
        );
        // A crash stays a finding even alone.
        let crash = Execution::crashed(CrashKind::Died, "SIGSEGV", Stage::Call(0));
        assert_eq!(
            compare(&[skipped, crash]).divergence().map(|d| d.kind),
            Some(DivergenceKind::Crash)
        );
    }

    #[test]
    fn a_crash_is_found_at_the_step_it_happened() {
        let fine = ran(vec![ret(&[]), ret(&[]), ret(&[])]);
        let late = Execution::crashed(CrashKind::Panic, "boom", Stage::Call(2));
        let verdict = compare(&[fine.clone(), late]);
        assert_eq!(verdict.divergence().unwrap().step, Step::Call(2));
        let instantiating = Execution::crashed(CrashKind::Died, "SIGSEGV", Stage::Instantiate);
        let reading = Execution::crashed(CrashKind::Died, "SIGSEGV", Stage::Exports);
        let verdict = compare(&[fine, reading, instantiating]);
        assert_eq!(verdict.divergence().unwrap().step, Step::Instantiate);
    }
}
