//! `wasmdiff fuzz`: a campaign with a live progress line and a closing summary.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use wasmdiff_cases::Signature;
use wasmdiff_gen::Generator;
use wasmdiff_gen::proxy::HostProfile;
use wasmdiff_harness::campaign::{
    self, DEFAULT_MAX_INPUT_LEN, SAVED_PER_PORTABILITY, peak_memory_bytes,
};
use wasmdiff_harness::shrink::ShrinkBudget;
use wasmdiff_harness::{CampaignConfig, Stats, SweepPlan, Target, inputs};

use crate::engine_args::EngineArgs;
use crate::target::TargetArg;

/// Where a coverage build of `wasmdiff fuzz` writes its profiles (`scripts/coverage --campaign`).
pub(crate) const COVERAGE_DIR_ENV: &str = "WASMDIFF_COVERAGE_DIR";

#[derive(Args)]
pub struct FuzzArgs {
    /// What to test.
    #[arg(long, value_enum, default_value = "modules")]
    target: TargetArg,
    /// Stop after this many seconds, background shrinking included (default: until
    /// --iterations, or Ctrl-C).
    #[arg(long)]
    seconds: Option<u64>,
    /// Stop after this many random inputs (sweep chunks come on top; with `--target sweep`,
    /// after this many chunks).
    #[arg(long)]
    iterations: Option<u64>,
    /// Seed of the input sequence (default: a fresh one, printed).
    #[arg(long)]
    seed: Option<u64>,
    #[command(flatten)]
    engines: EngineArgs,
    /// Where findings are written, one directory each.
    #[arg(long, default_value = "findings")]
    out: PathBuf,
    /// Worker threads (each runs every engine).
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Longest input in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_INPUT_LEN)]
    max_input_len: usize,
    /// Do not shrink new findings in the background.
    #[arg(long)]
    no_shrink: bool,
    /// Candidates to try at most when shrinking one finding.
    #[arg(long, default_value_t = ShrinkBudget::default().evaluations)]
    shrink_evaluations: usize,
    /// Where the mutate target's seed modules are: `.wast` scripts (the spec test suite) and
    /// `.wasm` files below these paths (default: corpus/regressions).
    #[arg(long)]
    seeds: Vec<PathBuf>,
    /// Leave the corner sweep out of a modules campaign (by default one chunk of it runs
    /// every eighth input, until the sweep is done).
    #[arg(long)]
    no_sweep: bool,
    /// The proxy every proxy-wasm scenario follows where hosts differ: envoy or nginx
    /// (default: each scenario draws one from its input, so a campaign covers both).
    #[arg(long, value_parser = crate::proxy::parse_host)]
    host: Option<HostProfile>,
    /// Make every random module with this generator: wasm-smith or instructions (default:
    /// each input picks one; modules campaigns only).
    #[arg(long, value_parser = inputs::module_generator)]
    generator: Option<Generator>,
}

fn percent(part: u64, whole: u64) -> f64 {
    100.0 * part as f64 / whole.max(1) as f64
}

fn progress_line(stats: &Stats) -> String {
    let shrinking = match stats.shrink_queue {
        0 => String::new(),
        n => format!(" | shrinking {n}"),
    };
    let sweep = &stats.sweep;
    let sweeping = match sweep.chunks_done {
        0 => String::new(),
        done => format!(
            " | sweep {done}/{} chunks, {} calls, {} diverge",
            sweep.chunks, sweep.calls, sweep.divergent
        ),
    };
    format!(
        "{:>8.1} execs/s | {} inputs | {} new findings, {} known | {:.1} % inconclusive{sweeping}{shrinking}",
        stats.execs_per_second(),
        stats.inputs,
        stats.new_findings(),
        stats.findings.len() - stats.new_findings(),
        percent(stats.inconclusive, stats.inputs)
    )
}

