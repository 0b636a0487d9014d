//! V8 through node: one node process per configuration runs `v8.js`, which compiles,
//! instantiates and calls what it is sent. Modules go through the [adapter](crate::adapted)
//! first: JavaScript cannot pass NaN payloads or `v128` values, and i64s are BigInts.
//!
//! Node 20's V8 (11.3) has no multi-memory, no `try_table`/exnref and an old GC encoding;
//! memory64, extended-const and tail calls need flags (given below); its relaxed SIMD is not
//! deterministic, so it stays off. It has no fuel: generated modules end by themselves, and
//! the wall-clock deadline catches the rest. proxy-wasm filters run there too, their host
//! here ([`proxy`]).

mod proxy;

use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use serde::Deserialize;
use wasmdiff_gen::{Features, Plan};

use super::process::{Child, Failure};
use super::{Batched, Remote, Sent};
use crate::Job;
use crate::adapted::inspect::{has_table64, has_tags, largest_memory_pages};
use crate::adapted::{Adaptation, Adapted, Answers, Options};
use crate::outcome::{CrashKind, Execution, Trap, TrapKind};
use crate::progress::{Progress, Stage};
use crate::{Abilities, EngineSpec, Isolation, Limits};

const SCRIPT: &str = include_str!("v8.js");

/// Flags every configuration gets: the proposals declared below, and compilation up front
/// (so that a module is validated whole before it is accepted).
const COMMON_FLAGS: &[&str] = &[
    "--experimental-wasm-memory64",
    "--experimental-wasm-extended-const",
    "--experimental-wasm-return-call",
    "--no-wasm-lazy-compilation",
];

const FEATURES: Features = Features {
    saturating_float_to_int: true,
    sign_extension: true,
    multi_value: true,
    bulk_memory: true,
    reference_types: true,
    simd: true,
    tail_call: true,
    extended_const: true,
    memory64: true,
    // Shared memories and atomics are on by default in node 20.
    threads: true,
    ..Features::NONE
};

/// V8 11.3's largest memory, in 64 KiB pages (16 GiB; a 32-bit memory cannot exceed 65536).
const MAX_MEMORY_PAGES: u64 = 262_144;

const ABILITIES: Abilities = Abilities {
    fuel: false,
    growth_caps: false,
    runs: Isolation::External,
    ..Abilities::ALL
};

pub const SPECS: &[EngineSpec] = &[
    EngineSpec {
        name: "v8-liftoff",
        engine: "v8",
        version,
        description: "V8 through node, Liftoff (the baseline compiler) only",
        features: FEATURES,
        abilities: ABILITIES,
        default: true,
        known_bugs: &[],
        available,
        build: |limits| {
            Ok(Box::new(Batched::new(V8::new(
                &["--liftoff", "--no-wasm-tier-up"],
                limits,
            ))))
        },
    },
    EngineSpec {
        name: "v8-turbofan",
        engine: "v8",
        version,
        description: "V8 through node, TurboFan (the optimizing compiler) only",
        features: FEATURES,
        abilities: ABILITIES,
        default: true,
        known_bugs: &[],
        available,
        build: |limits| Ok(Box::new(Batched::new(V8::new(&["--no-liftoff"], limits)))),
    },
];

/// `node vX.Y.Z, V8 A.B.C`, or why node cannot be used.
fn probe() -> &'static Result<String, String> {
    static PROBE: OnceLock<Result<String, String>> = OnceLock::new();
    PROBE.get_or_init(|| {
        let output = Command::new("node")
            .args(["-p", "process.version + ' ' + process.versions.v8"])
            .output()
            .map_err(|e| format!("node not found ({e}): install Node.js 20 or newer"))?;
        let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
        let (node, v8) = text
            .split_once(' ')
            .ok_or_else(|| format!("node did not say its version ({text:?})"))?;
        let major: u32 = node
            .trim_start_matches('v')
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .ok_or_else(|| format!("unreadable node version {node:?}"))?;
        if major < 20 {
            return Err(format!(
                "node {node} is too old: Node.js 20 or newer is needed"
            ));
        }
        Ok(format!("node {node}, V8 {v8}"))
    })
}

fn version() -> String {
    probe()
        .clone()
        .unwrap_or_else(|_| "node not available".to_string())
}

fn available() -> Result<(), String> {
    probe().as_ref().map(drop).map_err(Clone::clone)
}

struct V8 {
    flags: &'static [&'static str],
    limits: Limits,
    node: Option<Child>,
    /// Where node's job has got to, read when node fails.
    progress: Option<Progress>,
    /// Starts of node so far: a job sent to a node that has died since goes again.
    generation: u64,
    /// The last proxy-wasm filter, prepared for node.
    filter: Option<proxy::Prepared>,
}

