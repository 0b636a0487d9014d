//! The engine contract, in one place: what an engine is ([`EngineSpec`]), what it can do
//! ([`Abilities`], where it runs among them), the bugs campaigns keep meeting in it
//! ([`KnownBug`]), and how the lineup hands it work ([`Engine`]). Each engine file fills in
//! its specs; `lib.rs` only registers them.
//!
//! There are three kinds of engine, one folder each:
//! - `in_process/`: embeddings that call an export with arguments and read memories directly
//!   (wasmtime, wasmi, wasmer), written over [`crate::in_process::Backend`];
//! - `adapted/`: embeddings that can only call an export without arguments and read back
//!   integers (wasm3, WAMR), run through [`crate::adapted::Adapted`] modules;
//! - `remote/`: engines in another process (a worker process for any engine, node for V8,
//!   WABT's tools), which take a batch of jobs at once through [`crate::remote::Remote`].

use serde::Serialize;
use wasmdiff_gen::{Features, Plan};

use crate::limits::Limits;
use crate::outcome::Execution;

/// A test case as an engine takes it: a module and what to do with it.
#[derive(Clone, Copy, Debug)]
pub struct Job<'a> {
    pub module: &'a [u8],
    pub plan: &'a Plan,
}

/// A job submitted to an engine, to be collected once, in the order of submission: the
/// receipt that pairs [`Engine::submit`] with [`Engine::collect`].
#[must_use = "a submitted job is answered only when its ticket is collected"]
#[derive(Debug, PartialEq, Eq)]
pub struct Ticket {
    /// Which submission it came from (a ticket of an earlier one is stale).
    pub(crate) batch: u64,
    /// Its place in that submission.
    pub(crate) index: usize,
}

impl Ticket {
    /// Tickets for a submission of `count` jobs.
    pub(crate) fn issue(batch: u64, count: usize) -> Vec<Ticket> {
        (0..count).map(|index| Ticket { batch, index }).collect()
    }
}

/// A Wasm engine in one configuration.
pub trait Engine: Send {
    /// Carries out `plan` with `module` (runs its calls or its proxy-wasm scenario, or only
    /// validates) and reports everything observed. Every outcome, including a rejected
    /// module, is data, not an error.
    fn run(&mut self, module: &[u8], plan: &Plan) -> Execution;

    /// Takes a batch of jobs and returns at once, one ticket per job. Engines in another
    /// process ([`crate::remote::Batched`]) start working on them, so that they work while
    /// the rest of the lineup does and pay their round trips (or process starts) per batch;
    /// an engine in this process keeps nothing and runs each job when it is collected.
    fn submit(&mut self, jobs: &[Job<'_>]) -> Vec<Ticket> {
        Ticket::issue(0, jobs.len())
    }

    /// The execution of the job `ticket` was issued for, which is `job`. Tickets are
    /// collected in the order they were issued.
    fn collect(&mut self, ticket: Ticket, job: Job<'_>) -> Execution {
        let _ = ticket;
        self.run(job.module, job.plan)
    }
}

/// What kinds of plans an engine can carry out, how the harness's limits reach it, and where
/// it runs.
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
    /// Where it runs.
    pub runs: Isolation,
}

impl Abilities {
    /// An engine that can do everything, in this process unless isolation is asked for.
    pub const ALL: Abilities = Abilities {
        modules: true,
        proxy: ProxyHosting::Hosts,
        validation: true,
        fuel: true,
        growth_caps: true,
        runs: Isolation::Optional,
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

impl std::fmt::Debug for EngineSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
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
