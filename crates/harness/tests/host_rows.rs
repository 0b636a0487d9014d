//! One small filter per row of `proxy-wasm-hosts.md` (`crates/filters/rows/NN-*.wat`), each
//! pinning the row: it runs under the Envoy and the nginx profile on every proxy-capable
//! engine (which must agree), and the test checks what each host did.

use wasmdiff_engines::{Execution, Limits, Trap};
use wasmdiff_gen::Value;
use wasmdiff_gen::proxy::{Bytes, HostProfile, Pairs, Scenario, example_scenario};
use wasmdiff_harness::portability::portability;
use wasmdiff_harness::{Differential, Target};
use wasmdiff_oracle::Verdict;
use wasmdiff_proxy::Trace;
use wasmdiff_proxy::abi::{errno, status};
use wasmdiff_proxy::trace::{Event, HostResult, Outcome, StreamEnd};

const ROWS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../filters/rows");

/// The row filter numbered `row`, compiled.
fn filter(row: u32) -> Vec<u8> {
    let prefix = format!("{row:02}-");
    let entry = std::fs::read_dir(ROWS)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(&prefix)
        })
        .unwrap_or_else(|| panic!("no filter for row {row} in {ROWS}"));
    wat::parse_file(&entry).unwrap()
}

/// The filter of `row` through `scenario` under Envoy, then nginx: the engines' common
/// execution under each.
fn under_both(row: u32, scenario: Scenario) -> [Execution; 2] {
    let engines = wasmdiff_engines::every_default_engine(&Target::ProxyWasm.sample_plan());
    let mut differential =
        Differential::for_target(&engines, Limits::default(), Target::ProxyWasm).unwrap();
    let grid = portability(
        &mut differential,
        &filter(row),
        &scenario,
        &HostProfile::ALL,
    );
    assert!(!grid.engines_differ(), "row {row}: the engines disagree");
    let mut runs = grid.runs.into_iter().map(|(host, mut checked)| {
        assert_eq!(checked.verdict, Verdict::Agree, "row {row} under {host}");
        checked.executions.swap_remove(0)
    });
    [runs.next().unwrap(), runs.next().unwrap()]
}

fn traces(row: u32, scenario: Scenario) -> [Trace<Trap>; 2] {
    under_both(row, scenario).map(|execution| match execution {
        Execution::Traced { trace } => trace,
        other => panic!("row {row}: {}", other.summary()),
    })
}

fn traced(row: u32) -> [Trace<Trap>; 2] {
    traces(row, example_scenario())
}

/// The results of every call of host function `name`, in order.
fn results(trace: &Trace<Trap>, name: &str) -> Vec<HostResult> {
    host_calls(trace, name)
        .map(|(_, result)| result.clone())
        .collect()
}

/// What each call of `name` wrote into the guest.
fn wrote<'t>(trace: &'t Trace<Trap>, name: &str) -> Vec<&'t [u8]> {
    host_calls(trace, name).map(|(wrote, _)| wrote).collect()
}

fn host_calls<'t>(
    trace: &'t Trace<Trap>,
    wanted: &str,
) -> impl Iterator<Item = (&'t [u8], &'t HostResult)> {
    trace.events.iter().filter_map(move |e| match e {
        Event::Host {
            name,
            wrote,
            result,
            ..
        } if name == wanted => Some((&wrote.0[..], result)),
        _ => None,
    })
}

/// The arguments of every call of callback `name`.
fn callbacks(trace: &Trace<Trap>, wanted: &str) -> Vec<Vec<u32>> {
    trace
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Callback { name, args, .. } if name == wanted => Some(
                args.iter()
                    .map(|a| match a {
                        Value::I32(v) => *v as u32,
                        other => panic!("{other:?}"),
                    })
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

/// Every call of host function `name` answered these statuses, in order.
#[track_caller]
fn assert_statuses(trace: &Trace<Trap>, name: &str, codes: &[u32]) {
    assert_eq!(results(trace, name), statuses(codes), "{name}");
}

fn statuses(codes: &[u32]) -> Vec<HostResult> {
    codes.iter().map(|c| HostResult::Status(*c)).collect()
}

fn is_trap(results: &[HostResult], containing: &str) -> bool {
    matches!(results, [HostResult::Trap(message)] if message.contains(containing))
}

fn ends(trace: &Trace<Trap>) -> Vec<&StreamEnd> {
    trace.state.streams.iter().map(|s| &s.end).collect()
}

fn header<'a>(headers: &'a Pairs, name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|(k, _)| k.0 == name.as_bytes())
        .map(|(_, v)| &v.0[..])
}

