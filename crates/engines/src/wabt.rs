//! WABT's interpreter (Debian's `wabt` package), the WebAssembly project's reference toolkit.
//! Its `wasm-interp` cannot pass arguments, so each job becomes a spectest script (the JSON
//! that `wast2json` would make): the [adapted](crate::adapter) module, then one `invoke` per
//! wrapper, run by `spectest-interp`, which prints every call's results or trap. Validation
//! asks `wasm-validate`. Each job is a process of its own, under the deadline (WABT has no
//! fuel).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use wasmdiff_gen::{Features, Plan};

use crate::adapter::{Adapted, Answers, Job, Options};
use crate::inspect::has_table64;
use crate::outcome::{CrashKind, Execution, Trap, TrapKind};
use crate::process::{Run, describe};
use crate::progress::Stage;
use crate::{Abilities, Engine, EngineSpec, Isolation, KnownBug, Limits, ProxyHosting};

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
    },
    isolation: Isolation::External,
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
    build: |limits| Ok(Box::new(Wabt::new(limits)?)),
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

/// The files of a job, in the engine's directory (which is the tools' working directory, so
/// that messages name no machine-specific path).
const MODULE: &str = "module.wasm";
const SCRIPT: &str = "script.json";

struct Wabt {
    limits: Limits,
    /// Where this engine writes its modules and scripts.
    dir: PathBuf,
    started: Option<Result<Started, Execution>>,
}

enum Started {
    Validating(Run),
    Running(Run, Adapted),
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
            started: None,
        })
    }

    fn begin(&self, module: &[u8], plan: &Plan) -> Result<Started, Execution> {
        if has_table64(module) {
            return Err(Execution::Skipped {
                reason: "WABT 1.0.32 has no 64-bit tables".to_string(),
            });
        }
        let adapted = match Job::of(module, plan, Options { tables: true }, &FEATURES) {
            Job::Run(adapted) => Some(adapted),
            Job::Validate => None,
            Job::Failed(execution) => return Err(execution),
        };
        let cannot = |e: std::io::Error| {
            Execution::crashed(
                CrashKind::Died,
                format!("cannot run WABT: {e}"),
                Stage::Compile,
            )
        };
        let wasm = self.dir.join(MODULE);
        match adapted {
            None => {
                std::fs::write(&wasm, module).map_err(cannot)?;
                let mut command = Command::new("wasm-validate");
                command.args(FLAGS).arg(MODULE).current_dir(&self.dir);
                Run::spawn(command).map(Started::Validating).map_err(cannot)
            }
            Some(adapted) => {
                std::fs::write(&wasm, &adapted.module).map_err(cannot)?;
                std::fs::write(self.dir.join(SCRIPT), spectest_script(&adapted)).map_err(cannot)?;
                let mut command = Command::new("spectest-interp");
                command.args(FLAGS).arg(SCRIPT).current_dir(&self.dir);
                Run::spawn(command)
                    .map(|run| Started::Running(run, adapted))
                    .map_err(cannot)
            }
        }
    }
}

impl Drop for Wabt {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// The spectest JSON script: the module, then an `invoke` of each wrapper. Written by hand:
/// WABT wants its keys in `wast2json`'s order.
fn spectest_script(adapted: &Adapted) -> Vec<u8> {
    let mut script = String::from(
        r#"{"source_filename": "case.wast", "commands": [{"type": "module", "line": 1, "filename": "module.wasm"}"#,
    );
    for (line, name) in adapted.exports_to_call().into_iter().enumerate() {
        let name = serde_json::to_string(name).expect("names serialize");
        script.push_str(&format!(
            r#", {{"type": "action", "line": {}, "action": {{"type": "invoke", "field": {name}, "args": []}}, "expected": []}}"#,
            line + 2
        ));
    }
    script.push_str("]}");
    script.into_bytes()
}

impl Engine for Wabt {
    fn start(&mut self, module: &[u8], plan: &Plan) {
        self.started = Some(self.begin(module, plan));
    }

    fn run(&mut self, module: &[u8], plan: &Plan) -> Execution {
        let started = match self.started.take() {
            Some(started) => started,
            None => self.begin(module, plan),
        };
        let deadline = Instant::now() + self.limits.deadline();
        let cap = self.limits.process_memory_bytes;
        let (run, adapted) = match started {
            Ok(Started::Validating(run)) => (run, None),
            Ok(Started::Running(run, adapted)) => (run, Some(adapted)),
            Err(crashed) => return crashed,
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
