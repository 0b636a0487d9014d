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
use wasmdiff_cases::{Case, Existing, Origin, Report, Signature, finding_name, write_case};
use wasmdiff_engines::lineup::{Submitted, catch_panic};
use wasmdiff_engines::{CallOutcome, CrashKind, EngineSpec, Execution, Limits};
use wasmdiff_gen::proxy::HostProfile;
use wasmdiff_gen::{Generator, TestCase};
use wasmdiff_oracle::{DivergenceKind, Reason, Verdict};
use wasmdiff_proxy::{Event, Outcome};

use crate::artifact::{case_of, presumed_crash};
use crate::differential::{CaseMaker, Checked, Differential, Target};
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
    /// Where the corner sweep's chunks go among the inputs (modules campaigns only).
    pub sweep: SweepPlan,
    /// The modules a mutate campaign changes.
    pub seeds: Arc<Vec<Vec<u8>>>,
    /// The host every proxy-wasm scenario follows (`None`: each draws its own).
    pub host: Option<HostProfile>,
    /// The generator every random input of a modules campaign is made for (`None`: each
    /// picks its own).
    pub generator: Option<Generator>,
}

impl CampaignConfig {
    /// A campaign of `iterations` random modules from `seed` on `engines`, findings to `out`:
    /// one job, the default limits and input length, neither the sweep nor shrinking.
    pub fn bounded(
        engines: Vec<&'static EngineSpec>,
        seed: u64,
        iterations: u64,
        out: PathBuf,
    ) -> CampaignConfig {
        CampaignConfig {
            engines,
            limits: Limits::default(),
            seed,
            iterations: Some(iterations),
            duration: None,
            out,
            jobs: 1,
            max_input_len: DEFAULT_MAX_INPUT_LEN,
            shrink: None,
            target: Target::Modules,
            sweep: SweepPlan::Off,
            seeds: Default::default(),
            host: None,
            generator: None,
        }
    }

    /// A differential for this campaign's target, engines, seeds and host.
    fn differential(&self) -> anyhow::Result<Differential> {
        Ok(
            Differential::for_target(&self.engines, self.limits, self.target)?
                .with_seeds(Arc::clone(&self.seeds))
                .with_host(self.host),
        )
    }
}

/// How a campaign runs the corner sweep ([`crate::sweep`]) among its inputs. The campaign
/// hands out slots in order; a slot is a chunk of the sweep or the next random input, whose
/// index (and so its bytes, for a seed) is the same with or without the sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepPlan {
    Off,
    /// The sweep alone, once: slot `i` is chunk `i`, and the campaign ends with the sweep.
    Only,
    /// Every `every`-th slot is the next chunk, until the sweep is done; the others are
    /// random inputs.
    Every(u64),
}

/// What a slot of a campaign runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Chunk(usize),
    Input(u64),
}

impl SweepPlan {
    /// Slots per chunk in a default campaign: the sweep then takes most of its first minutes
    /// (one chunk, a few hundred tuples, then seven random inputs).
    pub const DEFAULT: SweepPlan = SweepPlan::Every(8);

    /// What slot `slot` runs; `None` past the end of a sweep-only campaign.
    pub fn slot(&self, slot: u64) -> Option<Slot> {
        let chunks = wasmdiff_gen::sweep::chunk_count() as u64;
        match *self {
            SweepPlan::Off => Some(Slot::Input(slot)),
            SweepPlan::Only => (slot < chunks).then_some(Slot::Chunk(slot as usize)),
            SweepPlan::Every(every) => {
                if slot % every == 0 && slot / every < chunks {
                    return Some(Slot::Chunk((slot / every) as usize));
                }
                let chunks_before = slot.div_ceil(every).min(chunks);
                Some(Slot::Input(slot - chunks_before))
            }
        }
    }

