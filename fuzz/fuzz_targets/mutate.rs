//! Modules (seeded with the spec suite's and the regression cases') mutated by wasm-mutate,
//! structure-aware, rather than byte by byte: each input is a module, called with edge values.
//! A divergence no known engine bug explains panics, so libFuzzer keeps the module.
#![no_main]

use libfuzzer_sys::{fuzz_mutator, fuzz_target, fuzzer_mutate};
use wasmdiff_harness::{Target, fuzzing};

fuzz_target!(init: fuzzing::init(), |data: &[u8]| {
    if let Some(divergence) = fuzzing::check(Target::Mutate, data) {
        panic!("wasmdiff divergence: {divergence}");
    }
});

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    match fuzzing::mutate_module(&data[..size], seed, max_size) {
        Some(mutated) => {
            data[..mutated.len()].copy_from_slice(&mutated);
            mutated.len()
        }
        None => fuzzer_mutate(data, size, max_size),
    }
});