pub fn main(args: FuzzArgs) -> anyhow::Result<ExitCode> {
    let target = Target::from(args.target);
    let sweep = match (args.target, args.no_sweep) {
        (TargetArg::Sweep, _) => SweepPlan::Only,
        (TargetArg::Modules, false) => SweepPlan::DEFAULT,
        _ => SweepPlan::Off,
    };

    anyhow::ensure!(
        args.host.is_none() || target == Target::ProxyWasm,
        "--host applies to --target proxy-wasm only"
    );
    anyhow::ensure!(
        args.generator.is_none() || target == Target::Modules,
        "--generator applies to --target modules only"
    );
    let engines = args.engines.specs(target)?;
    let limits = args.engines.limits()?;
    anyhow::ensure!(args.jobs >= 1, "--jobs must be at least 1");
    anyhow::ensure!(
        args.max_input_len >= 1,
        "--max-input-len must be at least 1"
    );
    let seeds = match target {
        Target::Mutate => {
            let paths = match args.seeds.is_empty() {
                true => vec![PathBuf::from("corpus/regressions")],
                false => args.seeds.clone(),
            };
            let mut seeds = Vec::new();
            for path in &paths {
                for module in wasmdiff_harness::seeds::load(path)? {
                    if !seeds.contains(&module) {
                        seeds.push(module);
                    }
                }
            }
            anyhow::ensure!(
                !seeds.is_empty(),
                "no seed modules (valid, without imports) in {}",
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            println!("{} seed modules", seeds.len());
            seeds
        }
        _ => Vec::new(),
    };
    let seed = args.seed.unwrap_or_else(inputs::fresh_seed);
    let names: Vec<&str> = engines.iter().map(|s| s.name).collect();
    println!(
        "wasmdiff fuzz: seed {seed} (repeat with --seed {seed}), {} engines: {}",
        names.len(),
        names.join(", ")
    );
    if args.engines.names_defaults() {
        for (engine, why) in wasmdiff_engines::missing_defaults(&target.sample_plan()) {
            println!("left out: {engine}: {why}");
        }
    }
    println!("findings go to {}/", args.out.display());

    // Ctrl-C stops fuzzing (queued findings are still shrunk); a second one stops shrinking,
    // as the end of --seconds does.
    let stop = Arc::new(AtomicBool::new(false));
    let stop_shrinking = Arc::new(AtomicBool::new(false));
    let (on_stop, on_stop_shrinking) = (Arc::clone(&stop), Arc::clone(&stop_shrinking));
    ctrlc::set_handler(move || {
        if on_stop.swap(true, Ordering::Relaxed) {
            on_stop_shrinking.store(true, Ordering::Relaxed);
        }
    })?;

    let interactive = std::io::stderr().is_terminal();
    let bar = if interactive {
        let bar = ProgressBar::new_spinner();
        bar.set_style(ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {msg}",
        )?);
        bar
    } else {
        ProgressBar::hidden()
    };
    let (mut shown, mut shown_shrunk) = (0, 0);
    let mut last_line = Instant::now();
    let config = CampaignConfig {
        engines,
        limits,
        seed,
        iterations: args.iterations,
        duration: args.seconds.map(Duration::from_secs),
        out: args.out.clone(),
        jobs: args.jobs,
        max_input_len: args.max_input_len,
        target,
        sweep,
        seeds: std::sync::Arc::new(seeds),
        host: args.host,
        generator: args.generator,
        shrink: (!args.no_shrink).then(|| ShrinkBudget {
            evaluations: args.shrink_evaluations,
            interrupt: Some(stop_shrinking),
            ..ShrinkBudget::default()
        }),
    };
    #[cfg(wasmdiff_coverage)]
    let mut snapshots = crate::coverage::Snapshots::from_env()?;
    #[cfg(not(wasmdiff_coverage))]
    anyhow::ensure!(
        std::env::var_os(COVERAGE_DIR_ENV).is_none(),
        "{COVERAGE_DIR_ENV} is set, but this wasmdiff is not built for coverage \
         (scripts/coverage --campaign builds one)"
    );
    let stats = campaign::run(config, stop, |stats| {
        #[cfg(wasmdiff_coverage)]
        snapshots.observe(stats.inputs);
        for found in stats.findings[shown..]
            .iter()
            .filter(|f| f.known_bug.is_none())
        {
            bar.suspend(|| eprintln!("finding {}: {}", found.dir.display(), found.summary));
        }
        shown = stats.findings.len();
        for found in &stats.shrunk[shown_shrunk..] {
            bar.suspend(|| eprintln!("shrunk {}: {}", found.dir.display(), found.summary));
        }
        shown_shrunk = stats.shrunk.len();
        if interactive {
            bar.set_message(progress_line(stats));
            bar.tick();
        } else if last_line.elapsed() >= Duration::from_secs(10) {
            eprintln!(
                "[{:>5.0}s] {}",
                stats.elapsed.as_secs_f64(),
                progress_line(stats)
            );
            last_line = Instant::now();
        }
    })?;
    bar.finish_and_clear();
    #[cfg(wasmdiff_coverage)]
    snapshots.finish(stats.inputs)?;
    for found in stats.findings[shown..]
        .iter()
        .filter(|f| f.known_bug.is_none())
    {
        eprintln!("finding {}: {}", found.dir.display(), found.summary);
    }
    print_summary(&stats);
    if !stats.not_shrunk.is_empty() {
        println!("\nnot shrunk before the campaign ended (`wasmdiff shrink FINDING` shrinks one):");
        for dir in &stats.not_shrunk {
            println!("  {}", dir.display());
        }
    }
    let stats_file = campaign::write_stats(&args.out, &stats)?;
    println!("statistics: {}", stats_file.display());
    Ok(ExitCode::SUCCESS)
}

