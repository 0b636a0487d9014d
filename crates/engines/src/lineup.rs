//! The selected engines, run on each test case. Engines in other processes get the jobs first,
//! in batches, and work while those in this process run, two at a time. An engine is only
//! asked what it can answer: a module that needs features an engine lacks is skipped there
//! (said so, and counted). An engine that panics is reported as crashed and rebuilt; the
//! campaign goes on.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once, mpsc};
use std::time::{Duration, Instant};

use wasmdiff_gen::{FeatureMenu, Features, TestCase};

use crate::limits::Limits;
use crate::outcome::{Execution, HostRun};
use crate::progress::{self, Stage};
use crate::remote::Batched;
use crate::remote::worker::Worker;
use crate::{Engine, EngineSpec, Isolation, Job, Ticket};
use wasmdiff_gen::Plan;
use wasmdiff_gen::proxy::HostProfile;

struct Member {
    spec: &'static EngineSpec,
    engine: Box<dyn Engine>,
    /// Whether a worker process hosts the engine (else it is rebuilt here after a panic).
    isolated: bool,
    busy: Duration,
}

impl Member {
    /// Whether the engine works in another process (a worker, or a program of its own), so
    /// that it takes its jobs in batches.
    fn remote(&self) -> bool {
        self.isolated || self.spec.abilities.runs == Isolation::External
    }

    /// Runs `job` on an engine of this process.
    fn run(&mut self, job: Job, limits: &Limits) -> Execution {
        self.timed(limits, |engine| engine.run(job.module, job.plan))
    }

    /// The execution of `job`, submitted to an engine in another process with `ticket`.
    fn collect(&mut self, ticket: Ticket, job: Job, limits: &Limits) -> Execution {
        self.timed(limits, |engine| engine.collect(ticket, job))
    }

    /// `work` on the engine, its time counted as busy, a panic reported as a crash.
    fn timed(
        &mut self,
        limits: &Limits,
        work: impl FnOnce(&mut dyn Engine) -> Execution,
    ) -> Execution {
        let start = Instant::now();
        progress::mark(Stage::Compile);
        let execution = match catch_panic(|| work(self.engine.as_mut())) {
            Ok(execution) => execution,
            Err(message) => {
                // The engine may be left in any state: start it afresh.
                if !self.isolated
                    && let Ok(engine) = (self.spec.build)(limits)
                {
                    self.engine = engine;
                }
                Execution::panicked(message)
            }
        };
        self.busy += start.elapsed();
        execution
    }
}

/// An engine of this process, as the threads that run a job share it.
struct Here<'a> {
    /// Its place in the lineup.
    index: usize,
    member: &'a mut Member,
    execution: Option<Execution>,
}

/// A batch engines in other processes have started on ([`Lineup::submit_batch`]).
#[must_use = "a submitted batch is answered only by Lineup::finish_batch"]
pub struct Submitted {
    /// How many cases it holds.
    cases: usize,
    /// Its jobs: each one's case, and its plan where that is not the case's own (a plan per
    /// host).
    plans: Vec<(usize, Option<Plan>)>,
    /// Each job's execution by each engine, so far: those who sit it out, or could not take it.
    executions: Vec<Vec<Option<Execution>>>,
    /// Each engine's ticket for each job it took.
    tickets: Vec<Vec<Option<Ticket>>>,
}

/// The jobs of a batch's cases.
fn jobs<'a>(cases: &'a [TestCase], plans: &'a [(usize, Option<Plan>)]) -> Vec<Job<'a>> {
    plans
        .iter()
        .map(|(i, plan)| Job {
            module: &cases[*i].module,
            plan: plan.as_ref().unwrap_or(&cases[*i].plan),
        })
        .collect()
}

pub struct Lineup {
    members: Vec<Member>,
    limits: Limits,
    /// The last module found valid with the features every engine shares: a filter runs
    /// through scenario after scenario, and validating it each time would cost more than
    /// running it.
    valid_for_all: Vec<u8>,
    /// Jobs the engines in this process have run.
    here_jobs: u32,
}

