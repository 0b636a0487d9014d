//! Engines in this process whose embedding calls an export with arguments and reads exported
//! state itself: wasmtime, wasmi, wasmer. What they share lives here: the compiled-module
//! cache, running call plans and proxy-wasm scenarios, the store data, and the
//! [`wasmdiff_proxy::Vm`] over an instance. An engine file provides a [`Backend`] (how to
//! compile and how to instantiate) whose session is an [`Instance`].

#[cfg(feature = "wasmer")]
pub(crate) mod wasmer;
#[cfg(feature = "wasmi")]
pub(crate) mod wasmi;
#[cfg(feature = "wasmtime")]
pub(crate) mod wasmtime;

use wasmdiff_gen::proxy::Scenario;
use wasmdiff_gen::{Invocation, Plan, Value};
use wasmdiff_proxy::Host;

use crate::Engine;
use crate::limits::{GrowthCap, Limits};
use crate::outcome::{Execution, Instance, Trap, call_with_budget, drive, fnv1a};
use crate::progress::{self, Stage};
use crate::sections::start_as_export;

/// What a store holds: the growth policy and, for filters, the proxy-wasm host.
pub struct StoreData {
    pub cap: GrowthCap,
    pub host: Option<Host>,
}

impl StoreData {
    pub fn host(&mut self) -> &mut Host {
        self.host.as_mut().expect("a proxy-wasm store holds a host")
    }
}

/// An engine's own part.
pub trait Backend: Send {
    type Module: Clone + Send;
    type Session: Instance;
    /// Whether host functions called from a filter's start function cannot reach the
    /// instance (its memory is known to the host only once instantiation is over): such
    /// filters get their start function called as an export right after instantiation.
    const START_BEFORE_INSTANCE: bool = false;
    /// Compiles (and validates) a module; the error is the engine's reason for refusing it.
    fn compile(&mut self, bytes: &[u8]) -> Result<Self::Module, String>;
    /// Instantiates a module in a store holding `data`, with the proxy-wasm host functions as
    /// its imports, under `limits`: the session, or the execution that ended it.
    fn instantiate(
        &mut self,
        module: &Self::Module,
        data: StoreData,
        limits: &Limits,
    ) -> Result<Self::Session, Execution>;
}

/// Compiled modules kept per engine: every SDK filter, and then some.
const CACHED_MODULES: usize = 16;
/// Modules remembered (by digest) as seen once.
const SEEN_MODULES: usize = 64;

/// An engine from a backend that keeps compiled modules which come back: a filter is compiled
/// once (well, twice) and instantiated for each scenario, while a stream of one-off modules
/// never pushes it out.
pub struct Cached<B: Backend> {
    backend: B,
    limits: Limits,
    /// Most recently used last.
    compiled: Vec<(Vec<u8>, B::Module)>,
    /// Digests of modules compiled once and not cached, most recent last.
    seen: Vec<u64>,
    /// The module compiled last, outside the cache: a case run under every host runs it
    /// again at once, and a random module that never comes back must not push the SDK
    /// filters out of the cache.
    last: Option<(Vec<u8>, B::Module)>,
}

impl<B: Backend> Cached<B> {
    pub fn new(backend: B, limits: &Limits) -> Cached<B> {
        Cached {
            backend,
            limits: *limits,
            compiled: Vec::new(),
            seen: Vec::new(),
            last: None,
        }
    }

    fn session(&mut self, bytes: &[u8], host: Option<Host>) -> Result<B::Session, Execution> {
        progress::mark(Stage::Compile);
        let module = match self.compiled.iter().position(|(cached, _)| cached == bytes) {
            Some(at) => {
                let entry = self.compiled.remove(at);
                let module = entry.1.clone();
                self.compiled.push(entry);
                module
            }
            None if self.last.as_ref().is_some_and(|(last, _)| last == bytes) => {
                self.last.as_ref().unwrap().1.clone()
            }
            None => {
                let module = self
                    .backend
                    .compile(bytes)
                    .map_err(|message| Execution::Rejected { message })?;
                let digest = fnv1a(bytes);
                if let Some(at) = self.seen.iter().position(|d| *d == digest) {
                    self.seen.remove(at);
                    if self.compiled.len() == CACHED_MODULES {
                        self.compiled.remove(0);
                    }
                    self.compiled.push((bytes.to_vec(), module.clone()));
                } else {
                    if self.seen.len() == SEEN_MODULES {
                        self.seen.remove(0);
                    }
                    self.seen.push(digest);
                }
                self.last = Some((bytes.to_vec(), module.clone()));
                module
            }
        };
        let data = StoreData {
            cap: GrowthCap::new(self.limits),
            host,
        };
        progress::mark(Stage::Instantiate);
        self.backend.instantiate(&module, data, &self.limits)
    }
}

impl<B: Backend> Engine for Cached<B> {
    fn run(&mut self, module: &[u8], plan: &Plan) -> Execution {
        match plan {
            Plan::Calls(invocations) => self.execute(module, invocations),
            Plan::Proxy(scenario) => self.run_proxy(module, scenario),
            Plan::ProxyHosts(_) => Execution::not_split(),
            Plan::Validate => match self.backend.compile(module) {
                Ok(_) => Execution::Accepted,
                Err(message) => Execution::Rejected { message },
            },
        }
    }
}

impl<B: Backend> Cached<B> {
    fn execute(&mut self, module: &[u8], invocations: &[Invocation]) -> Execution {
        match self.session(module, None) {
            Ok(mut session) => drive(&mut session, invocations, self.limits.fuel),
            Err(ended) => ended,
        }
    }

    fn run_proxy(&mut self, module: &[u8], scenario: &Scenario) -> Execution {
        if let Err(message) = wasmdiff_proxy::resolve_imports(module, scenario.host) {
            return Execution::Rejected { message };
        }
        let (module, start) = match B::START_BEFORE_INSTANCE {
            true => start_as_export(module),
            false => (module.to_vec(), None),
        };
        match self.session(&module, Some(Host::new(scenario))) {
            Ok(instance) => {
                let mut vm = ProxyVm {
                    instance,
                    fuel: self.limits.fuel,
                };
                if let Some(start) = start
                    && let Err(trap) = wasmdiff_proxy::Vm::call(&mut vm, &start, &[])
                {
                    return Execution::InstantiationFailed { trap };
                }
                Execution::Traced {
                    trace: wasmdiff_proxy::drive(&mut vm, scenario),
                }
            }
            Err(ended) => ended,
        }
    }
}

/// An instantiated filter for the proxy driver: each callback gets a full fuel budget.
struct ProxyVm<I> {
    instance: I,
    fuel: u64,
}

impl<I: Instance> wasmdiff_proxy::Vm for ProxyVm<I> {
    type Trap = Trap;

    fn host(&mut self) -> &mut Host {
        self.instance.host()
    }

    fn has_export(&mut self, name: &str) -> bool {
        self.instance.has_function(name)
    }

    fn at_event(&mut self, index: usize) {
        progress::mark(Stage::Event(index));
    }

    fn call(&mut self, name: &str, args: &[Value]) -> Result<Vec<Value>, Trap> {
        call_with_budget(&mut self.instance, name, args, self.fuel)
    }
}
