//! Divergence signatures: which engines disagree, what each side observed (kinds, not values),
//! and the instructions of the diverging function. One bug gives one signature, so a hundred
//! findings of it fall into one bucket. A signature is data: stored in `report.json`,
//! compared as it is, printed for people.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use wasmdiff_engines::{CallOutcome, CrashKind, Execution, ExportValue, HostRun, TrapKind};
use wasmdiff_gen::proxy::HostProfile;
use wasmdiff_gen::{Plan, ValType};
use wasmdiff_oracle::hosts::{self, Difference};
use wasmdiff_oracle::{Divergence, DivergenceKind, Step, StepKind, Verdict};
use wasmdiff_proxy::portability::AspectKind;
use wasmdiff_proxy::trace::HostResult;
use wasmdiff_proxy::{Event, Outcome};
use wasmparser::{ExternalKind, Payload};

/// What a divergence is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Signature {
    pub kind: DivergenceKind,
    pub step: StepKind,
    /// One side per class of agreeing engines, in the verdict's order.
    pub sides: Vec<Side>,
    /// The distinct instructions of the diverging function(s), sorted; empty in a coarse
    /// signature, which is what survives shrinking.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instructions: Vec<String>,
}

/// Engines that agree, and what they observed at the diverging step (as its first engine
/// saw it).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Side {
    pub engines: Vec<String>,
    pub observed: Observed,
}

/// What an engine observed at a step, as a kind: types rather than values, trap kinds rather
/// than messages, panic locations rather than whole messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "observed", rename_all = "kebab-case")]
pub enum Observed {
    Crashed {
        crash: CrashKind,
        /// The kind of step it crashed at (no index: shrinking may move it).
        at: StepKind,
        /// `file:line:column` of a panic.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        location: Option<String>,
    },
    Rejected,
    Accepted,
    Skipped,
    InstantiationTrap {
        trap: TrapKind,
    },
    Instantiated,
    Returned {
        types: Vec<ValType>,
    },
    Trapped {
        trap: TrapKind,
    },
    NotCalled,
    Memory,
    Global {
        ty: ValType,
    },
    Table,
    Digest,
    Unobserved,
    NotExported,
    CallbackReturned {
        callback: String,
        types: Vec<ValType>,
    },
    CallbackTrapped {
        callback: String,
        trap: TrapKind,
    },
    HostCall {
        function: String,
        result: HostResult,
    },
    TraceEnded,
    FinalState,
    /// A plan of one kind seen at a step of another (the engines' answers are incomparable).
    Ran,
    Traced,
    /// A filter that behaves differently under two hosts: in which aspect (none: it did not
    /// get through the scenario under one of them), and the host call or callback behind it.
    Portability {
        hosts: Vec<HostProfile>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        aspect: Option<AspectKind>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        behind: Option<String>,
    },
}

impl Signature {
    /// The signature of a verdict, `None` unless it is a divergence; with the instructions of
    /// the diverging function(s) of `module`.
    pub fn of(
        verdict: &Verdict,
        names: &[&str],
        executions: &[Execution],
        module: &[u8],
        plan: &Plan,
    ) -> Option<Signature> {
        let mut signature = Signature::coarse_of(verdict, names, executions)?;
        let divergence = verdict.divergence()?;
        // Between hosts, no function of the filter diverges.
        if divergence.kind == DivergenceKind::Portability {
            return Some(signature);
        }
        let exports = diverging_exports(
            &divergence.step,
            plan,
            &executions[divergence.classes[0][0]],
        );
        let functions = function_instructions(module).unwrap_or_default();
        let instructions: BTreeSet<&String> = diverging_functions(module, exports.as_deref())
            .into_iter()
            .filter_map(|f| functions.get(f))
            .flatten()
            .collect();
        signature.instructions = instructions.into_iter().cloned().collect();
        Some(signature)
    }