    /// Whether the sweep is done by slot `slot`.
    pub fn is_over(&self, slot: u64) -> bool {
        let chunks = wasmdiff_gen::sweep::chunk_count() as u64;
        match *self {
            SweepPlan::Off => true,
            SweepPlan::Only => slot >= chunks,
            SweepPlan::Every(every) => slot >= chunks * every,
        }
    }
}

/// The corner sweep's share of a campaign.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SweepStats {
    /// Chunks in the whole sweep, and chunks run so far.
    pub chunks: usize,
    pub chunks_done: u64,
    /// Calls compared (two per tuple: operands as parameters, and as constants).
    pub calls: u64,
    pub agreed: u64,
    pub inconclusive: u64,
    /// Disagreements (each checked as a case of its one tuple), and how they fell into
    /// signatures: the first of each is saved as a finding, the rest only counted.
    pub divergent: u64,
    pub signatures: Vec<SweepSignature>,
    /// Chunks an engine sat out (features it lacks), summed over the engines.
    pub sat_out: u64,
    #[serde(serialize_with = "seconds")]
    pub busy: Duration,
}

/// One bug of the sweep: its divergences of one instruction with one coarse signature
/// (whatever the operands' form, parameters or constants).
#[derive(Clone, Debug, Serialize)]
pub struct SweepSignature {
    pub instruction: &'static str,
    pub signature: Option<Signature>,
    pub count: u64,
    /// The finding saved for its first tuple.
    pub first: PathBuf,
    pub known_bug: Option<String>,
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

/// Counts by reason, as a JSON object keyed by the reasons' names.
fn by_name<S: serde::Serializer>(counts: &BTreeMap<Reason, u64>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(counts.iter().map(|(reason, n)| (reason.name(), n)))
}

/// A finding directory and the one-line description of its divergence.
#[derive(Clone, Debug, Serialize)]
pub struct Found {
    pub dir: PathBuf,
    pub summary: String,
    pub signature: Option<Signature>,
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
    #[serde(serialize_with = "by_name")]
    pub inconclusive_reasons: BTreeMap<Reason, u64>,
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
    pub sweep: SweepStats,
    /// Each kind of portability difference (by coarse signature) and the inputs that showed
    /// it: the first [`SAVED_PER_PORTABILITY`] of each are saved as findings, the rest only
    /// counted (nearly every filter differs somewhere between proxies).
    pub portability: Vec<(Signature, u64)>,
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
}

/// Inputs saved per kind of portability difference.
pub const SAVED_PER_PORTABILITY: u64 = 3;

impl Stats {
    /// Counts an input showing a portability difference of this kind; whether to save it.
    fn portability_seen(&mut self, signature: Signature) -> bool {
        let count = match self.portability.iter_mut().find(|(s, _)| *s == signature) {
            Some((_, count)) => count,
            None => {
                self.portability.push((signature, 0));
                &mut self.portability.last_mut().unwrap().1
            }
        };
        *count += 1;
        *count <= SAVED_PER_PORTABILITY
    }

    fn new(engines: &[&EngineSpec]) -> Stats {
        Stats {
            engines: engines
                .iter()
                .map(|s| EngineStats {
                    name: s.name.to_string(),
                    ..EngineStats::default()
                })
                .collect(),
            sweep: SweepStats {
                chunks: wasmdiff_gen::sweep::chunk_count(),
                ..SweepStats::default()
            },
            ..Stats::default()
        }
    }

