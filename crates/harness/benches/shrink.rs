//! Shrinking cost (`cargo bench -p wasmdiff-harness --bench shrink`, or `scripts/bench`):
//! the median shrink time and the median sizes before and after, over the first findings of
//! seeded campaigns: planted-bug findings on `wasmi-eager,planted`, and findings of the real
//! wasmi bugs on the default lineup (six engines, so every candidate costs six runs).
//!
//! `WASMDIFF_BENCH_FINDINGS` sets how many findings of each kind (default 8).

use std::time::Instant;

use wasmdiff_engines::Limits;
use wasmdiff_harness::shrink::{ShrinkBudget, shrink};
use wasmdiff_harness::{Differential, campaign, inputs};

fn median<T: Copy + Ord>(mut values: Vec<T>) -> T {
    values.sort();
    values[values.len() / 2]
}

fn bench(title: &str, engines: &str, findings: usize) {
    let specs = wasmdiff_engines::parse_list(engines).unwrap();
    let mut differential = Differential::new(&specs, Limits::default()).unwrap();
    println!("\n## {title} ({engines})");
    println!(
        "{:>7} {:>9} {:>9} {:>7} {:>7} {:>6} {:>8}  ended by",
        "input", "bytes", "→", "instrs", "→", "evals", "seconds"
    );
    let (mut times, mut before, mut after, mut instructions_before, mut instructions_after) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for index in 0..200_000 {
        if times.len() == findings {
            break;
        }
        let input = inputs::input(1, index, campaign::DEFAULT_MAX_INPUT_LEN);
        let Ok(checked) = differential.check(&input) else {
            continue;
        };
        if checked.verdict.divergence().is_none() {
            continue;
        }
        let start = Instant::now();
        let shrunk = shrink(
            &mut differential,
            &checked.case,
            Some(&input),
            ShrinkBudget::default(),
        )
        .unwrap();
        let time = start.elapsed();
        let r = &shrunk.record;
        println!(
            "{index:>7} {:>9} {:>9} {:>7} {:>7} {:>6} {:>8.2}  {}",
            r.from.module_bytes,
            r.to.module_bytes,
            r.from.instructions,
            r.to.instructions,
            r.evaluations,
            time.as_secs_f64(),
            r.ended_by
        );
        times.push(time);
        before.push(r.from.module_bytes);
        after.push(r.to.module_bytes);
        instructions_before.push(r.from.instructions);
        instructions_after.push(r.to.instructions);
    }
    println!(
        "median over {} findings: {:.2} s per finding; module {} → {} bytes; diverging function {} → {} instructions",
        times.len(),
        median(times).as_secs_f64(),
        median(before),
        median(after),
        median(instructions_before),
        median(instructions_after)
    );
}

fn main() {
    let findings = std::env::var("WASMDIFF_BENCH_FINDINGS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(8);
    println!(
        "# shrinking, one core, default budget ({} evaluations)",
        ShrinkBudget::default().evaluations
    );
    bench("planted-bug findings", "wasmi-eager,planted", findings);
    bench("real wasmi bugs, every engine", "default", findings);
}
