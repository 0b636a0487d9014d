//! What every in-process engine shares: the compiled-module cache, running call plans and
//! proxy-wasm scenarios, the store data, and the [`wasmdiff_proxy::Vm`] over an instance. An
//! engine file provides a [`Backend`]: how to compile and how to instantiate.

use std::fmt;

use wasmdiff_gen::proxy::Scenario;
use wasmdiff_gen::{Invocation, Value};
use wasmdiff_proxy::Host;

use crate::Engine;
use crate::limits::{GrowthCap, Limits};
use crate::outcome::{Execution, Instance, Trap, call_with_budget, drive};

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

/// The filter called `proc_exit(code)`.
#[derive(Debug)]
pub struct Exit(pub i32);

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "proc_exit({})", self.0)
    }
}

impl std::error::Error for Exit {}

/// An engine's own part.
pub trait Backend {
    type Module: Clone;
    type Session: Instance;
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

/// An engine from a backend, keeping the last module compiled: a filter is compiled once and
/// instantiated for each scenario.
pub struct Cached<B: Backend> {
    backend: B,
    limits: Limits,
    compiled: Option<(Vec<u8>, B::Module)>,
}

impl<B: Backend> Cached<B> {
    pub fn new(backend: B, limits: &Limits) -> Cached<B> {
        Cached {
            backend,
            limits: *limits,
            compiled: None,
        }
    }

    fn session(&mut self, bytes: &[u8], host: Option<Host>) -> Result<B::Session, Execution> {
        let module = match &self.compiled {
            Some((cached, module)) if cached == bytes => module.clone(),
            _ => {
                let module = self
                    .backend
                    .compile(bytes)
                    .map_err(|message| Execution::Rejected { message })?;
                self.compiled = Some((bytes.to_vec(), module.clone()));
                module
            }
        };
        let data = StoreData {
            cap: GrowthCap::new(self.limits),
            host,
        };
        self.backend.instantiate(&module, data, &self.limits)
    }
}

impl<B: Backend> Engine for Cached<B> {
    fn execute(&mut self, module: &[u8], invocations: &[Invocation]) -> Execution {
        match self.session(module, None) {
            Ok(mut session) => drive(&mut session, invocations, self.limits.fuel),
            Err(ended) => ended,
        }
    }

    fn run_proxy(&mut self, module: &[u8], scenario: &Scenario) -> Execution {
        if let Err(message) = wasmdiff_proxy::resolve_imports(module) {
            return Execution::Rejected { message };
        }
        match self.session(module, Some(Host::new(scenario))) {
            Ok(instance) => {
                let mut vm = ProxyVm {
                    instance,
                    fuel: self.limits.fuel,
                };
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

    fn call(&mut self, name: &str, args: &[Value]) -> Result<Vec<Value>, Trap> {
        call_with_budget(&mut self.instance, name, args, self.fuel)
    }
}