    /// Counts an engine's outcomes of one test case (or sweep chunk).
    fn record_engines(&mut self, executions: &[Execution]) {
        for (stats, execution) in self.engines.iter_mut().zip(executions) {
            stats.record(execution);
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
        self.record_engines(&checked.executions);
    }
}

impl EngineStats {
    fn record(&mut self, execution: &Execution) {
        match execution {
            Execution::Rejected { .. } => self.rejected += 1,
            Execution::Accepted => self.accepted += 1,
            Execution::Skipped { .. } => self.skipped += 1,
            Execution::InstantiationFailed { trap } if trap.kind.is_inconclusive() => {
                self.inconclusive += 1
            }
            Execution::InstantiationFailed { .. } => self.instantiation_failed += 1,
            Execution::Crashed { kind, .. } => match kind {
                CrashKind::Hang => self.hung += 1,
                CrashKind::OutOfMemory => self.out_of_memory += 1,
                CrashKind::Panic | CrashKind::Died | CrashKind::BadAnswer | CrashKind::Harness => {
                    self.crashed += 1
                }
            },
            Execution::Ran { calls, .. } => {
                for call in calls {
                    match call {
                        CallOutcome::Returned(_) => self.calls_returned += 1,
                        c if c.is_inconclusive() => self.inconclusive += 1,
                        CallOutcome::Trapped(_) => self.calls_trapped += 1,
                    }
                }
            }
            Execution::Traced { trace } => {
                for event in &trace.events {
                    match event {
                        Event::Callback {
                            outcome: Outcome::Returned(_),
                            ..
                        } => self.calls_returned += 1,
                        Event::Callback {
                            outcome: Outcome::Trapped(trap),
                            ..
                        } if trap.kind.is_inconclusive() => self.inconclusive += 1,
                        Event::Callback { .. } => self.calls_trapped += 1,
                        Event::Host { .. } => {}
                    }
                }
            }
            Execution::Hosted { runs } => {
                for run in runs {
                    self.record(&run.execution);
                }
            }
        }
    }
}

/// The file holding the input a worker is running: written before anything that could crash
/// the process runs it, removed when the worker ends normally. Found on start, it is the input
/// that ended the previous campaign. It holds the input's length (a little-endian `u32`) and
/// the input, so that holding one is a single write (bytes past it are left from before).
struct InFlight {
    path: PathBuf,
    file: File,
    held: Vec<u8>,
}

impl InFlight {
    fn path(out: &Path, name: &str) -> PathBuf {
        out.join(format!(".in-flight-{name}.bin"))
    }

    fn open(out: &Path, name: &str) -> anyhow::Result<InFlight> {
        let path = Self::path(out, name);
        let file =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(InFlight {
            path,
            file,
            held: Vec::new(),
        })
    }

    fn hold(&mut self, input: &[u8]) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        if self.held == input {
            return Ok(());
        }
        let mut record = (input.len() as u32).to_le_bytes().to_vec();
        record.extend_from_slice(input);
        self.file.write_all_at(&record, 0)?;
        self.held = input.to_vec();
        Ok(())
    }

    /// The input a file of this kind holds.
    fn read(path: &Path) -> Vec<u8> {
        let record = fs::read(path).unwrap_or_default();
        let Some((length, input)) = record.split_first_chunk::<4>() else {
            return Vec::new();
        };
        let length = u32::from_le_bytes(*length) as usize;
        input.get(..length).unwrap_or(input).to_vec()
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
        let input = InFlight::read(&path);
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
        signature: report.signature,
        known_bug: known,
    })
}

/// Shared between the workers and the supervising thread.
struct Shared {
    config: CampaignConfig,
    /// New findings for the shrinker, by coarse signature count.
    shrink_queue: Mutex<(
        Option<mpsc::Sender<PathBuf>>,
        HashMap<Option<Signature>, usize>,
    )>,
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
        let coarse = found.signature.as_ref().map(Signature::coarse);
        let count = counts.entry(coarse).or_default();
        if *count < SHRINKS_PER_SIGNATURE && sender.send(found.dir.clone()).is_ok() {
            *count += 1;
            self.stats.lock().unwrap().shrink_queue += 1;
        }
    }

    /// Adds the time `differential`'s engines spent to the statistics.
    fn add_busy(&self, differential: &Differential) {
        let busy = differential.lineup().busy_times();
        let mut stats = self.stats.lock().unwrap();
        for (engine, time) in stats.engines.iter_mut().zip(busy) {
            engine.busy += time;
        }
    }

    /// Whether the campaign was stopped or its time is up.
    fn is_over(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
            || (self.config.duration).is_some_and(|d| self.start.elapsed() >= d)
    }

    /// The next slot to run and what it runs, or `None` when the campaign is over.
    fn next(&self) -> Option<(u64, Slot)> {
        if self.is_over() {
            return None;
        }
        let slot = self.next_index.fetch_add(1, Ordering::Relaxed);
        // Iterations count random inputs; in a sweep-only campaign, chunks.
        let limit = |count: u64| self.config.iterations.is_some_and(|n| count >= n);
        match self.config.sweep.slot(slot)? {
            Slot::Input(index) if limit(index) => None,
            Slot::Chunk(chunk) if self.config.sweep == SweepPlan::Only && limit(chunk as u64) => {
                None
            }
            other => Some((slot, other)),
        }
    }
}

