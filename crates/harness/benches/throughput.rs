//! Throughput of the differential pipeline (`cargo bench -p wasmdiff-harness`, or
//! `scripts/bench`). Prints execs/s per engine alone and all together (in a campaign's batches,
//! each engine's busy time beside it) on one fixed set of seeded test cases, the harness
//! overhead, and the conclusive comparisons per second of the Cranelift + wasmi pair on
//! wasm-smith modules. Speeds are the best of several rounds. The
//! overhead is computed within each round (every engine alone, then all together, back to
//! back, so drift in the machine's speed hits both sides) and its median is printed.
//!
//! Set `WASMDIFF_BENCH_INPUTS` to change the number of inputs (default 400).

use std::time::{Duration, Instant};

use wasmdiff_engines::Limits;
use wasmdiff_gen::{Generator, TestCase};
use wasmdiff_harness::campaign::peak_memory_bytes;
use wasmdiff_harness::{CampaignConfig, Differential, campaign, inputs};

const SEED: u64 = 1;
const ROUNDS: usize = 5;

/// Input `index` of the fixed set, made for `generator` or left as drawn (`None`).
fn input(index: u64, generator: Option<Generator>) -> Vec<u8> {
    let mut bytes = inputs::input(
        SEED,
        index,
        wasmdiff_harness::campaign::DEFAULT_MAX_INPUT_LEN,
    );
    if let Some(generator) = generator {
        wasmdiff_gen::choose_generator(&mut bytes, generator);
    }
    bytes
}

/// Time to run and compare every case once on `differential`, in a campaign's batches, and
/// how long each engine was busy meanwhile.
fn time_run(differential: &mut Differential, cases: &[TestCase]) -> (Duration, Vec<Duration>) {
    let before = differential.lineup().busy_times();
    let start = Instant::now();
    for batch in cases.chunks(campaign::BATCH) {
        for executions in differential.execute_batch(batch, |_| {}) {
            std::hint::black_box(wasmdiff_oracle::compare(&executions));
        }
    }
    let elapsed = start.elapsed();
    let busy = (differential.lineup().busy_times().into_iter())
        .zip(before)
        .map(|(after, before)| after - before)
        .collect();
    (elapsed, busy)
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is a filter we do not support.
    let count: u64 = std::env::var("WASMDIFF_BENCH_INPUTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(400);
    let specs = wasmdiff_engines::defaults();
    let generator = Differential::new(&specs, Limits::default()).unwrap();
    let cases: Vec<TestCase> = (0..count)
        .filter_map(|i| generator.generate(&input(i, None)).ok())
        .collect();
    drop(generator);
    let module_bytes: usize = cases.iter().map(|c| c.module.len()).sum();
    println!(
        "# {} test cases from seed {SEED} (mixed generators), mean module {} bytes, {} hardware threads",
        cases.len(),
        module_bytes / cases.len().max(1),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    println!("\n## each engine alone, then all together (execs/s = test cases per second)");
    let mut alone: Vec<(Differential, Duration)> = specs
        .iter()
        .map(|spec| {
            (
                Differential::new(&[spec], Limits::default()).unwrap(),
                Duration::MAX,
            )
        })
        .collect();
    let mut all = Differential::new(&specs, Limits::default()).unwrap();
    let (mut together, mut overheads) = (Duration::MAX, Vec::new());
    let mut busy_together = vec![Duration::ZERO; specs.len()];
    for _ in 0..ROUNDS {
        // One round: every engine alone, then all together, back to back.
        let mut sum_alone = Duration::ZERO;
        for (differential, best) in alone.iter_mut() {
            let (time, _) = time_run(differential, &cases);
            *best = (*best).min(time);
            sum_alone += time;
        }
        let (time, busy) = time_run(&mut all, &cases);
        together = together.min(time);
        overheads.push((time.as_secs_f64() - sum_alone.as_secs_f64()) / time.as_secs_f64());
        for (total, busy) in busy_together.iter_mut().zip(busy) {
            *total += busy;
        }
    }
    println!(
        "{:<28} {:>9} {:>22}",
        "", "alone", "busy when all run, s/round"
    );
    for ((spec, (_, time)), busy) in specs.iter().zip(&alone).zip(&busy_together) {
        println!(
            "{:<28} {:>9.1} execs/s {:>14.2}",
            spec.name,
            cases.len() as f64 / time.as_secs_f64(),
            busy.as_secs_f64() / ROUNDS as f64
        );
    }
    let busy_sum: Duration = busy_together.iter().sum::<Duration>() / ROUNDS as u32;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "{:<28} {:>9.1} execs/s (as `--jobs 1` runs them: batches of {}; the engines' busy \
         time over {cores} cores allows {:.1})",
        "all together",
        cases.len() as f64 / together.as_secs_f64(),
        campaign::BATCH,
        cases.len() as f64 * cores as f64 / busy_sum.as_secs_f64()
    );
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2] * 100.0
    };
    println!(
        "harness overhead (together - sum alone) / together, median of {ROUNDS} rounds: {:+.1} %",
        median(&mut overheads)
    );

    let pair = wasmdiff_engines::parse_list("wasmtime-cranelift,wasmi-eager").unwrap();
    let out = std::env::temp_dir().join(format!("wasmdiff-bench-pair-{}", std::process::id()));
    for (label, generator) in [
        ("wasm-smith modules only", Some(Generator::WasmSmith)),
        ("both generators, as drawn", None),
    ] {
        println!(
            "\n## Cranelift + wasmi pair, {label}: a campaign from the first input \
             (`wasmdiff fuzz --jobs 1 --no-sweep --no-shrink`)"
        );
        let stats = (0..ROUNDS)
            .map(|_| {
                let config = CampaignConfig {
                    generator,
                    ..CampaignConfig::bounded(pair.clone(), SEED, count, out.clone())
                };
                let stats = campaign::run(config, Default::default(), |_| {}).unwrap();
                std::fs::remove_dir_all(&out).ok();
                stats
            })
            .min_by_key(|stats| stats.elapsed)
            .unwrap();
        if let Some(only) = generator {
            assert!(
                stats.generators.keys().all(|g| *g == only),
                "inputs made for {} came out as {:?}",
                only.name(),
                stats.generators
            );
        }
        let made: Vec<String> = (stats.generators.iter())
            .map(|(g, n)| format!("{} {n}", g.name()))
            .collect();
        let conclusive = stats.agreed + stats.divergent;
        let time = stats.elapsed.as_secs_f64();
        println!(
            "{} inputs ({}): {:.1} conclusive comparisons/s, {:.1} % conclusive",
            stats.inputs,
            made.join(", "),
            conclusive as f64 / time,
            100.0 * conclusive as f64 / stats.inputs.max(1) as f64
        );
        // Validation, comparison and what is left of generation (it runs on a thread of its
        // own); engines that overlap on two threads make this an underestimate.
        let busy: Duration = stats.engines.iter().map(|e| e.busy).sum();
        println!(
            "the engines busy {:.2} s of {time:.2} s: {:.1} % of the time outside them",
            busy.as_secs_f64(),
            100.0 * (1.0 - busy.as_secs_f64() / time)
        );
    }
    if let Some(peak) = peak_memory_bytes() {
        println!("\npeak memory of this process: {:.0} MB", peak as f64 / 1e6);
    }
}
