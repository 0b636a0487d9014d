//! The SDK-built filters behave as written, on every engine: each test drives one filter
//! through a scenario on the default lineup, requires the engines' traces to agree, and checks
//! the result on every engine's final state.

use wasmdiff_engines::{Execution, Limits};
use wasmdiff_filters::Sdk;
use wasmdiff_gen::proxy::{
    Bytes, CalloutResponse, HostProfile, Message, Pairs, Scenario, Stream, example_scenario,
};
use wasmdiff_gen::{Generator, Plan, TestCase};
use wasmdiff_harness::portability::{Difference, Portability, portability};
use wasmdiff_harness::{Differential, Target};
use wasmdiff_oracle::Verdict;
use wasmdiff_proxy::FinalState;
use wasmdiff_proxy::portability::{Aspect, HostDifference};
use wasmdiff_proxy::trace::{Event, HostResult, StreamEnd, StreamRecord};

fn pairs(pairs: &[(&str, &str)]) -> Pairs {
    pairs
        .iter()
        .map(|(k, v)| (Bytes::from(*k), Bytes::from(*v)))
        .collect()
}

fn request(headers: &[(&str, &str)], body: &[&str]) -> Stream {
    Stream {
        request: Message {
            headers: pairs(headers),
            body: body.iter().map(|c| Bytes::from(*c)).collect(),
            trailers: Vec::new(),
        },
        response: Message {
            headers: pairs(&[(":status", "200")]),
            body: vec![Bytes::from("ok")],
            trailers: Vec::new(),
        },
    }
}

fn get(path: &str) -> Stream {
    request(
        &[
            (":method", "GET"),
            (":path", path),
            (":authority", "example.com"),
        ],
        &[],
    )
}

/// The final state on each default engine, after checking that their traces agree.
fn run(filter: &str, scenario: Scenario) -> Vec<FinalState> {
    let engines = wasmdiff_engines::every_default_engine(&Target::ProxyWasm.sample_plan());
    let mut differential =
        Differential::for_target(&engines, Limits::default(), Target::ProxyWasm).unwrap();
    let case = TestCase {
        module: wasmdiff_filters::find(filter).unwrap().wasm.to_vec(),
        plan: Plan::Proxy(scenario),
        generator: Generator::SdkFilter,
    };
    let checked = differential.check_case(case);
    assert_eq!(
        checked.verdict,
        Verdict::Agree,
        "{filter}: the engines disagree"
    );
    checked
        .executions
        .into_iter()
        .map(|e| match e {
            Execution::Traced { trace } => trace.state,
            other => panic!("{filter}: {}", other.summary()),
        })
        .collect()
}

fn header<'a>(headers: &'a Pairs, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.0 == name.as_bytes())
        .map(|(_, v)| std::str::from_utf8(&v.0).unwrap())
}

#[test]
fn header_rewrite_adds_replaces_and_removes_headers() {
    let scenario = Scenario {
        streams: vec![request(
            &[(":path", "/"), ("user-agent", "curl"), ("x-debug", "1")],
            &[],
        )],
        ..Scenario::default()
    };
    for state in run("header_rewrite", scenario) {
        let stream = &state.streams[0];
        assert_eq!(stream.end, StreamEnd::Completed);
        assert_eq!(header(&stream.request.headers, "x-wasmdiff"), Some("yes"));
        assert_eq!(
            header(&stream.request.headers, "user-agent"),
            Some("wasmdiff")
        );
        assert_eq!(header(&stream.request.headers, "x-debug"), None);
        assert_eq!(
            header(&stream.response.headers, "x-served-by"),
            Some("wasmdiff")
        );
    }
}

#[test]
fn auth_callout_pauses_then_resumes_or_denies() {
    let authorized = &[(":path", "/a"), ("authorization", "Bearer x")];
    let answer = |status: &str| CalloutResponse {
        headers: pairs(&[(":status", status)]),
        ..CalloutResponse::default()
    };
    let scenario = Scenario {
        streams: vec![
            request(authorized, &["body"]),
            request(authorized, &[]),
            request(&[(":path", "/c")], &[]),
            request(authorized, &[]),
        ],
        // The fourth stream's callout gets no answer: a timeout, hence no `:status`.
        callout_responses: vec![answer("200"), answer("403")],
        ..Scenario::default()
    };
    for state in run("auth_callout", scenario) {
        let [allowed, denied, anonymous, timed_out] = &state.streams[..] else {
            panic!()
        };
        assert_eq!(allowed.end, StreamEnd::Completed);
        assert_eq!(allowed.request.body, Bytes::from("body"));
        assert_eq!(denied.end, StreamEnd::LocalResponse);
        let denial = denied.local_response.as_ref().unwrap();
        assert_eq!(
            (denial.status, &denial.body),
            (403, &Bytes::from("forbidden"))
        );
        assert_eq!(header(&denial.headers, "x-auth"), Some("denied"));
        assert_eq!(anonymous.local_response.as_ref().unwrap().status, 401);
        assert_eq!(timed_out.local_response.as_ref().unwrap().status, 403);
        // Three callouts, to `auth`, carrying the caller's credentials.
        assert_eq!(state.callouts.len(), 3);
        let callout = &state.callouts[0];
        assert_eq!(callout.upstream, Bytes::from("auth"));
        assert_eq!(header(&callout.headers, ":path"), Some("/check"));
        assert_eq!(header(&callout.headers, "authorization"), Some("Bearer x"));
    }
}

