//! Engines: one [`Engine`] abstraction, one file per engine (each behind a cargo feature).
//! Engine-specific quirks (error mapping, configuration, what a proposal means there) live in
//! that engine's file and nowhere else.

#[cfg(any(feature = "wasmtime", feature = "wasmi"))]
mod backend;
pub mod limits;
pub mod lineup;
pub mod outcome;
#[cfg(feature = "wasmi")]
pub mod planted;
pub mod rewrite;
#[cfg(feature = "wasmi")]
mod wasmi;
#[cfg(feature = "wasmtime")]
mod wasmtime;

use wasmdiff_gen::proxy::Scenario;
use wasmdiff_gen::{Features, Invocation};

pub use limits::Limits;
pub use lineup::Lineup;
pub use outcome::{CallOutcome, Execution, ExportState, ExportValue, Trap, TrapKind};

/// A Wasm engine in one configuration.
pub trait Engine {
    /// Compiles `module`, instantiates it, runs the invocations in order and reads the exported
    /// state. Every outcome, including a rejected module, is data, not an error.
    fn execute(&mut self, module: &[u8], invocations: &[Invocation]) -> Execution;

    /// Instantiates a proxy-wasm filter with a fresh host for `scenario` and drives it
    /// through the scenario, recording its trace.
    fn run_proxy(&mut self, module: &[u8], scenario: &Scenario) -> Execution;
}

/// A named engine configuration: what it is, what it supports, how to start it.
pub struct EngineSpec {
    /// The configuration's name, as given to `--engines`.
    pub name: &'static str,
    /// The engine's project name.
    pub engine: &'static str,
    pub version: &'static str,
    pub description: &'static str,
    pub features: Features,
    /// Part of the lineup when no engines are named.
    pub default: bool,
    /// Bugs of this engine version that campaigns keep meeting: findings they explain are
    /// labelled as such (never dropped).
    pub known_bugs: &'static [KnownBug],
    pub build: fn(&Limits) -> anyhow::Result<Box<dyn Engine>>,
}

/// A known engine bug and how to take its trigger out of a module without changing the
/// module's meaning: a divergence that vanishes under the workaround is explained by the bug.
pub struct KnownBug {
    pub id: &'static str,
    pub description: &'static str,
    pub workaround: fn(&[u8]) -> Option<Vec<u8>>,
}

impl std::fmt::Debug for EngineSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// Every engine configuration compiled into this build.
pub fn all() -> Vec<&'static EngineSpec> {
    #[allow(unused_mut, reason = "a build may have no engine features")]
    let mut specs: Vec<&'static EngineSpec> = Vec::new();
    #[cfg(feature = "wasmtime")]
    specs.extend(wasmtime::SPECS);
    #[cfg(feature = "wasmi")]
    {
        specs.extend(wasmi::SPECS);
        specs.push(&planted::SPEC);
    }
    specs
}

/// The configurations used when none are named.
pub fn defaults() -> Vec<&'static EngineSpec> {
    all().into_iter().filter(|s| s.default).collect()
}

/// Parses a comma-separated list of configuration names (`all` and `default` also work).
pub fn parse_list(list: &str) -> anyhow::Result<Vec<&'static EngineSpec>> {
    let mut specs = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match name {
            "default" => specs.extend(defaults()),
            "all" => specs.extend(all()),
            _ => specs.push(all().into_iter().find(|s| s.name == name).ok_or_else(|| {
                let known: Vec<&str> = all().iter().map(|s| s.name).collect();
                anyhow::anyhow!("unknown engine `{name}` (known: {})", known.join(", "))
            })?),
        }
    }
    anyhow::ensure!(!specs.is_empty(), "no engines named in `{list}`");
    let mut seen = std::collections::HashSet::new();
    specs.retain(|s| seen.insert(s.name));
    Ok(specs)
}
