//! Bytes → test case → every engine (`WASMDIFF_ENGINES`, default lineup) → verdict. A
//! divergence no known engine bug explains panics, so libFuzzer keeps the input as an artifact.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmdiff_harness::{Target, fuzzing};

fuzz_target!(init: fuzzing::init(), |data: &[u8]| {
    if let Some(divergence) = fuzzing::check(Target::Modules, data) {
        panic!("wasmdiff divergence: {divergence}");
    }
});
