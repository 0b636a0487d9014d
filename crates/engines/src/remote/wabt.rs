//! WABT's interpreter (Debian's `wabt` package), the WebAssembly project's reference toolkit.
//! Its `wasm-interp` cannot pass arguments, so each job becomes a spectest script (the JSON
//! that `wast2json` would make): the [adapted](crate::adapted) module, then one `invoke` per
//! wrapper, run by `spectest-interp`, which prints every call's results or trap. A batch of
//! jobs is one script holding each job's module and invokes, so that a process start is paid
//! per batch; a job the batch leaves unclear (a module WABT refuses, whose message it prints
//! only on stderr; a batch that crashed, hung or outgrew its memory) runs again alone, so a
//! job's outcome never depends on its batch. Validation asks `wasm-validate`. Every process
//! runs under the deadline (WABT has no fuel).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use wasmdiff_gen::{Features, Plan};

use super::process::{Run, describe};
use super::{Batched, Remote, Sent};
use crate::adapted::inspect::has_table64;
use crate::adapted::{Adaptation, Adapted, Answers, Options};
use crate::outcome::{CrashKind, Execution, Trap, TrapKind};
use crate::progress::Stage;
use crate::{Abilities, EngineSpec, Isolation, Job, KnownBug, Limits, ProxyHosting};

/// Proposals WABT 1.0.32 has on by default, plus those enabled by [`FLAGS`]. Not memory64:
/// 1.0.32 reads 64-bit load offsets and data segment offsets as 32-bit.
const FEATURES: Features = Features {
    saturating_float_to_int: true,
    sign_extension: true,
    multi_value: true,
    bulk_memory: true,
    reference_types: true,
    simd: true,
    tail_call: true,
    extended_const: true,
    multi_memory: true,
    ..Features::NONE
};

const FLAGS: &[&str] = &[
    "--enable-tail-call",
    "--enable-extended-const",
    "--enable-multi-memory",
];

pub const SPEC: EngineSpec = EngineSpec {
    name: "wabt",
    engine: "wabt",
    version,
    description: "WABT's reference interpreter (spectest-interp), one process per plan",
    features: FEATURES,
    abilities: Abilities {
        modules: true,
        proxy: ProxyHosting::Unable("its script runner (spectest-interp) has no host functions"),
        validation: true,
        fuel: false,
        growth_caps: false,
        runs: Isolation::External,
    },
    default: true,
    known_bugs: &[
        KnownBug {
            id: "wabt-1.0.32-huge-table-grow-aborts",
            description: "`table.grow` of a table without a maximum by billions of elements throws std::bad_alloc, which ends the interpreter (where growth may fail with -1)",
            // Growth past the harness's table cap answers -1 first: what the spec allows.
            workaround: |module| {
                crate::rewrite::bounded_table_growth(
                    module,
                    Limits::default().table_elements as u32,
                )
            },
        },
        KnownBug {
            id: "wabt-1.0.32-name-section",
            description: "a module is refused for its name section (one placed before other sections, or names that are not UTF-8), which the spec says must never make a module invalid",
            // Without its custom sections a module means the same.
            workaround: crate::rewrite::without_custom_sections,
        },
    ],
    available,
    build: |limits| Ok(Box::new(Batched::new(Wabt::new(limits)?))),
};

/// WABT's version, or why its tools cannot be used.
fn probe() -> &'static Result<String, String> {
    static PROBE: OnceLock<Result<String, String>> = OnceLock::new();
    PROBE.get_or_init(|| {
        let version = |tool: &str| {
            Command::new(tool)
                .arg("--version")
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .map_err(|e| {
                    format!("{tool} not found ({e}): install WABT (Debian: apt-get install wabt)")
                })
        };
        version("wasm-validate")?;
        version("spectest-interp")
    })
}

fn version() -> String {
    probe()
        .clone()
        .unwrap_or_else(|_| "not available".to_string())
}

fn available() -> Result<(), String> {
    probe().as_ref().map(drop).map_err(Clone::clone)
}

/// The files of a job alone, or of a batch (whose job `i` has its module in `module-i.wasm`),
/// in the engine's directory (the tools' working directory, so that messages name no
/// machine-specific path).
const MODULE: &str = "module.wasm";
const SCRIPT: &str = "script.json";

fn module_file(index: usize) -> String {
    format!("module-{index}.wasm")
}

struct Wabt {
    limits: Limits,
    /// Where this engine writes its modules and scripts.
    dir: PathBuf,
    batch: Batch,
}

/// Where a job sent runs.
enum Pending {
    /// In a process of its own, started.
    Alone(Started),
    /// Job `i` of the batch's script.
    InBatch(usize),
}

enum Started {
    Validating(Run),
    Running(Run, Adapted),
}

