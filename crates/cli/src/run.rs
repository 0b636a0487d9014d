//! `wasmdiff run FILE`: one module on every engine, outcomes side by side (or, with
//! `--validate`, only whether each accepts it).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use wasmdiff_cases::{describe, read_module};
use wasmdiff_gen::plan::exported_functions;
use wasmdiff_gen::{Generator, Invocation, Plan, TestCase, Value};
use wasmdiff_harness::{Differential, Target};
use wasmdiff_oracle::Verdict;

use crate::engine_args::EngineArgs;
use crate::show;

#[derive(Args)]
pub struct RunArgs {
    /// The module: `.wasm`, or `.wat` text.
    file: PathBuf,
    #[command(flatten)]
    engines: EngineArgs,
    /// Only ask whether each engine accepts the module (and wasmparser with it).
    #[arg(long, conflicts_with = "invoke")]
    validate: bool,
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
    let target = match args.validate {
        true => Target::Validation,
        false => Target::Modules,
    };
    let engines = args.engines.specs(target)?;
    let module = read_module(&args.file)?;
    if let Ok(imports) = wasmdiff_proxy::resolve_imports(&module, Default::default())
        && let Some(first) = imports.first()
    {
        bail!(
            "{} imports proxy-wasm host functions (`{}::{}`, …): it is a filter, run it with \
             `wasmdiff proxy {}`",
            args.file.display(),
            first.module,
            first.name,
            args.file.display()
        );
    }
    let mut differential = Differential::for_target(&engines, args.engines.limits()?, target)?;
    let case = if args.validate {
        TestCase {
            module,
            plan: Plan::Validate,
            generator: Generator::File,
        }
    } else {
        let mut case = wasmdiff_gen::from_module(module)
            .with_context(|| format!("{}", args.file.display()))?;
        if let Some(name) = &args.invoke {
            case.plan = Plan::Calls(vec![invocation(&case.module, name, &args.args)?]);
        }
        case
    };
    let (executions, verdict) = differential.run(&case);
    let names: Vec<&str> = engines.iter().map(|s| s.name).collect();
    show::side_by_side(&case, &names, &executions, &verdict);
    println!("\n{}", describe(&verdict, &names, &case.plan, &executions));
    Ok(match verdict {
        Verdict::Diverge(_) => ExitCode::from(crate::DIVERGED),
        _ => ExitCode::SUCCESS,
    })
}
