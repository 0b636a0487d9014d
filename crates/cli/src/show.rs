//! Printing cases and outcomes for people.

use wasmdiff_cases::report::{event_text, state_lines};
use wasmdiff_engines::{Execution, Trap};
use wasmdiff_gen::{TestCase, Value};
use wasmdiff_oracle::{Step, Verdict};
use wasmdiff_proxy::Trace;

/// One block per step (instantiation, each call, each export, or a trace's events), one line
/// per engine; engines outside the first agreeing class at the diverging step are marked `!`.
pub fn side_by_side(case: &TestCase, names: &[&str], executions: &[Execution], verdict: &Verdict) {
    let width = names.iter().map(|n| n.len()).max().unwrap_or(0);
    let odd_one = |step: &Step, engine: usize| match verdict {
        Verdict::Diverge(d) if &d.step == step => !d.classes[0].contains(&engine),
        _ => false,
    };
    let line = |step: &Step, engine: usize, text: String| {
        let mark = if odd_one(step, engine) { '!' } else { ' ' };
        println!(" {mark} {:<width$}  {text}", names[engine]);
    };
    println!("instantiate");
    for (i, execution) in executions.iter().enumerate() {
        let step = match execution {
            Execution::Rejected { .. } | Execution::Crashed { .. } => Step::Compile,
            _ => Step::Instantiate,
        };
        let text = match execution {
            Execution::Ran { .. } | Execution::Traced { .. } => "ok".to_string(),
            other => other.summary(),
        };
        line(&step, i, text);
    }
    let traces: Vec<&Trace<Trap>> = executions
        .iter()
        .filter_map(|e| match e {
            Execution::Traced { trace } => Some(trace),
            _ => None,
        })
        .collect();
    if traces.len() == executions.len() {
        return traces_side_by_side(&traces, &line, verdict);
    }
    for (index, invocation) in case.plan.calls().iter().enumerate() {
        let args: Vec<String> = invocation.args.iter().map(Value::to_string).collect();
        println!("#{index} {}({})", invocation.export, args.join(" "));
        for (i, execution) in executions.iter().enumerate() {
            if let Execution::Ran { calls, .. } = execution {
                let text = calls
                    .get(index)
                    .map_or("(not called)".to_string(), |c| c.to_string());
                line(&Step::Call(index), i, text);
            }
        }
    }
    let Some(Execution::Ran { exports, .. }) = executions
        .iter()
        .find(|e| matches!(e, Execution::Ran { .. }))
    else {
        return;
    };
    for export in exports {
        println!("export `{}`", export.name);
        for (i, execution) in executions.iter().enumerate() {
            if let Execution::Ran { exports, .. } = execution {
                let text = exports
                    .iter()
                    .find(|e| e.name == export.name)
                    .map_or("(not compared)".to_string(), |e| e.value.to_string());
                line(&Step::Export(export.name.clone()), i, text);
            }
        }
    }
}

/// A trace printed once while the engines agree; at the first difference, each engine's
/// event; then each engine's final state if those differ.
fn traces_side_by_side(
    traces: &[&Trace<Trap>],
    line: &dyn Fn(&Step, usize, String),
    verdict: &Verdict,
) {
    let diverging = verdict.divergence().map(|d| &d.step);
    println!("trace");
    for (index, event) in traces[0].events.iter().enumerate() {
        let step = Step::Event(index);
        if diverging == Some(&step) {
            for (engine, trace) in traces.iter().enumerate() {
                let text = trace
                    .events
                    .get(index)
                    .map_or("(trace ended)".to_string(), |e| {
                        event_text(e).trim().to_string()
                    });
                line(&step, engine, text);
            }
            return;
        }
        println!("    {}", event_text(event));
    }
    if diverging == Some(&Step::FinalState) {
        println!("final state");
        for (engine, trace) in traces.iter().enumerate() {
            line(
                &Step::FinalState,
                engine,
                state_lines(&trace.state).join("; "),
            );
        }
    } else {
        println!("final state");
        for text in state_lines(&traces[0].state) {
            println!("    {text}");
        }
    }
}

/// The module as text, with the diverging function's first line marked by `note`.
pub fn marked_wat(module: &[u8], exports: Option<&[String]>, note: &str) -> String {
    let text = wasmdiff_cases::module_text(module);
    let marked = wasmdiff_cases::signature::diverging_functions(module, exports);
    let mut function = 0;
    let mut out = String::with_capacity(text.len() + note.len());
    for line in text.lines() {
        out.push_str(line);
        // Defined functions print as `(func ...` lines, in index order.
        if line.trim_start().starts_with("(func") {
            if marked.contains(&function) {
                out.push_str("  ;; <== ");
                out.push_str(note);
            }
            function += 1;
        }
        out.push('\n');
    }
    out
}
