//! Engines: one [`Engine`] abstraction, one file per engine (each behind a cargo feature).
//! Engine-specific quirks (error mapping, configuration, what a proposal means there) live in
//! that engine's file and nowhere else.

#[cfg(any(feature = "v8", feature = "wabt", feature = "wasm3", feature = "wamr"))]
pub mod adapter;
#[cfg(any(feature = "wasmtime", feature = "wasmi", feature = "wasmer"))]
mod backend;
#[cfg(any(feature = "v8", feature = "wabt", feature = "wamr"))]
mod inspect;
pub mod limits;
pub mod lineup;
pub mod outcome;
pub mod process;
pub mod progress;
pub mod sections;
pub mod selftest;
#[cfg(feature = "v8")]
mod v8;
#[cfg(feature = "wabt")]
mod wabt;
#[cfg(feature = "wamr")]
mod wamr;
#[cfg(feature = "wasm3")]
mod wasm3;
#[cfg(feature = "wasmer")]
mod wasmer;
#[cfg(feature = "wasmi")]
mod wasmi;
mod wasmparser_validator;
#[cfg(feature = "wasmtime")]
mod wasmtime;
pub mod worker;

use serde::Serialize;
use wasmdiff_gen::{Features, Plan};

pub use limits::Limits;
pub use lineup::Lineup;
pub use outcome::{
    CallOutcome, CrashKind, Execution, ExportState, ExportValue, HostRun, Trap, TrapKind,
};
pub use progress::Stage;
/// Module rewriting lives with generation, below the engines; their workarounds use it.
pub use wasmdiff_gen::rewrite;

/// A test case as an engine takes it: a module and what to do with it.
#[derive(Clone, Copy, Debug)]
pub struct Job<'a> {
    pub module: &'a [u8],
    pub plan: &'a Plan,
}

/// A Wasm engine in one configuration.
pub trait Engine: Send {
    /// Carries out `plan` with `module` (runs its calls or its proxy-wasm scenario, or only
    /// validates) and reports everything observed. Every outcome, including a rejected
    /// module, is data, not an error.
    fn run(&mut self, module: &[u8], plan: &Plan) -> Execution;

    /// Engines in another process take a batch of jobs here and return at once, so that
    /// they work while the rest of the lineup does, and pay their round trips (or process
    /// starts) per batch. [`Engine::collect`] then answers the jobs one by one, in order.
    /// Engines in this process have nothing to send ahead.
    fn submit(&mut self, _jobs: &[Job<'_>]) {}

    /// The execution of the next submitted job, which is `job` (an engine that submitted
    /// nothing ahead runs it now).
    fn collect(&mut self, job: Job<'_>) -> Execution {
        self.run(job.module, job.plan)
    }
}

/// What kinds of plans an engine can carry out, and how the harness's limits reach it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Abilities {
    /// Runs modules through plans of calls.
    pub modules: bool,
    /// Runs proxy-wasm filters (it can host the proxy-wasm imports), or why it cannot.
    pub proxy: ProxyHosting,
    /// Says whether it accepts a module, with full validation up front.
    pub validation: bool,
    /// Counts fuel, so a runaway call ends out of fuel (else at the deadline).
    pub fuel: bool,
    /// Refuses growth past the harness's memory and table caps through a growth hook,
    /// answering a resource limit (else it keeps to the module's declared maxima only).
    pub growth_caps: bool,
}

impl Abilities {
    pub const ALL: Abilities = Abilities {
        modules: true,
        proxy: ProxyHosting::Hosts,
        validation: true,
        fuel: true,
        growth_caps: true,
    };

    /// Why an engine with these abilities cannot carry out `plan`, if it cannot.
    pub fn refuses(&self, plan: &Plan) -> Option<&'static str> {
        match plan {
            Plan::Calls(_) if !self.modules => Some("it does not run modules"),
            Plan::Proxy(_) | Plan::ProxyHosts(_) => match self.proxy {
                ProxyHosting::Hosts => None,
                ProxyHosting::Unable(why) => Some(why),
            },
            Plan::Validate if !self.validation => Some("it does not validate modules up front"),
            _ => None,
        }
    }
}

