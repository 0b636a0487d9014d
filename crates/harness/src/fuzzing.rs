//! What the `cargo fuzz` targets call: one input through the pipeline on a lineup kept for
//! the whole fuzzing process.

use std::cell::RefCell;

use wasmdiff_cases::describe;
use wasmdiff_engines::Limits;
use wasmdiff_gen::Generator;
use wasmdiff_oracle::DivergenceKind;

use crate::differential::{Differential, Target};
use crate::inputs;

/// A fuzz target's pipeline, kept for the whole fuzzing process, and what it has seen.
struct Kept {
    target: Target,
    differential: Differential,
    /// The generator every input is made for (`WASMDIFF_GENERATOR`), if not the one it picks.
    generator: Option<Generator>,
    inputs: u64,
    conclusive: u64,
    unusable: u64,
}

thread_local! {
    static KEPT: RefCell<Vec<Kept>> = const { RefCell::new(Vec::new()) };
}

/// How often a target says what it has seen, in inputs (as wasmtime's targets do).
const REPORT_EVERY: u64 = 1000;

/// Process setup for a fuzz target: serve as an engine worker if started as one (engines
/// that run isolated are started from the fuzz target itself), and no Rust backtraces on the
/// hot path (see the README).
pub fn init() {
    wasmdiff_engines::remote::worker::serve_if_requested();
    // SAFETY: called from libFuzzer's init hook, before any other thread exists.
    unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
}

/// Runs `data` for `target` on the engines named by `WASMDIFF_ENGINES` (default: the default
/// lineup) and describes the divergence, if no known engine bug explains it (a host panic
/// always counts). Inputs that make no test case are skipped, and so are differences between
/// hosts: most filters have one, and the campaign runner gathers them by kind. Every
/// thousand inputs it prints how many made a conclusive comparison.
pub fn check(target: Target, data: &[u8]) -> Option<String> {
    KEPT.with_borrow_mut(|kept| {
        let at = match kept.iter().position(|k| k.target == target) {
            Some(at) => at,
            None => {
                kept.push(start(target).unwrap_or_else(|e| panic!("{e:#}")));
                kept.len() - 1
            }
        };
        let kept = &mut kept[at];
        kept.inputs += 1;
        let data = inputs::for_generator(data, kept.generator);
        let checked = kept.differential.check(&data);
        match &checked {
            Ok(checked) => kept.conclusive += u64::from(checked.verdict.is_conclusive()),
            Err(_) => kept.unusable += 1,
        }
        if kept.inputs % REPORT_EVERY == 0 {
            eprintln!(
                "wasmdiff {}: {} inputs, {} conclusive comparisons, {} unusable",
                target.fuzz_target(),
                kept.inputs,
                kept.conclusive,
                kept.unusable
            );
        }
        let checked = checked.ok()?;
        if checked.verdict.divergence()?.kind == DivergenceKind::Portability {
            return None;
        }
        if !checked.known_bugs.is_empty() {
            return None;
        }
        let names = kept.differential.lineup().names();
        Some(describe(
            &checked.verdict,
            &names,
            &checked.case.plan,
            &checked.executions,
        ))
    })
}

/// The pipeline of a fuzz target, from the environment.
fn start(target: Target) -> anyhow::Result<Kept> {
    let specs = match std::env::var("WASMDIFF_ENGINES") {
        Ok(list) => target
            .parse_engines(&list)
            .map_err(|e| anyhow::anyhow!("WASMDIFF_ENGINES: {e}"))?,
        Err(_) => {
            say_what_is_missing(target);
            target.default_engines()
        }
    };
    Ok(Kept {
        target,
        differential: Differential::for_target(&specs, Limits::default(), target)?,
        generator: generator_from_env(target)?,
        inputs: 0,
        conclusive: 0,
        unusable: 0,
    })
}

/// The generator `WASMDIFF_GENERATOR` names (`wasm-smith` or `instructions`) for every
/// input of the modules target, as wasmtime's `ALLOWED_MODULES`; `None` when it is not set.
/// An artifact of a run with it set needs it set again to be imported.
pub fn generator_from_env(target: Target) -> anyhow::Result<Option<Generator>> {
    let Ok(name) = std::env::var("WASMDIFF_GENERATOR") else {
        return Ok(None);
    };
    anyhow::ensure!(
        target == Target::Modules,
        "WASMDIFF_GENERATOR: only the differential target's inputs choose a module generator"
    );
    let generator = inputs::module_generator(&name);
    Ok(Some(
        generator.map_err(|e| anyhow::anyhow!("WASMDIFF_GENERATOR: {e}"))?,
    ))
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
