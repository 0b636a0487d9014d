//! Isolation: an engine run in a worker process under a supervisor. The worker is this same
//! program started again with `WASMDIFF_WORKER` set (or the `wasmdiff` binary); it builds the
//! named engine and answers jobs. A worker that dies, hangs or outgrows its memory cap is
//! reported as a crash of that kind, and a fresh worker takes the next job.
//!
//! Protocol, in frames (see [`super::process`]): the supervisor sends a JSON [`Hello`] and the
//! worker answers a JSON `Result<(), String>`; then for each batch of jobs the supervisor sends
//! the JSON list of their [`Plan`]s and then each job's raw module bytes, and the worker, once it
//! has read them all, answers the JSON [`Execution`] of each job in turn.

use std::env;
use std::fs::File;
use std::io;
use std::os::fd::FromRawFd;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::process::{Child, Failure, read_frame, write_frame};
use super::{Remote, Sent};
use crate::lineup::catch_panic;
use crate::outcome::{CrashKind, Execution, ExportValue};
use crate::progress::{self, Progress, Stage};
use crate::{EngineSpec, Job, Limits};
use wasmdiff_gen::Plan;

/// Set (to anything) in a worker's environment.
pub const WORKER_ENV: &str = "WASMDIFF_WORKER";
/// The program to start workers from, when this program cannot serve as one.
pub const WORKER_BIN_ENV: &str = "WASMDIFF_WORKER_BIN";

/// Whether this program serves as a worker when started as one.
static CAN_SERVE: AtomicBool = AtomicBool::new(false);

#[derive(Serialize, Deserialize)]
struct Hello {
    engine: String,
    limits: Limits,
}

/// Programs that host engines (the CLI, fuzz targets) call this first thing: started as a
/// worker, the program serves jobs and exits here; started to become a program that dies with
/// its parent, it becomes that program; otherwise it can now start its own workers from
/// itself.
pub fn serve_if_requested() {
    super::process::exec_if_requested();
    CAN_SERVE.store(true, Ordering::Relaxed);
    if env::var_os(WORKER_ENV).is_none() {
        return;
    }
    // Engines in C recurse on the native stack: give them room, as the main thread would.
    let served = std::thread::Builder::new()
        .name("wasmdiff-worker".into())
        .stack_size(WORKER_STACK)
        .spawn(serve)
        .map_err(anyhow::Error::from)
        .and_then(|thread| {
            thread
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("panicked")))
        });
    let code = match served {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("wasmdiff worker: {e:#}");
            2
        }
    };
    std::process::exit(code);
}

/// The stack of the thread that serves jobs in a worker.
const WORKER_STACK: usize = 64 << 20;

fn serve() -> anyhow::Result<()> {
    progress::attach();
    // Frames go to the original stdout; whatever an engine prints goes to stderr instead.
    // SAFETY: plain descriptor duplication; fd 1 and 2 are open in a worker (piped).
    let frames_fd = unsafe { libc::dup(1) };
    anyhow::ensure!(
        frames_fd >= 0 && unsafe { libc::dup2(2, 1) } >= 0,
        "cannot set up the worker's output"
    );
    // SAFETY: `frames_fd` was just duplicated and is owned by nothing else.
    let mut output = unsafe { File::from_raw_fd(frames_fd) };
    let mut input = io::stdin().lock();
    let hello: Hello = serde_json::from_slice(
        &read_frame(&mut input)?.context("the supervisor sent no handshake")?,
    )?;
    let spec = crate::all()
        .into_iter()
        .find(|s| s.name == hello.engine)
        .with_context(|| format!("no engine `{}` in this build", hello.engine))?;
    let mut engine = match catch_panic(|| (spec.build)(&hello.limits)) {
        Ok(Ok(engine)) => {
            write_frame(&mut output, &serde_json::to_vec(&Ok::<(), String>(()))?)?;
            engine
        }
        Ok(Err(e)) => {
            let refusal: Result<(), String> = Err(format!("{e:#}"));
            return Ok(write_frame(&mut output, &serde_json::to_vec(&refusal)?)?);
        }
        Err(panic) => {
            let refusal: Result<(), String> = Err(panic);
            return Ok(write_frame(&mut output, &serde_json::to_vec(&refusal)?)?);
        }
    };
    while let Some(plans) = read_frame(&mut input)? {
        let plans: Vec<Plan> = serde_json::from_slice(&plans).context("unreadable plans")?;
        // The whole batch is read before any answer goes out: a supervisor still sending
        // cannot be blocked by answers it is not yet reading.
        let modules = (0..plans.len())
            .map(|_| read_frame(&mut input)?.context("a plan without its module"))
            .collect::<anyhow::Result<Vec<_>>>()?;
        for (plan, module) in plans.iter().zip(&modules) {
            progress::mark(Stage::Compile);
            let mut execution = match catch_panic(|| engine.run(module, plan)) {
                Ok(execution) => execution,
                Err(message) => {
                    // The engine may be left in any state: start it afresh.
                    engine = (spec.build)(&hello.limits)?;
                    Execution::panicked(message)
                }
            };
            digest_large_memories(&mut execution, hello.limits.memory_bytes);
            write_frame(&mut output, &serde_json::to_vec(&execution)?)?;
        }
    }
    Ok(())
}

/// Memories larger than the harness allows (grown by an engine that ignores the cap, or its
/// module's maximum) travel as their digests: comparison needs no more.
fn digest_large_memories(execution: &mut Execution, limit: usize) {
    if let Execution::Ran { exports, .. } = execution {
        for export in exports {
            if let ExportValue::Memory(bytes) = &export.value
                && bytes.len() > limit
                && let Some((items, digest)) = export.value.digest()
            {
                export.value = ExportValue::Digest { items, digest };
            }
        }
    }
}

