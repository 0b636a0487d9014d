//! A campaign: seeded inputs through the differential pipeline on worker threads, findings
//! written as they are found, statistics for a live progress line and a summary.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use wasmdiff_cases::{Case, Existing, Origin, Report, finding_name, write_case};
use wasmdiff_engines::lineup::catch_panic;
use wasmdiff_engines::{CallOutcome, CrashKind, EngineSpec, Execution, Limits, TrapKind};
use wasmdiff_gen::Generator;
use wasmdiff_oracle::Verdict;
use wasmdiff_proxy::{Event, Outcome};

use crate::artifact::{case_of, presumed_crash};
use crate::differential::{Checked, Differential, Target};
use crate::inputs;
use crate::shrink::{ShrinkBudget, shrink_stored};

/// Default longest input: wasm-smith then makes modules of about 1 KB on average.
pub const DEFAULT_MAX_INPUT_LEN: usize = 2048;

#[derive(Clone, Debug)]
pub struct CampaignConfig {
    pub engines: Vec<&'static EngineSpec>,
    pub limits: Limits,
    pub seed: u64,
    /// Stop after this many inputs.
    pub iterations: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Findings go to `out/<finding>/`.
    pub out: PathBuf,
    pub jobs: usize,
    pub max_input_len: usize,
    /// Shrink new findings in the background with this budget (`None`: do not). A campaign
    /// bounded by its iterations waits for the queue; one bounded by its duration stops
    /// shrinking with it (the finding being shrunk keeps the smallest case found so far, the
    /// rest stay in `Stats::shrink_queue`).
    pub shrink: Option<ShrinkBudget>,
    pub target: Target,
}

/// New findings with the same coarse signature shrunk per campaign: more would be one bug
/// shrunk again and again.
const SHRINKS_PER_SIGNATURE: usize = 3;

/// Per-engine counts over a campaign.
#[derive(Clone, Debug, Default, Serialize)]
pub struct EngineStats {
    pub name: String,
    pub rejected: u64,
    /// Modules accepted when only asked to validate.
    pub accepted: u64,
    /// Test cases the engine sat out (the module needs features it lacks).
    pub skipped: u64,
    pub instantiation_failed: u64,
    pub calls_returned: u64,
    pub calls_trapped: u64,
    pub inconclusive: u64,
    /// Panics, and worker processes that died.
    pub crashed: u64,
    /// Worker processes that missed the deadline.
    pub hung: u64,
    /// Worker processes over their memory cap.
    pub out_of_memory: u64,
    /// Time spent executing on this engine.
    #[serde(serialize_with = "seconds")]
    pub busy: Duration,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// A finding directory and the one-line description of its divergence.
#[derive(Clone, Debug, Serialize)]
pub struct Found {
    pub dir: PathBuf,
    pub summary: String,
    pub signature: String,
    /// The known bugs that explain it, joined by `+`.
    pub known_bug: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub inputs: u64,
    /// Inputs the generator could not turn into a test case (or panicked on).
    pub unusable: u64,
    pub agreed: u64,
    pub divergent: u64,
    pub inconclusive: u64,
    pub inconclusive_reasons: BTreeMap<TrapKind, u64>,
    pub generators: BTreeMap<Generator, u64>,
    pub engines: Vec<EngineStats>,
    /// Findings written, in the order found.
    pub findings: Vec<Found>,
    /// Shrunk cases written, in the order shrunk.
    pub shrunk: Vec<Found>,
    /// Findings waiting for the shrinker.
    pub shrink_queue: usize,
    /// Findings queued for the shrinker when shrinking was stopped.
    pub not_shrunk: Vec<PathBuf>,
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
}

impl Stats {
    fn new(engines: &[&EngineSpec]) -> Stats {
        Stats {
            engines: engines
                .iter()
                .map(|s| EngineStats {
                    name: s.name.to_string(),
                    ..EngineStats::default()
                })
                .collect(),
            ..Stats::default()
        }
    }

    /// Agreeing plus diverging inputs: those the oracle could decide.
    pub fn conclusive(&self) -> u64 {
        self.agreed + self.divergent
    }

    pub fn execs_per_second(&self) -> f64 {
        self.inputs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Findings no known bug explains.
    pub fn new_findings(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.known_bug.is_none())
            .count()
    }

