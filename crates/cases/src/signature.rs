//! Divergence signatures: which engines disagree, what each side observed (kinds, not values),
//! and the instructions of the diverging function. One bug gives one signature, so a hundred
//! findings of it fall into one bucket.

use std::collections::BTreeSet;

use wasmdiff_engines::{CallOutcome, CrashKind, Execution, ExportValue};
use wasmdiff_gen::{Plan, Value};
use wasmdiff_oracle::{Step, Verdict};
use wasmdiff_proxy::{Event, Outcome};
use wasmparser::{ExternalKind, Payload};

use crate::report::classes_text;

/// The signature without instructions: it survives shrinking, so it is what the shrinker
/// preserves. `None` unless the verdict is a divergence.
pub fn coarse_signature(
    verdict: &Verdict,
    names: &[&str],
    executions: &[Execution],
) -> Option<String> {
    let divergence = verdict.divergence()?;
    let classes = classes_text(divergence, names, executions, shape);
    Some(format!(
        "{} at {}: {classes}",
        divergence.kind,
        divergence.step.kind()
    ))
}

/// The full signature: the coarse one plus the distinct instructions of the diverging
/// function(s), sorted. Meaningful for shrunk cases, where few instructions remain.
pub fn signature(
    verdict: &Verdict,
    names: &[&str],
    executions: &[Execution],
    module: &[u8],
    plan: &Plan,
) -> Option<String> {
    let coarse = coarse_signature(verdict, names, executions)?;
    let divergence = verdict.divergence()?;
    let exports = diverging_exports(
        &divergence.step,
        plan,
        &executions[divergence.classes[0][0]],
    );
    let functions = function_instructions(module).unwrap_or_default();
    let instructions: BTreeSet<&str> = diverging_functions(module, exports.as_deref())
        .into_iter()
        .filter_map(|f| functions.get(f))
        .flatten()
        .map(String::as_str)
        .collect();
    let instructions: Vec<&str> = instructions.into_iter().collect();
    Some(format!(
        "{coarse} ; instructions: {}",
        instructions.join(" ")
    ))
}

/// What one engine observed at a step, as a kind: types rather than values, trap kinds rather
/// than messages, panic locations rather than whole messages.
fn shape(step: &Step, execution: &Execution) -> String {
    match (step, execution) {
        (_, Execution::Crashed { kind, message }) => match kind {
            CrashKind::Panic => format!("crashed{}", panic_location(message)),
            other => format!("crashed ({other})"),
        },
        (_, Execution::Rejected { .. }) => "rejected".into(),
        (_, Execution::Accepted) => "accepted".into(),
        (_, Execution::Skipped { .. }) => "skipped".into(),
        (_, Execution::InstantiationFailed { trap }) => format!("instantiation trap {}", trap.kind),
        (Step::Compile | Step::Instantiate, Execution::Ran { .. }) => "instantiated".into(),
        (Step::Event(i), Execution::Traced { trace }) => match trace.events.get(*i) {
            Some(Event::Callback {
                name,
                outcome: Outcome::Returned(values),
                ..
            }) => {
                let types: Vec<String> = values.iter().map(|v| v.ty().to_string()).collect();
                format!("callback {name} returned [{}]", types.join(" "))
            }
            Some(Event::Callback {
                name,
                outcome: Outcome::Trapped(trap),
                ..
            }) => format!("callback {name} trap {}", trap.kind),
            Some(Event::Host { name, result, .. }) => format!("host {name} {result:?}"),
            None => "trace ended".into(),
        },
        (Step::FinalState, Execution::Traced { .. }) => "final state".into(),
        (Step::Compile | Step::Instantiate, Execution::Traced { .. }) => "instantiated".into(),
        (_, Execution::Traced { .. }) => "traced".into(),
        (Step::Event(_) | Step::FinalState, Execution::Ran { .. }) => "ran calls".into(),
        (Step::Call(i), Execution::Ran { calls, .. }) => match calls.get(*i) {
            Some(CallOutcome::Returned(values)) => {
                let types: Vec<String> = values.iter().map(|v| Value::ty(v).to_string()).collect();
                format!("returned [{}]", types.join(" "))
            }
            Some(CallOutcome::Trapped(trap)) => format!("trap {}", trap.kind),
            None => "not called".into(),
        },
        (Step::Export(name), Execution::Ran { exports, .. }) => {
            match exports.iter().find(|e| &e.name == name) {
                Some(e) => match &e.value {
                    ExportValue::Memory(_) => "memory".into(),
                    ExportValue::Global(v) => format!("global {}", v.ty()),
                    ExportValue::Table(_) => "table".into(),
                    ExportValue::Digest { .. } => "digest".into(),
                    ExportValue::Unobserved => "unobserved".into(),
                },
                None => "not exported".into(),
            }
        }
    }
}

/// ` at file:line:col` from a panic message (the engines' lineup records panics so).
fn panic_location(message: &str) -> String {
    message
        .rsplit_once(" at ")
        .map(|(_, location)| format!(" at {location}"))
        .unwrap_or_default()
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
        Step::Export(_) => Some(plan.calls().iter().map(|c| c.export.clone()).collect()),
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
    use wasmdiff_engines::Trap;
    use wasmdiff_engines::TrapKind;
    use wasmdiff_gen::Invocation;
    use wasmdiff_oracle::{Divergence, DivergenceKind};

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
        let one = signature(&verdict, &names, &[ran(1), ran(2)], &module, &plan).unwrap();
        let other = signature(&verdict, &names, &[ran(7), ran(9)], &module, &plan).unwrap();
        assert_eq!(one, other);
        assert_eq!(
            one,
            "return-value at call: [good] returned [i32] | [bad] returned [i32] ; instructions: i32.const i32.shr_u local.get"
        );
        let crashed = Execution::panicked("panic: boom at wasmi-2.0.0/src/x.rs:1:2");
        let trapped = Execution::InstantiationFailed {
            trap: Trap::new(TrapKind::Unreachable, "x"),
        };
        let verdict = Verdict::Diverge(Divergence {
            kind: DivergenceKind::Crash,
            step: Step::Compile,
            classes: vec![vec![0], vec![1]],
        });
        assert_eq!(
            coarse_signature(&verdict, &names, &[crashed, trapped]).unwrap(),
            "crash at compile: [good] crashed at wasmi-2.0.0/src/x.rs:1:2 | [bad] instantiation trap unreachable"
        );
    }
}
