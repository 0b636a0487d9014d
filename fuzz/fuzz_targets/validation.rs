//! Bytes → a module that is sometimes invalid (wasm-smith, then wasm-mutate or flipped bytes)
//! → whether each engine and wasmparser accept it. An engine that disagrees with the others
//! having the same proposals, or crashes, panics, so libFuzzer keeps the input as an artifact.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmdiff_harness::{Target, fuzzing};

fuzz_target!(init: fuzzing::init(), |data: &[u8]| {
    if let Some(divergence) = fuzzing::check(Target::Validation, data) {
        panic!("wasmdiff validation divergence: {divergence}");
    }
});