/// Random inputs a worker runs at once: engines in other processes take them as one batch.
pub const BATCH: usize = 8;

/// A random input of a campaign, generated.
struct Generated {
    index: u64,
    input: Vec<u8>,
    case: TestCase,
}

/// What a worker's generator thread hands it, slot by slot in order.
enum Made {
    /// A random input and its test case.
    Input(Generated),
    /// A random input the generator could not use (or panicked on).
    Unusable,
    /// A chunk of the sweep, which the worker makes and runs itself.
    Chunk(usize),
}

/// Test cases a worker's generator makes ahead of its engines: a batch.
const MADE_AHEAD: usize = BATCH;

fn work(shared: &Shared, worker: usize) -> anyhow::Result<()> {
    let mut differential = shared.config.differential()?;
    let maker = differential.maker().clone();
    let (made, to_check) = mpsc::sync_channel(MADE_AHEAD);
    std::thread::scope(|scope| {
        let generator = std::thread::Builder::new()
            .name(format!("wasmdiff-generator-{worker}"))
            .stack_size(shared.config.limits.thread_stack_bytes())
            .spawn_scoped(scope, move || generate(shared, worker, &maker, made))
            .context("cannot start a generator thread")?;
        let checked = check(shared, worker, &mut differential, to_check);
        let generated = generator
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the generator thread panicked")));
        checked.and(generated)
    })
}

/// Takes the campaign's slots for one worker and makes each random input's test case, on a
/// thread of its own so that generation overlaps the engines' work. Stops when the campaign
/// is over or the worker stops taking what it makes.
fn generate(
    shared: &Shared,
    worker: usize,
    maker: &CaseMaker,
    made: mpsc::SyncSender<(u64, Made)>,
) -> anyhow::Result<()> {
    let config = &shared.config;
    let mut in_flight = InFlight::open(&config.out, &format!("{worker}-generating"))?;
    while let Some((slot, item)) = shared.next() {
        let item = match item {
            Slot::Chunk(chunk) => Made::Chunk(chunk),
            Slot::Input(index) => {
                let mut input = inputs::input(config.seed, index, config.max_input_len);
                if let Some(generator) = config.generator {
                    wasmdiff_gen::choose_generator(&mut input, generator);
                }
                in_flight
                    .hold(&input)
                    .context("cannot record the input being generated")?;
                let case = catch_panic(|| maker.generate(&input));
                // Generated, it is the worker's to hold: a kill from now on is not its fault.
                in_flight
                    .hold(&[])
                    .context("cannot record the input being generated")?;
                match case {
                    Ok(Ok(case)) => Made::Input(Generated { index, input, case }),
                    _ => Made::Unusable,
                }
            }
        };
        if made.send((slot, item)).is_err() {
            break;
        }
    }
    in_flight.finish();
    Ok(())
}