fn print_summary(stats: &Stats) {
    println!(
        "\n{} inputs in {:.1} s: {:.1} execs/s, {:.1} % conclusive",
        stats.inputs,
        stats.elapsed.as_secs_f64(),
        stats.execs_per_second(),
        percent(stats.conclusive(), stats.inputs)
    );
    println!("  agreed        {}", stats.agreed);
    let mut known: std::collections::BTreeMap<&str, usize> = Default::default();
    for bug in stats.findings.iter().filter_map(|f| f.known_bug.as_deref()) {
        *known.entry(bug).or_default() += 1;
    }
    let known: Vec<String> = known.iter().map(|(bug, n)| format!("{bug} {n}")).collect();
    println!(
        "  divergent     {} ({} new findings; explained by known bugs: {})",
        stats.divergent,
        stats.new_findings(),
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    );
    let reasons: Vec<String> = stats
        .inconclusive_reasons
        .iter()
        .map(|(reason, n)| format!("{reason} {n}"))
        .collect();
    println!(
        "  inconclusive  {} ({})",
        stats.inconclusive,
        reasons.join(", ")
    );
    println!(
        "  unusable      {} (inputs the generator could not use)",
        stats.unusable
    );
    let sweep = &stats.sweep;
    if sweep.chunks_done > 0 {
        println!(
            "  sweep         {}/{} chunks, {} calls in {:.1} s: {} agreed, {} inconclusive, {} diverge in {} signatures; {} chunk sittings-out",
            sweep.chunks_done,
            sweep.chunks,
            sweep.calls,
            sweep.busy.as_secs_f64(),
            sweep.agreed,
            sweep.inconclusive,
            sweep.divergent,
            sweep.signatures.len(),
            sweep.sat_out
        );
        for found in &sweep.signatures {
            let what = found
                .signature
                .as_ref()
                .map_or("(no signature)".to_string(), |s| s.to_string());
            let known = found
                .known_bug
                .as_deref()
                .map_or(String::new(), |bug| format!(" [known bug {bug}]"));
            println!(
                "    {:>5} x {}: {what}{known}: {}",
                found.count,
                found.instruction,
                found.first.display()
            );
        }
    }
    if !stats.portability.is_empty() {
        let inputs: u64 = stats.portability.iter().map(|(_, n)| n).sum();
        println!(
            "  portability   {inputs} inputs differ between hosts, in {} kinds (the first {SAVED_PER_PORTABILITY} of each saved):",
            stats.portability.len()
        );
        let mut kinds: Vec<&(Signature, u64)> = stats.portability.iter().collect();
        kinds.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        for (signature, count) in kinds {
            println!("    {count:>5} x {signature}");
        }
    }
    let generators: Vec<String> = stats
        .generators
        .iter()
        .map(|(g, n)| format!("{} {n}", g.name()))
        .collect();
    println!("  generators    {}", generators.join(", "));
    if let Some(peak) = peak_memory_bytes() {
        println!("  peak memory   {:.0} MB", peak as f64 / 1e6);
    }
    println!(
        "\n  {:<26} {:>8} {:>8} {:>8} {:>9} {:>10} {:>9} {:>9} {:>7} {:>5} {:>5} {:>7}",
        "engine",
        "skipped",
        "rejected",
        "accepted",
        "inst-trap",
        "returned",
        "trapped",
        "inconcl.",
        "crashed",
        "hung",
        "oom",
        "busy s"
    );
    for e in &stats.engines {
        println!(
            "  {:<26} {:>8} {:>8} {:>8} {:>9} {:>10} {:>9} {:>9} {:>7} {:>5} {:>5} {:>7.1}",
            e.name,
            e.skipped,
            e.rejected,
            e.accepted,
            e.instantiation_failed,
            e.calls_returned,
            e.calls_trapped,
            e.inconclusive,
            e.crashed,
            e.hung,
            e.out_of_memory,
            e.busy.as_secs_f64()
        );
    }
}

#[derive(Args)]
pub struct InputsArgs {
    /// The campaign's seed (`wasmdiff fuzz --seed S` runs the same inputs).
    #[arg(long)]
    seed: u64,
    /// How many inputs, from the first.
    #[arg(long)]
    count: u64,
    /// Longest input in bytes, as for `wasmdiff fuzz`.
    #[arg(long, default_value_t = DEFAULT_MAX_INPUT_LEN)]
    max_input_len: usize,
    /// Where they go, one file each (`input-<index>`).
    out: PathBuf,
}

/// Writes a campaign's random inputs as files, to run them elsewhere (a cargo-fuzz target
/// replays a directory with `-runs=0`).
pub fn write_inputs(args: InputsArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.max_input_len >= 1,
        "--max-input-len must be at least 1"
    );
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    for index in 0..args.count {
        let file = args.out.join(format!("input-{index:06}"));
        std::fs::write(&file, inputs::input(args.seed, index, args.max_input_len))
            .with_context(|| format!("cannot write {}", file.display()))?;
    }
    println!(
        "{}: {} inputs of seed {}",
        args.out.display(),
        args.count,
        args.seed
    );
    Ok(ExitCode::SUCCESS)
}