impl V8 {
    fn new(flags: &'static [&'static str], limits: &Limits) -> V8 {
        V8 {
            flags,
            limits: *limits,
            node: None,
            progress: Progress::new().ok(),
            generation: 0,
            filter: None,
        }
    }

    /// The crash that ended node, where its job had got to; the next job starts a new node.
    fn lost(&mut self, failure: Failure, adapted: Option<&Adapted>) -> Execution {
        self.node = None;
        let at = match (self.progress.as_ref().map(Progress::stage), adapted) {
            // node numbers every export it calls; past the planned calls it reads state.
            (Some(Stage::Call(i)), Some(adapted)) if i >= adapted.calls.len() => Stage::Exports,
            (Some(stage), _) => stage,
            (None, _) => Stage::Compile,
        };
        Execution::crashed(failure.kind, failure.message, at)
    }

    fn node(&mut self) -> Result<&mut Child, Execution> {
        if self.node.is_none() {
            let mut command = Command::new("node");
            command
                .args(COMMON_FLAGS)
                .args(self.flags)
                .args(["-e", SCRIPT]);
            if let Some(progress) = &self.progress {
                progress.share_with(&mut command);
            }
            let child = Child::spawn(command).map_err(|e| {
                Execution::crashed(
                    CrashKind::Died,
                    format!("cannot start node: {e}"),
                    Stage::Compile,
                )
            })?;
            self.node = Some(child);
            self.generation += 1;
        }
        Ok(self.node.as_mut().expect("just started"))
    }

    /// Sends the job: the adapted module with what to call and read, or (to validate, or when
    /// the module cannot be adapted because it is invalid) the module as it is.
    fn send_job(&mut self, module: &[u8], plan: &Plan) -> Result<Option<Adapted>, Execution> {
        if has_table64(module) {
            return Err(Execution::Skipped {
                reason: "node 20's V8 has no 64-bit tables".to_string(),
            });
        }
        // An implementation limit (which the spec allows), not a bug: V8 refuses such modules.
        if largest_memory_pages(module) > MAX_MEMORY_PAGES {
            return Err(Execution::Skipped {
                reason: format!(
                    "a memory beyond V8's implementation limit of {MAX_MEMORY_PAGES} pages"
                ),
            });
        }
        // Its exception handling is the legacy proposal: it takes tags that the others, by
        // their features, refuse, and lacks `try_table`.
        if has_tags(module) {
            return Err(Execution::Skipped {
                reason: "node 20's V8 has only the legacy exception-handling proposal".to_string(),
            });
        }
        let adapted = match Adaptation::of(module, plan, Options { tables: true }, &FEATURES) {
            Adaptation::Run(adapted) => Some(adapted),
            Adaptation::Validate => None,
            Adaptation::Failed(execution) => return Err(execution),
        };
        // Memories come back as digests computed in wasm: sending their contents as text
        // would cost node three times the round trips.
        let request = match &adapted {
            Some(adapted) => serde_json::json!({ "calls": adapted.exports_to_call() }),
            None => serde_json::json!({ "validate": true }),
        };
        let bytes = adapted.as_ref().map_or(module, |a| &a.module);
        let request = serde_json::to_vec(&request).expect("requests serialize");
        match self.node()?.send(&[&request, bytes]) {
            Ok(()) => Ok(adapted),
            Err(failure) => Err(self.lost(failure, adapted.as_ref())),
        }
    }
}

#[derive(Deserialize)]
struct JsError {
    name: String,
    message: String,
}

#[derive(Deserialize)]
struct JsCall {
    results: Option<Vec<String>>,
    error: Option<JsError>,
}

#[derive(Deserialize)]
#[serde(tag = "stage", rename_all = "kebab-case")]
enum Answer {
    Rejected { error: JsError },
    Accepted,
    InstantiationFailed { error: JsError },
    Ran { calls: Vec<JsCall> },
}

/// A job sent to node.
enum Pending {
    /// To node number `generation`, running the adapted module (none when it only validates).
    Node {
        generation: u64,
        adapted: Option<Adapted>,
    },
    /// A proxy-wasm run: a conversation, host call after host call, held when collected.
    Conversation,
    /// Not sent, because node died while its batch was being sent.
    Unsent,
}

impl Remote for V8 {
    type Pending = Pending;

    fn send(&mut self, jobs: &[Job]) -> Vec<Sent<Pending>> {
        // Once for the batch: node marks each job's start itself, and a reset while it works
        // on one would hide where it got to.
        self.reset_progress();
        let mut node_died = false;
        let mut sent = Vec::with_capacity(jobs.len());
        for job in jobs {
            sent.push(match job.plan {
                Plan::Proxy(_) => Sent::Away(Pending::Conversation),
                // The rest go alone: a new node must not owe answers to this batch's jobs.
                _ if node_died => Sent::Away(Pending::Unsent),
                plan => match self.send_job(job.module, plan) {
                    Ok(adapted) => Sent::Away(Pending::Node {
                        generation: self.generation,
                        adapted,
                    }),
                    Err(execution) => {
                        node_died = self.node.is_none();
                        Sent::Done(execution)
                    }
                },
            });
        }
        sent
    }

