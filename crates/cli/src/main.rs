//! `wasmdiff`: differential fuzzing and testing of WebAssembly engines.
//!
//! This crate only parses arguments, shows progress and prints; the work is done by the
//! library crates, which the fuzz targets and the tests call too.

mod cases;
#[cfg(wasmdiff_coverage)]
mod coverage;
mod engine_args;
mod engines;
mod fuzz;
mod proxy;
mod run;
mod show;
mod target;
mod wast;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "wasmdiff",
    version,
    about = "Differential fuzzing and testing of WebAssembly engines"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a differential campaign on seeded pseudo-random inputs (stable Rust, no setup).
    Fuzz(fuzz::FuzzArgs),
    /// Run a module's exports on every engine and print the outcomes side by side.
    ///
    /// Exit status: 0 when the engines agree (or the comparison is inconclusive), 1 when they
    /// diverge, 2 on a bad input.
    Run(run::RunArgs),
    /// Drive a proxy-wasm filter through a scenario on every engine; print the traces and the
    /// first difference.
    ///
    /// Exit status: 0 when the traces agree, 1 when they differ, 2 on a bad input.
    Proxy(proxy::ProxyArgs),
    /// List the engine configurations: versions, features, what they can do, where they run,
    /// and why any is unavailable here.
    Engines,
    /// Shrink a finding to a minimal reproducer (written to its `shrunk/` directory).
    Shrink(cases::ShrinkArgs),
    /// Re-run cases and print each engine's outcome side by side.
    ///
    /// Exit status: 1 when any case still diverges or misses its stored expectation, 0 when
    /// none does, 2 on a bad input.
    Replay(cases::ReplayArgs),
    /// Print a case's minimal module with the diverging function marked, the calls and each
    /// engine's result or trap.
    Explain(cases::ExplainArgs),
    /// Group findings into buckets of one signature each, with counts and the smallest
    /// reproducer of each.
    Triage(cases::TriageArgs),
    /// Store a case as a regression case that the test suite replays (`corpus/regressions/`).
    Promote(cases::PromoteArgs),
    /// Run WebAssembly spec test scripts (`.wast`) on every engine: a matrix of engines ×
    /// files, each command judged against the script and against the other engines.
    ///
    /// Exit status: 0 when every engine passed what it ran (with --baseline: when the run
    /// matches it), 1 otherwise, 2 on a bad input.
    Wast(wast::WastArgs),
    /// Turn fuzz inputs (`cargo fuzz` artifacts, one file or a directory of them) into cases.
    Import(cases::ImportArgs),
    /// Write seed corpora for the cargo-fuzz targets (`corpus/<target>/`) from stored cases:
    /// each input to the target that makes its case's module, each valid module to `mutate`.
    SeedCorpus(cases::SeedCorpusArgs),
    /// Write a campaign's random inputs as files, to run them elsewhere (a cargo-fuzz target
    /// replays a directory with `-runs=0`).
    Inputs(fuzz::InputsArgs),
}

/// Exit status for a divergence, as opposed to an error (2).
const DIVERGED: u8 = 1;

fn main() -> ExitCode {
    // Started as an engine's worker process, wasmdiff serves it and exits here.
    wasmdiff_engines::remote::worker::serve_if_requested();
    // wasmtime and anyhow capture a Rust backtrace per error when RUST_BACKTRACE is set; that
    // makes every trap several times slower. Findings carry their own reproducers instead.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: first thing in main, before any other thread exists.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            print!("{e}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("bad arguments");
            eprintln!("{first} (see `wasmdiff --help`)");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Fuzz(args) => fuzz::main(args),
        Command::Run(args) => run::main(args),
        Command::Proxy(args) => proxy::main(args),
        Command::Engines => engines::main(),
        Command::Shrink(args) => cases::shrink(args),
        Command::Replay(args) => cases::replay(args),
        Command::Explain(args) => cases::explain(args),
        Command::Triage(args) => cases::triage(args),
        Command::Promote(args) => cases::promote(args),
        Command::Import(args) => cases::import(args),
        Command::SeedCorpus(args) => cases::seed_corpus(args),
        Command::Inputs(args) => fuzz::write_inputs(args),
        Command::Wast(args) => wast::main(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::from(2)
        }
    }
}
