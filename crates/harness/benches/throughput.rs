//! Throughput of the differential pipeline (`cargo bench -p wasmdiff-harness`, or
//! `scripts/bench`). Prints execs/s per engine alone and all together (in a campaign's batches,
//! each engine's busy time beside it) on one fixed set of seeded test cases, the harness
//! overhead, and the conclusive comparisons per second of the Cranelift + wasmi pair on
//! wasm-smith modules. Speeds are the best of several rounds. The
//! overhead is computed within each round (every engine alone, then all together, back to
//! back, so drift in the machine's speed hits both sides) and its median is printed.
//!
//! Set `WASMDIFF_BENCH_INPUTS` to change the number of inputs (default 400).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use wasmdiff_engines::Limits;
use wasmdiff_gen::{Generator, TestCase};
use wasmdiff_harness::campaign::peak_memory_bytes;
use wasmdiff_harness::{Differential, campaign, inputs};

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

fn best_of<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = None;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let value = f();
        let elapsed = start.elapsed();
        if best.as_ref().is_none_or(|(b, _)| elapsed < *b) {
            best = Some((elapsed, value));
        }
    }
    best.unwrap()
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
    let mut differential = Differential::new(&pair, Limits::default()).unwrap();
    for (label, generator) in [
        ("wasm-smith modules only", Some(Generator::WasmSmith)),
        ("both generators, as drawn", None),
    ] {
        println!("\n## Cranelift + wasmi pair, {label}, whole pipeline from the first input");
        let pair_inputs: Vec<Vec<u8>> = (0..count).map(|i| input(i, generator)).collect();
        let (time, (conclusive, bytes, made, busy)) = best_of(|| {
            let (mut conclusive, mut bytes) = (0u64, 0usize);
            let mut made: BTreeMap<Generator, u64> = BTreeMap::new();
            let before: Duration = differential.lineup().busy_times().iter().sum();
            for data in &pair_inputs {
                if let Ok(checked) = differential.check(data) {
                    conclusive += u64::from(checked.verdict.is_conclusive());
                    bytes += checked.case.module.len();
                    *made.entry(checked.case.generator).or_default() += 1;
                }
            }
            let busy = differential.lineup().busy_times().iter().sum::<Duration>() - before;
            (conclusive, bytes, made, busy)
        });
        if let Some(only) = generator {
            assert!(
                made.keys().all(|g| *g == only),
                "inputs made for {} came out as {made:?}",
                only.name()
            );
        }
        let made: Vec<String> = made
            .iter()
            .map(|(g, n)| format!("{} {n}", g.name()))
            .collect();
        println!(
            "{} inputs ({}), mean module {} bytes: {:.1} conclusive comparisons/s, {:.1} % conclusive",
            pair_inputs.len(),
            made.join(", "),
            bytes / pair_inputs.len().max(1),
            conclusive as f64 / time.as_secs_f64(),
            100.0 * conclusive as f64 / pair_inputs.len() as f64
        );
        // Generation, validation and comparison; engines that overlap on two threads make
        // this an underestimate.
        println!(
            "the engines busy {:.2} s of {:.2} s: {:.1} % of the time outside them",
            busy.as_secs_f64(),
            time.as_secs_f64(),
            100.0 * (1.0 - busy.as_secs_f64() / time.as_secs_f64())
        );
    }
    if let Some(peak) = peak_memory_bytes() {
        println!("\npeak memory of this process: {:.0} MB", peak as f64 / 1e6);
    }
}
