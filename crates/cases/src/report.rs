//! `report.json`: what was run, on which engines, what each observed, and the verdict, plus
//! a one-paragraph human description of the divergence.

use serde::{Deserialize, Serialize};
use wasmdiff_engines::{CallOutcome, EngineSpec, Execution, ExportValue, HostRun, KnownBug, Trap};
use wasmdiff_gen::{Generator, Plan, TestCase, Value};
use wasmdiff_oracle::hosts::{self, Difference};
use wasmdiff_oracle::{Divergence, Step, Verdict};
use wasmdiff_proxy::trace::HostResult;
use wasmdiff_proxy::{Event, FinalState, Outcome};

use crate::signature::Signature;

/// Where a test case came from, so that it can be made again.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// Campaign seed and input index: `wasmdiff fuzz --seed S` makes input `index` again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// A file the case was read from, or a fuzz artifact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The chunk of the corner sweep the case comes from (its input names it).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sweep_chunk: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineRecord {
    pub name: String,
    pub engine: String,
    pub version: String,
}

impl EngineRecord {
    pub fn of(spec: &EngineSpec) -> EngineRecord {
        EngineRecord {
            name: spec.name.to_string(),
            engine: spec.engine.to_string(),
            version: (spec.version)(),
        }
    }
}

/// One engine's observation, in readable form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineOutcome {
    pub engine: String,
    /// `rejected`, `accepted`, `instantiation-failed`, `ran`, `traced`, `crashed` or
    /// `skipped`.
    pub stage: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Per call: the values returned, or `trap <kind>: <engine's message>`.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub calls: Vec<String>,
    /// Per exported memory, global and table: its final contents.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub exports: Vec<String>,
}

impl EngineOutcome {
    pub fn of(name: &str, execution: &Execution) -> EngineOutcome {
        let mut outcome = EngineOutcome {
            engine: name.to_string(),
            stage: String::new(),
            message: None,
            calls: Vec::new(),
            exports: Vec::new(),
        };
        match execution {
            Execution::Rejected { message } => {
                outcome.stage = "rejected".into();
                outcome.message = Some(message.clone());
            }
            Execution::InstantiationFailed { trap } => {
                outcome.stage = "instantiation-failed".into();
                outcome.message = Some(format!("trap {}: {}", trap.kind, trap.message));
            }
            Execution::Accepted => outcome.stage = "accepted".into(),
            Execution::Crashed { kind, message, at } => {
                outcome.stage = "crashed".into();
                outcome.message = Some(format!("{kind} at {at}: {message}"));
            }
            Execution::Skipped { reason } => {
                outcome.stage = "skipped".into();
                outcome.message = Some(reason.clone());
            }
            Execution::Ran { calls, exports } => {
                outcome.stage = "ran".into();
                outcome.calls = calls.iter().map(call_text).collect();
                outcome.exports = exports
                    .iter()
                    .map(|e| format!("{}: {}", e.name, e.value))
                    .collect();
            }
            Execution::Traced { trace } => {
                outcome.stage = "traced".into();
                outcome.calls = trace.events.iter().map(event_text).collect();
                outcome.exports = state_lines(&trace.state);
            }
            Execution::Hosted { runs } => {
                outcome.stage = "hosted".into();
                outcome.message = Some(execution.summary());
                for run in runs {
                    let under = EngineOutcome::of(name, &run.execution);
                    let host = run.host;
                    outcome.calls.push(format!("under {host}: {}", under.stage));
                    outcome
                        .calls
                        .extend(under.calls.iter().map(|c| format!("{host}: {c}")));
                    outcome
                        .exports
                        .extend(under.exports.iter().map(|e| format!("{host}: {e}")));
                }
            }
        }
        outcome
    }
}