/// Whether an engine hosts proxy-wasm filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProxyHosting {
    Hosts,
    /// It sits proxy-wasm out, for this reason.
    Unable(&'static str),
}

/// Where an engine runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    /// In the harness's process, unless every engine is asked to run isolated.
    Optional,
    /// Only in a worker process: an engine known to crash its host, or a self-test.
    Required,
    /// It is another program (node, WABT's tools), in a process of its own anyway.
    External,
}

/// A named engine configuration: what it is, what it supports, how to start it.
pub struct EngineSpec {
    /// The configuration's name, as given to `--engines`.
    pub name: &'static str,
    /// The engine's project name.
    pub engine: &'static str,
    /// The engine's version (for programs found on the machine, as they say it).
    pub version: fn() -> String,
    pub description: &'static str,
    pub features: Features,
    pub abilities: Abilities,
    pub isolation: Isolation,
    /// Part of the lineup when no engines are named (if available).
    pub default: bool,
    /// Bugs of this engine version that campaigns keep meeting: findings they explain are
    /// labelled as such (never dropped).
    pub known_bugs: &'static [KnownBug],
    /// Why the engine cannot run on this machine (a program it needs is missing, say).
    pub available: fn() -> Result<(), String>,
    /// Starts the engine in this process (a worker process calls this too).
    pub build: fn(&Limits) -> anyhow::Result<Box<dyn Engine>>,
}

/// `available` for engines that need nothing outside this program.
pub fn always_available() -> Result<(), String> {
    Ok(())
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

/// Every engine configuration compiled into this build, available or not.
pub fn all() -> Vec<&'static EngineSpec> {
    let mut specs: Vec<&'static EngineSpec> = Vec::new();
    #[cfg(feature = "wasmtime")]
    specs.extend(wasmtime::SPECS);
    #[cfg(feature = "wasmi")]
    specs.extend(wasmi::SPECS);
    #[cfg(feature = "wasmer")]
    specs.extend(wasmer::SPECS);
    #[cfg(feature = "v8")]
    specs.extend(v8::SPECS);
    #[cfg(feature = "wabt")]
    specs.push(&wabt::SPEC);
    #[cfg(feature = "wasm3")]
    specs.push(&wasm3::SPEC);
    #[cfg(feature = "wamr")]
    specs.push(&wamr::SPEC);
    specs.push(&wasmparser_validator::SPEC);
    specs.extend(selftest::SPECS);
    specs
}

/// Engines this build leaves out, and why: `(engine, reason)`.
pub fn left_out() -> Vec<(&'static str, &'static str)> {
    #[allow(unused_mut, reason = "a build may have every engine")]
    let mut out = Vec::new();
    #[cfg(not(feature = "wasmtime"))]
    out.push(("wasmtime", "built without the `wasmtime` cargo feature"));
    #[cfg(not(feature = "wasmi"))]
    out.push(("wasmi", "built without the `wasmi` cargo feature"));
    #[cfg(not(feature = "wasmer"))]
    out.push(("wasmer", "built without the `wasmer` cargo feature"));
    #[cfg(not(feature = "v8"))]
    out.push(("v8", "built without the `v8` cargo feature"));
    #[cfg(not(feature = "wabt"))]
    out.push(("wabt", "built without the `wabt` cargo feature"));
    #[cfg(not(feature = "wasm3"))]
    out.push((
        "wasm3",
        "built without the `wasm3` cargo feature (it needs clang and libclang-dev)",
    ));
    #[cfg(not(feature = "wamr"))]
    out.push((
        "wamr",
        "built without the `wamr` cargo feature (it needs cmake)",
    ));
    out
}

