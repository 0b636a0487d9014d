//! Hostile filters never hurt the host: every host function, called with arbitrary pointers,
//! lengths, sizes and enum values, against correct, null, garbage, trapping and missing
//! allocators, answers with a status or a defined trap, never a panic, and the host stays
//! usable. Plus the statuses a well-formed misuse gets.

use wasmdiff_gen::Value;
use wasmdiff_gen::proxy::{Bytes, HOST_FUNCTIONS, HostProfile, example_scenario, host_function};
use wasmdiff_gen::rng::SplitMix64;
use wasmdiff_proxy::abi::{errno, status};
use wasmdiff_proxy::trace::HostResult;
use wasmdiff_proxy::{Host, HostTrap, SliceGuest, maps};

#[derive(Clone, Copy, Debug)]
enum Allocator {
    Bump,
    Null,
    Garbage(u32),
    Traps,
    Missing,
}

struct FakeGuest {
    host: Host,
    memory: Vec<u8>,
    allocator: Allocator,
    next: u32,
}

impl FakeGuest {
    fn new(allocator: Allocator) -> FakeGuest {
        FakeGuest::on(HostProfile::Envoy, allocator)
    }

    /// A guest on the host of `profile`, outside any callback, with a VM configuration.
    fn on(profile: HostProfile, allocator: Allocator) -> FakeGuest {
        let mut scenario = example_scenario();
        scenario.host = profile;
        scenario.vm_configuration = Bytes::from("vm configuration");
        let mut host = Host::new(&scenario);
        host.take_calls();
        FakeGuest {
            host,
            memory: vec![0; 65536],
            allocator,
            next: 32768,
        }
    }

    fn put(&mut self, at: u32, bytes: &[u8]) {
        self.memory[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
    }

    fn u32_at(&self, at: u32) -> u32 {
        u32::from_le_bytes(
            self.memory[at as usize..at as usize + 4]
                .try_into()
                .unwrap(),
        )
    }

    fn call(&mut self, name: &str, args: &[u32]) -> Result<u32, HostTrap<&'static str>> {
        let function = HOST_FUNCTIONS.iter().find(|f| f.name == name).unwrap();
        let args: Vec<Value> = args.iter().map(|a| Value::I32(*a as i32)).collect();
        wasmdiff_proxy::host::call(self, function, &args).map(|r| match r.as_slice() {
            [Value::I32(status)] => *status as u32,
            _ => 0,
        })
    }
}

impl SliceGuest for FakeGuest {
    type Trap = &'static str;

    fn host(&mut self) -> &mut Host {
        &mut self.host
    }

    fn memory(&mut self) -> &mut [u8] {
        &mut self.memory
    }

    fn call(&mut self, export: &str, args: &[Value]) -> Option<Result<Vec<Value>, &'static str>> {
        if export != "proxy_on_memory_allocate" {
            return None;
        }
        let [Value::I32(size)] = args else {
            return None;
        };
        let ptr = match self.allocator {
            Allocator::Bump => {
                let ptr = self.next;
                self.next = self.next.wrapping_add(*size as u32).min(60000);
                ptr
            }
            Allocator::Null => 0,
            Allocator::Garbage(ptr) => ptr,
            Allocator::Traps => return Some(Err("the allocator trapped")),
            Allocator::Missing => return None,
        };
        Some(Ok(vec![Value::I32(ptr as i32)]))
    }
}

/// Arguments: raw bits, small offsets, or edges around the memory's end and the `u32` range.
fn edge(rng: &mut SplitMix64) -> u32 {
    const EDGES: &[u32] = &[
        0,
        1,
        2,
        3,
        4,
        7,
        8,
        9,
        64,
        1024,
        32768,
        65531,
        65532,
        65535,
        65536,
        65537,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_fffc,
        u32::MAX,
    ];
    match rng.next_u64() % 4 {
        0 => rng.next_u64() as u32,
        1 => (rng.next_u64() % 65536) as u32,
        _ => EDGES[(rng.next_u64() % EDGES.len() as u64) as usize],
    }
}