#[test]
fn body_rewrite_masks_across_chunks() {
    let mut stream = request(&[(":path", "/")], &["my sec", "ret, your secret"]);
    stream.response.body = vec![Bytes::from("secret"), Bytes::from("s")];
    let scenario = Scenario {
        streams: vec![stream],
        ..Scenario::default()
    };
    for state in run("body_rewrite", scenario) {
        let stream = &state.streams[0];
        assert_eq!(stream.request.body, Bytes::from("my ******, your ******"));
        assert_eq!(stream.response.body, Bytes::from("******s"));
    }
}

#[test]
fn config_driven_follows_its_configuration() {
    let configured = |config: &str| Scenario {
        plugin_configuration: Bytes::from(config),
        streams: vec![get("/")],
        ..Scenario::default()
    };
    for state in run("config_driven", configured("{\"deny\":true}")) {
        let response = state.streams[0].local_response.as_ref().unwrap();
        assert_eq!(response.status, 403);
        assert_eq!(header(&response.headers, "x-policy"), Some("deny"));
    }
    for state in run(
        "config_driven",
        configured("{\"header\":\"x-team\",\"value\":\"blue\"}"),
    ) {
        assert_eq!(
            header(&state.streams[0].request.headers, "x-team"),
            Some("blue")
        );
    }
    for state in run("config_driven", configured("")) {
        assert_eq!(state.streams[0].end, StreamEnd::Completed);
        assert_eq!(state.streams[0].request.headers.len(), 3);
    }
}

#[test]
fn shared_counter_counts_requests_with_cas() {
    let scenario = Scenario {
        streams: vec![get("/1"), get("/2"), get("/3")],
        ..Scenario::default()
    };
    for state in run("shared_counter", scenario) {
        let counts: Vec<Option<&str>> = state
            .streams
            .iter()
            .map(|s| header(&s.request.headers, "x-request-count"))
            .collect();
        assert_eq!(counts, [Some("1"), Some("2"), Some("3")]);
        let (key, value, cas) = &state.shared_data[0];
        assert_eq!((key, value), (&Bytes::from("requests"), &Bytes::from("3")));
        assert!(*cas > 0);
    }
}

#[test]
fn queue_producer_and_consumer_hand_over_every_item() {
    let scenario = Scenario {
        streams: vec![get("/first"), get("/second")],
        ..Scenario::default()
    };
    for state in run("queue", scenario) {
        let logs: Vec<&Bytes> = state.logs.iter().map(|(_, message)| message).collect();
        assert_eq!(
            logs,
            [
                &Bytes::from("event 1: /first"),
                &Bytes::from("event 2: /second")
            ]
        );
        assert!(state.queues[0].items.is_empty());
    }
}

#[test]
fn metrics_count_and_measure() {
    let scenario = Scenario {
        streams: vec![get("/a"), request(&[(":path", "/b")], &["12345"])],
        ..Scenario::default()
    };
    for state in run("metrics", scenario) {
        let value = |name: &str| {
            state
                .metrics
                .iter()
                .find(|m| m.name == Bytes::from(name))
                .unwrap()
                .value
        };
        assert_eq!(value("requests_total"), 2);
        assert_eq!(value("streams_in_flight"), 0);
        assert_eq!(value("request_body_bytes"), 5);
        assert_eq!(
            header(&state.streams[1].request.headers, "x-requests-seen"),
            Some("2")
        );
    }
}

#[test]
fn tick_timer_ticks_between_streams() {
    let scenario = Scenario {
        streams: vec![get("/a"), get("/b")],
        ticks_per_stream: 2,
        ..Scenario::default()
    };
    for state in run("tick_timer", scenario) {
        assert_eq!(state.tick_period_ms, 100);
        assert_eq!(
            header(&state.streams[1].request.headers, "x-ticks"),
            Some("2")
        );
        assert_eq!(state.logs.last().unwrap().1, Bytes::from("tick 4"));
    }
}

