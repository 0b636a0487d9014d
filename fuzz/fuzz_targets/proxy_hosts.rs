//! Bytes → a proxy-wasm filter and a scenario → the host on every engine under every host
//! profile → engines compared under each host. An engine divergence no known bug explains
//! panics, so libFuzzer keeps the input as an artifact; differences between hosts do not (most
//! filters have one: `wasmdiff fuzz --target proxy-hosts` gathers them by kind), but the
//! corpus grows along the host-profile paths they take.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmdiff_harness::{Target, fuzzing};

fuzz_target!(init: fuzzing::init(), |data: &[u8]| {
    if let Some(divergence) = fuzzing::check(Target::ProxyHosts, data) {
        panic!("wasmdiff proxy-hosts divergence: {divergence}");
    }
});