/// Below this much time per job for the engines in this process together, a helper thread
/// costs more (waking it, and waiting for it) than it saves.
const WORTH_A_HELPER: Duration = Duration::from_micros(500);

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
                let isolated = match spec.abilities.runs {
                    Isolation::Required => true,
                    Isolation::Optional => limits.isolate_all,
                    Isolation::External => false,
                };
                let engine: Box<dyn Engine> = if isolated {
                    Box::new(Batched::new(Worker::new(spec, &limits)?))
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
            here_jobs: 0,
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

    /// Carries out the test case's plan on every engine it applies to; the others are
    /// [`Execution::Skipped`]. A plan for every host runs as one proxy-wasm plan per host,
    /// each engine's runs gathered in an [`Execution::Hosted`].
    pub fn execute(&mut self, case: &TestCase) -> Vec<Execution> {
        let mut executions = self.execute_batch(std::slice::from_ref(case), |_| {});
        executions.pop().expect("one case, one list of executions")
    }

    /// [`Lineup::execute`] for several test cases at once, each engine's executions in case
    /// order: engines in other processes get the whole batch first and work through it while
    /// the engines in this process run case after case, each case on both of two threads.
    /// `holding(i)` is called before the engines in this process start case `i` (so that the
    /// caller can keep its input where a crash of this process cannot lose it).
    pub fn execute_batch(
        &mut self,
        cases: &[TestCase],
        holding: impl FnMut(usize),
    ) -> Vec<Vec<Execution>> {
        let submitted = self.submit_batch(cases);
        self.finish_batch(cases, submitted, holding)
    }

    /// The first half of [`Lineup::execute_batch`]: engines in other processes take the batch
    /// and start on it, so that the caller can work meanwhile (generate the next batch, say);
    /// nothing runs in this process. Every other run waits until [`Lineup::finish_batch`] of
    /// the same cases.
    pub fn submit_batch(&mut self, cases: &[TestCase]) -> Submitted {
        // One job per case, or per case and host.
        let plans: Vec<(usize, Option<Plan>)> = cases
            .iter()
            .enumerate()
            .flat_map(|(i, case)| match &case.plan {
                Plan::ProxyHosts(scenario) => HostProfile::ALL
                    .iter()
                    .map(|host| (i, Some(Plan::Proxy(scenario.under(*host)))))
                    .collect(),
                _ => vec![(i, None)],
            })
            .collect();
        let jobs = jobs(cases, &plans);
        let skips: Vec<Vec<Option<String>>> = jobs
            .iter()
            .map(|job| self.skips(job.module, job.plan))
            .collect();
        let mut executions: Vec<Vec<Option<Execution>>> = skips
            .iter()
            .map(|skips| {
                (skips.iter())
                    .map(|skip| skip.clone().map(|reason| Execution::Skipped { reason }))
                    .collect()
            })
            .collect();
        // Engines in other processes get every job they take at once, a ticket back for each.
        let mut tickets: Vec<Vec<Option<Ticket>>> = Vec::with_capacity(self.members.len());
        for (m, member) in self.members.iter_mut().enumerate() {
            let mut held: Vec<Option<Ticket>> = (0..jobs.len()).map(|_| None).collect();
            let taken: Vec<usize> = match member.remote() {
                true => (0..jobs.len()).filter(|&j| skips[j][m].is_none()).collect(),
                false => Vec::new(),
            };
            if !taken.is_empty() {
                let start = Instant::now();
                let batch: Vec<Job> = taken.iter().map(|&j| jobs[j]).collect();
                match catch_panic(|| member.engine.submit(&batch)) {
                    Ok(issued) => {
                        for (&j, ticket) in taken.iter().zip(issued) {
                            held[j] = Some(ticket);
                        }
                    }
                    Err(message) => {
                        for &j in &taken {
                            executions[j][m] = Some(Execution::panicked(message.clone()));
                        }
                    }
                }
                member.busy += start.elapsed();
            }
            tickets.push(held);
        }
        Submitted {
            cases: cases.len(),
            plans,
            executions,
            tickets,
        }
    }

    /// The second half of [`Lineup::execute_batch`], on the cases given to
    /// [`Lineup::submit_batch`]: the engines in this process run them, and the others'
    /// executions are collected.
    pub fn finish_batch(
        &mut self,
        cases: &[TestCase],
        submitted: Submitted,
        mut holding: impl FnMut(usize),
    ) -> Vec<Vec<Execution>> {
        let Submitted {
            cases: count,
            plans,
            mut executions,
            tickets,
        } = submitted;
        assert_eq!(
            count,
            cases.len(),
            "a batch is finished with the cases submitted"
        );
        let jobs = jobs(cases, &plans);
        let mut held = None;
        self.run_here(&jobs, &mut executions, |j| {
            let case = plans[j].0;
            if held != Some(case) {
                held = Some(case);
                holding(case);
            }
        });
        let limits = self.limits;
        for ((member, tickets), m) in self.members.iter_mut().zip(tickets).zip(0..) {
            for ((job, executions), ticket) in jobs.iter().zip(&mut executions).zip(tickets) {
                if let Some(ticket) = ticket {
                    executions[m] = Some(member.collect(ticket, *job, &limits));
                }
            }
        }
        let mut executions = plans
            .iter()
            .zip(executions)
            .map(|((case, _), executions)| {
                let executions = executions.into_iter().map(|e| e.expect("every engine ran"));
                (*case, executions.collect::<Vec<_>>())
            })
            .peekable();
        let mut by_case = Vec::with_capacity(cases.len());
        for (i, case) in cases.iter().enumerate() {
            if !matches!(case.plan, Plan::ProxyHosts(_)) {
                by_case.push(executions.next().expect("a job per case").1);
                continue;
            }
            // Each engine's runs, one per host.
            let mut runs: Vec<Vec<HostRun>> = vec![Vec::new(); self.members.len()];
            for host in HostProfile::ALL {
                let (_, under_host) = executions
                    .next_if(|(c, _)| *c == i)
                    .expect("a job per host");
                for (runs, execution) in runs.iter_mut().zip(under_host) {
                    runs.push(HostRun { host, execution });
                }
            }
            by_case.push(
                runs.into_iter()
                    .map(|runs| Execution::Hosted { runs })
                    .collect(),
            );
        }
        by_case
    }

    /// Runs each job on the engines in this process that do not sit it out (their entry in
    /// `executions` is still empty), on this thread and a helper: each takes the next
    /// engine, longest-running first, until the job is done everywhere. `starting(j)` is
    /// called before job `j` starts.
    fn run_here(
        &mut self,
        jobs: &[Job],
        executions: &mut [Vec<Option<Execution>>],
        mut starting: impl FnMut(usize),
    ) {
        let limits = self.limits;
        let here_busy: Duration = (self.members.iter())
            .filter(|member| !member.remote())
            .map(|member| member.busy)
            .sum();
        let helped = self.here_jobs < 16 || here_busy / self.here_jobs >= WORTH_A_HELPER;
        self.here_jobs = self.here_jobs.saturating_add(jobs.len() as u32);
        let mut here: Vec<(usize, &mut Member)> = self
            .members
            .iter_mut()
            .enumerate()
            .filter(|(_, member)| !member.remote())
            .collect();
        here.sort_by_key(|(_, member)| std::cmp::Reverse(member.busy));
        let cells: Vec<Mutex<Here>> = here
            .into_iter()
            .map(|(index, member)| {
                Mutex::new(Here {
                    index,
                    member,
                    execution: None,
                })
            })
            .collect();
        let next = AtomicUsize::new(0);
        // Takes the next engine for job `j` until there is none left.
        let work = |j: usize| {
            while let Some(cell) = cells.get(next.fetch_add(1, Ordering::Relaxed)) {
                let here = &mut *cell.lock().unwrap();
                if here.execution.is_none() {
                    here.execution = Some(here.member.run(jobs[j], &limits));
                }
            }
        };
        let work = &work;
        std::thread::scope(|scope| {
            let (to_helper, helper_jobs) = mpsc::channel::<usize>();
            let (helper_done, done) = mpsc::channel::<()>();
            let helper = (helped && cells.len() > 1)
                .then(|| {
                    std::thread::Builder::new()
                        .name("wasmdiff-engines".into())
                        .stack_size(limits.thread_stack_bytes())
                        .spawn_scoped(scope, move || {
                            for j in helper_jobs {
                                work(j);
                                if helper_done.send(()).is_err() {
                                    break;
                                }
                            }
                        })
                        .ok()
                })
                .flatten();
            for (j, executions) in executions.iter_mut().enumerate() {
                // An engine that sits the job out starts with its execution (skipped).
                let mut runs_here = false;
                for cell in &cells {
                    let here = &mut *cell.lock().unwrap();
                    here.execution = executions[here.index].take();
                    runs_here |= here.execution.is_none();
                }
                if runs_here {
                    starting(j);
                    next.store(0, Ordering::Relaxed);
                    let helped = helper.is_some() && to_helper.send(j).is_ok();
                    work(j);
                    if helped {
                        done.recv().ok();
                    }
                }
                for cell in &cells {
                    let here = &mut *cell.lock().unwrap();
                    executions[here.index] = here.execution.take();
                }
            }
            drop(to_helper);
        });
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
