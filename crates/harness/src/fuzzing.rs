//! What the `cargo fuzz` targets call: one input through the pipeline on a lineup kept for
//! the whole fuzzing process.

use std::cell::RefCell;

use wasmdiff_cases::describe;
use wasmdiff_engines::Limits;
use wasmdiff_oracle::DivergenceKind;

use crate::differential::{Differential, Target};

thread_local! {
    static LINEUPS: RefCell<Vec<(Target, Differential)>> = const { RefCell::new(Vec::new()) };
}

/// Process setup for a fuzz target: serve as an engine worker if started as one (engines
/// that run isolated are started from the fuzz target itself), and no Rust backtraces on the
/// hot path (see the README).
pub fn init() {
    wasmdiff_engines::worker::serve_if_requested();
    // SAFETY: called from libFuzzer's init hook, before any other thread exists.
    unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
}

/// Runs `data` for `target` on the engines named by `WASMDIFF_ENGINES` (default: the default
/// lineup) and describes the divergence, if no known engine bug explains it (a host panic
/// always counts). Inputs that make no test case are skipped, and so are differences between
/// hosts: most filters have one, and the campaign runner gathers them by kind.
pub fn check(target: Target, data: &[u8]) -> Option<String> {
    LINEUPS.with_borrow_mut(|lineups| {
        if !lineups.iter().any(|(t, _)| *t == target) {
            let specs = match std::env::var("WASMDIFF_ENGINES") {
                Ok(list) => target.parse_engines(&list),
                Err(_) => {
                    say_what_is_missing(target);
                    Ok(target.default_engines())
                }
            }
            .unwrap_or_else(|e| panic!("WASMDIFF_ENGINES: {e}"));
            let differential = Differential::for_target(&specs, Limits::default(), target)
                .unwrap_or_else(|e| panic!("{e:#}"));
            lineups.push((target, differential));
        }
        let (_, differential) = lineups.iter_mut().find(|(t, _)| *t == target)?;
        let checked = differential.check(data).ok()?;
        if checked.verdict.divergence()?.kind == DivergenceKind::Portability {
            return None;
        }
        if !checked.known_bugs.is_empty() {
            return None;
        }
        let names = differential.lineup().names();
        Some(describe(
            &checked.verdict,
            &names,
            &checked.case.plan,
            &checked.executions,
        ))
    })
}

/// Names, once per process, the default engines this machine lacks (a fuzzing service's
/// runner has no node and no WABT): the target runs on the rest.
fn say_what_is_missing(target: Target) {
    if let Some(missing) = wasmdiff_engines::missing_defaults_in_words(&target.sample_plan()) {
        eprintln!(
            "wasmdiff: the {} target runs without {missing}",
            target.fuzz_target()
        );
    }
}

/// The structure-aware mutation of a fuzz target over modules: `data` (a module) changed by
/// wasm-mutate, valid and at most `max_size` bytes; `None` when that is not to be had (the
/// target then lets libFuzzer mutate the bytes).
pub fn mutate_module(data: &[u8], seed: u32, max_size: usize) -> Option<Vec<u8>> {
    wasmdiff_gen::mutate::mutate_for_fuzzer(data, seed, max_size)
}
