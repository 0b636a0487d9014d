//! `wasmdiff run FILE`: one module on every engine, outcomes side by side.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use wasmdiff_campaign::Differential;
use wasmdiff_cases::{describe, read_module};
use wasmdiff_engines::{Execution, Limits};
use wasmdiff_gen::plan::exported_functions;
use wasmdiff_gen::{Invocation, TestCase, Value};
use wasmdiff_oracle::{Step, Verdict};

#[derive(Args)]
pub struct RunArgs {
    /// The module: `.wasm`, or `.wat` text.
    file: PathBuf,
    /// Engine configurations, comma-separated (see `wasmdiff engines`).
    #[arg(long, default_value = "default")]
    engines: String,
    /// Call only this export (default: every exported function once, with zero arguments).
    #[arg(long)]
    invoke: Option<String>,
    /// Arguments for --invoke, typed (`i32:-1`, `f32:nan:0x7fc00001`) or bare (`-1`, `1.5`).
    #[arg(long, num_args = 0.., allow_hyphen_values = true, requires = "invoke")]
    args: Vec<String>,
}

fn invocation(module: &[u8], name: &str, args: &[String]) -> anyhow::Result<Invocation> {
    let funcs = exported_functions(module)?;
    let Some(func) = funcs.iter().find(|f| f.name == name) else {
        let names: Vec<&str> = funcs.iter().map(|f| f.name.as_str()).collect();
        bail!(
            "no exported function `{name}` (exported functions: {})",
            names.join(", ")
        );
    };
    if args.len() != func.params.len() {
        bail!(
            "`{name}` takes {} arguments, {} given",
            func.params.len(),
            args.len()
        );
    }
    let args = args
        .iter()
        .zip(&func.params)
        .map(|(text, ty)| Value::parse_as(text, *ty).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<_>>()?;
    Ok(Invocation {
        export: name.to_string(),
        args,
    })
}

pub fn main(args: RunArgs) -> anyhow::Result<ExitCode> {
    let engines = wasmdiff_engines::parse_list(&args.engines)?;
    let module = read_module(&args.file)?;
    let mut differential = Differential::new(&engines, Limits::default())?;
    let mut case = wasmdiff_gen::from_module(module, differential.features())
        .with_context(|| format!("{}", args.file.display()))?;
    if let Some(name) = &args.invoke {
        case.invocations = vec![invocation(&case.module, name, &args.args)?];
    }
    let (executions, verdict) = differential.run(&case);
    let names: Vec<&str> = engines.iter().map(|s| s.name).collect();
    print_side_by_side(&case, &names, &executions, &verdict);
    println!(
        "\n{}",
        describe(&verdict, &names, &case.invocations, &executions)
    );
    Ok(match verdict {
        Verdict::Diverge(_) => ExitCode::from(crate::DIVERGED),
        _ => ExitCode::SUCCESS,
    })
}

/// One block per step (instantiation, each call, each export), one line per engine; engines
/// outside the first agreeing class at the diverging step are marked `!`.
fn print_side_by_side(
    case: &TestCase,
    names: &[&str],
    executions: &[Execution],
    verdict: &Verdict,
) {
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
            Execution::Ran { .. } => "ok".to_string(),
            other => other.summary(),
        };
        line(&step, i, text);
    }
    for (index, invocation) in case.invocations.iter().enumerate() {
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