#[test]
fn arbitrary_calls_never_panic_and_the_host_stays_usable() {
    let mut rng = SplitMix64(7);
    let modes = [
        Allocator::Bump,
        Allocator::Null,
        Allocator::Garbage(65530),
        Allocator::Garbage(u32::MAX),
        Allocator::Traps,
        Allocator::Missing,
    ];
    for round in 0..30_000u32 {
        let profile = HostProfile::ALL[(round / 7) as usize % 2];
        let mut guest = FakeGuest::on(profile, modes[round as usize % modes.len()]);
        // Arbitrary bytes in memory, including things that look like maps and iovecs.
        for i in (0..guest.memory.len()).step_by(61) {
            guest.memory[i] = rng.next_u64() as u8;
        }
        for _ in 0..4 {
            let function = &HOST_FUNCTIONS[(rng.next_u64() % HOST_FUNCTIONS.len() as u64) as usize];
            let args: Vec<Value> = function
                .params
                .iter()
                .map(|t| match t {
                    wasmdiff_gen::ValType::I64 => Value::I64(rng.next_u64() as i64),
                    _ => Value::I32(edge(&mut rng) as i32),
                })
                .collect();
            let result = wasmdiff_proxy::host::call(&mut guest, function, &args);
            match result {
                Ok(values) => assert!(values.len() == function.results.len(), "{}", function.name),
                Err(HostTrap::Exit(_)) => panic!("neither host exits on proc_exit"),
                Err(HostTrap::Refused(_)) => assert_eq!(profile, HostProfile::Nginx),
                Err(HostTrap::Guest(_)) => assert!(matches!(guest.allocator, Allocator::Traps)),
                Err(HostTrap::Panic(message)) => panic!("the host panicked: {message}"),
            }
        }
        assert!(guest.host.final_state().host_panics.is_empty());
        // Still usable: a well-formed call succeeds.
        guest.put(100, b"still here");
        assert_eq!(guest.call("proxy_log", &[2, 100, 10]).unwrap(), status::OK);
    }
}

#[test]
fn memory_faults_get_statuses() {
    let mut guest = FakeGuest::new(Allocator::Bump);
    let end = guest.memory.len() as u32;
    assert_eq!(
        guest.call("proxy_log", &[2, end - 2, 3]).unwrap(),
        status::INVALID_MEMORY_ACCESS
    );
    assert_eq!(
        guest.call("proxy_log", &[2, u32::MAX, 2]).unwrap(),
        status::INVALID_MEMORY_ACCESS
    );
    assert_eq!(guest.call("proxy_log", &[2, end, 0]).unwrap(), status::OK);
    assert_eq!(
        guest.call("proxy_log", &[9, 0, 0]).unwrap(),
        status::BAD_ARGUMENT
    );
    assert_eq!(
        guest.call("proxy_get_log_level", &[end - 3]).unwrap(),
        status::INVALID_MEMORY_ACCESS
    );
    assert_eq!(
        guest.call("fd_write", &[1, u32::MAX - 3, 2, 0]).unwrap(),
        errno::FAULT
    );
    assert_eq!(
        guest.call("fd_write", &[1, 0, 0x2000_0000, 0]).unwrap(),
        errno::FAULT
    );
    assert_eq!(guest.call("fd_write", &[7, 0, 0, 0]).unwrap(), errno::BADF);
    assert_eq!(guest.call("random_get", &[0, 65537]).unwrap(), errno::INVAL);
    assert_eq!(
        guest.call("clock_time_get", &[9, 0, 0]).unwrap(),
        errno::NOTSUP
    );
}

#[test]
fn broken_allocators_are_refused_not_used() {
    for allocator in [
        Allocator::Null,
        Allocator::Garbage(65530),
        Allocator::Garbage(u32::MAX),
        Allocator::Missing,
    ] {
        let mut guest = FakeGuest::new(allocator);
        let before = guest.memory.clone();
        // The VM configuration is readable at any time, and not empty here.
        let result = guest.call("proxy_get_buffer_bytes", &[6, 0, 100, 200, 204]);
        assert_eq!(
            result.unwrap(),
            status::INVALID_MEMORY_ACCESS,
            "{allocator:?}"
        );
        assert_eq!(guest.memory, before, "{allocator:?}: nothing written");
    }
    let mut guest = FakeGuest::new(Allocator::Traps);
    assert!(matches!(
        guest.call("proxy_get_buffer_bytes", &[6, 0, 100, 200, 204]),
        Err(HostTrap::Guest(_))
    ));
}

