//! What running engines in other processes costs (`scripts/bench`, which builds the `wasmdiff`
//! binary first: isolated engines run in it as workers). Prints, on one fixed set of seeded
//! test cases:
//! - the in-process engines together, in this process and each in a worker (`--isolate`), the
//!   cases in a campaign's batches;
//! - the fastest engine (wasmi) and an optimizing compiler alone, both ways;
//! - what the lineup pays per case even with isolation off (deciding who runs a module);
//! - round trips per second through one node (V8) worker on small modules.
//!
//! Speeds are the best of several rounds, the two ways interleaved so drift hits both.
//! Set `WASMDIFF_BENCH_INPUTS` to change the number of inputs (default 300).

use std::time::{Duration, Instant};

use wasmdiff_engines::{EngineSpec, Isolation, Limits};
use wasmdiff_gen::{FeatureMenu, Features, Generator, Plan, TestCase};
use wasmdiff_harness::{Differential, campaign, inputs};

const SEED: u64 = 1;
const ROUNDS: usize = 3;

/// The cases run and compared as a campaign runs them: in batches.
fn time_run(differential: &mut Differential, cases: &[TestCase]) -> Duration {
    let start = Instant::now();
    for batch in cases.chunks(campaign::BATCH) {
        for executions in differential.execute_batch(batch, |_| {}) {
            std::hint::black_box(wasmdiff_oracle::compare(&executions));
        }
    }
    start.elapsed()
}

/// Best time of the lineup in this process and isolated, rounds interleaved.
fn both_ways(specs: &[&'static EngineSpec], cases: &[TestCase]) -> (Duration, Duration) {
    let isolated = Limits {
        isolate_all: true,
        ..Limits::default()
    };
    let mut inside = Differential::new(specs, Limits::default()).unwrap();
    let mut outside = Differential::new(specs, isolated).unwrap();
    let (mut best_inside, mut best_outside) = (Duration::MAX, Duration::MAX);
    for _ in 0..ROUNDS {
        best_inside = best_inside.min(time_run(&mut inside, cases));
        best_outside = best_outside.min(time_run(&mut outside, cases));
    }
    (best_inside, best_outside)
}

fn report(label: &str, cases: usize, (inside, outside): (Duration, Duration)) {
    let rate = |d: Duration| cases as f64 / d.as_secs_f64();
    println!(
        "{label:<34} {:>8.1} execs/s in process, {:>8.1} isolated: {:+.1} %",
        rate(inside),
        rate(outside),
        100.0 * (outside.as_secs_f64() / inside.as_secs_f64() - 1.0)
    );
}

fn main() {
    let count: u64 = std::env::var("WASMDIFF_BENCH_INPUTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let in_process: Vec<&'static EngineSpec> = wasmdiff_engines::defaults()
        .into_iter()
        .filter(|s| s.abilities.runs == Isolation::Optional)
        .collect();
    let generator = Differential::new(&in_process, Limits::default()).unwrap();
    let cases: Vec<TestCase> = (0..count)
        .filter_map(|i| generator.generate(&inputs::input(SEED, i, 2048)).ok())
        .collect();
    drop(generator);
    println!(
        "# {} test cases from seed {SEED}, {} hardware threads",
        cases.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    println!("\n## isolation on (every engine in a worker) against off");
    let names: Vec<&str> = in_process.iter().map(|s| s.name).collect();
    report(
        &format!("{} engines together", names.len()),
        cases.len(),
        both_ways(&in_process, &cases),
    );
    for name in ["wasmi-eager", "wasmtime-cranelift"] {
        let spec = wasmdiff_engines::parse_list(name).unwrap();
        report(
            &format!("{name} alone"),
            cases.len(),
            both_ways(&spec, &cases),
        );
    }

    println!("\n## with isolation off: deciding which engines take each module");
    let features: Vec<Features> = wasmdiff_engines::defaults()
        .iter()
        .map(|s| s.features)
        .collect();
    let common = *FeatureMenu::new(&features).common();
    let start = Instant::now();
    for _ in 0..ROUNDS {
        for case in &cases {
            std::hint::black_box(common.validate(&case.module).is_ok());
        }
    }
    let per_case = start.elapsed() / (ROUNDS * cases.len()) as u32;
    let mut lineup = Differential::new(&in_process, Limits::default()).unwrap();
    let whole = time_run(&mut lineup, &cases) / cases.len() as u32;
    println!(
        "validating a module against the lineup's common features: {:.1} µs per case, {:.2} % of a case on the {} in-process engines",
        per_case.as_secs_f64() * 1e6,
        100.0 * per_case.as_secs_f64() / whole.as_secs_f64(),
        names.len()
    );

    println!("\n## node (V8) worker round trips on small modules");
    let Ok(v8) = wasmdiff_engines::parse_list("v8-liftoff") else {
        println!("(node is not available here)");
        return;
    };
    let small: Vec<TestCase> = (0..count * 4)
        .filter_map(|i| generator_case(&inputs::input(SEED, i, 256)))
        .filter(|c| c.generator == Generator::Instructions)
        .collect();
    let mut node = Differential::new(&v8, Limits::default()).unwrap();
    let mut best = Duration::MAX;
    for _ in 0..ROUNDS {
        best = best.min(time_run(&mut node, &small));
    }
    let bytes: usize = small.iter().map(|c| c.module.len()).sum();
    println!(
        "{} single-instruction modules (mean {} bytes, {:.1} calls each): {:.0} round trips/s",
        small.len(),
        bytes / small.len().max(1),
        small.iter().map(|c| c.plan.size()).sum::<usize>() as f64 / small.len().max(1) as f64,
        small.len() as f64 / best.as_secs_f64()
    );
}

/// A test case for `data` within what V8 supports.
fn generator_case(data: &[u8]) -> Option<TestCase> {
    let v8 = wasmdiff_engines::parse_list("v8-liftoff").ok()?[0];
    let case = wasmdiff_gen::generate(data, &FeatureMenu::new(&[v8.features])).ok()?;
    matches!(case.plan, Plan::Calls(_)).then_some(case)
}