/// A trace event in one line: `callback(args) -> result`, or
/// `host(args) = status, read …, wrote …`.
pub fn event_text(event: &Event<Trap>) -> String {
    let args = |args: &[Value]| {
        args.iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match event {
        Event::Callback {
            name,
            args: a,
            outcome,
        } => {
            let result = match outcome {
                Outcome::Returned(values) => values
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
                Outcome::Trapped(trap) => format!("trap {}: {}", trap.kind, trap.message),
            };
            format!("{name}({}) -> {result}", args(a))
        }
        Event::Host {
            name,
            args: a,
            read,
            wrote,
            result,
        } => {
            let result = match result {
                HostResult::Status(code) => code.to_string(),
                HostResult::Done => "done".into(),
                HostResult::Trap(why) => format!("trap: {why}"),
            };
            let mut text = format!("  {name}({}) = {result}", args(a));
            if !read.is_empty() {
                text.push_str(&format!(", read {read}"));
            }
            if !wrote.is_empty() {
                text.push_str(&format!(", wrote {} bytes", wrote.len()));
            }
            text
        }
    }
}

/// The final host state, a line per part.
pub fn state_lines(state: &FinalState) -> Vec<String> {
    let mut lines: Vec<String> = state
        .streams
        .iter()
        .map(|s| {
            let local = s
                .local_response
                .as_ref()
                .map(|r| format!(", local response {} {}", r.status, r.body))
                .unwrap_or_default();
            format!(
                "stream {}: {:?}{local}; request {} headers, body {}; response {} headers, body {}",
                s.context,
                s.end,
                s.request.headers.len(),
                s.request.body,
                s.response.headers.len(),
                s.response.body
            )
        })
        .collect();
    for c in &state.callouts {
        lines.push(format!("callout {} ({}) to {}", c.id, c.kind, c.upstream));
    }
    for (level, message) in &state.logs {
        lines.push(format!("log {level}: {message}"));
    }
    for m in &state.metrics {
        lines.push(format!("metric {} {}: {}", m.id, m.name, m.value));
    }
    for (key, value, cas) in &state.shared_data {
        lines.push(format!("shared {key} = {value} (cas {cas})"));
    }
    for q in &state.queues {
        lines.push(format!(
            "queue {} {}: {} items",
            q.id,
            q.name,
            q.items.len()
        ));
    }
    if state.tick_period_ms > 0 {
        lines.push(format!("tick period {} ms", state.tick_period_ms));
    }
    lines
}

fn call_text(call: &CallOutcome) -> String {
    match call {
        CallOutcome::Trapped(trap) => format!("trap {}: {}", trap.kind, trap.message),
        returned => returned.to_string(),
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub wasmdiff_version: String,
    pub summary: String,
    /// What the divergence is, for bucketing: see [`crate::signature`].
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "typed_signature"
    )]
    pub signature: Option<Signature>,
    pub verdict: Verdict,
    /// The known engine bugs whose workarounds make this divergence vanish.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub known_bugs: Vec<String>,
    pub engines: Vec<EngineRecord>,
    pub generator: Generator,
    pub origin: Origin,
    pub plan: Plan,
    pub outcomes: Vec<EngineOutcome>,
    /// How this case was shrunk, if it was.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub shrink: Option<ShrinkRecord>,
    /// For a stored regression case: what replaying it must show.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expectation: Option<Expectation>,
}

/// A case's size, as the shrinker measures it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Size {
    pub module_bytes: usize,
    /// Instructions in the diverging function(s).
    pub instructions: usize,
    /// Parts of the plan: calls, or scenario parts (streams, headers, chunks, …).
    pub plan: usize,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub input_bytes: Option<usize>,
}

/// What a shrink did. Deterministic: no timings (they differ between runs and machines).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShrinkRecord {
    pub from: Size,
    pub to: Size,
    /// Candidates tried.
    pub evaluations: usize,
    /// `fixpoint`, `evaluation budget`, or (machine-dependent) `time budget` or `interrupted`.
    pub ended_by: String,
}

/// What replaying a stored regression case must show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "expect", rename_all = "kebab-case")]
pub enum Expectation {
    /// Every engine agrees (for example once an engine bug is fixed).
    Agree,
    /// This divergence, for as long as the engines are at these versions; a newer version
    /// means the case must be looked at again (replayed, its expectation updated).
    Diverge {
        signature: Signature,
        pinned: Vec<EngineRecord>,
        /// Known engine bugs that must explain it (their workarounds make the engines agree).
        #[serde(skip_serializing_if = "Vec::is_empty", default)]
        known_bugs: Vec<String>,
    },
}

/// A stored signature; one in the text form of earlier versions is dropped (the case is
/// re-signed when it is replayed).
fn typed_signature<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Signature>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Typed(Signature),
        Text(#[allow(dead_code, reason = "read only to be dropped")] String),
    }
    Ok(match Option::<Stored>::deserialize(d)? {
        Some(Stored::Typed(signature)) => Some(signature),
        Some(Stored::Text(_)) | None => None,
    })
}

impl Report {
    pub fn new(
        case: &TestCase,
        specs: &[&EngineSpec],
        executions: &[Execution],
        verdict: &Verdict,
        origin: Origin,
    ) -> Report {
        let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
        Report {
            wasmdiff_version: env!("CARGO_PKG_VERSION").to_string(),
            summary: describe(verdict, &names, &case.plan, executions),
            signature: Signature::of(verdict, &names, executions, &case.module, &case.plan),
            verdict: verdict.clone(),
            known_bugs: Vec::new(),
            engines: specs.iter().map(|s| EngineRecord::of(s)).collect(),
            generator: case.generator,
            origin,
            plan: case.plan.clone(),
            outcomes: names
                .iter()
                .zip(executions)
                .map(|(name, e)| EngineOutcome::of(name, e))
                .collect(),
            shrink: None,
            expectation: None,
        }
    }
}

impl Report {
    /// Marks the divergence as explained by known engine bugs.
    pub fn with_known_bugs(mut self, bugs: &[&KnownBug]) -> Report {
        if !bugs.is_empty() {
            self.known_bugs = bugs.iter().map(|b| b.id.to_string()).collect();
            self.summary = format!(
                "known bug {}: {}",
                self.known_bugs.join(" + "),
                self.summary
            );
        }
        self
    }
}