#[test]
fn grpc_auth_resumes_on_allow_and_denies_otherwise() {
    let answer = |body: &str| CalloutResponse {
        body: Bytes::from(body),
        ..CalloutResponse::default()
    };
    let scenario = Scenario {
        streams: vec![request(&[(":path", "/a")], &["body"]), get("/b"), get("/c")],
        // The third stream's call gets no answer: it closes UNAVAILABLE (14).
        callout_responses: vec![answer("allow"), answer("deny")],
        ..Scenario::default()
    };
    for state in run("grpc_auth", scenario) {
        let [allowed, denied, failed] = &state.streams[..] else {
            panic!()
        };
        assert_eq!(allowed.end, StreamEnd::Completed);
        assert_eq!(allowed.request.body, Bytes::from("body"));
        let grpc_status = |stream: &StreamRecord| {
            let response = stream.local_response.as_ref().unwrap();
            assert_eq!(response.status, 403);
            header(&response.headers, "x-grpc-status").map(str::to_string)
        };
        assert_eq!(grpc_status(denied).as_deref(), Some("0"));
        assert_eq!(grpc_status(failed).as_deref(), Some("14"));
        let callout = &state.callouts[1];
        assert_eq!(callout.kind, "grpc-call");
        assert_eq!(
            header(&callout.headers, ":path"),
            Some("/authz.Authorizer/Check")
        );
        assert_eq!(header(&callout.headers, "x-request-path"), Some("/b"));
        assert_eq!(callout.body, Bytes::from("/b"));
    }
}

#[test]
fn properties_reads_typed_values_and_sets_filter_state() {
    for state in run("properties", example_scenario()) {
        for stream in &state.streams {
            assert_eq!(header(&stream.request.headers, "x-plugin"), Some("example"));
            // Envoy encodes response.code as an 8-byte integer.
            assert_eq!(header(&stream.response.headers, "x-code-size"), Some("8"));
        }
        assert_eq!(
            header(&state.streams[0].request.headers, "x-path"),
            Some("/login")
        );
        let seen = (Bytes::from("wasmdiff\0seen"), Bytes::from("yes"));
        assert_eq!(state.properties, [seen.clone(), seen]);
    }
}

#[test]
fn assemblyscript_filters_rewrite_headers_and_authorize() {
    for name in ["as_header_rewrite", "as_auth_callout"] {
        let filter = wasmdiff_filters::find(name).unwrap();
        assert_eq!(filter.sdk, Sdk::AssemblyScript);
        // The AssemblyScript SDK aborts through WASI's older module.
        let imports = wasmparser::Parser::new(0)
            .parse_all(filter.wasm)
            .filter_map(|p| match p.unwrap() {
                wasmparser::Payload::ImportSection(r) => Some(r),
                _ => None,
            })
            .flat_map(|r| r.into_imports().map(|i| i.unwrap().module.to_string()))
            .collect::<Vec<_>>();
        assert!(imports.iter().any(|m| m == "wasi_unstable"), "{imports:?}");
    }
    let scenario = example_scenario();
    assert!(!scenario.plugin_configuration.0.is_empty());
    for state in run("as_header_rewrite", scenario.clone()) {
        for stream in &state.streams {
            // The SDK's `onConfigure` hands the host the configuration's size where the size's
            // out-pointer goes (runtime.ts), so it never sees its configuration: "yes".
            assert_eq!(header(&stream.request.headers, "x-as-filter"), Some("yes"));
            assert_eq!(
                header(&stream.response.headers, "x-served-by"),
                Some("assemblyscript")
            );
        }
    }
    // The first stream's callout gets the scenario's 200; the second's gets nothing.
    for state in run("as_auth_callout", scenario) {
        assert_eq!(state.streams[0].end, StreamEnd::Completed);
        let denied = state.streams[1].local_response.as_ref().unwrap();
        assert_eq!(
            (denied.status, &denied.body),
            (403, &Bytes::from("forbidden"))
        );
        assert_eq!(
            header(&state.callouts[0].headers, "authorization"),
            Some("Bearer allow")
        );
    }
}

/// The engines that host proxy-wasm filters in the default lineup, V8 and WAMR among them.
fn proxy_engines() -> Vec<&'static wasmdiff_engines::EngineSpec> {
    let engines = wasmdiff_engines::every_default_engine(&Target::ProxyWasm.sample_plan());
    let names: Vec<&str> = engines.iter().map(|e| e.name).collect();
    for needed in [
        "v8-liftoff",
        "v8-turbofan",
        "wamr",
        "wasmtime-cranelift",
        "wasmi-eager",
    ] {
        if std::env::var("CI").as_deref() == Ok("true") {
            assert!(
                names.contains(&needed),
                "{needed} hosts no filters: {names:?}"
            );
        }
    }
    engines
}