/// The batch's process until its first job is collected, then each job's outcome (`None`: the
/// job runs again alone).
enum Batch {
    Idle,
    Running(Run, Vec<Adapted>),
    Read(Vec<Option<Execution>>),
}

fn cannot(e: std::io::Error) -> Execution {
    Execution::crashed(
        CrashKind::Died,
        format!("cannot run WABT: {e}"),
        Stage::Compile,
    )
}

impl Wabt {
    fn new(limits: &Limits) -> anyhow::Result<Wabt> {
        static INSTANCES: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wasmdiff-wabt-{}-{}",
            std::process::id(),
            INSTANCES.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(Wabt {
            limits: *limits,
            dir,
            batch: Batch::Idle,
        })
    }

    fn prepare(module: &[u8], plan: &Plan) -> Adaptation {
        if has_table64(module) {
            return Adaptation::Failed(Execution::Skipped {
                reason: "WABT 1.0.32 has no 64-bit tables".to_string(),
            });
        }
        Adaptation::of(module, plan, Options { tables: true }, &FEATURES)
    }

    /// Starts the job in a process of its own, its files in the directory `place` (each
    /// named as the tools' messages name them, whatever the job's place in a batch).
    fn alone(&self, module: &[u8], plan: &Plan, place: &str) -> Sent<Pending> {
        let dir = self.dir.join(place);
        let started = match Self::prepare(module, plan) {
            Adaptation::Failed(execution) => return Sent::Done(execution),
            Adaptation::Validate => (std::fs::create_dir_all(&dir))
                .and_then(|()| std::fs::write(dir.join(MODULE), module))
                .and_then(|()| {
                    let mut command = Command::new("wasm-validate");
                    command.args(FLAGS).arg(MODULE).current_dir(&dir);
                    Run::spawn(command).map(Started::Validating)
                }),
            Adaptation::Run(adapted) => {
                let script = spectest_script(&[(MODULE, &adapted)]);
                (std::fs::create_dir_all(&dir))
                    .and_then(|()| std::fs::write(dir.join(MODULE), &adapted.module))
                    .and_then(|()| std::fs::write(dir.join(SCRIPT), script))
                    .and_then(|()| {
                        let mut command = Command::new("spectest-interp");
                        command.args(FLAGS).arg(SCRIPT).current_dir(&dir);
                        Run::spawn(command).map(|run| Started::Running(run, adapted))
                    })
            }
        };
        started.map_or_else(
            |e| Sent::Done(cannot(e)),
            |started| Sent::Away(Pending::Alone(started)),
        )
    }

    fn finish(&self, started: Started) -> Execution {
        let deadline = Instant::now() + self.limits.deadline();
        let cap = self.limits.process_memory_bytes;
        let (run, adapted) = match started {
            Started::Validating(run) => (run, None),
            Started::Running(run, adapted) => (run, Some(adapted)),
        };
        let (status, stdout, stderr) = match run.finish(deadline, cap) {
            Ok(output) => output,
            // Killed before it said anything that could be read: where it was is unknown.
            Err(failure) => {
                return Execution::crashed(failure.kind, failure.message, Stage::Compile);
            }
        };
        let stdout = String::from_utf8_lossy(&stdout);
        let stderr = String::from_utf8_lossy(&stderr);
        // WABT's tools exit with the number of failed commands; a signal means a tool broke.
        if status.code().is_none() {
            return Execution::crashed(
                CrashKind::Died,
                format!("{}; it said: {}", describe(status), stderr.trim()),
                adapted
                    .as_ref()
                    .map_or(Stage::Compile, |a| reached(a, &stdout)),
            );
        }
        match adapted {
            None if status.success() => Execution::Accepted,
            None => Execution::Rejected {
                message: stderr.trim().to_string(),
            },
            Some(adapted) => execution(&adapted, &stdout, &stderr),
        }
    }

    /// Starts the batch's script, or leaves its jobs to run alone if it cannot.
    fn start_batch(&mut self, adapted: Vec<Adapted>) {
        let files: Vec<String> = (0..adapted.len()).map(module_file).collect();
        let modules: Vec<(&str, &Adapted)> =
            files.iter().map(String::as_str).zip(&adapted).collect();
        let written = (files.iter().zip(&adapted))
            .try_for_each(|(file, adapted)| std::fs::write(self.dir.join(file), &adapted.module))
            .and_then(|()| std::fs::write(self.dir.join(SCRIPT), spectest_script(&modules)));
        let mut command = Command::new("spectest-interp");
        command.args(FLAGS).arg(SCRIPT).current_dir(&self.dir);
        self.batch = match written.and_then(|()| Run::spawn(command)) {
            Ok(run) => Batch::Running(run, adapted),
            Err(_) => Batch::Read(adapted.iter().map(|_| None).collect()),
        };
    }