    /// The signature without instructions: what the shrinker preserves.
    pub fn coarse_of(
        verdict: &Verdict,
        names: &[&str],
        executions: &[Execution],
    ) -> Option<Signature> {
        let divergence = verdict.divergence()?;
        Some(Signature {
            kind: divergence.kind,
            step: divergence.step.kind(),
            sides: sides(divergence, names, executions),
            instructions: Vec::new(),
        })
    }

    /// This signature without its instructions.
    pub fn coarse(&self) -> Signature {
        Signature {
            instructions: Vec::new(),
            ..self.clone()
        }
    }

    /// The engine alone on a side, with what it observed: the odd one out, when there is one.
    pub fn odd_one_out(&self) -> Option<(&str, &Observed)> {
        let alone: Vec<&Side> = self.sides.iter().filter(|s| s.engines.len() == 1).collect();
        match (&alone[..], self.sides.len()) {
            ([side], 2..) => Some((side.engines[0].as_str(), &side.observed)),
            _ => None,
        }
    }
}

fn sides(divergence: &Divergence, names: &[&str], executions: &[Execution]) -> Vec<Side> {
    // A difference between hosts is the same whichever engines ran the filter.
    let engines = |class: &[usize]| match divergence.kind {
        DivergenceKind::Portability => Vec::new(),
        _ => class.iter().map(|&i| names[i].to_string()).collect(),
    };
    divergence
        .classes
        .iter()
        .map(|class| Side {
            engines: engines(class),
            observed: Observed::at(&divergence.step, &executions[class[0]]),
        })
        .collect()
}

impl Observed {
    /// What `execution` shows at `step`.
    pub fn at(step: &Step, execution: &Execution) -> Observed {
        match (step, execution) {
            (_, Execution::Crashed { kind, message, at }) => Observed::Crashed {
                crash: *kind,
                at: Step::from(*at).kind(),
                location: match kind {
                    CrashKind::Panic => panic_location(message),
                    _ => None,
                },
            },
            (_, Execution::Rejected { .. }) => Observed::Rejected,
            (_, Execution::Accepted) => Observed::Accepted,
            (_, Execution::Skipped { .. }) => Observed::Skipped,
            (_, Execution::InstantiationFailed { trap }) => {
                Observed::InstantiationTrap { trap: trap.kind }
            }
            (
                Step::Compile | Step::Instantiate,
                Execution::Ran { .. } | Execution::Traced { .. },
            ) => Observed::Instantiated,
            (Step::Event(i), Execution::Traced { trace }) => match trace.events.get(*i) {
                Some(Event::Callback {
                    name,
                    outcome: Outcome::Returned(values),
                    ..
                }) => Observed::CallbackReturned {
                    callback: name.clone(),
                    types: values.iter().map(|v| v.ty()).collect(),
                },
                Some(Event::Callback {
                    name,
                    outcome: Outcome::Trapped(trap),
                    ..
                }) => Observed::CallbackTrapped {
                    callback: name.clone(),
                    trap: trap.kind,
                },
                Some(Event::Host { name, result, .. }) => Observed::HostCall {
                    function: name.clone(),
                    result: result.clone(),
                },
                None => Observed::TraceEnded,
            },
            (Step::FinalState, Execution::Traced { .. }) => Observed::FinalState,
            (_, Execution::Traced { .. }) => Observed::Traced,
            (Step::Call(i), Execution::Ran { calls, .. }) => match calls.get(*i) {
                Some(CallOutcome::Returned(values)) => Observed::Returned {
                    types: values.iter().map(|v| v.ty()).collect(),
                },
                Some(CallOutcome::Trapped(trap)) => Observed::Trapped { trap: trap.kind },
                None => Observed::NotCalled,
            },
            (Step::Export(name), Execution::Ran { exports, .. }) => {
                match exports.iter().find(|e| &e.name == name) {
                    Some(e) => match &e.value {
                        ExportValue::Memory(_) => Observed::Memory,
                        ExportValue::Global(v) => Observed::Global { ty: v.ty() },
                        ExportValue::Table(_) => Observed::Table,
                        ExportValue::Digest { .. } => Observed::Digest,
                        ExportValue::Unobserved => Observed::Unobserved,
                    },
                    None => Observed::NotExported,
                }
            }
            (_, Execution::Ran { .. }) => Observed::Ran,
            (_, Execution::Hosted { runs }) => portability(runs),
        }
    }
}

