//! `wasmdiff proxy FILTER`: one proxy-wasm filter through one scenario on every engine.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use wasmdiff_cases::{describe, read_module};
use wasmdiff_gen::proxy::{HostProfile, Scenario, example_scenario};
use wasmdiff_gen::{Generator, Plan, TestCase};
use wasmdiff_harness::portability::portability;
use wasmdiff_harness::{Differential, Target};
use wasmdiff_oracle::Verdict;

use crate::engine_args::EngineArgs;
use crate::show;

#[derive(Args)]
pub struct ProxyArgs {
    /// The filter: a `.wasm` or `.wat` file, or `sdk:NAME` for a built-in SDK filter
    /// (header_rewrite, auth_callout, body_rewrite, config_driven, shared_counter, queue,
    /// metrics, tick_timer, grpc_auth, properties; AssemblyScript: as_header_rewrite,
    /// as_auth_callout); `crates/filters/rows/` has one small filter per row of
    /// `proxy-wasm-hosts.md`.
    filter: String,
    /// The scenario, as JSON (default: a built-in example: two streams, a callout, ticks).
    #[arg(long)]
    scenario: Option<PathBuf>,
    #[command(flatten)]
    engines: EngineArgs,
    /// The proxy whose host behaviour to follow where hosts differ: envoy or nginx.
    #[arg(long, default_value = "envoy", value_parser = parse_host, conflicts_with = "hosts")]
    host: HostProfile,
    /// A portability report: run the filter under each of these hosts (comma-separated, say
    /// `envoy,nginx`) on every engine, and show where its observable behaviour first differs.
    #[arg(long, value_delimiter = ',', value_parser = parse_host)]
    hosts: Vec<HostProfile>,
    /// Print the scenario used, as JSON, and stop.
    #[arg(long)]
    print_scenario: bool,
}

pub fn parse_host(name: &str) -> Result<HostProfile, String> {
    name.parse()
}

/// Exit status: 0 when the engines' traces agree (and, with `--hosts`, the hosts' observable
/// behaviour too), 1 when they differ, 2 on a bad input.
pub fn main(args: ProxyArgs) -> anyhow::Result<ExitCode> {
    let mut scenario: Scenario = match &args.scenario {
        Some(path) => {
            let json =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            serde_json::from_slice(&json)
                .with_context(|| format!("{} is not a scenario", path.display()))?
        }
        None => example_scenario(),
    };
    scenario.host = args.hosts.first().copied().unwrap_or(args.host);
    if args.print_scenario {
        println!("{}", serde_json::to_string_pretty(&scenario)?);
        return Ok(ExitCode::SUCCESS);
    }
    let engines = args.engines.specs(Target::ProxyWasm)?;
    let module = match args.filter.strip_prefix("sdk:") {
        Some(name) => {
            let names: Vec<&str> = wasmdiff_filters::all().iter().map(|f| f.name).collect();
            let filter = wasmdiff_filters::find(name).with_context(|| {
                format!("no SDK filter `{name}` (there are: {})", names.join(", "))
            })?;
            filter.wasm.to_vec()
        }
        None => read_module(args.filter.as_ref())?,
    };
    // A filter that does not link under this host is a result, not a bad input: resolved
    // against every profile's table, it must import host functions only.
    wasmdiff_proxy::resolve_imports(&module, HostProfile::Envoy).map_err(anyhow::Error::msg)?;
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&module)
        .map_err(|e| anyhow::anyhow!("invalid module: {e}"))?;
    let mut differential =
        Differential::for_target(&engines, args.engines.limits()?, Target::ProxyWasm)?;
    if args.hosts.len() > 1 {
        let grid = portability(&mut differential, &module, &scenario, &args.hosts);
        show::portability(&grid, &differential.lineup().names());
        return Ok(match grid.engines_differ() || grid.hosts_differ() {
            true => ExitCode::from(crate::DIVERGED),
            false => ExitCode::SUCCESS,
        });
    }
    let case = TestCase {
        module,
        plan: Plan::Proxy(scenario),
        generator: Generator::File,
    };
    let checked = differential.check_case(case);
    let names = differential.lineup().names();
    show::side_by_side(&checked.case, &names, &checked.executions, &checked.verdict);
    println!(
        "\n{}",
        describe(
            &checked.verdict,
            &names,
            &checked.case.plan,
            &checked.executions
        )
    );
    if !checked.known_bugs.is_empty() {
        let bugs: Vec<&str> = checked.known_bugs.iter().map(|b| b.id).collect();
        println!("explained by known bug {}", bugs.join(" + "));
    }
    Ok(match checked.verdict {
        Verdict::Diverge(_) => ExitCode::from(crate::DIVERGED),
        _ => ExitCode::SUCCESS,
    })
}