#[test]
fn enums_maps_and_buffers_are_checked() {
    let mut guest = FakeGuest::new(Allocator::Bump);
    assert_eq!(
        guest
            .call("proxy_get_buffer_bytes", &[99, 0, 1, 200, 204])
            .unwrap(),
        status::BAD_ARGUMENT
    );
    assert_eq!(
        guest
            .call("proxy_get_buffer_bytes", &[2, 0, 1, 200, 204])
            .unwrap(),
        status::NOT_FOUND
    );
    assert_eq!(
        guest
            .call("proxy_get_buffer_bytes", &[6, u32::MAX, 2, 200, 204])
            .unwrap(),
        status::OK
    );
    // Past the end: empty, a null pointer and size 0, and no allocation.
    assert_eq!((guest.u32_at(200), guest.u32_at(204)), (0, 0));
    assert_eq!(
        guest.call("proxy_get_header_map_size", &[42, 200]).unwrap(),
        status::BAD_ARGUMENT
    );
    // The root context has no HTTP headers.
    assert_eq!(
        guest
            .call("proxy_get_header_map_pairs", &[0, 200, 204])
            .unwrap(),
        status::NOT_FOUND
    );
    assert_eq!(
        guest.call("proxy_continue_stream", &[4]).unwrap(),
        status::BAD_ARGUMENT
    );
    assert_eq!(
        guest.call("proxy_define_metric", &[3, 0, 1, 200]).unwrap(),
        status::BAD_ARGUMENT
    );
    assert_eq!(
        guest.call("proxy_set_effective_context", &[99]).unwrap(),
        status::BAD_ARGUMENT
    );

    // A malformed map in a local response, and a callout without its required headers.
    guest.put(300, &[5, 0, 0, 0, 1, 0]);
    assert_eq!(
        guest
            .call("proxy_http_call", &[0, 4, 300, 6, 0, 0, 0, 0, 10, 200])
            .unwrap(),
        status::BAD_ARGUMENT
    );
    let headers = maps::serialize(&vec![(Bytes::from(":path"), Bytes::from("/"))]);
    guest.put(400, &headers);
    guest.put(0, b"auth");
    let len = headers.len() as u32;
    assert_eq!(
        guest
            .call("proxy_http_call", &[0, 4, 400, len, 0, 0, 0, 0, 10, 200])
            .unwrap(),
        status::BAD_ARGUMENT
    );
}

#[test]
fn shared_data_queues_and_metrics_follow_the_abi() {
    let mut guest = FakeGuest::new(Allocator::Bump);
    guest.put(0, b"key");
    guest.put(16, b"v1v2");
    assert_eq!(
        guest
            .call("proxy_get_shared_data", &[0, 3, 100, 104, 108])
            .unwrap(),
        status::NOT_FOUND
    );
    assert_eq!(
        guest
            .call("proxy_set_shared_data", &[0, 3, 16, 2, 0])
            .unwrap(),
        status::OK
    );
    assert_eq!(
        guest
            .call("proxy_get_shared_data", &[0, 3, 100, 104, 108])
            .unwrap(),
        status::OK
    );
    let cas = guest.u32_at(108);
    assert_ne!(cas, 0);
    assert_eq!(
        guest
            .call("proxy_set_shared_data", &[0, 3, 18, 2, cas + 1])
            .unwrap(),
        status::CAS_MISMATCH
    );
    assert_eq!(
        guest
            .call("proxy_set_shared_data", &[0, 3, 18, 2, cas])
            .unwrap(),
        status::OK
    );

    guest.put(32, b"q");
    assert_eq!(
        guest
            .call("proxy_register_shared_queue", &[32, 1, 100])
            .unwrap(),
        status::OK
    );
    let queue = guest.u32_at(100);
    assert_eq!(
        guest
            .call("proxy_register_shared_queue", &[32, 1, 104])
            .unwrap(),
        status::OK
    );
    assert_eq!(guest.u32_at(104), queue, "the same name is the same queue");
    assert_eq!(
        guest
            .call("proxy_dequeue_shared_queue", &[queue, 100, 104])
            .unwrap(),
        status::EMPTY
    );
    assert_eq!(
        guest
            .call("proxy_dequeue_shared_queue", &[queue + 9, 100, 104])
            .unwrap(),
        status::NOT_FOUND
    );

    guest.put(48, b"hits");
    assert_eq!(
        guest.call("proxy_define_metric", &[2, 48, 4, 100]).unwrap(),
        status::OK
    );
    let histogram = guest.u32_at(100);
    assert_eq!(
        guest.call("proxy_get_metric", &[histogram, 104]).unwrap(),
        status::BAD_ARGUMENT
    );
    assert_eq!(
        guest
            .call("proxy_increment_metric", &[histogram, 1])
            .unwrap(),
        status::BAD_ARGUMENT
    );
}