/// How a filter's runs under several hosts first differ from its run under the first.
fn portability(runs: &[HostRun]) -> Observed {
    let Some((left, right, difference)) = hosts::first_host_difference(runs) else {
        return Observed::Traced;
    };
    let (aspect, behind) = match difference {
        Difference::Observable(d) => {
            let name = |host: HostProfile, index: Option<usize>| {
                let run = runs.iter().find(|r| r.host == host)?;
                match (&run.execution, index) {
                    (Execution::Traced { trace }, Some(i)) => {
                        trace.events.get(i).map(|e| match e {
                            Event::Callback { name, .. } | Event::Host { name, .. } => name.clone(),
                        })
                    }
                    _ => None,
                }
            };
            let behind = name(right, d.behind.1).or_else(|| name(left, d.behind.0));
            (Some(d.aspect.kind()), behind)
        }
        // It did not get through the scenario under one of them.
        Difference::Outcome { .. } => (None, None),
    };
    Observed::Portability {
        hosts: vec![left, right],
        aspect,
        behind,
    }
}

/// `file:line:col` from a panic message (the engines' lineup records panics so).
fn panic_location(message: &str) -> Option<String> {
    message
        .rsplit_once(" at ")
        .map(|(_, location)| location.to_string())
}

fn types_text(types: &[ValType]) -> String {
    let types: Vec<String> = types.iter().map(ValType::to_string).collect();
    format!("[{}]", types.join(" "))
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Observed::Crashed {
                crash,
                at,
                location,
            } => {
                write!(f, "crashed ({crash}) at {at}")?;
                match location {
                    Some(location) => write!(f, " in {location}"),
                    None => Ok(()),
                }
            }
            Observed::Rejected => f.write_str("rejected"),
            Observed::Accepted => f.write_str("accepted"),
            Observed::Skipped => f.write_str("skipped"),
            Observed::InstantiationTrap { trap } => write!(f, "instantiation trap {trap}"),
            Observed::Instantiated => f.write_str("instantiated"),
            Observed::Returned { types } => write!(f, "returned {}", types_text(types)),
            Observed::Trapped { trap } => write!(f, "trap {trap}"),
            Observed::NotCalled => f.write_str("not called"),
            Observed::Memory => f.write_str("memory"),
            Observed::Global { ty } => write!(f, "global {ty}"),
            Observed::Table => f.write_str("table"),
            Observed::Digest => f.write_str("digest"),
            Observed::Unobserved => f.write_str("unobserved"),
            Observed::NotExported => f.write_str("not exported"),
            Observed::CallbackReturned { callback, types } => {
                write!(f, "callback {callback} returned {}", types_text(types))
            }
            Observed::CallbackTrapped { callback, trap } => {
                write!(f, "callback {callback} trap {trap}")
            }
            Observed::HostCall { function, result } => write!(f, "host {function} {result:?}"),
            Observed::TraceEnded => f.write_str("trace ended"),
            Observed::FinalState => f.write_str("final state"),
            Observed::Ran => f.write_str("ran calls"),
            Observed::Traced => f.write_str("traced"),
            Observed::Portability {
                hosts,
                aspect,
                behind,
            } => {
                let hosts: Vec<String> = hosts.iter().map(ToString::to_string).collect();
                match aspect {
                    Some(aspect) => write!(f, "{} differ in {aspect}", hosts.join(" and "))?,
                    None => write!(f, "{} differ in getting through", hosts.join(" and "))?,
                }
                match behind {
                    Some(behind) => write!(f, " behind {behind}"),
                    None => Ok(()),
                }
            }
        }
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}: ", self.kind, self.step)?;
        for (i, side) in self.sides.iter().enumerate() {
            let separator = if i == 0 { "" } else { " | " };
            match &side.engines[..] {
                [] => write!(f, "{separator}{}", side.observed)?,
                engines => write!(f, "{separator}[{}] {}", engines.join(", "), side.observed)?,
            }
        }
        if !self.instructions.is_empty() {
            write!(f, " ; instructions: {}", self.instructions.join(" "))?;
        }
        Ok(())
    }
}