#[test]
fn every_sdk_filter_agrees_on_every_proxy_engine_under_both_hosts() {
    let engines = proxy_engines();
    assert!(
        engines.len() >= 7,
        "{} proxy-capable engines",
        engines.len()
    );
    let mut differential =
        Differential::for_target(&engines, Limits::default(), Target::ProxyWasm).unwrap();
    for filter in wasmdiff_filters::all() {
        for host in HostProfile::ALL {
            let case = TestCase {
                module: filter.wasm.to_vec(),
                plan: Plan::Proxy(Scenario {
                    host,
                    ..example_scenario()
                }),
                generator: Generator::SdkFilter,
            };
            let checked = differential.check_case(case);
            assert_eq!(
                checked.verdict,
                Verdict::Agree,
                "{} under {host}: the engines disagree",
                filter.name
            );
            for execution in &checked.executions {
                assert!(
                    matches!(execution, Execution::Traced { .. }),
                    "{} under {host}: {}",
                    filter.name,
                    execution.summary()
                );
            }
        }
    }
}

/// The portability report on one filter under Envoy and nginx, on wasmtime and V8.
fn portability_of(filter: &str) -> Portability {
    let engines = wasmdiff_engines::parse_list_for(
        "wasmtime-cranelift,v8-liftoff",
        &Target::ProxyWasm.sample_plan(),
    )
    .unwrap();
    let mut differential =
        Differential::for_target(&engines, Limits::default(), Target::ProxyWasm).unwrap();
    let module = wasmdiff_filters::find(filter).unwrap().wasm;
    portability(
        &mut differential,
        module,
        &example_scenario(),
        &[HostProfile::Envoy, HostProfile::Nginx],
    )
}

/// The one difference both engines show between the hosts.
fn host_difference(grid: &Portability) -> HostDifference {
    assert!(!grid.engines_differ());
    let [comparison] = &grid.comparisons[..] else {
        panic!("one comparison expected");
    };
    match &comparison.groups[..] {
        [(Some(Difference::Observable(d)), engines)] if engines.len() == 2 => d.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn portability_shows_nginx_ending_local_responses_with_a_newline() {
    let difference = host_difference(&portability_of("auth_callout"));
    assert_eq!(difference.aspect, Aspect::LocalResponse { context: 3 });
    let (envoy, nginx) = (difference.left.unwrap(), difference.right.unwrap());
    assert!(envoy.starts_with("401 \"who are you?\" "), "{envoy}");
    assert!(nginx.starts_with("401 \"who are you?\\n\" "), "{nginx}");
    assert!(difference.behind.0.is_some() && difference.behind.1.is_some());
}

#[test]
fn portability_shows_where_nginx_traps_on_an_unimplemented_function() {
    let difference = host_difference(&portability_of("queue"));
    assert_eq!(difference.aspect, Aspect::Trap);
    assert_eq!(difference.left, None);
    let nginx = difference.right.unwrap();
    assert!(
        nginx.contains("not yet implemented: proxy_resolve_shared_queue"),
        "{nginx}"
    );
}

#[test]
fn portability_finds_no_difference_where_the_hosts_agree() {
    let grid = portability_of("header_rewrite");
    assert!(!grid.engines_differ() && !grid.hosts_differ());
}

#[test]
fn portability_shows_the_status_an_sdk_panicked_on() {
    let difference = host_difference(&portability_of("properties"));
    assert_eq!(difference.aspect, Aspect::Trap);
    let nginx = difference.right.unwrap();
    assert!(nginx.starts_with("proxy_on_response_headers("), "{nginx}");
    // Behind the trap: the host call whose status the SDK did not expect.
    let grid = portability_of("properties");
    let Execution::Traced { trace } = &grid.runs[1].1.executions[0] else {
        panic!("no trace under nginx");
    };
    let behind = &trace.events[difference.behind.1.unwrap()];
    assert!(
        matches!(behind, Event::Host { name, result: HostResult::Status(1), .. } if name == "proxy_set_property"),
        "{behind:?}"
    );
}

#[test]
fn portability_shows_assemblyscript_filters_failing_on_nginx_root_ids() {
    // The SDK looks its root context up by `plugin_root_id`: "" on Envoy, the root context's id
    // on nginx, where the lookup fails and the SDK aborts through `proc_exit`.
    let difference = host_difference(&portability_of("as_header_rewrite"));
    assert_eq!(difference.aspect, Aspect::Trap);
    let nginx = difference.right.unwrap();
    assert!(
        nginx.starts_with("proxy_on_context_create(") && nginx.contains("proc_exit"),
        "{nginx}"
    );
}