/// The command that starts a worker.
fn worker_command() -> Result<Command, String> {
    let mut command = Command::new(helper_program()?);
    command.env(WORKER_ENV, "1");
    Ok(command)
}

/// The program that serves as a worker (and starts programs that die with their parent, see
/// [`super::process`]): this program if it can serve, else the program named by
/// `WASMDIFF_WORKER_BIN`, else a `wasmdiff` binary beside this one (or one directory up, as
/// from cargo's `deps/`).
pub(crate) fn helper_program() -> Result<PathBuf, String> {
    let program = if let Some(bin) = env::var_os(WORKER_BIN_ENV) {
        PathBuf::from(bin)
    } else {
        let this = env::current_exe().map_err(|e| format!("cannot locate this program: {e}"))?;
        if CAN_SERVE.load(Ordering::Relaxed) {
            this
        } else {
            let dir = this.parent().map(PathBuf::from).unwrap_or_default();
            [dir.join("wasmdiff"), dir.join("..").join("wasmdiff")]
                .into_iter()
                .find(|p| p.is_file())
                .ok_or_else(|| {
                    format!(
                        "no wasmdiff binary to start workers from near {}: build it \
                         (cargo build --release) or set {WORKER_BIN_ENV}",
                        this.display()
                    )
                })?
        }
    };
    Ok(program)
}

/// An engine in a worker process, seen from the supervisor.
pub struct Worker {
    spec: &'static EngineSpec,
    limits: Limits,
    child: Option<Child>,
    /// Children started so far: a job sent to a child that has died since runs again.
    generation: u64,
    /// Where the child's job has got to, read when the child fails.
    progress: Progress,
}

impl Worker {
    /// Starts a worker for `spec` (failing if none can start).
    pub fn new(spec: &'static EngineSpec, limits: &Limits) -> anyhow::Result<Worker> {
        let mut worker = Worker {
            spec,
            limits: *limits,
            child: None,
            generation: 0,
            progress: Progress::new().context("cannot share a progress word with a worker")?,
        };
        worker
            .child()
            .map_err(|e| anyhow::anyhow!("{}", e.summary()))?;
        Ok(worker)
    }

    /// The running child, starting one (and shaking hands) if there is none.
    fn child(&mut self) -> Result<&mut Child, Execution> {
        if self.child.is_none() {
            self.child = Some(self.spawn().map_err(|message| {
                Execution::crashed(
                    CrashKind::Died,
                    format!("the worker did not start: {message}"),
                    Stage::Compile,
                )
            })?);
            self.generation += 1;
        }
        Ok(self.child.as_mut().expect("just started"))
    }

    fn spawn(&self) -> Result<Child, String> {
        let mut command = worker_command()?;
        self.progress.share_with(&mut command);
        let mut child = Child::spawn(command).map_err(|e| e.to_string())?;
        let hello = serde_json::to_vec(&Hello {
            engine: self.spec.name.to_string(),
            limits: self.limits,
        })
        .map_err(|e| e.to_string())?;
        let deadline = Instant::now()
            + self
                .limits
                .deadline()
                .max(std::time::Duration::from_secs(30));
        let answer = child
            .send(&[&hello])
            .and_then(|()| child.receive(deadline, self.limits.process_memory_bytes))
            .map_err(|f| f.message)?;
        match serde_json::from_slice::<Result<(), String>>(&answer) {
            Ok(Ok(())) => Ok(child),
            Ok(Err(refusal)) => Err(refusal),
            Err(e) => Err(format!("unreadable handshake: {e}")),
        }
    }

    /// The crash that ended the child, where its job had got to; the next job gets a new
    /// child.
    fn lost(&mut self, failure: Failure) -> Execution {
        self.child = None;
        Execution::crashed(failure.kind, failure.message, self.progress.stage())
    }
}

impl Remote for Worker {
    /// The child the job went to.
    type Pending = u64;

    /// One frame of plans, then the modules: the child reads the whole batch before it
    /// answers. A child that cannot take it is blamed on the first job; the others go again.
    fn send(&mut self, jobs: &[Job]) -> Vec<Sent<u64>> {
        let plans: Vec<&Plan> = jobs.iter().map(|job| job.plan).collect();
        let plans = serde_json::to_vec(&plans).expect("jobs serialize");
        let mut frames: Vec<&[u8]> = vec![&plans];
        frames.extend(jobs.iter().map(|job| job.module));
        self.progress.reset();
        let mut first = match self.child() {
            Err(crashed) => Some(crashed),
            Ok(child) => match child.send(&frames) {
                Ok(()) => None,
                Err(failure) => Some(self.lost(failure)),
            },
        };
        jobs.iter()
            .map(|_| match first.take() {
                Some(crashed) => Sent::Done(crashed),
                None => Sent::Away(self.generation),
            })
            .collect()
    }

    fn receive(&mut self, generation: u64, _: Job) -> Option<Execution> {
        if generation != self.generation || self.child.is_none() {
            return None;
        }
        let deadline = Instant::now() + self.limits.deadline();
        let cap = self.limits.process_memory_bytes;
        let answer = self.child.as_mut()?.receive(deadline, cap);
        Some(match answer {
            Ok(frame) => serde_json::from_slice(&frame).unwrap_or_else(|e| {
                self.lost(Failure {
                    kind: CrashKind::BadAnswer,
                    message: format!("the worker answered something unreadable: {e}"),
                })
            }),
            // The child died on this job, the first it owed.
            Err(failure) => self.lost(failure),
        })
    }
}