    fn receive(&mut self, pending: Pending, job: Job) -> Option<Execution> {
        match (pending, job.plan) {
            (Pending::Conversation, Plan::Proxy(scenario)) => {
                Some(self.converse(job.module, scenario))
            }
            (
                Pending::Node {
                    generation,
                    adapted,
                },
                _,
            ) if generation == self.generation && self.node.is_some() => {
                Some(self.answer(adapted.as_ref()))
            }
            // Sent to a node that has died since.
            _ => None,
        }
    }
}

impl V8 {
    /// A proxy-wasm run: a conversation, host call after host call.
    fn converse(&mut self, module: &[u8], scenario: &wasmdiff_gen::proxy::Scenario) -> Execution {
        self.reset_progress();
        let limits = self.limits;
        let mut filter = self.filter.take();
        let ran = match self.node() {
            Ok(node) => proxy::run(node, &mut filter, module, scenario, &limits),
            Err(crashed) => return crashed,
        };
        self.filter = filter;
        ran.unwrap_or_else(|failure| self.lost(failure, None))
    }

    fn reset_progress(&self) {
        if let Some(progress) = &self.progress {
            progress.reset();
        }
    }

    /// node's answer to the job it is on.
    fn answer(&mut self, adapted: Option<&Adapted>) -> Execution {
        let deadline = Instant::now() + self.limits.deadline();
        let cap = self.limits.process_memory_bytes;
        let answer = match self.node() {
            Ok(node) => node.receive(deadline, cap),
            Err(crashed) => return crashed,
        };
        let frame = match answer {
            Ok(frame) => frame,
            Err(failure) => return self.lost(failure, adapted),
        };
        match serde_json::from_slice::<Answer>(&frame) {
            Ok(answer) => execution(answer, adapted),
            Err(e) => {
                let failure = Failure {
                    kind: CrashKind::BadAnswer,
                    message: format!("node answered something unreadable: {e}"),
                };
                self.lost(failure, adapted)
            }
        }
    }
}

fn execution(answer: Answer, adapted: Option<&Adapted>) -> Execution {
    match (answer, adapted) {
        (Answer::Rejected { error }, _) => Execution::Rejected {
            message: format!("{}: {}", error.name, error.message),
        },
        (Answer::Accepted, _) => Execution::Accepted,
        (Answer::InstantiationFailed { error }, _) => Execution::InstantiationFailed {
            trap: classify(&error),
        },
        (Answer::Ran { calls }, Some(adapted)) => {
            adapted.run(&mut Answers(calls.iter().map(decode).collect()))
        }
        (Answer::Ran { .. }, None) => Execution::crashed(
            CrashKind::BadAnswer,
            "node ran a module it was only to validate",
            Stage::Compile,
        ),
    }
}

/// A call's integer results, or its trap.
fn decode(call: &JsCall) -> Result<Vec<i64>, Trap> {
    if let Some(error) = &call.error {
        return Err(classify(error));
    }
    call.results
        .iter()
        .flatten()
        .map(|text| {
            text.parse::<i64>()
                .or_else(|_| text.parse::<u64>().map(|u| u as i64))
                .map_err(|_| Trap::new(TrapKind::Unclassified, format!("unreadable result {text}")))
        })
        .collect()
}

/// V8's errors in the shared classification, by message (V8 11.3's wording; first match).
fn classify(error: &JsError) -> Trap {
    use TrapKind::*;
    let message = format!("{}: {}", error.name, error.message);
    Trap::from_message(
        &message,
        &[
            ("Maximum call stack size exceeded", StackExhausted),
            ("Out of memory", ResourceLimit),
            ("Cannot allocate", ResourceLimit),
            ("unreachable", Unreachable),
            ("divide by zero", IntegerDivideByZero),
            ("remainder by zero", IntegerDivideByZero),
            ("divide result unrepresentable", IntegerOverflow),
            // V8 does not tell NaN from an out-of-range value.
            ("float unrepresentable", TruncationFailed),
            // Nor a null table entry from a signature mismatch.
            (
                "null function or function signature mismatch",
                IndirectCallFailed,
            ),
            ("function signature mismatch", IndirectCallTypeMismatch),
            ("dereferencing a null pointer", NullReference),
            ("illegal cast", CastFailure),
            ("array element access out of bounds", ArrayOutOfBounds),
            ("unaligned", UnalignedAtomic),
            ("table", TableOutOfBounds),
            ("element segment", TableOutOfBounds),
            ("out of bounds", MemoryOutOfBounds),
        ],
    )
}
