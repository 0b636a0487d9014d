//! Printing cases and outcomes for people.

use wasmdiff_cases::report::{event_text, state_lines};
use wasmdiff_engines::{Execution, Trap};
use wasmdiff_gen::proxy::HostProfile;
use wasmdiff_gen::{TestCase, Value};
use wasmdiff_harness::portability::{Difference, Portability};
use wasmdiff_oracle::{Step, Verdict};
use wasmdiff_proxy::Trace;

/// One block per step (instantiation, each call, each export, or a trace's events), one line
/// per engine. At the diverging step, `!` marks the engines that could be wrong (outside the
/// largest agreeing class; for a crash, those that failed), or `?` every engine when classes
/// tie for largest.
pub fn side_by_side(case: &TestCase, names: &[&str], executions: &[Execution], verdict: &Verdict) {
    let width = names.iter().map(|n| n.len()).max().unwrap_or(0);
    let divergence = verdict.divergence();
    let odd_ones = divergence.map(|d| d.odd_ones(executions));
    let mark = |step: &Step, engine: usize| match (divergence, &odd_ones) {
        (Some(d), Some(Some(odd))) if &d.step == step && odd.contains(&engine) => '!',
        (Some(d), Some(None)) if &d.step == step => '?',
        _ => ' ',
    };
    let line = |step: &Step, engine: usize, text: String| {
        println!(" {} {:<width$}  {text}", mark(step, engine), names[engine]);
    };
    println!("instantiate");
    for (i, execution) in executions.iter().enumerate() {
        let step = match (execution, divergence) {
            (Execution::Crashed { .. }, Some(d)) => d.step.clone(),
            (Execution::Rejected { .. }, _) => Step::Compile,
            _ => Step::Instantiate,
        };
        let text = match execution {
            Execution::Ran { .. } | Execution::Traced { .. } => "ok".to_string(),
            other => other.summary(),
        };
        line(&step, i, text);
    }
    let traces: Vec<(usize, &Trace<Trap>)> = executions
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            Execution::Traced { trace } => Some((i, trace)),
            _ => None,
        })
        .collect();
    if let [(_, first), ..] = traces[..] {
        return traces_side_by_side(first, &traces, &line, verdict);
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

/// The engines' traces (`(lineup index, trace)`, at least one) printed once while they agree
/// (as `first` has it); at the first difference, each engine's event; then the final state,
/// once or, if it differs, per engine. Engines that sat the filter out were listed above.
fn traces_side_by_side(
    first: &Trace<Trap>,
    traces: &[(usize, &Trace<Trap>)],
    line: &dyn Fn(&Step, usize, String),
    verdict: &Verdict,
) {
    let diverging = verdict.divergence().map(|d| &d.step);
    println!("trace");
    let longest = traces
        .iter()
        .map(|(_, t)| t.events.len())
        .max()
        .unwrap_or(0);
    for index in 0..longest {
        let step = Step::Event(index);
        if diverging == Some(&step) {
            for (engine, trace) in traces {
                let text = trace
                    .events
                    .get(index)
                    .map_or("(trace ended)".to_string(), |e| {
                        event_text(e).trim().to_string()
                    });
                line(&step, *engine, text);
            }
            return;
        }
        match first.events.get(index) {
            Some(event) => println!("    {}", event_text(event)),
            None => break,
        }
    }
    println!("final state");
    if diverging == Some(&Step::FinalState) {
        for (engine, trace) in traces {
            line(
                &Step::FinalState,
                *engine,
                state_lines(&trace.state).join("; "),
            );
        }
    } else {
        for text in state_lines(&first.state) {
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

/// The portability grid: per host, whether the engines agree (the engine axis); then, for
/// the first host against each other one, the first observable difference per group of
/// engines showing it (the host axis), with the trace events where the runs part, side by
/// side.
pub fn portability(grid: &Portability, names: &[&str]) {
    let list = |engines: &[usize]| {
        let engines: Vec<&str> = engines.iter().map(|&e| names[e]).collect();
        match engines.len() == names.len() {
            true => format!("every engine ({})", engines.join(", ")),
            false => engines.join(", "),
        }
    };
    println!("engine axis: the engines under each host");
    for (host, checked) in &grid.runs {
        let text = wasmdiff_cases::describe(
            &checked.verdict,
            names,
            &checked.case.plan,
            &checked.executions,
        );
        println!("    {host:<6} {text}");
    }
    println!("host axis: the filter under each host");
    for comparison in &grid.comparisons {
        let (left, right) = (comparison.left, comparison.right);
        for (difference, engines) in &comparison.groups {
            let Some(difference) = difference else {
                println!("    {left} = {right} on {}", list(engines));
                continue;
            };
            println!("    {left} ≠ {right} on {}", list(engines));
            let (ours, theirs) = (
                &grid.runs[0].1,
                &grid
                    .runs
                    .iter()
                    .find(|(h, _)| *h == right)
                    .expect("a run per host")
                    .1,
            );
            let engine = engines[0];
            match difference {
                Difference::Outcome { left: a, right: b } => {
                    println!("      {left:<6} {a}");
                    println!("      {right:<6} {b}");
                }
                Difference::Observable(d) => {
                    let absent = || "(none)".to_string();
                    println!("      first observable difference: {}", d.aspect);
                    println!("      {left:<6} {}", d.left.clone().unwrap_or_else(absent));
                    println!(
                        "      {right:<6} {}",
                        d.right.clone().unwrap_or_else(absent)
                    );
                    let traces = (&ours.executions[engine], &theirs.executions[engine]);
                    let (Execution::Traced { trace: a }, Execution::Traced { trace: b }) = traces
                    else {
                        continue;
                    };
                    let behind = |host, trace: &Trace<Trap>, at: Option<usize>| {
                        if let Some(event) = at.and_then(|at| trace.events.get(at)) {
                            println!("      behind it under {host}: {}", event_text(event).trim());
                        }
                    };
                    behind(left, a, d.behind.0);
                    behind(right, b, d.behind.1);
                    if let Some(at) = d.parting_event {
                        println!(
                            "      the traces part at event #{at} (on {}):",
                            names[engine]
                        );
                        parting_events(a, b, at, (left, right));
                    }
                }
            }
        }
    }
}

/// The events of two traces from a little before `at` to a little after, in two columns.
fn parting_events(
    left: &Trace<Trap>,
    right: &Trace<Trap>,
    at: usize,
    (a, b): (HostProfile, HostProfile),
) {
    const BEFORE: usize = 2;
    const AFTER: usize = 3;
    const COLUMN: usize = 72;
    let cell = |trace: &Trace<Trap>, i: usize| {
        let text = trace
            .events
            .get(i)
            .map_or(String::new(), |e| event_text(e).trim_end().to_string());
        let mut text: String = text.chars().take(COLUMN).collect();
        if text.chars().count() == COLUMN {
            text.push('…');
        }
        text
    };
    println!("        {:<w$} | {b}", a.to_string(), w = COLUMN + 1);
    for i in at.saturating_sub(BEFORE)..at + AFTER {
        let mark = if i == at { '>' } else { ' ' };
        println!(
            "      {mark} {:<w$} | {}",
            cell(left, i),
            cell(right, i),
            w = COLUMN + 1
        );
    }
}
