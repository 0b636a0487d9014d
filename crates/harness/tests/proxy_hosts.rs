//! The proxy-hosts target: a filter under every host profile. Engines that disagree under one
//! host make an ordinary proxy-wasm finding; a filter that behaves differently between hosts
//! makes a portability finding, which is saved, shrunk, replayed and bucketed like any other.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use wasmdiff_cases::signature::Observed;
use wasmdiff_cases::{Case, Existing, Origin, Report, Signature, write_case};
use wasmdiff_engines::{Execution, Limits};
use wasmdiff_gen::proxy::{HostProfile, Scenario, example_scenario};
use wasmdiff_gen::{Generator, Plan, TestCase};
use wasmdiff_harness::replay::Replayer;
use wasmdiff_harness::shrink::{ShrinkBudget, shrink};
use wasmdiff_harness::{CampaignConfig, Differential, Target, campaign};
use wasmdiff_oracle::DivergenceKind;
use wasmdiff_proxy::portability::AspectKind;

fn hosts_case(module: Vec<u8>) -> TestCase {
    TestCase {
        module,
        plan: Plan::ProxyHosts(example_scenario()),
        generator: Generator::File,
    }
}

#[test]
fn engines_that_disagree_under_a_host_make_a_proxy_wasm_finding() {
    // `planted` gets `i32.shr_u` wrong: the engines part under the first host already.
    let module = wat::parse_str(
        r#"(module
            (memory (export "memory") 1)
            (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
                i32.const -8 local.get 1 i32.shr_u))"#,
    )
    .unwrap();
    let engines = wasmdiff_engines::parse_list("wasmi-eager,planted").unwrap();
    let mut differential =
        Differential::for_target(&engines, Limits::default(), Target::ProxyHosts).unwrap();
    let checked = differential.check_case(hosts_case(module));
    assert_eq!(
        checked.verdict.divergence().map(|d| d.kind),
        Some(DivergenceKind::Trace)
    );
    let Plan::Proxy(scenario) = &checked.case.plan else {
        panic!("{:?}", checked.case.plan);
    };
    assert_eq!(scenario.host, HostProfile::Envoy);
    assert!(
        checked
            .executions
            .iter()
            .all(|e| matches!(e, Execution::Traced { .. }))
    );
}

#[test]
fn a_filter_that_differs_between_hosts_is_a_portability_finding_that_shrinks_and_replays() {
    let rows = concat!(env!("CARGO_MANIFEST_DIR"), "/../filters/rows");
    let module = wat::parse_file(format!("{rows}/13-local-response.wat")).unwrap();
    let engines = wasmdiff_engines::parse_list("wasmi-eager,wasmi-lazy").unwrap();
    let mut differential =
        Differential::for_target(&engines, Limits::default(), Target::ProxyHosts).unwrap();
    let checked = differential.check_case(hosts_case(module));
    assert_eq!(
        checked.verdict.divergence().map(|d| d.kind),
        Some(DivergenceKind::Portability)
    );
    assert!(checked.known_bugs.is_empty());
    let names = differential.lineup().names();
    let signature = Signature::coarse_of(&checked.verdict, &names, &checked.executions).unwrap();
    let [side] = &signature.sides[..] else {
        panic!("{signature}");
    };
    assert_eq!(
        side.observed,
        Observed::Portability {
            hosts: HostProfile::ALL.to_vec(),
            aspect: Some(AspectKind::LocalResponse),
            behind: Some("proxy_send_local_response".to_string()),
        }
    );

    let shrunk = shrink(
        &mut differential,
        &checked.case,
        None,
        ShrinkBudget {
            evaluations: 300,
            ..ShrinkBudget::default()
        },
    )
    .unwrap();
    assert!(
        shrunk.record.to.plan < shrunk.record.from.plan,
        "{:?}",
        shrunk.record
    );
    let again = Signature::coarse_of(&shrunk.checked.verdict, &names, &shrunk.checked.executions);
    assert_eq!(again.as_ref(), Some(&signature));
    let Plan::ProxyHosts(Scenario { streams, .. }) = &shrunk.checked.case.plan else {
        panic!()
    };
    assert_eq!(streams.len(), 1);

    // Saved, loaded and replayed, it shows the same difference.
    let out = std::env::temp_dir().join(format!("wasmdiff-test-hosts-{}", std::process::id()));
    std::fs::remove_dir_all(&out).ok();
    let report = Report::new(
        &shrunk.checked.case,
        &engines,
        &shrunk.checked.executions,
        &shrunk.checked.verdict,
        Origin::default(),
    );
    assert!(
        report.summary.contains("the local response of stream 2")
            && report.summary.contains("\\n\" headers"),
        "{}",
        report.summary
    );
    let dir = write_case(
        &out,
        "portability",
        None,
        &shrunk.checked.case.module,
        &report,
        Existing::Replace,
    )
    .unwrap();
    let case = Case::load(&dir).unwrap();
    let replayed = Replayer::default().replay(&case, &engines).unwrap();
    assert_eq!(replayed.signature.map(|s| s.coarse()), Some(signature));
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn a_campaign_on_sdk_and_random_filters_finds_portability_and_no_engine_divergence() {
    let out = std::env::temp_dir().join(format!("wasmdiff-test-hosts-run-{}", std::process::id()));
    std::fs::remove_dir_all(&out).ok();
    let config = CampaignConfig {
        target: Target::ProxyHosts,
        ..CampaignConfig::bounded(
            wasmdiff_engines::parse_list("wasmi-eager,wasmtime-cranelift").unwrap(),
            1,
            40,
            out.clone(),
        )
    };
    let stats = campaign::run(config, Arc::new(AtomicBool::new(false)), |_| {}).unwrap();
    assert!(stats.conclusive() * 100 >= stats.inputs * 95, "{stats:?}");
    assert!(!stats.findings.is_empty());
    for found in &stats.findings {
        let signature = found.signature.as_ref().unwrap();
        assert!(
            signature.kind == DivergenceKind::Portability || found.known_bug.is_some(),
            "{}",
            found.summary
        );
    }
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn one_engine_is_enough_to_see_a_filter_differ_between_hosts() {
    let rows = concat!(env!("CARGO_MANIFEST_DIR"), "/../filters/rows");
    let engines = wasmdiff_engines::parse_list("wasmi-eager").unwrap();
    let mut differential =
        Differential::for_target(&engines, Limits::default(), Target::ProxyHosts).unwrap();
    let differs = wat::parse_file(format!("{rows}/13-local-response.wat")).unwrap();
    let verdict = differential.check_case(hosts_case(differs)).verdict;
    assert_eq!(
        verdict.divergence().map(|d| d.kind),
        Some(DivergenceKind::Portability)
    );
    // The same everywhere: with one engine there is nobody to agree with.
    let same = wat::parse_file(format!("{rows}/04-missing-header.wat")).unwrap();
    let verdict = differential.check_case(hosts_case(same)).verdict;
    assert!(
        matches!(
            verdict,
            wasmdiff_oracle::Verdict::Inconclusive {
                reason: wasmdiff_oracle::Reason::TooFewEngines,
                ..
            }
        ),
        "{verdict:?}"
    );
}