    fn record(&mut self, checked: &Checked) {
        self.inputs += 1;
        *self.generators.entry(checked.case.generator).or_default() += 1;
        match &checked.verdict {
            Verdict::Agree => self.agreed += 1,
            Verdict::Diverge(_) => self.divergent += 1,
            Verdict::Inconclusive { reason, .. } => {
                self.inconclusive += 1;
                *self.inconclusive_reasons.entry(*reason).or_default() += 1;
            }
        }
        for (stats, execution) in self.engines.iter_mut().zip(&checked.executions) {
            match execution {
                Execution::Rejected { .. } => stats.rejected += 1,
                Execution::Accepted => stats.accepted += 1,
                Execution::Skipped { .. } => stats.skipped += 1,
                Execution::InstantiationFailed { trap } if trap.kind.is_inconclusive() => {
                    stats.inconclusive += 1
                }
                Execution::InstantiationFailed { .. } => stats.instantiation_failed += 1,
                Execution::Crashed { kind, .. } => match kind {
                    CrashKind::Hang => stats.hung += 1,
                    CrashKind::OutOfMemory => stats.out_of_memory += 1,
                    CrashKind::Panic | CrashKind::Died | CrashKind::BadAnswer => stats.crashed += 1,
                },
                Execution::Ran { calls, .. } => {
                    for call in calls {
                        match call {
                            CallOutcome::Returned(_) => stats.calls_returned += 1,
                            c if c.is_inconclusive() => stats.inconclusive += 1,
                            CallOutcome::Trapped(_) => stats.calls_trapped += 1,
                        }
                    }
                }
                Execution::Traced { trace } => {
                    for event in &trace.events {
                        match event {
                            Event::Callback {
                                outcome: Outcome::Returned(_),
                                ..
                            } => stats.calls_returned += 1,
                            Event::Callback {
                                outcome: Outcome::Trapped(trap),
                                ..
                            } if trap.kind.is_inconclusive() => stats.inconclusive += 1,
                            Event::Callback { .. } => stats.calls_trapped += 1,
                            Event::Host { .. } => {}
                        }
                    }
                }
            }
        }
    }
}

/// The file holding the input a worker is running: written before anything that could crash
/// the process runs it, removed when the worker ends normally. Found on start, it is the input
/// that ended the previous campaign.
struct InFlight {
    path: PathBuf,
    file: File,
}

impl InFlight {
    fn path(out: &Path, worker: usize) -> PathBuf {
        out.join(format!(".in-flight-{worker}.bin"))
    }

    fn open(out: &Path, worker: usize) -> anyhow::Result<InFlight> {
        let path = Self::path(out, worker);
        let file =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(InFlight { path, file })
    }

    fn hold(&mut self, input: &[u8]) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        self.file.set_len(0)?;
        self.file.write_all_at(input, 0)
    }

    fn finish(self) {
        drop(self.file);
        fs::remove_file(&self.path).ok();
    }
}

/// Turns inputs left in flight by a campaign that died into crash findings.
fn recover_in_flight(
    config: &CampaignConfig,
    differential: &Differential,
) -> anyhow::Result<Vec<Found>> {
    let mut recovered = Vec::new();
    let Ok(entries) = fs::read_dir(&config.out) else {
        return Ok(recovered);
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_in_flight = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(".in-flight-"));
        if !is_in_flight {
            continue;
        }
        let input = fs::read(&path).unwrap_or_default();
        if !input.is_empty() {
            let why = "the previous campaign ended while running this input (crash, abort or kill)";
            let checked = presumed_crash(case_of(differential, &input), config.engines.len(), why);
            let origin = Origin {
                file: Some(path.display().to_string()),
                ..Origin::default()
            };
            recovered.push(save(
                &config.out,
                &config.engines,
                &input,
                &checked,
                origin,
            )?);
        }
        fs::remove_file(&path).ok();
    }
    Ok(recovered)
}

/// Saves a divergent input as a finding: under `out/`, or `out/known/<bug>/` when a known
/// engine bug explains it.
fn save(
    out: &Path,
    engines: &[&EngineSpec],
    input: &[u8],
    checked: &Checked,
    origin: Origin,
) -> anyhow::Result<Found> {
    let report = Report::new(
        &checked.case,
        engines,
        &checked.executions,
        &checked.verdict,
        origin,
    )
    .with_known_bugs(&checked.known_bugs);
    let known = (!report.known_bugs.is_empty()).then(|| report.known_bugs.join("+"));
    let dir = match &known {
        Some(bugs) => out.join("known").join(bugs),
        None => out.to_path_buf(),
    };
    let name = finding_name(&checked.verdict, input);
    Ok(Found {
        dir: write_case(
            &dir,
            &name,
            Some(input),
            &checked.case.module,
            &report,
            Existing::Keep,
        )?,
        summary: report.summary,
        signature: report.signature.unwrap_or_default(),
        known_bug: known,
    })
}