#[test]
fn every_row_has_its_filter() {
    let mut rows: Vec<u32> = std::fs::read_dir(ROWS)
        .unwrap()
        .map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            assert!(name.ends_with(".wat"), "{name}");
            name[..2].parse().unwrap()
        })
        .collect();
    rows.sort();
    assert_eq!(rows, (1..=28).collect::<Vec<u32>>());
}

#[test]
fn row_01_nginx_traps_in_functions_it_does_not_implement() {
    let [envoy, nginx] = traced(1);
    assert_statuses(&envoy, "proxy_get_log_level", &[status::OK, status::OK]);
    assert!(is_trap(
        &results(&nginx, "proxy_get_log_level"),
        "not yet implemented"
    ));
    assert_eq!(ends(&nginx)[0], &StreamEnd::Failed);
}

#[test]
fn row_02_nginx_lacks_proxy_get_buffer_status() {
    let [envoy, nginx] = under_both(2, example_scenario());
    let Execution::Traced { trace } = envoy else {
        panic!("{}", envoy.summary());
    };
    assert_statuses(&trace, "proxy_get_buffer_status", &[status::OK, status::OK]);
    assert!(
        nginx.summary().contains("does not provide"),
        "{}",
        nginx.summary()
    );
}

#[test]
fn row_03_nginx_traps_on_a_misaligned_out_pointer() {
    let [envoy, nginx] = traced(3);
    assert_statuses(
        &envoy,
        "proxy_get_current_time_nanoseconds",
        &[status::OK, status::OK],
    );
    assert_statuses(
        &envoy,
        "proxy_log",
        &[status::INVALID_MEMORY_ACCESS, status::INVALID_MEMORY_ACCESS],
    );
    assert!(is_trap(
        &results(&nginx, "proxy_get_current_time_nanoseconds"),
        ""
    ));
    assert!(results(&nginx, "proxy_log").is_empty());
}

#[test]
fn row_04_a_missing_header_is_not_found_on_both() {
    for trace in traced(4) {
        assert_statuses(
            &trace,
            "proxy_get_header_map_value",
            &[status::NOT_FOUND, status::NOT_FOUND],
        );
    }
}

#[test]
fn row_05_envoy_closes_request_headers_once_they_continued() {
    let [envoy, nginx] = traced(5);
    // Only the first stream has a request body: two chunks on Envoy, one call on nginx.
    assert_statuses(
        &envoy,
        "proxy_get_header_map_value",
        &[status::BAD_ARGUMENT, status::BAD_ARGUMENT],
    );
    assert_statuses(
        &envoy,
        "proxy_add_header_map_value",
        &[status::BAD_ARGUMENT, status::BAD_ARGUMENT],
    );
    assert_statuses(&nginx, "proxy_get_header_map_value", &[status::OK]);
    assert!(is_trap(
        &results(&nginx, "proxy_add_header_map_value"),
        "can only set request headers before response"
    ));
}

#[test]
fn row_06_envoy_lowercases_header_names_and_nginx_keeps_them() {
    let [envoy, nginx] = traced(6);
    let forwarded = |trace: &Trace<Trap>, name| {
        header(&trace.state.streams[0].request.headers, name).map(<[u8]>::to_vec)
    };
    assert_eq!(forwarded(&envoy, "x-case"), Some(b"yes".to_vec()));
    assert_eq!(forwarded(&envoy, "X-Case"), None);
    assert_eq!(forwarded(&nginx, "X-Case"), Some(b"yes".to_vec()));
}

#[test]
fn row_07_nginx_synthesizes_pseudo_headers() {
    let [envoy, nginx] = traced(7);
    // The first stream has three pseudo-headers and three others.
    assert_eq!(callbacks(&envoy, "proxy_on_request_headers")[0], [2, 6, 0]);
    assert_eq!(callbacks(&nginx, "proxy_on_request_headers")[0], [2, 3, 0]);
    let authority = |trace: &Trace<Trap>| {
        header(&trace.state.streams[0].request.headers, ":authority").map(<[u8]>::to_vec)
    };
    assert_eq!(authority(&envoy), Some(b"changed".to_vec()));
    assert_ne!(authority(&nginx), Some(b"changed".to_vec()));
}