/// What one engine observed at `step`, in a few words.
fn observed_at(step: &Step, execution: &Execution) -> String {
    match (step, execution) {
        (_, Execution::Crashed { kind, message, at }) => {
            format!("crashed at {at}, {kind} ({message})")
        }
        (_, Execution::Rejected { message }) => format!("rejected ({message})"),
        (_, Execution::Accepted) => "accepted".into(),
        (_, Execution::Skipped { reason }) => format!("skipped ({reason})"),
        (_, Execution::InstantiationFailed { trap }) => format!("instantiation trap {}", trap.kind),
        (Step::Compile | Step::Instantiate, Execution::Ran { .. }) => "instantiated".into(),
        (Step::Call(i), Execution::Ran { calls, .. }) => calls
            .get(*i)
            .map_or("(not called)".into(), |c| c.to_string()),
        (Step::Export(name), Execution::Ran { exports, .. }) => exports
            .iter()
            .find(|e| &e.name == name)
            .map_or("(not exported)".into(), |e| e.value.to_string()),
        (Step::Compile | Step::Instantiate, Execution::Traced { .. }) => "instantiated".into(),
        (Step::Event(i), Execution::Traced { trace }) => trace
            .events
            .get(*i)
            .map_or("(trace ended)".into(), |e| event_text(e).trim().to_string()),
        (Step::FinalState, Execution::Traced { trace }) => state_lines(&trace.state).join("; "),
        // A call plan's steps on a trace, or a trace's on calls: the plans differ.
        (_, Execution::Ran { .. } | Execution::Traced { .. }) => "(not comparable)".into(),
        (_, Execution::Hosted { runs }) => hosted_text(runs),
    }
}

/// Where a filter's runs under several hosts first differ from its run under the first, as it
/// looked under each.
fn hosted_text(runs: &[HostRun]) -> String {
    match hosts::first_host_difference(runs) {
        Some((a, b, Difference::Observable(d))) => {
            let none = || "(none)".to_string();
            let (left, right) = (d.left.unwrap_or_else(none), d.right.unwrap_or_else(none));
            format!("{}: under {a} {left}, under {b} {right}", d.aspect)
        }
        Some((a, b, Difference::Outcome { left, right })) => {
            format!("under {a} {left}, under {b} {right}")
        }
        None => "the same under every host".into(),
    }
}

/// `[engine, engine] what they saw | [engine] what it saw`, one group per agreeing class.
fn classes_text(divergence: &Divergence, names: &[&str], executions: &[Execution]) -> String {
    let classes: Vec<String> = divergence
        .classes
        .iter()
        .map(|class| {
            let who: Vec<&str> = class.iter().map(|&i| names[i]).collect();
            format!(
                "[{}] {}",
                who.join(", "),
                observed_at(&divergence.step, &executions[class[0]])
            )
        })
        .collect();
    classes.join(" | ")
}

/// Where two memory images first differ, for the description.
fn first_difference(step: &Step, a: &Execution, b: &Execution) -> Option<String> {
    let Step::Export(name) = step else {
        return None;
    };
    let memory = |e: &Execution| match e {
        Execution::Ran { exports, .. } => exports.iter().find_map(|x| match &x.value {
            ExportValue::Memory(bytes) if &x.name == name => Some(bytes.clone()),
            _ => None,
        }),
        _ => None,
    };
    let (a, b) = (memory(a)?, memory(b)?);
    let at = a.iter().zip(&b).position(|(x, y)| x != y)?;
    Some(format!(
        "; first difference at byte {at}: 0x{:02x} vs 0x{:02x}",
        a[at], b[at]
    ))
}

/// A human description of a verdict, naming the engines in each agreeing class.
pub fn describe(
    verdict: &Verdict,
    names: &[&str],
    plan: &Plan,
    executions: &[Execution],
) -> String {
    let step_text = |step: &Step| match step {
        Step::Call(i) => match plan.calls().get(*i) {
            Some(inv) => {
                let args: Vec<String> = inv.args.iter().map(|a| a.to_string()).collect();
                format!("call #{i} `{}`({})", inv.export, args.join(" "))
            }
            None => step.to_string(),
        },
        other => other.to_string(),
    };
    match verdict {
        Verdict::Agree => "all engines agree".into(),
        Verdict::Inconclusive {
            step,
            reason,
            engines,
        } => {
            let who: Vec<&str> = engines.iter().map(|&i| names[i]).collect();
            format!(
                "inconclusive at {}: {reason} on {}",
                step_text(step),
                who.join(", ")
            )
        }
        Verdict::Diverge(d) => {
            let classes = classes_text(d, names, executions);
            let detail = match &d.classes[..] {
                [a, b, ..] => first_difference(&d.step, &executions[a[0]], &executions[b[0]]),
                _ => None,
            };
            format!(
                "{} at {}: {}{}",
                d.kind,
                step_text(&d.step),
                classes,
                detail.unwrap_or_default()
            )
        }
    }
}
