//! proxy-wasm throughput (`cargo bench -p wasmdiff-harness --bench proxy`, or `scripts/bench`):
//! scenarios per second on each engine alone under each host profile, for SDK filters
//! (compiled once per engine, instantiated for each scenario) and for random filters (each one
//! compiled too), and the host calls per second that makes on the SDK filters (through node,
//! each is at least one round trip). Seeded, best of three rounds. `WASMDIFF_BENCH_SCENARIOS`
//! sets the count (default 300).

use std::time::{Duration, Instant};

use arbitrary::Unstructured;
use wasmdiff_engines::Execution;
use wasmdiff_engines::Limits;
use wasmdiff_gen::proxy::{HostProfile, Scenario, arbitrary_scenario};
use wasmdiff_gen::{Generator, Plan, TestCase};
use wasmdiff_harness::{Differential, Target, inputs};

fn best_of_three(mut f: impl FnMut()) -> Duration {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap()
}

fn main() {
    let count: u64 = std::env::var("WASMDIFF_BENCH_SCENARIOS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let scenarios: Vec<Scenario> = (0..count)
        .map(|i| arbitrary_scenario(&mut Unstructured::new(&inputs::input(2, i, 600))).unwrap())
        .collect();
    let specs = Target::ProxyWasm.default_engines();
    let generator = Differential::for_target(&specs, Limits::default(), Target::ProxyWasm).unwrap();
    let random: Vec<TestCase> = (0..count)
        .filter_map(|i| {
            let mut input = inputs::input(3, i, wasmdiff_harness::campaign::DEFAULT_MAX_INPUT_LEN);
            wasmdiff_gen::choose_generator(&mut input, Generator::RandomFilter);
            generator.generate(&input).ok()
        })
        .collect();
    assert!(
        random
            .iter()
            .all(|c| c.generator == Generator::RandomFilter),
        "inputs made for random filters gave other filters"
    );
    drop(generator);
    let filters = wasmdiff_filters::all();
    println!(
        "# {count} seeded scenarios per SDK filter ({} filters, {} KB on average), {} random filters ({} bytes on average)",
        filters.len(),
        filters.iter().map(|f| f.wasm.len()).sum::<usize>() / filters.len() / 1000,
        random.len(),
        random.iter().map(|c| c.module.len()).sum::<usize>() / random.len().max(1)
    );
    println!(
        "{:<28} {:<6} {:>18} {:>18} {:>14}",
        "engine", "host", "SDK filters", "random filters", "host calls"
    );
    for spec in &specs {
        let mut differential =
            Differential::for_target(&[spec], Limits::default(), Target::ProxyWasm).unwrap();
        for host in HostProfile::ALL {
            let plans: Vec<Plan> = scenarios
                .iter()
                .map(|s| Plan::Proxy(s.under(host)))
                .collect();
            let mut sdk_rates = Vec::new();
            let (mut host_calls, mut sdk_seconds) = (0usize, 0.0);
            for filter in &filters {
                let case = |plan: &Plan| TestCase {
                    module: filter.wasm.to_vec(),
                    plan: plan.clone(),
                    generator: Generator::SdkFilter,
                };
                // Compiled and cached before the clock starts: a campaign pays it once per
                // filter. The same runs count the host calls the timed ones make.
                differential.run(&case(&plans[0]));
                for plan in &plans {
                    let (executions, _) = differential.run(&case(plan));
                    assert!(
                        executions
                            .iter()
                            .all(|e| matches!(e, Execution::Traced { .. })),
                        "{} on {}: {}",
                        filter.name,
                        spec.name,
                        executions[0].summary()
                    );
                    host_calls += executions.iter().map(host_calls_in).sum::<usize>();
                }
                let time = best_of_three(|| {
                    for plan in &plans {
                        std::hint::black_box(differential.run(&case(plan)));
                    }
                });
                sdk_seconds += time.as_secs_f64();
                sdk_rates.push(plans.len() as f64 / time.as_secs_f64());
            }
            let random: Vec<TestCase> = random
                .iter()
                .map(|c| TestCase {
                    plan: match &c.plan {
                        Plan::Proxy(s) => Plan::Proxy(s.under(host)),
                        other => other.clone(),
                    },
                    ..c.clone()
                })
                .collect();
            let random_time = best_of_three(|| {
                for case in &random {
                    std::hint::black_box(differential.run(case));
                }
            });
            let slowest = sdk_rates.iter().cloned().fold(f64::INFINITY, f64::min);
            let mean = sdk_rates.iter().sum::<f64>() / sdk_rates.len() as f64;
            println!(
                "{:<28} {:<6} {:>6.0}/s (min {:>5.0}) {:>8.0} filters/s {:>12.0}/s",
                spec.name,
                host.to_string(),
                mean,
                slowest,
                random.len() as f64 / random_time.as_secs_f64(),
                host_calls as f64 / sdk_seconds
            );
        }
    }
}

fn host_calls_in(execution: &Execution) -> usize {
    match execution {
        Execution::Traced { trace } => trace
            .events
            .iter()
            .filter(|e| matches!(e, wasmdiff_proxy::Event::Host { .. }))
            .count(),
        _ => 0,
    }
}