#[test]
fn row_08_envoy_reads_a_malformed_map_as_empty_and_hands_out_empty_maps_as_null() {
    let [envoy, nginx] = traced(8);
    assert_statuses(
        &envoy,
        "proxy_set_header_map_pairs",
        &[status::OK, status::OK],
    );
    assert!(envoy.state.streams[0].request.headers.is_empty());
    assert_eq!(wrote(&envoy, "proxy_get_header_map_pairs")[0], [0; 8]);
    assert_statuses(
        &nginx,
        "proxy_set_header_map_pairs",
        &[status::BAD_ARGUMENT, status::BAD_ARGUMENT],
    );
    assert!(!nginx.state.streams[0].request.headers.is_empty());
    assert!(wrote(&nginx, "proxy_get_header_map_pairs")[0].len() > 8);
}

#[test]
fn row_09_nginx_has_no_trailer_callbacks() {
    let mut scenario = example_scenario();
    scenario.streams[0].request.trailers = vec![(Bytes::from("x-t"), Bytes::from("1"))];
    let [envoy, nginx] = traces(9, scenario);
    assert_eq!(callbacks(&envoy, "proxy_on_request_trailers"), [[2, 1]]);
    assert_statuses(&envoy, "proxy_get_header_map_value", &[status::OK]);
    assert!(callbacks(&nginx, "proxy_on_request_trailers").is_empty());
}

#[test]
fn row_10_nginx_delivers_bodies_whole_or_with_an_empty_last_call() {
    let [envoy, nginx] = traced(10);
    // Stream 2 is a GET without a body: its headers end the stream on Envoy only.
    assert_eq!(
        callbacks(&envoy, "proxy_on_request_headers"),
        [[2, 6, 0], [3, 3, 1]]
    );
    assert_eq!(
        callbacks(&nginx, "proxy_on_request_headers"),
        [[2, 3, 0], [3, 0, 0]]
    );
    // "user=alice&pass" + "word=secret".
    assert_eq!(
        callbacks(&envoy, "proxy_on_request_body"),
        [[2, 15, 0], [2, 11, 1]]
    );
    assert_eq!(callbacks(&nginx, "proxy_on_request_body"), [[2, 26, 1]]);
    // "all secret " + "things", for each stream.
    assert_eq!(
        callbacks(&envoy, "proxy_on_response_body")[..2],
        [[2, 11, 0], [2, 6, 1]]
    );
    assert_eq!(
        callbacks(&nginx, "proxy_on_response_body")[..3],
        [[2, 11, 0], [2, 6, 0], [2, 0, 1]]
    );
}

#[test]
fn row_11_nginx_ignores_a_pause_on_response_headers() {
    let [envoy, nginx] = traced(11);
    let stalled = StreamEnd::Stalled("response headers".to_string());
    assert_eq!(ends(&envoy), [&stalled, &stalled]);
    assert_eq!(ends(&nginx), [&StreamEnd::Completed, &StreamEnd::Completed]);
}

#[test]
fn row_12_continuing_other_streams() {
    let [envoy, nginx] = traced(12);
    assert_eq!(
        results(&envoy, "proxy_continue_stream")[..2],
        statuses(&[status::UNIMPLEMENTED, status::BAD_ARGUMENT])
    );
    assert_eq!(
        results(&nginx, "proxy_continue_stream")[..2],
        statuses(&[status::INTERNAL_FAILURE, status::INTERNAL_FAILURE])
    );
}

#[test]
fn row_13_nginx_appends_a_newline_to_local_response_bodies() {
    let [envoy, nginx] = traced(13);
    let body = |trace: &Trace<Trap>| {
        let response = trace.state.streams[0].local_response.as_ref().unwrap();
        assert_eq!(response.status, 403);
        response.body.0.clone()
    };
    assert_eq!(body(&envoy), b"denied");
    assert_eq!(body(&nginx), b"denied\n");
}