/// Runs what the generator made, in order: random inputs in batches, sweep chunks as they
/// come.
fn check(
    shared: &Shared,
    worker: usize,
    differential: &mut Differential,
    made: mpsc::Receiver<(u64, Made)>,
) -> anyhow::Result<()> {
    let config = &shared.config;
    let mut in_flight = InFlight::open(&config.out, &worker.to_string())?;
    // The sweep's own engines (see `Limits::for_terminating_code`), while the sweep lasts.
    let mut sweeper: Option<Differential> = None;
    let mut batch: Vec<Generated> = Vec::with_capacity(BATCH);
    // The batch before: engines in other processes work on it while this thread gathers the
    // next, which is submitted once this one is finished and checked.
    let mut running: Option<Running> = None;
    loop {
        // What was made ahead is left unrun when the campaign's time is up.
        let next = if shared.is_over() {
            None
        } else {
            made.recv().ok()
        };
        // A batch is submitted when full, or before a chunk of the sweep or the campaign's
        // end; all are finished before those.
        let another_input = matches!(next, Some((_, Made::Input(_) | Made::Unusable)));
        if !batch.is_empty() && (batch.len() == BATCH || !another_input) {
            let full = std::mem::take(&mut batch);
            if let Some(previous) = running.take() {
                check_batch(shared, differential, &mut in_flight, previous)?;
            }
            running = Some(Running::submit(differential, full));
        }
        if !another_input && let Some(last) = running.take() {
            check_batch(shared, differential, &mut in_flight, last)?;
        }
        let Some((slot, item)) = next else { break };
        if config.sweep.is_over(slot)
            && let Some(done) = sweeper.take()
        {
            shared.add_busy(&done);
        }
        match item {
            Made::Chunk(chunk) => {
                let sweeper = match &mut sweeper {
                    Some(sweeper) => sweeper,
                    None => sweeper.insert(Differential::for_target(
                        &config.engines,
                        config.limits.for_terminating_code(),
                        config.target,
                    )?),
                };
                run_chunk(shared, sweeper, &mut in_flight, chunk)?;
            }
            Made::Input(generated) => batch.push(generated),
            Made::Unusable => {
                let mut stats = shared.stats.lock().unwrap();
                stats.inputs += 1;
                stats.unusable += 1;
            }
        }
    }
    shared.add_busy(differential);
    if let Some(sweeper) = &sweeper {
        shared.add_busy(sweeper);
    }
    in_flight.finish();
    Ok(())
}

/// A batch of random inputs that engines in other processes have taken.
struct Running {
    inputs: Vec<(u64, Vec<u8>)>,
    cases: Vec<TestCase>,
    submitted: Submitted,
}

impl Running {
    fn submit(differential: &mut Differential, batch: Vec<Generated>) -> Running {
        let (inputs, cases): (Vec<(u64, Vec<u8>)>, Vec<TestCase>) = batch
            .into_iter()
            .map(|generated| ((generated.index, generated.input), generated.case))
            .unzip();
        let submitted = differential.submit_batch(&cases);
        Running {
            inputs,
            cases,
            submitted,
        }
    }
}