/// The exports a divergence at `step` points at, in `execution` (an engine of the first
/// class): the called function, every called function for exported state, the callback in
/// progress for a trace event; `None` for all functions.
pub fn diverging_exports(step: &Step, plan: &Plan, execution: &Execution) -> Option<Vec<String>> {
    match step {
        Step::Call(i) => Some(
            plan.calls()
                .get(*i)
                .map(|c| c.export.clone())
                .into_iter()
                .collect(),
        ),
        Step::Export(_) | Step::Exports => {
            Some(plan.calls().iter().map(|c| c.export.clone()).collect())
        }
        // Events are recorded as they complete: a host call's callback comes after it.
        Step::Event(i) => match execution {
            Execution::Traced { trace } => trace.events.get(*i..)?.iter().find_map(|e| match e {
                Event::Callback { name, .. } => Some(vec![name.clone()]),
                Event::Host { .. } => None,
            }),
            _ => None,
        },
        Step::Compile | Step::Instantiate | Step::FinalState => None,
    }
}

/// The defined functions exported under `exports` (all defined functions for `None`).
pub fn diverging_functions(module: &[u8], exports: Option<&[String]>) -> Vec<usize> {
    let Some(names) = exports else {
        return (0..function_instructions(module).map_or(0, |f| f.len())).collect();
    };
    let indices: BTreeSet<usize> = exported_functions(module)
        .into_iter()
        .filter(|(name, _)| names.contains(name))
        .map(|(_, index)| index)
        .collect();
    indices.into_iter().collect()
}

/// Exported functions as (name, defined function index).
fn exported_functions(module: &[u8]) -> Vec<(String, usize)> {
    let mut imported = 0;
    let mut exports = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(module).flatten() {
        match payload {
            Payload::ImportSection(reader) => {
                imported += reader
                    .into_imports()
                    .flatten()
                    .filter(|i| matches!(i.ty, wasmparser::TypeRef::Func(_)))
                    .count();
            }
            Payload::ExportSection(reader) => {
                for export in reader.into_iter().flatten() {
                    if export.kind == ExternalKind::Func && export.index as usize >= imported {
                        exports.push((export.name.to_string(), export.index as usize - imported));
                    }
                }
            }
            _ => {}
        }
    }
    exports
}