#[test]
fn row_14_nginx_makes_callouts_without_authority_and_pauses_for_them() {
    let [envoy, nginx] = traced(14);
    assert_statuses(
        &envoy,
        "proxy_http_call",
        &[status::BAD_ARGUMENT, status::BAD_ARGUMENT],
    );
    assert!(envoy.state.callouts.is_empty());
    assert_statuses(&nginx, "proxy_http_call", &[status::OK, status::OK]);
    let callout = &nginx.state.callouts[0];
    assert_eq!(callout.id, 0);
    assert_eq!(
        header(&callout.headers, ":authority"),
        Some(&b"backend"[..])
    );
    // The stream paused for the call and resumed when its response came.
    assert_eq!(callbacks(&nginx, "proxy_on_http_call_response")[0][1], 0);
    assert_eq!(ends(&nginx)[0], &StreamEnd::Completed);
}

#[test]
fn row_15_a_failed_callout() {
    let mut scenario = example_scenario();
    scenario.callout_responses.clear();
    let [envoy, nginx] = traces(15, scenario);
    // Arguments: root context, token, headers, body size, trailers.
    assert_eq!(
        callbacks(&envoy, "proxy_on_http_call_response")[0],
        [1, 4, 0, 0, 0]
    );
    assert_eq!(
        results(&envoy, "proxy_get_status")[0],
        HostResult::Status(0)
    );
    let code = u32::from_le_bytes(
        wrote(&envoy, "proxy_get_status")[0][..4]
            .try_into()
            .unwrap(),
    );
    assert_eq!(code, status::BROKEN_CONNECTION);
    assert_eq!(
        callbacks(&nginx, "proxy_on_http_call_response")[0][..3],
        [1, 0, 1]
    );
    assert!(is_trap(
        &results(&nginx, "proxy_get_status"),
        "not yet implemented"
    ));
}

#[test]
fn row_16_nginx_ignores_start_and_serves_the_configuration_anywhere() {
    let [envoy, nginx] = traced(16);
    let calls = |trace: &Trace<Trap>| results(trace, "proxy_get_buffer_bytes");
    // The first stream's request headers read the configuration, then its body the body.
    assert_eq!(
        calls(&envoy)[..2],
        statuses(&[status::NOT_FOUND, status::OK])
    );
    assert_eq!(calls(&nginx)[..2], statuses(&[status::OK, status::OK]));
    let body = |trace: &Trace<Trap>| wrote(trace, "proxy_get_buffer_bytes")[1].to_vec();
    assert!(body(&envoy).starts_with(b"alic"), "{:?}", body(&envoy));
    assert!(body(&nginx).starts_with(b"user"), "{:?}", body(&nginx));
}

#[test]
fn row_17_setting_the_middle_of_a_body() {
    let [envoy, nginx] = traced(17);
    assert_statuses(
        &envoy,
        "proxy_set_buffer_bytes",
        &[status::BAD_ARGUMENT, status::BAD_ARGUMENT],
    );
    assert_eq!(
        envoy.state.streams[0].request.body.0,
        b"user=alice&password=secret"
    );
    assert_statuses(&nginx, "proxy_set_buffer_bytes", &[status::OK]);
    assert_eq!(nginx.state.streams[0].request.body.0, b"userXX");
}

#[test]
fn row_18_nginx_takes_cas_0_on_an_existing_key_as_a_mismatch() {
    let [envoy, nginx] = traced(18);
    assert_statuses(&envoy, "proxy_set_shared_data", &[status::OK, status::OK]);
    assert_eq!(envoy.state.shared_data[0].1.0, b"v2");
    assert_statuses(
        &nginx,
        "proxy_set_shared_data",
        &[status::OK, status::CAS_MISMATCH],
    );
    assert_eq!(nginx.state.shared_data[0].1.0, b"v1");
}

#[test]
fn row_19_nginx_never_calls_on_queue_ready() {
    let [envoy, nginx] = traced(19);
    let id = |trace: &Trace<Trap>| {
        u32::from_le_bytes(
            wrote(trace, "proxy_register_shared_queue")[0]
                .try_into()
                .unwrap(),
        )
    };
    assert_eq!(id(&envoy), 1);
    assert_eq!(callbacks(&envoy, "proxy_on_queue_ready"), [[1, 1]]);
    assert_eq!(id(&nginx), 0);
    assert_statuses(&nginx, "proxy_enqueue_shared_queue", &[status::OK]);
    assert!(callbacks(&nginx, "proxy_on_queue_ready").is_empty());
}

