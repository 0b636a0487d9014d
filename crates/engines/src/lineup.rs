//! The selected engines, run on each test case. Engines in other processes get the job first
//! and work while those in this process run one after another. An engine is only asked what it
//! can answer: a module that needs features an engine lacks is skipped there (said so, and
//! counted). An engine that panics is reported as crashed and rebuilt; the campaign goes on.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;
use std::time::{Duration, Instant};

use wasmdiff_gen::{FeatureMenu, Features, TestCase};

use crate::limits::Limits;
use crate::outcome::{Execution, HostRun};
use crate::progress::{self, Stage};
use crate::worker::Worker;
use crate::{Engine, EngineSpec, Isolation};
use wasmdiff_gen::Plan;
use wasmdiff_gen::proxy::HostProfile;

struct Member {
    spec: &'static EngineSpec,
    engine: Box<dyn Engine>,
    /// Whether a worker process hosts the engine (else it is rebuilt here after a panic).
    isolated: bool,
    busy: Duration,
}

pub struct Lineup {
    members: Vec<Member>,
    limits: Limits,
    /// The last module found valid with the features every engine shares: a filter runs
    /// through scenario after scenario, and validating it each time would cost more than
    /// running it.
    valid_for_all: Vec<u8>,
}

impl Lineup {
    /// Starts every engine: in this process, or in a worker where the engine needs one or
    /// `limits.isolate_all` asks for it.
    pub fn new(specs: &[&'static EngineSpec], limits: Limits) -> anyhow::Result<Lineup> {
        anyhow::ensure!(!specs.is_empty(), "no engines selected");
        let members = specs
            .iter()
            .map(|spec| {
                (spec.available)().map_err(|why| {
                    anyhow::anyhow!("engine {} is unavailable here: {why}", spec.name)
                })?;
                let isolated = match spec.isolation {
                    Isolation::Required => true,
                    Isolation::Optional => limits.isolate_all,
                    Isolation::External => false,
                };
                let engine: Box<dyn Engine> = if isolated {
                    Box::new(Worker::new(spec, &limits)?)
                } else {
                    (spec.build)(&limits)?
                };
                Ok(Member {
                    spec,
                    engine,
                    isolated,
                    busy: Duration::ZERO,
                })
            })
            .collect::<anyhow::Result<_>>()
            .map_err(|e: anyhow::Error| anyhow::anyhow!("cannot start the engines: {e:#}"))?;
        Ok(Lineup {
            members,
            limits,
            valid_for_all: Vec::new(),
        })
    }

    pub fn specs(&self) -> Vec<&'static EngineSpec> {
        self.members.iter().map(|m| m.spec).collect()
    }

    /// The configurations' names, in lineup order.
    pub fn names(&self) -> Vec<&'static str> {
        self.members.iter().map(|m| m.spec.name).collect()
    }

    /// What the lineup's modules may use: what every engine supports, or what a pair does.
    pub fn menu(&self) -> FeatureMenu {
        let features: Vec<Features> = self.members.iter().map(|m| m.spec.features).collect();
        FeatureMenu::new(&features)
    }

    /// Carries out the test case's plan on every engine it applies to, in lineup order
    /// (engines in other processes started first); the others are [`Execution::Skipped`].
    /// A plan for every host runs as one proxy-wasm plan per host, each engine's runs
    /// gathered in an [`Execution::Hosted`].
    pub fn execute(&mut self, case: &TestCase) -> Vec<Execution> {
        let Plan::ProxyHosts(scenario) = &case.plan else {
            return self.execute_plan(&case.module, &case.plan);
        };
        // Each engine's runs, one per host.
        let mut runs: Vec<Vec<HostRun>> = vec![Vec::new(); self.members.len()];
        for host in HostProfile::ALL {
            let plan = Plan::Proxy(scenario.under(host));
            for (engine_runs, execution) in
                runs.iter_mut().zip(self.execute_plan(&case.module, &plan))
            {
                engine_runs.push(HostRun { host, execution });
            }
        }
        runs.into_iter()
            .map(|runs| Execution::Hosted { runs })
            .collect()
    }

    fn execute_plan(&mut self, module: &[u8], plan: &Plan) -> Vec<Execution> {
        let skips = self.skips(module, plan);
        for (member, skip) in self.members.iter_mut().zip(&skips) {
            if skip.is_none() {
                let start = Instant::now();
                // A panic here shows again, and is caught, when the plan is collected.
                catch_panic(|| member.engine.start(module, plan)).ok();
                member.busy += start.elapsed();
            }
        }
        let limits = self.limits;
        self.members
            .iter_mut()
            .zip(skips)
            .map(|(member, skip)| {
                if let Some(reason) = skip {
                    return Execution::Skipped { reason };
                }
                let start = Instant::now();
                progress::mark(Stage::Compile);
                let execution = match catch_panic(|| member.engine.run(module, plan)) {
                    Ok(execution) => execution,
                    Err(message) => {
                        // The engine may be left in any state: start it afresh.
                        if !member.isolated
                            && let Ok(engine) = (member.spec.build)(&limits)
                        {
                            member.engine = engine;
                        }
                        Execution::panicked(message)
                    }
                };
                member.busy += start.elapsed();
                execution
            })
            .collect()
    }

    /// Why each engine sits `plan` out, if it does. An engine takes a module whose validity
    /// its own features agree on with the lineup's: valid if the features of any engine that
    /// can carry out the plan make it valid (those engines must accept it), else invalid (then
    /// all must reject it). So a SIMD module is compared among the engines with SIMD, and a
    /// broken one among all.
    fn skips(&mut self, module: &[u8], plan: &Plan) -> Vec<Option<String>> {
        let refusals: Vec<Option<String>> = self
            .members
            .iter()
            .map(|m| m.spec.abilities.refuses(plan).map(str::to_string))
            .collect();
        // Valid with what all engines share, a module is valid with each engine's features.
        let everyone = Features::common(self.members.iter().map(|m| &m.spec.features));
        if !module.is_empty() && self.valid_for_all == module {
            return refusals;
        }
        if everyone.validate(module).is_ok() {
            self.valid_for_all = module.to_vec();
            return refusals;
        }
        let mut validity: Vec<(Features, Result<(), String>)> = Vec::new();
        let own: Vec<Option<Result<(), String>>> = self
            .members
            .iter()
            .zip(&refusals)
            .map(|(member, refusal)| {
                refusal.is_none().then(|| {
                    let features = member.spec.features;
                    match validity.iter().find(|(f, _)| *f == features) {
                        Some((_, known)) => known.clone(),
                        None => {
                            let result = features.validate(module);
                            validity.push((features, result.clone()));
                            result
                        }
                    }
                })
            })
            .collect();
        let valid = own.iter().flatten().any(Result::is_ok);
        own.into_iter()
            .zip(refusals)
            .zip(&self.members)
            .map(|((own, refusal), member)| match (own, refusal) {
                (_, Some(refusal)) => Some(refusal),
                (Some(Err(e)), None) if valid => {
                    Some(format!("the module needs features it lacks ({e})"))
                }
                // Refusing a module takes validating it; an engine that compiles lazily
                // cannot say.
                (Some(Err(_)), None) if !member.spec.abilities.validation => {
                    Some("the module is invalid, and it does not validate modules up front".into())
                }
                _ => None,
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