    /// The outcome of the batch's job `index`, if the batch made it clear.
    fn batch_outcome(&mut self, index: usize) -> Option<Execution> {
        if let Batch::Running(..) = self.batch {
            let Batch::Running(run, adapted) = std::mem::replace(&mut self.batch, Batch::Idle)
            else {
                unreachable!("just matched")
            };
            let deadline = Instant::now() + self.limits.deadline();
            let outcomes = match run.finish(deadline, self.limits.process_memory_bytes) {
                Ok((status, stdout, _)) => {
                    let stdout = String::from_utf8_lossy(&stdout);
                    let whole = status.code().is_some() && stdout.contains("tests passed");
                    batch_executions(&adapted, &stdout, whole)
                }
                Err(_) => adapted.iter().map(|_| None).collect(),
            };
            self.batch = Batch::Read(outcomes);
        }
        match &mut self.batch {
            Batch::Read(outcomes) => outcomes.get_mut(index)?.take(),
            _ => None,
        }
    }
}

impl Drop for Wabt {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// The spectest JSON script: each module, then an `invoke` of each of its wrappers. Written by
/// hand: WABT wants its keys in `wast2json`'s order. Modules are named, so that an invoke of
/// a module that failed fails too (rather than calling the module before it).
fn spectest_script(modules: &[(&str, &Adapted)]) -> Vec<u8> {
    let mut script = String::from(r#"{"source_filename": "case.wast", "commands": ["#);
    let mut line = 0;
    for (i, (file, adapted)) in modules.iter().enumerate() {
        line += 1;
        let separator = if i == 0 { "" } else { ", " };
        script.push_str(&format!(
            r#"{separator}{{"type": "module", "line": {line}, "name": "$m{i}", "filename": "{file}"}}"#
        ));
        for name in adapted.exports_to_call() {
            line += 1;
            let name = serde_json::to_string(name).expect("names serialize");
            script.push_str(&format!(
                r#", {{"type": "action", "line": {line}, "action": {{"type": "invoke", "module": "$m{i}", "field": {name}, "args": []}}, "expected": []}}"#
            ));
        }
    }
    script.push_str("]}");
    script.into_bytes()
}

/// Each job's outcome from a batch's report (`whole`: the script ran to its end), as far as
/// the report makes it clear. A job's lines come in script order: `case.wast:L: error ...`
/// naming the line of its module, or one answer per invoke.
fn batch_executions(adapted: &[Adapted], stdout: &str, whole: bool) -> Vec<Option<Execution>> {
    // Each module's script line, and the answers it is owed.
    let mut first_line = 1;
    let shape: Vec<(usize, usize)> = adapted
        .iter()
        .map(|a| {
            let owed = a.exports_to_call().len();
            let line = first_line;
            first_line += 1 + owed;
            (line, owed)
        })
        .collect();
    enum Seen {
        Answers(VecDeque<Result<Vec<i64>, Trap>>),
        Failed(Option<Execution>),
    }
    let mut seen: Vec<Seen> = adapted
        .iter()
        .map(|_| Seen::Answers(VecDeque::new()))
        .collect();
    let done = |seen: &Seen, owed: usize| match seen {
        Seen::Answers(answers) => answers.len() >= owed,
        Seen::Failed(_) => true,
    };
    let mut current = 0;
    for line in stdout.lines() {
        while current < seen.len() && done(&seen[current], shape[current].1) {
            current += 1;
        }
        if let Some((_, answer)) = line.split_once("() =>") {
            if let Some(Seen::Answers(answers)) = seen.get_mut(current) {
                answers.push_back(parse_answer(answer.trim()));
            }
            continue;
        }
        let Some((number, message)) = line
            .strip_prefix("case.wast:")
            .and_then(|rest| rest.split_once(": "))
        else {
            continue;
        };
        let Some(job) = shape
            .iter()
            .position(|(first, _)| number == first.to_string())
        else {
            continue;
        };
        if let Some(trap) = message.strip_prefix("error instantiating module:") {
            seen[job] = Seen::Failed(Some(Execution::InstantiationFailed {
                trap: classify(trap.trim().trim_matches('"')),
            }));
        } else {
            // Refused (its message is on stderr, among the others'), or anything else.
            seen[job] = Seen::Failed(None);
        }
    }
    seen.into_iter()
        .zip(adapted.iter().zip(&shape))
        .enumerate()
        .map(|(i, (seen, (adapted, (_, owed))))| match seen {
            // Past the last job the report finished, a job may have been cut short.
            _ if !whole && i >= current => None,
            Seen::Failed(execution) => execution,
            Seen::Answers(answers) if answers.len() == *owed => {
                Some(adapted.run(&mut Answers(answers)))
            }
            Seen::Answers(_) => None,
        })
        .collect()
}

impl Remote for Wabt {
    type Pending = Pending;

    /// A job alone runs in a process of its own; a batch runs as one script, but for the
    /// jobs it cannot hold (validation only, or a module WABT cannot take).
    fn send(&mut self, jobs: &[Job]) -> Vec<Sent<Pending>> {
        self.batch = Batch::Idle;
        let prepared: Vec<Adaptation> = jobs
            .iter()
            .map(|job| Self::prepare(job.module, job.plan))
            .collect();
        let batched = prepared
            .iter()
            .filter(|p| matches!(p, Adaptation::Run(_)))
            .count();
        if batched < 2 {
            return (jobs.iter().enumerate())
                .map(|(index, job)| self.alone(job.module, job.plan, &index.to_string()))
                .collect();
        }
        let mut adapted = Vec::new();
        let mut sent = Vec::with_capacity(jobs.len());
        for (index, (prepared, job)) in prepared.into_iter().zip(jobs).enumerate() {
            sent.push(match prepared {
                Adaptation::Failed(execution) => Sent::Done(execution),
                Adaptation::Validate => self.alone(job.module, job.plan, &index.to_string()),
                Adaptation::Run(job) => {
                    adapted.push(job);
                    Sent::Away(Pending::InBatch(adapted.len() - 1))
                }
            });
        }
        self.start_batch(adapted);
        sent
    }

    fn receive(&mut self, pending: Pending, _: Job) -> Option<Execution> {
        match pending {
            Pending::Alone(started) => Some(self.finish(started)),
            Pending::InBatch(index) => self.batch_outcome(index),
        }
    }
}

/// Reads spectest-interp's report: `name() => i32:1, i64:2` or `name() => error: message`
/// per invoke, or an error about the module.
fn execution(adapted: &Adapted, stdout: &str, stderr: &str) -> Execution {
    // spectest-interp ends with `N/M tests passed.`; without it, it never ran the script.
    if !stdout.contains("tests passed") {
        return Execution::crashed(
            CrashKind::BadAnswer,
            format!("spectest-interp did not run the script: {}", stderr.trim()),
            reached(adapted, stdout),
        );
    }
    let module_error = |what: &str| {
        stdout.lines().find_map(|line| {
            line.split_once(what)
                .map(|(_, rest)| rest.trim().to_string())
        })
    };
    if module_error("error reading module:").is_some() {
        return Execution::Rejected {
            message: stderr.trim().to_string(),
        };
    }
    if let Some(message) = module_error("error instantiating module:") {
        return Execution::InstantiationFailed {
            trap: classify(message.trim_matches('"')),
        };
    }
    let calls = stdout
        .lines()
        .filter_map(|line| {
            let (_, answer) = line.split_once("() =>")?;
            Some(parse_answer(answer.trim()))
        })
        .collect();
    adapted.run(&mut Answers(calls))
}

/// The stage after the last call spectest-interp reported: the first one it did not finish.
fn reached(adapted: &Adapted, stdout: &str) -> Stage {
    match stdout.lines().filter(|line| line.contains("() =>")).count() {
        0 => Stage::Compile,
        done if done < adapted.calls.len() => Stage::Call(done),
        _ => Stage::Exports,
    }
}

/// `i32:4294967295, i64:2` (unsigned decimals) or `error: message`.
fn parse_answer(answer: &str) -> Result<Vec<i64>, Trap> {
    if let Some(message) = answer.strip_prefix("error:") {
        return Err(classify(message.trim()));
    }
    answer
        .split(", ")
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (_, digits) = part.split_once(':').unwrap_or(("", part));
            digits
                .parse::<u64>()
                .map(|bits| bits as i64)
                .map_err(|_| Trap::new(TrapKind::Unclassified, format!("unreadable result {part}")))
        })
        .collect()
}

/// WABT 1.0.32's trap messages in the shared classification (first match).
fn classify(message: &str) -> Trap {
    use TrapKind::*;
    Trap::from_message(
        message,
        &[
            ("call stack exhausted", StackExhausted),
            ("value stack exhausted", StackExhausted),
            ("unreachable", Unreachable),
            ("divide by zero", IntegerDivideByZero),
            ("integer overflow", IntegerOverflow),
            ("invalid conversion", InvalidConversion),
            ("out of bounds memory access", MemoryOutOfBounds),
            ("out of bounds table access", TableOutOfBounds),
            ("undefined table index", TableOutOfBounds),
            ("signature mismatch", IndirectCallTypeMismatch),
            ("uninitialized table element", UndefinedElement),
            ("uncaught exception", UncaughtException),
            ("null", NullReference),
        ],
    )
}