/// Runs a submitted batch of random inputs on the engines in this process and collects the
/// others' executions, then checks, saves and counts each input in turn. The input in flight
/// is always the one engines in this process are running.
fn check_batch(
    shared: &Shared,
    differential: &mut Differential,
    in_flight: &mut InFlight,
    running: Running,
) -> anyhow::Result<()> {
    let config = &shared.config;
    let Running {
        inputs,
        cases,
        submitted,
    } = running;
    let mut held = Ok(());
    let executions = differential.finish_batch(&cases, submitted, |i| {
        if held.is_ok() {
            held = in_flight.hold(&inputs[i].1);
        }
    });
    held.context("cannot record the in-flight input")?;
    for (((index, input), case), executions) in inputs.into_iter().zip(cases).zip(executions) {
        in_flight
            .hold(&input)
            .context("cannot record the in-flight input")?;
        let checked = differential.check_executed(case, executions);
        let saved = match checked.verdict.divergence() {
            Some(d) if d.kind == DivergenceKind::Portability => {
                let names = differential.lineup().names();
                Signature::coarse_of(&checked.verdict, &names, &checked.executions)
                    .is_none_or(|s| shared.stats.lock().unwrap().portability_seen(s))
            }
            _ => true,
        };
        let finding = match checked.verdict {
            Verdict::Diverge(_) if saved => {
                let origin = Origin {
                    seed: Some(config.seed),
                    index: Some(index),
                    ..Origin::default()
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
    Ok(())
}

/// Runs chunk `chunk` of the sweep: each disagreement is checked as a case of its tuple; the
/// first of each instruction and coarse signature is saved (and shrunk) as a finding, the
/// rest counted under it.
fn run_chunk(
    shared: &Shared,
    differential: &mut Differential,
    in_flight: &mut InFlight,
    chunk: usize,
) -> anyhow::Result<()> {
    let config = &shared.config;
    in_flight
        .hold(&wasmdiff_gen::sweep_input(chunk, None))
        .context("cannot record the in-flight input")?;
    let start = Instant::now();
    let result = crate::sweep::check_chunk(differential, chunk)
        .map_err(|e| anyhow::anyhow!("sweep chunk {chunk}: {e}"))?;
    let mut found = Vec::new();
    let (mut divergent, mut explained_away) = (0, 0);
    for disagreement in &result.disagreements {
        let checked = &disagreement.checked;
        if checked.verdict.divergence().is_none() {
            explained_away += 1;
            continue;
        }
        divergent += 1;
        let names = differential.lineup().names();
        let signature = Signature::coarse_of(&checked.verdict, &names, &checked.executions);
        let seen = {
            let mut stats = shared.stats.lock().unwrap();
            let bug =
                stats.sweep.signatures.iter_mut().find(|s| {
                    s.instruction == disagreement.instruction && s.signature == signature
                });
            match bug {
                Some(known) => {
                    known.count += 1;
                    true
                }
                None => false,
            }
        };
        if seen {
            continue;
        }
        // The input names the chunk (and the call): no seed or index makes it.
        let origin = Origin {
            sweep_chunk: Some(chunk),
            ..Origin::default()
        };
        let input = wasmdiff_gen::sweep_input(chunk, disagreement.call);
        let saved = save(&config.out, &config.engines, &input, checked, origin)?;
        shared.queue_for_shrinking(&saved);
        shared
            .stats
            .lock()
            .unwrap()
            .sweep
            .signatures
            .push(SweepSignature {
                instruction: disagreement.instruction,
                signature,
                count: 1,
                first: saved.dir.clone(),
                known_bug: saved.known_bug.clone(),
            });
        found.push(saved);
    }
    let mut stats = shared.stats.lock().unwrap();
    let sweep = &mut stats.sweep;
    sweep.chunks_done += 1;
    sweep.calls += result.calls as u64;
    sweep.agreed += result.agreed as u64;
    sweep.inconclusive += result.inconclusive as u64 + explained_away;
    sweep.divergent += divergent;
    sweep.sat_out += result.sat_out as u64;
    sweep.busy += start.elapsed();
    stats.record_engines(&result.executions);
    stats.findings.extend(found);
    Ok(())
}

/// The shrinker thread: shrinks queued findings one at a time, on its own engines.
fn shrink_queued(
    shared: &Shared,
    queue: mpsc::Receiver<PathBuf>,
    budget: ShrinkBudget,
) -> anyhow::Result<()> {
    let mut differential = shared.config.differential()?;
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
                signature: report.signature,
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
    let probe = config.differential()?;
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
                .stack_size(shared.config.limits.thread_stack_bytes())
                .spawn(move || {
                    if let Err(e) = work(&shared, worker) {
                        shared.error.lock().unwrap().get_or_insert(e);
                        shared.stop.store(true, Ordering::Relaxed);
                    }
                    // The campaign's time ends with its last worker, not at the progress
                    // report after it.
                    let mut stats = shared.stats.lock().unwrap();
                    stats.elapsed = stats.elapsed.max(shared.start.elapsed());
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
                    .stack_size(shared.config.limits.thread_stack_bytes())
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