#[test]
fn row_20_metrics_misused() {
    let [envoy, nginx] = traced(20);
    assert_statuses(
        &envoy,
        "proxy_increment_metric",
        &[status::BAD_ARGUMENT, status::OK],
    );
    let increments = results(&nginx, "proxy_increment_metric");
    assert_eq!(increments[0], HostResult::Status(status::OK));
    assert!(is_trap(&increments[1..], ""));
}

#[test]
fn row_21_nginx_encodes_properties_as_text() {
    let [envoy, nginx] = traced(21);
    assert!(wrote(&envoy, "proxy_get_property")[0].starts_with(&200u64.to_le_bytes()));
    assert!(wrote(&nginx, "proxy_get_property")[0].starts_with(b"200"));
}

#[test]
fn row_22_properties_outside_streams_and_set_property() {
    let [envoy, nginx] = traced(22);
    assert_statuses(&envoy, "proxy_get_property", &[status::NOT_FOUND]);
    assert_statuses(&envoy, "proxy_set_property", &[status::OK, status::OK]);
    assert_statuses(&nginx, "proxy_get_property", &[status::INTERNAL_FAILURE]);
    assert_statuses(
        &nginx,
        "proxy_set_property",
        &[status::NOT_FOUND, status::NOT_FOUND],
    );
}

#[test]
fn row_23_nginx_sets_the_tick_period_once() {
    let [envoy, nginx] = traced(23);
    assert_statuses(
        &envoy,
        "proxy_set_tick_period_milliseconds",
        &[status::OK, status::OK],
    );
    assert_eq!(envoy.state.tick_period_ms, 20);
    let sets = results(&nginx, "proxy_set_tick_period_milliseconds");
    assert_eq!(sets[0], HostResult::Status(status::OK));
    assert!(is_trap(&sets[1..], "tick_period already set"));
}

#[test]
fn row_24_nginx_has_a_millisecond_clock() {
    let mut scenario = example_scenario();
    scenario.time_nanos = 1_700_000_000_123_456_789;
    let [envoy, nginx] = traces(24, scenario);
    let now = |trace: &Trace<Trap>| {
        u64::from_le_bytes(
            wrote(trace, "proxy_get_current_time_nanoseconds")[0]
                .try_into()
                .unwrap(),
        )
    };
    assert_eq!(now(&envoy) % 1_000_000, 456_789);
    assert_eq!(now(&nginx) % 1_000_000, 0);
    assert_eq!(now(&envoy) / 1_000_000, now(&nginx) / 1_000_000);
}

#[test]
fn row_25_nginx_logs_trace_as_debug() {
    let [envoy, nginx] = traced(25);
    assert_eq!(envoy.state.logs[0], (0, Bytes::from("hi")));
    assert_eq!(nginx.state.logs[0], (1, Bytes::from("hi")));
}

#[test]
fn row_26_nginx_accepts_any_effective_context() {
    let [envoy, nginx] = traced(26);
    assert_statuses(
        &envoy,
        "proxy_set_effective_context",
        &[status::BAD_ARGUMENT, status::BAD_ARGUMENT],
    );
    assert_statuses(
        &nginx,
        "proxy_set_effective_context",
        &[status::OK, status::OK],
    );
}

#[test]
fn row_27_wasi_odds() {
    let [envoy, nginx] = traced(27);
    assert_eq!(
        results(&envoy, "fd_fdstat_set_flags")[0],
        HostResult::Status(errno::NOSYS)
    );
    assert_eq!(
        results(&envoy, "sched_yield")[0],
        HostResult::Status(errno::SUCCESS)
    );
    assert_eq!(results(&envoy, "proc_exit")[0], HostResult::Done);
    assert_eq!(ends(&envoy), [&StreamEnd::Completed, &StreamEnd::Completed]);
    assert_eq!(
        results(&nginx, "fd_fdstat_set_flags"),
        [HostResult::Status(errno::BADF)]
    );
    assert_eq!(
        results(&nginx, "sched_yield"),
        [HostResult::Status(errno::NOTSUP)]
    );
    assert!(is_trap(
        &results(&nginx, "proc_exit"),
        "not yet implemented"
    ));
}

#[test]
fn row_28_both_hosts_prefer_malloc() {
    for trace in traced(28) {
        assert_eq!(trace.state.logs[0], (2, Bytes::from("malloc")));
        assert!(matches!(
            trace.events.last(),
            Some(Event::Callback {
                outcome: Outcome::Returned(_),
                ..
            })
        ));
    }
}
