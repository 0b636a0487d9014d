//! Engines: one contract ([`contract`]: what an engine is, can do and is known to get wrong,
//! and how it takes work), one file per engine (each behind a cargo feature), in a folder per
//! kind of engine: `in_process/`, `adapted/`, `remote/`. Engine-specific quirks (error
//! mapping, configuration, what a proposal means there) live in that engine's file and
//! nowhere else. This file registers the engines: adding one touches its file, the lists
//! below and its cargo feature.

#[cfg(any(feature = "v8", feature = "wabt", feature = "wasm3", feature = "wamr"))]
pub mod adapted;
pub mod contract;
#[cfg(any(feature = "wasmtime", feature = "wasmi", feature = "wasmer"))]
mod in_process;
pub mod limits;
pub mod lineup;
pub mod outcome;
pub mod progress;
pub mod remote;
pub mod sections;
mod selection;
pub mod selftest;
mod wasmparser_validator;

pub use contract::{
    Abilities, Engine, EngineSpec, Isolation, Job, KnownBug, ProxyHosting, Ticket, always_available,
};
pub use limits::Limits;
pub use lineup::Lineup;
pub use outcome::{
    CallOutcome, CrashKind, Execution, ExportState, ExportValue, HostRun, Trap, TrapKind,
};
pub use progress::Stage;
pub use selection::{
    defaults, defaults_for, every_default_engine, missing_defaults, missing_defaults_in_words,
    parse_list, parse_list_for,
};
/// Module rewriting lives with generation, below the engines; their workarounds use it.
pub use wasmdiff_gen::rewrite;

/// Every engine configuration compiled into this build, available or not.
pub fn all() -> Vec<&'static EngineSpec> {
    let mut specs: Vec<&'static EngineSpec> = Vec::new();
    #[cfg(feature = "wasmtime")]
    specs.extend(in_process::wasmtime::SPECS);
    #[cfg(feature = "wasmi")]
    specs.extend(in_process::wasmi::SPECS);
    #[cfg(feature = "wasmer")]
    specs.extend(in_process::wasmer::SPECS);
    #[cfg(feature = "v8")]
    specs.extend(remote::v8::SPECS);
    #[cfg(feature = "wabt")]
    specs.push(&remote::wabt::SPEC);
    #[cfg(feature = "wasm3")]
    specs.push(&adapted::wasm3::SPEC);
    #[cfg(feature = "wamr")]
    specs.push(&adapted::wamr::SPEC);
    specs.push(&wasmparser_validator::SPEC);
    specs.extend(selftest::SPECS);
    specs
}

/// Engines this build leaves out, and why: `(engine, reason)`.
pub fn left_out() -> Vec<(&'static str, &'static str)> {
    #[allow(unused_mut, reason = "a build may have every engine")]
    let mut out = Vec::new();
    #[cfg(not(feature = "wasmtime"))]
    out.push((
        "wasmtime",
        "built without the cargo feature `wasmdiff-engines/wasmtime`",
    ));
    #[cfg(not(feature = "wasmi"))]
    out.push((
        "wasmi",
        "built without the cargo feature `wasmdiff-engines/wasmi`",
    ));
    #[cfg(not(feature = "wasmer"))]
    out.push((
        "wasmer",
        "built without the cargo feature `wasmdiff-engines/wasmer`",
    ));
    #[cfg(not(feature = "v8"))]
    out.push((
        "v8",
        "built without the cargo feature `wasmdiff-engines/v8`",
    ));
    #[cfg(not(feature = "wabt"))]
    out.push((
        "wabt",
        "built without the cargo feature `wasmdiff-engines/wabt`",
    ));
    #[cfg(not(feature = "wasm3"))]
    out.push((
        "wasm3",
        "built without the cargo feature `wasmdiff-engines/wasm3` (it needs clang and libclang-dev)",
    ));
    #[cfg(not(feature = "wamr"))]
    out.push((
        "wamr",
        "built without the cargo feature `wasmdiff-engines/wamr` (it needs cmake)",
    ));
    out
}
