//! Bytes → a proxy-wasm filter and a scenario → the host on every engine under every host
//! profile → engines compared under each host, then the filter's observable behaviour
//! between hosts. Any divergence no known engine bug explains panics, so libFuzzer keeps the
//! input as an artifact: an engine finding, or a portability difference.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmdiff_harness::{Target, fuzzing};

fuzz_target!(init: fuzzing::init(), |data: &[u8]| {
    if let Some(divergence) = fuzzing::check(Target::ProxyHosts, data) {
        panic!("wasmdiff proxy-hosts divergence: {divergence}");
    }
});