/// Shared between the workers and the supervising thread.
struct Shared {
    config: CampaignConfig,
    /// New findings for the shrinker, by coarse signature count.
    shrink_queue: Mutex<(Option<mpsc::Sender<PathBuf>>, HashMap<String, usize>)>,
    next_index: AtomicU64,
    stats: Mutex<Stats>,
    start: Instant,
    stop: Arc<AtomicBool>,
    error: Mutex<Option<anyhow::Error>>,
}

impl Shared {
    /// Queues a new finding for the shrinker, unless enough of its kind were queued already.
    fn queue_for_shrinking(&self, found: &Found) {
        if found.known_bug.is_some() {
            return;
        }
        let mut queue = self.shrink_queue.lock().unwrap();
        let (Some(sender), counts) = &mut *queue else {
            return;
        };
        let coarse = found
            .signature
            .split(" ; instructions:")
            .next()
            .unwrap_or_default()
            .to_string();
        let count = counts.entry(coarse).or_default();
        if *count < SHRINKS_PER_SIGNATURE && sender.send(found.dir.clone()).is_ok() {
            *count += 1;
            self.stats.lock().unwrap().shrink_queue += 1;
        }
    }

    /// The next input index to run, or `None` when the campaign is over.
    fn next(&self) -> Option<u64> {
        if self.stop.load(Ordering::Relaxed)
            || self
                .config
                .duration
                .is_some_and(|d| self.start.elapsed() >= d)
        {
            return None;
        }
        let index = self.next_index.fetch_add(1, Ordering::Relaxed);
        (self.config.iterations.is_none_or(|n| index < n)).then_some(index)
    }
}

fn work(shared: &Shared, worker: usize) -> anyhow::Result<()> {
    let config = &shared.config;
    let mut differential = Differential::for_target(&config.engines, config.limits, config.target)?;
    let mut in_flight = InFlight::open(&config.out, worker)?;
    while let Some(index) = shared.next() {
        let input = inputs::input(config.seed, index, config.max_input_len);
        in_flight
            .hold(&input)
            .context("cannot record the in-flight input")?;
        let case = match catch_panic(|| differential.generate(&input)) {
            Ok(Ok(case)) => case,
            _ => {
                let mut stats = shared.stats.lock().unwrap();
                stats.inputs += 1;
                stats.unusable += 1;
                continue;
            }
        };
        let checked = differential.check_case(case);
        let finding = match checked.verdict {
            Verdict::Diverge(_) => {
                let origin = Origin {
                    seed: Some(config.seed),
                    index: Some(index),
                    file: None,
                };
                Some(save(
                    &config.out,
                    &config.engines,
                    &input,
                    &checked,
                    origin,
                )?)
            }
            _ => None,
        };
        if let Some(found) = &finding {
            shared.queue_for_shrinking(found);
        }
        let mut stats = shared.stats.lock().unwrap();
        stats.record(&checked);
        stats.findings.extend(finding);
    }
    let busy = differential.lineup().busy_times();
    let mut stats = shared.stats.lock().unwrap();
    for (engine, time) in stats.engines.iter_mut().zip(busy) {
        engine.busy += time;
    }
    in_flight.finish();
    Ok(())
}

/// The shrinker thread: shrinks queued findings one at a time, on its own engines.
fn shrink_queued(
    shared: &Shared,
    queue: mpsc::Receiver<PathBuf>,
    budget: ShrinkBudget,
) -> anyhow::Result<()> {
    let mut differential = Differential::for_target(
        &shared.config.engines,
        shared.config.limits,
        shared.config.target,
    )?;
    for dir in queue {
        if budget
            .interrupt
            .as_ref()
            .is_some_and(|i| i.load(Ordering::Relaxed))
        {
            let mut stats = shared.stats.lock().unwrap();
            stats.shrink_queue -= 1;
            stats.not_shrunk.push(dir);
            continue;
        }
        let shrunk = Case::load(&dir)
            .and_then(|case| shrink_stored(&mut differential, &case, budget.clone()));
        let mut stats = shared.stats.lock().unwrap();
        stats.shrink_queue -= 1;
        // A finding that no longer shrinks (say, it stopped diverging) keeps its original.
        if let Ok((dir, report)) = shrunk {
            stats.shrunk.push(Found {
                dir,
                summary: report.summary,
                signature: report.signature.unwrap_or_default(),
                known_bug: None,
            });
        }
    }
    Ok(())
}