/// The instruction names (as in the text format, `end` and `else` left out) of each defined
/// function, in order.
pub fn function_instructions(module: &[u8]) -> anyhow::Result<Vec<Vec<String>>> {
    let bodies: Vec<std::ops::Range<u64>> = wasmparser::Parser::new(0)
        .parse_all(module)
        .filter_map(|p| match p {
            Ok(Payload::CodeSectionEntry(body)) => {
                Some(Ok(body.range().start as u64..body.range().end as u64))
            }
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
        .collect::<Result<_, _>>()?;
    let mut functions = vec![Vec::new(); bodies.len()];
    let mut storage = String::new();
    for (offset, line) in wasmprinter::Config::new().offsets_and_lines(module, &mut storage)? {
        let Some(offset) = offset else { continue };
        let Some(function) = bodies.iter().position(|r| r.contains(&offset)) else {
            continue;
        };
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        if name.starts_with(|c: char| c.is_ascii_lowercase()) && name != "end" && name != "else" {
            functions[function].push(name.to_string());
        }
    }
    Ok(functions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmdiff_engines::{Stage, Trap};
    use wasmdiff_gen::{Invocation, Value};

    const WAT: &str = r#"(module
        (memory 1)
        (func $a (export "a") (param i32) (result i32)
            local.get 0 i32.const 1 i32.shr_u)
        (func $b (export "b") (result i32)
            block (result i32) i32.const 1 i32.const 2 i32.add end))"#;

    #[test]
    fn instructions_are_attributed_to_their_functions() {
        let module = wat::parse_str(WAT).unwrap();
        let functions = function_instructions(&module).unwrap();
        assert_eq!(functions[0], ["local.get", "i32.const", "i32.shr_u"]);
        assert_eq!(functions[1], ["block", "i32.const", "i32.const", "i32.add"]);
        let call = |export: &str| Invocation {
            export: export.into(),
            args: vec![],
        };
        let plan = Plan::Calls(vec![call("b"), call("a")]);
        let ran = Execution::Ran {
            calls: vec![],
            exports: vec![],
        };
        let exports = |step: Step| diverging_exports(&step, &plan, &ran);
        assert_eq!(
            diverging_functions(&module, exports(Step::Call(1)).as_deref()),
            [0]
        );
        assert_eq!(
            diverging_functions(&module, exports(Step::Export("m".into())).as_deref()),
            [0, 1]
        );
        assert_eq!(
            diverging_functions(&module, exports(Step::Compile).as_deref()),
            [0, 1]
        );
    }

    #[test]
    fn signatures_keep_kinds_and_drop_values_and_paths() {
        let module = wat::parse_str(WAT).unwrap();
        let plan = Plan::Calls(vec![Invocation {
            export: "a".into(),
            args: vec![Value::I32(-8)],
        }]);
        let ran = |v: i32| Execution::Ran {
            calls: vec![CallOutcome::Returned(vec![Value::I32(v)])],
            exports: vec![],
        };
        let verdict = Verdict::Diverge(Divergence {
            kind: DivergenceKind::ReturnValue,
            step: Step::Call(0),
            classes: vec![vec![0], vec![1]],
        });
        let names = ["good", "bad"];
        let one = Signature::of(&verdict, &names, &[ran(1), ran(2)], &module, &plan).unwrap();
        let other = Signature::of(&verdict, &names, &[ran(7), ran(9)], &module, &plan).unwrap();
        assert_eq!(one, other);
        assert_eq!(
            one.to_string(),
            "return-value at call: [good] returned [i32] | [bad] returned [i32] ; instructions: i32.const i32.shr_u local.get"
        );
        let json = serde_json::to_string(&one).unwrap();
        assert_eq!(serde_json::from_str::<Signature>(&json).unwrap(), one);
        assert_eq!(one.coarse().instructions, Vec::<String>::new());
        let crashed = Execution::crashed(
            CrashKind::Panic,
            "panic: boom at wasmi-2.0.0/src/x.rs:1:2",
            Stage::Call(0),
        );
        let trapped = Execution::InstantiationFailed {
            trap: Trap::new(TrapKind::Unreachable, "x"),
        };
        let verdict = Verdict::Diverge(Divergence {
            kind: DivergenceKind::Crash,
            step: Step::Call(0),
            classes: vec![vec![0], vec![1]],
        });
        let coarse = Signature::coarse_of(&verdict, &names, &[crashed, trapped]).unwrap();
        assert_eq!(
            coarse.to_string(),
            "crash at call: [good] crashed (panic) at call in wasmi-2.0.0/src/x.rs:1:2 | [bad] instantiation trap unreachable"
        );
        assert_eq!(coarse.odd_one_out(), None, "two sides of one engine each");
    }
}