/// Every entry of the host-function table reaches its own implementation: called with
/// arguments of its signature it is recorded under its name and answers with results of its
/// declared types; Envoy implements every one, nginx traps exactly on those it lists as not
/// implemented, and refuses to link those it lacks.
#[test]
fn every_listed_host_function_is_dispatched() {
    assert!(HOST_FUNCTIONS.len() > 40);
    for profile in HostProfile::ALL {
        let rules = wasmdiff_proxy::profile::behaviour(profile);
        for function in HOST_FUNCTIONS {
            let mut guest = FakeGuest::on(profile, Allocator::Bump);
            let import = |ty: &str| {
                let text = format!(
                    r#"(module (import "{}" "{}" (func{ty})))"#,
                    function.module, function.name
                );
                wasmdiff_proxy::resolve_imports(&wat::parse_str(&text).unwrap(), profile)
            };
            // Imported with another type, a function does not link.
            assert!(import(" (param f64)").is_err(), "{}", function.name);
            let resolved = import(&wasmdiff_gen::proxy::signature(
                function.params,
                function.results,
            ));
            match rules.missing.contains(&function.id) {
                true => assert!(resolved.is_err(), "{profile}: {}", function.name),
                false => assert_eq!(resolved.unwrap(), [function], "{}", function.name),
            }
            // Pointers, lengths and enums of 64: aligned, in memory, non-null.
            let args: Vec<Value> = function
                .params
                .iter()
                .map(|t| match t {
                    wasmdiff_gen::ValType::I64 => Value::I64(64),
                    _ => Value::I32(64),
                })
                .collect();
            let returned = wasmdiff_proxy::host::call(&mut guest, function, &args);
            let calls = guest.host.take_calls();
            assert_eq!(calls.len(), 1, "{}", function.name);
            assert_eq!(calls[0].name, function.name);
            let unimplemented = rules.not_implemented.contains(&function.id);
            match (&calls[0].result, returned) {
                (HostResult::Status(code), Ok(values)) => {
                    assert!(!unimplemented, "{profile}: {} answered", function.name);
                    assert_ne!(*code, status::UNIMPLEMENTED, "{}", function.name);
                    let types: Vec<_> = values.iter().map(Value::ty).collect();
                    assert_eq!(types, function.results, "{}", function.name);
                }
                (HostResult::Done, Ok(values)) => {
                    assert!(!unimplemented, "{profile}: {} answered", function.name);
                    assert!(
                        values.is_empty() && function.results.is_empty(),
                        "{}",
                        function.name
                    )
                }
                // nginx refuses other misuse by trapping too (an unknown queue, say).
                (HostResult::Trap(why), Err(HostTrap::Refused(_))) => {
                    assert_eq!(profile, HostProfile::Nginx, "{}: {why}", function.name);
                    assert_eq!(
                        unimplemented,
                        why.contains("not yet implemented"),
                        "{}: {why}",
                        function.name
                    );
                }
                (result, returned) => {
                    panic!("{profile}: {}: {result:?} but {returned:?}", function.name)
                }
            }
        }
    }
}

#[test]
fn every_host_function_is_known_and_unknown_imports_are_named() {
    assert!(host_function("env", "proxy_log").is_some());
    assert!(host_function("env", "proxy_nonsense").is_none());
    let module = wat::parse_str(r#"(module (import "env" "proxy_nonsense" (func)))"#).unwrap();
    let error = wasmdiff_proxy::resolve_imports(&module, HostProfile::Envoy).unwrap_err();
    assert!(error.contains("env::proxy_nonsense"), "{error}");
    let memory = wat::parse_str(r#"(module (import "env" "memory" (memory 1)))"#).unwrap();
    assert!(
        wasmdiff_proxy::resolve_imports(&memory, HostProfile::Envoy)
            .unwrap_err()
            .contains("env::memory")
    );
    // The recorded result of a status is the status.
    let mut guest = FakeGuest::new(Allocator::Bump);
    guest.call("proxy_done", &[]).unwrap();
    let calls = guest.host.take_calls();
    assert_eq!(calls[0].result, HostResult::Status(status::OK));
}
