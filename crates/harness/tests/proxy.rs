//! proxy-wasm campaigns: random and SDK filters on the real engines give no host panic and no
//! unexplained divergence; a planted difference, host-side or engine-side, is found, with
//! both traces, and shrinks.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use wasmdiff_cases::{Case, Report};
use wasmdiff_engines::{Abilities, Engine, EngineSpec, Execution, Limits, always_available};
use wasmdiff_gen::proxy::HostProfile;
use wasmdiff_gen::{Features, Generator, Plan, TestCase};
use wasmdiff_harness::shrink::{ShrinkBudget, shrink};
use wasmdiff_harness::{CampaignConfig, Differential, Stats, Target, campaign};
use wasmdiff_oracle::{DivergenceKind, Step};

fn proxy_campaign(
    engines: Vec<&'static EngineSpec>,
    iterations: u64,
    name: &str,
) -> (Stats, std::path::PathBuf) {
    let out =
        std::env::temp_dir().join(format!("wasmdiff-test-proxy-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&out).ok();
    let config = CampaignConfig {
        target: Target::ProxyWasm,
        ..CampaignConfig::bounded(engines, 1, iterations, out.clone())
    };
    (
        campaign::run(config, Arc::new(AtomicBool::new(false)), |_| {}).unwrap(),
        out,
    )
}

#[test]
fn random_and_sdk_filters_give_no_host_panic_and_no_unexplained_divergence() {
    let (stats, out) = proxy_campaign(
        wasmdiff_engines::every_default_engine(&Target::ProxyWasm.sample_plan()),
        600,
        "real",
    );
    let unexplained: Vec<&str> = stats
        .findings
        .iter()
        .filter(|f| f.known_bug.is_none())
        .map(|f| f.summary.as_str())
        .collect();
    assert!(
        unexplained.is_empty(),
        "host panics, false positives or new engine bugs:\n{}",
        unexplained.join("\n")
    );
    assert!(
        stats.generators.contains_key(&Generator::RandomFilter)
            && stats.generators.contains_key(&Generator::SdkFilter)
    );
    assert!(stats.conclusive() * 100 >= stats.inputs * 95, "{stats:?}");
    // Filters really ran: callbacks returned on every engine. Random filters that import a
    // function nginx lacks do not link there, under scenarios drawn for nginx.
    assert!(
        stats
            .engines
            .iter()
            .all(|e| e.calls_returned > 1000 && e.rejected * 5 < stats.inputs),
        "{:?}",
        stats.engines
    );
    std::fs::remove_dir_all(&out).ok();
}

/// wasmi (eager) behind a host that sees each request's last header value with a `!` added:
/// a planted host-side difference.
struct HostPlanted(Box<dyn Engine>);

impl Engine for HostPlanted {
    fn run(&mut self, module: &[u8], plan: &Plan) -> Execution {
        let Plan::Proxy(scenario) = plan else {
            return self.0.run(module, plan);
        };
        let mut changed = scenario.clone();
        for stream in &mut changed.streams {
            if let Some((_, value)) = stream.request.headers.last_mut() {
                value.0.push(b'!');
            }
        }
        self.0.run(module, &Plan::Proxy(changed))
    }
}

static HOST_PLANTED: EngineSpec = EngineSpec {
    name: "host-planted",
    engine: "wasmi",
    version: || "2.0.0".to_string(),
    description: "wasmi behind a host that alters the last request header",
    features: Features::ALL,
    abilities: Abilities::ALL,
    default: false,
    known_bugs: &[],
    available: always_available,
    build: |limits| {
        let wasmi = wasmdiff_engines::parse_list("wasmi-eager").unwrap()[0];
        Ok(Box::new(HostPlanted((wasmi.build)(limits)?)))
    },
};

#[test]
fn a_planted_host_difference_is_found_with_both_traces_and_shrinks() {
    let wasmi = wasmdiff_engines::parse_list("wasmi-eager").unwrap()[0];
    let (stats, out) = proxy_campaign(vec![wasmi, &HOST_PLANTED], 60, "planted");
    let found = stats
        .findings
        .iter()
        .find(|f| f.known_bug.is_none())
        .expect("the planted difference was not found");
    let report: Report =
        serde_json::from_slice(&std::fs::read(found.dir.join("report.json")).unwrap()).unwrap();
    let divergence = report.verdict.divergence().unwrap();
    assert!(
        matches!(
            divergence.kind,
            DivergenceKind::Trace | DivergenceKind::FinalState
        ),
        "{divergence:?}"
    );
    // Both engines' traces are in the report, and they differ where the verdict says.
    let [ours, planted] = &report.outcomes[..] else {
        panic!()
    };
    assert!(!ours.calls.is_empty() && !planted.calls.is_empty());
    if let Step::Event(i) = divergence.step {
        assert_ne!(ours.calls.get(i), planted.calls.get(i));
    }

    let case = Case::load(&found.dir).unwrap();
    let mut differential = Differential::for_target(
        &[wasmi, &HOST_PLANTED],
        Limits::default(),
        Target::ProxyWasm,
    )
    .unwrap();
    let budget = ShrinkBudget {
        evaluations: 600,
        ..ShrinkBudget::default()
    };
    let shrunk = shrink(
        &mut differential,
        &case.test_case(),
        case.input.as_deref(),
        budget,
    )
    .unwrap();
    assert!(shrunk.checked.verdict.divergence().is_some());
    assert!(
        shrunk.record.to.plan < shrunk.record.from.plan
            || shrunk.record.to.module_bytes < shrunk.record.from.module_bytes
    );
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn a_planted_engine_difference_shows_in_the_callbacks() {
    let module = wat::parse_str(
        r#"(module
            (memory (export "memory") 1)
            (func (export "proxy_on_memory_allocate") (param i32) (result i32) i32.const 1024)
            (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
                i32.const -8 local.get 1 i32.shr_u))"#,
    )
    .unwrap();
    let engines = wasmdiff_engines::parse_list("wasmi-eager,planted").unwrap();
    let mut differential =
        Differential::for_target(&engines, Limits::default(), Target::ProxyWasm).unwrap();
    let case = TestCase {
        module,
        plan: Plan::Proxy(wasmdiff_gen::proxy::example_scenario()),
        generator: Generator::File,
    };
    let checked = differential.check_case(case);
    let divergence = checked.verdict.divergence().unwrap();
    assert_eq!(
        (divergence.kind, &divergence.classes),
        (DivergenceKind::Trace, &vec![vec![0], vec![1]])
    );
}

#[test]
fn scenarios_draw_their_host_unless_the_campaign_fixes_one() {
    let engines = Target::ProxyWasm.default_engines();
    let hosts_of = |host: Option<HostProfile>| {
        let differential = Differential::for_target(&engines, Limits::default(), Target::ProxyWasm)
            .unwrap()
            .with_host(host);
        let mut rng = wasmdiff_gen::rng::SplitMix64(7);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let input: Vec<u8> = (0..256).map(|_| rng.next_u64() as u8).collect();
            if let Ok(TestCase {
                plan: Plan::Proxy(scenario),
                ..
            }) = differential.generate(&input)
            {
                seen.insert(scenario.host);
            }
        }
        seen.into_iter().collect::<Vec<_>>()
    };
    assert_eq!(hosts_of(None), HostProfile::ALL);
    assert_eq!(hosts_of(Some(HostProfile::Nginx)), [HostProfile::Nginx]);
}