/// Runs a campaign until its iterations or duration are used up or `stop` is set, calling
/// `progress` about four times a second. Returns the final statistics, with findings
/// recovered from a previous campaign that died listed first.
pub fn run(
    config: CampaignConfig,
    stop: Arc<AtomicBool>,
    mut progress: impl FnMut(&Stats),
) -> anyhow::Result<Stats> {
    fs::create_dir_all(&config.out)
        .with_context(|| format!("cannot create {}", config.out.display()))?;
    let probe = Differential::for_target(&config.engines, config.limits, config.target)?;
    let recovered = recover_in_flight(&config, &probe)?;
    drop(probe);
    let mut stats = Stats::new(&config.engines);
    stats.findings = recovered;
    let jobs = config.jobs.max(1);
    let (sender, receiver) = mpsc::channel();
    let shrink_budget = config.shrink.clone().map(|mut budget| {
        budget.interrupt.get_or_insert_with(Default::default);
        budget
    });
    let stop_shrinking = shrink_budget.as_ref().and_then(|b| b.interrupt.clone());
    let shared = Arc::new(Shared {
        config,
        shrink_queue: Mutex::new((shrink_budget.is_some().then_some(sender), HashMap::new())),
        next_index: AtomicU64::new(0),
        stats: Mutex::new(stats),
        start: Instant::now(),
        stop,
        error: Mutex::new(None),
    });
    let workers: Vec<_> = (0..jobs)
        .map(|worker| {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("wasmdiff-worker-{worker}"))
                // Room for the engines' own wasm stack limit plus the harness.
                .stack_size(shared.config.limits.stack_bytes * 4 + (8 << 20))
                .spawn(move || {
                    if let Err(e) = work(&shared, worker) {
                        shared.error.lock().unwrap().get_or_insert(e);
                        shared.stop.store(true, Ordering::Relaxed);
                    }
                })
                .context("cannot start a worker thread")
        })
        .collect::<anyhow::Result<_>>()?;
    let shrinker = match shrink_budget {
        Some(budget) => {
            let shared = Arc::clone(&shared);
            Some(
                std::thread::Builder::new()
                    .name("wasmdiff-shrinker".into())
                    .stack_size(shared.config.limits.stack_bytes * 4 + (8 << 20))
                    .spawn(move || {
                        if let Err(e) = shrink_queued(&shared, receiver, budget) {
                            shared.error.lock().unwrap().get_or_insert(e);
                        }
                    })
                    .context("cannot start the shrinker thread")?,
            )
        }
        None => None,
    };
    let fuzzing =
        |workers: &[std::thread::JoinHandle<()>]| workers.iter().any(|w| !w.is_finished());
    while fuzzing(&workers) || shrinker.as_ref().is_some_and(|s| !s.is_finished()) {
        std::thread::sleep(Duration::from_millis(250));
        let snapshot = {
            let mut stats = shared.stats.lock().unwrap();
            if fuzzing(&workers) {
                stats.elapsed = shared.start.elapsed();
            }
            stats.clone()
        };
        progress(&snapshot);
        if !fuzzing(&workers) {
            // No more findings will come: let the shrinker finish its queue and end, or stop
            // it too when the campaign's time is up.
            shared.shrink_queue.lock().unwrap().0.take();
            if let (Some(stop_shrinking), Some(duration)) =
                (&stop_shrinking, shared.config.duration)
                && shared.start.elapsed() >= duration
            {
                stop_shrinking.store(true, Ordering::Relaxed);
            }
        }
    }
    for worker in workers.into_iter().chain(shrinker) {
        worker
            .join()
            .map_err(|_| anyhow::anyhow!("a campaign thread panicked"))?;
    }
    if let Some(e) = shared.error.lock().unwrap().take() {
        return Err(e);
    }
    let stats = shared.stats.lock().unwrap().clone();
    Ok(stats)
}

/// The process's peak resident memory, from `/proc/self/status` (Linux), in bytes.
pub fn peak_memory_bytes() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Writes `stats` as JSON next to the findings, for scripts.
pub fn write_stats(out: &Path, stats: &Stats) -> anyhow::Result<PathBuf> {
    let path = out.join("stats.json");
    let mut file =
        File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    serde_json::to_writer_pretty(&mut file, stats)?;
    file.write_all(b"\n")?;
    Ok(path)
}