/// The available configurations used when none are named, for plans like `plan`.
pub fn defaults_for(plan: &Plan) -> Vec<&'static EngineSpec> {
    all()
        .into_iter()
        .filter(|s| s.default && s.abilities.refuses(plan).is_none() && (s.available)().is_ok())
        .collect()
}

/// The available configurations used for modules when none are named.
pub fn defaults() -> Vec<&'static EngineSpec> {
    defaults_for(&Plan::Calls(Vec::new()))
}

/// Default engines for plans like `plan` that this build or machine lacks, each with why:
/// engines not built (by project) and configurations unavailable here.
pub fn missing_defaults(plan: &Plan) -> Vec<(String, String)> {
    let mut missing: Vec<(String, String)> = left_out()
        .into_iter()
        .map(|(engine, why)| (engine.to_string(), why.to_string()))
        .collect();
    for spec in all() {
        if spec.default
            && spec.abilities.refuses(plan).is_none()
            && let Err(why) = (spec.available)()
        {
            missing.push((spec.name.to_string(), why));
        }
    }
    missing
}

/// [`missing_defaults`] in one line (`engine (why); …`), or `None` when none is missing.
pub fn missing_defaults_in_words(plan: &Plan) -> Option<String> {
    let missing: Vec<String> = missing_defaults(plan)
        .into_iter()
        .map(|(engine, why)| format!("{engine} ({why})"))
        .collect();
    (!missing.is_empty()).then(|| missing.join("; "))
}

/// The default configurations for plans like `plan`, for tests that claim to run on every
/// engine. Default engines that are not built, or not available on this machine, are named
/// on stderr; with `CI=true` (CI installs them all) they are an error instead, so that such
/// a test cannot pass on fewer engines than it says.
pub fn every_default_engine(plan: &Plan) -> Vec<&'static EngineSpec> {
    if let Some(missing) = missing_defaults_in_words(plan) {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true, but default engines are missing: {missing}");
        }
        eprintln!("note: left out of this test: {missing}");
    }
    defaults_for(plan)
}

/// Parses a comma-separated list of configuration names (`default` and `all` also work:
/// the available default engines, and every available engine, for plans like `plan`).
pub fn parse_list_for(list: &str, plan: &Plan) -> anyhow::Result<Vec<&'static EngineSpec>> {
    let mut specs = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match name {
            "default" => specs.extend(defaults_for(plan)),
            "all" => specs.extend(all().into_iter().filter(|s| {
                !selftest::SPECS.iter().any(|t| t.name == s.name)
                    && s.abilities.refuses(plan).is_none()
                    && (s.available)().is_ok()
            })),
            _ => {
                let spec = all().into_iter().find(|s| s.name == name).ok_or_else(|| {
                    let known: Vec<&str> = all().iter().map(|s| s.name).collect();
                    let left_out = left_out()
                        .iter()
                        .find(|(engine, _)| name.starts_with(engine))
                        .map(|(_, why)| format!("; {name} is {why}"))
                        .unwrap_or_default();
                    anyhow::anyhow!(
                        "unknown engine `{name}` (known: {}){left_out}",
                        known.join(", ")
                    )
                })?;
                if let Err(why) = (spec.available)() {
                    anyhow::bail!("engine `{name}` is unavailable here: {why}");
                }
                if let Some(why) = spec.abilities.refuses(plan) {
                    anyhow::bail!("engine `{name}` cannot take part: {why}");
                }
                specs.push(spec);
            }
        }
    }
    anyhow::ensure!(!specs.is_empty(), "no engines named in `{list}`");
    let mut seen = std::collections::HashSet::new();
    specs.retain(|s| seen.insert(s.name));
    Ok(specs)
}

/// [`parse_list_for`] modules.
pub fn parse_list(list: &str) -> anyhow::Result<Vec<&'static EngineSpec>> {
    parse_list_for(list, &Plan::Calls(Vec::new()))
}
