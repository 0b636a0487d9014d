//! The selected engines, run one after another on each test case. An engine that panics is
//! reported as crashed and rebuilt; the campaign goes on.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;
use std::time::{Duration, Instant};

use wasmdiff_gen::{Features, Plan, TestCase};

use crate::limits::Limits;
use crate::outcome::Execution;
use crate::{Engine, EngineSpec};

struct Member {
    spec: &'static EngineSpec,
    engine: Box<dyn Engine>,
    busy: Duration,
}

pub struct Lineup {
    members: Vec<Member>,
    limits: Limits,
}

impl Lineup {
    pub fn new(specs: &[&'static EngineSpec], limits: Limits) -> anyhow::Result<Lineup> {
        anyhow::ensure!(!specs.is_empty(), "no engines selected");
        let members = specs
            .iter()
            .map(|spec| {
                let engine = (spec.build)(&limits)
                    .map_err(|e| anyhow::anyhow!("cannot start engine {}: {e:#}", spec.name))?;
                Ok(Member {
                    spec,
                    engine,
                    busy: Duration::ZERO,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Lineup { members, limits })
    }

    pub fn specs(&self) -> Vec<&'static EngineSpec> {
        self.members.iter().map(|m| m.spec).collect()
    }

    /// The configurations' names, in lineup order.
    pub fn names(&self) -> Vec<&'static str> {
        self.members.iter().map(|m| m.spec.name).collect()
    }

    /// What every engine in the lineup supports.
    pub fn features(&self) -> Features {
        Features::common(self.members.iter().map(|m| &m.spec.features))
    }

    /// Runs the test case on every engine, in lineup order.
    pub fn execute(&mut self, case: &TestCase) -> Vec<Execution> {
        let limits = self.limits;
        self.members
            .iter_mut()
            .map(|member| {
                let start = Instant::now();
                let execution = match catch_panic(|| match &case.plan {
                    Plan::Calls(calls) => member.engine.execute(&case.module, calls),
                    Plan::Proxy(scenario) => member.engine.run_proxy(&case.module, scenario),
                }) {
                    Ok(execution) => execution,
                    Err(message) => {
                        // The engine may be left in any state: start it afresh.
                        if let Ok(engine) = (member.spec.build)(&limits) {
                            member.engine = engine;
                        }
                        Execution::Crashed { message }
                    }
                };
                member.busy += start.elapsed();
                execution
            })
            .collect()
    }

    /// Time each engine has spent executing, in lineup order.
    pub fn busy_times(&self) -> Vec<Duration> {
        self.members.iter().map(|m| m.busy).collect()
    }
}

thread_local! {
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    static PANIC_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// `crate-x.y.z/src/file.rs` for a file in cargo's registry, without the machine's paths.
fn crate_path(file: &str) -> &str {
    match file.split_once("registry/src/") {
        // `<index dir>/<crate>-<version>/src/...`: the index directory is machine-specific.
        Some((_, rest)) => rest.split_once('/').map_or(rest, |(_, path)| path),
        None => file,
    }
}

/// Runs `f`, turning a panic into its message. While `f` runs, the panic hook records the
/// message quietly instead of printing it (and, with `RUST_BACKTRACE` set, a backtrace);
/// panics elsewhere still reach the previous hook.
pub fn catch_panic<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CATCHING.get() {
                let payload = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-text panic payload".to_string());
                let location = info
                    .location()
                    .map(|l| format!(" at {}:{}:{}", crate_path(l.file()), l.line(), l.column()))
                    .unwrap_or_default();
                PANIC_MESSAGE.set(Some(format!("panic: {payload}{location}")));
            } else {
                previous(info);
            }
        }));
    });
    let was_catching = CATCHING.replace(true);
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CATCHING.set(was_catching);
    result.map_err(|_| PANIC_MESSAGE.take().unwrap_or_else(|| "panic".to_string()))
}
