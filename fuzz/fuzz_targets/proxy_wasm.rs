//! Bytes → a proxy-wasm filter (random, or built with the SDK) and a scenario → the host on
//! every engine → traces compared. A trace divergence no known engine bug explains, or any
//! panic of the host, panics, so libFuzzer keeps the input as an artifact.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmdiff_harness::{Target, fuzzing};

fuzz_target!(init: fuzzing::init(), |data: &[u8]| {
    if let Some(divergence) = fuzzing::check(Target::ProxyWasm, data) {
        panic!("wasmdiff proxy-wasm divergence: {divergence}");
    }
});
