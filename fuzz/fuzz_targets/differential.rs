//! Bytes → test case → every engine (`WASMDIFF_ENGINES`, default lineup) → verdict. A
//! divergence no known engine bug explains panics, so libFuzzer keeps the input as an artifact.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(init: wasmdiff_harness::fuzzing::init(), |data: &[u8]| {
    if let Some(divergence) = wasmdiff_harness::fuzzing::differential(data) {
        panic!("wasmdiff divergence: {divergence}");
    }
});
