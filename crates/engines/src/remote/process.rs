//! Engines in other processes: a child spoken to in length-prefixed frames (a little-endian
//! `u32` length, then the bytes) over its stdin and stdout, watched for death, a deadline and a
//! memory cap. Whatever ends a child is reported as a [`Failure`] of the matching
//! [`CrashKind`]; the caller starts a new child for the next job.

use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::ExitStatusExt;
use std::process::{ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::outcome::CrashKind;

/// Why a child gave no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub kind: CrashKind,
    pub message: String,
}

/// How often a waiting supervisor looks at the child's memory.
const POLL: Duration = Duration::from_millis(20);
/// The end of the child's stderr kept for crash messages.
const STDERR_TAIL: usize = 2048;

pub struct Child {
    process: std::process::Child,
    /// `None` only while the child is being dropped (closing it asks the child to end).
    stdin: Option<ChildStdin>,
    /// Read by the waiting caller itself (no thread in between: one wake-up less per answer).
    stdout: ChildStdout,
    /// Bytes read from stdout and not yet taken as frames.
    unread: Vec<u8>,
    stderr: Arc<Mutex<Vec<u8>>>,
    stderr_reader: Option<JoinHandle<()>>,
}

/// Makes the child `command` starts die with the thread that starts it, so that no engine
/// process outlives the process it works for (a libFuzzer fork-mode child, a campaign) even
/// while it is busy on a job that never ends. Each lineup's children are started and spoken to
/// by the one thread that owns the lineup.
fn dies_with_its_parent(command: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: prctl, getppid and _exit are async-signal-safe.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before the request was made.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        })
    }
}

/// Set in the environment of a program that serves as a worker ([`super::worker`]) when it
/// is started only to become another program that dies with its parent: the parent's process
/// id, and the other program's command line as a JSON array of strings.
const EXEC_PARENT_ENV: &str = "WASMDIFF_EXEC_PARENT";
const EXEC_ENV: &str = "WASMDIFF_EXEC";

/// The byte a program started by [`spawned_to_die_with_its_parent`] writes to its stdout once
/// it will die with its parent, before it becomes the program asked for.
const READY: u8 = b'!';

/// [`dies_with_its_parent`] for a program started once per job, without forking this
/// process: the program that serves as a worker is started instead (spawned the way a
/// `pre_exec` hook forbids, without a copy of this process's page tables, which are large once
/// engines have compiled code in it: a default campaign ran 1.07x as fast, median of six paired
/// rounds, than with a fork per WABT batch), asks to die with the thread starting it, checks that its parent is alive,
/// writes [`READY`] and becomes `command` ([`exec_if_requested`]). Whether it does is the
/// second value: the caller must read that byte before the thread may end. Without such a
/// program, or for a command line that is not text, the hook it is.
fn spawned_to_die_with_its_parent(mut command: Command) -> (Command, bool) {
    let argv: Option<Vec<String>> = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|arg| arg.to_str().map(str::to_string))
        .collect();
    let (Ok(helper), Some(argv)) = (super::worker::helper_program(), argv) else {
        dies_with_its_parent(&mut command);
        return (command, false);
    };
    let mut started = Command::new(helper);
    started
        .env(EXEC_PARENT_ENV, std::process::id().to_string())
        .env(
            EXEC_ENV,
            serde_json::to_string(&argv).expect("strings serialize"),
        );
    if let Some(dir) = command.get_current_dir() {
        started.current_dir(dir);
    }
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => started.env(name, value),
            None => started.env_remove(name),
        };
    }
    (started, true)
}

/// Started by [`spawned_to_die_with_its_parent`], this program asks to die with its parent,
/// exits if the parent is gone already, and becomes the program it was asked to start; it
/// never returns then. Otherwise it does nothing.
pub(crate) fn exec_if_requested() {
    use std::os::unix::process::CommandExt;
    let (Ok(parent), Ok(argv)) = (std::env::var(EXEC_PARENT_ENV), std::env::var(EXEC_ENV)) else {
        return;
    };
    let parent: Option<libc::pid_t> = parent.parse().ok();
    let argv: Vec<String> = serde_json::from_str(&argv).unwrap_or_default();
    let (Some(parent), Some((program, args))) = (parent, argv.split_first()) else {
        eprintln!("wasmdiff: unreadable {EXEC_PARENT_ENV} or {EXEC_ENV}");
        std::process::exit(127);
    };
    // SAFETY: prctl and getppid have no memory effects.
    unsafe {
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 || libc::getppid() != parent {
            std::process::exit(1);
        }
    }
    if io::stdout()
        .write_all(&[READY])
        .and_then(|()| io::stdout().flush())
        .is_err()
    {
        std::process::exit(1);
    }
    let error = Command::new(program)
        .args(args)
        .env_remove(EXEC_PARENT_ENV)
        .env_remove(EXEC_ENV)
        .exec();
    eprintln!("wasmdiff: cannot run {program}: {error}");
    std::process::exit(127);
}

impl Child {
    /// Starts `command` with piped stdin, stdout and stderr.
    pub fn spawn(mut command: Command) -> io::Result<Child> {
        let mut process = dies_with_its_parent(&mut command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdin = process.stdin.take();
        let stdout = process.stdout.take().expect("piped stdout");
        let mut stderr = process.stderr.take().expect("piped stderr");
        // A chatty child must never block on a full stderr pipe: a thread drains it.
        let tail = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&tail);
        let stderr_reader = std::thread::Builder::new()
            .name("wasmdiff-child-stderr".into())
            .spawn(move || {
                let mut chunk = [0u8; 1024];
                while let Ok(n @ 1..) = stderr.read(&mut chunk) {
                    let mut tail = kept.lock().unwrap();
                    tail.extend_from_slice(&chunk[..n]);
                    let excess = tail.len().saturating_sub(STDERR_TAIL);
                    tail.drain(..excess);
                }
            })?;
        Ok(Child {
            process,
            stdin,
            stdout,
            unread: Vec::new(),
            stderr: tail,
            stderr_reader: Some(stderr_reader),
        })
    }

    /// Sends frames; if the child cannot take them, it died, and this says how.
    pub fn send(&mut self, frames: &[&[u8]]) -> Result<(), Failure> {
        let mut message = Vec::with_capacity(frames.iter().map(|f| f.len() + 4).sum());
        for frame in frames {
            message.extend_from_slice(&(frame.len() as u32).to_le_bytes());
            message.extend_from_slice(frame);
        }
        let stdin = self
            .stdin
            .as_mut()
            .expect("open until the child is dropped");
        match stdin.write_all(&message).and_then(|()| stdin.flush()) {
            Ok(()) => Ok(()),
            Err(_) => Err(self.death()),
        }
    }

    /// The child's next frame, unless it dies, misses `deadline` or outgrows `memory_cap`
    /// bytes of resident memory first (then it is killed).
    pub fn receive(&mut self, deadline: Instant, memory_cap: u64) -> Result<Vec<u8>, Failure> {
        loop {
            if let Some(frame) = self.take_frame() {
                return Ok(frame);
            }
            let wait = deadline.saturating_duration_since(Instant::now()).min(POLL);
            let mut ready = libc::pollfd {
                fd: self.stdout.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd, for the duration of the call.
            let polled = unsafe { libc::poll(&mut ready, 1, wait.as_millis() as libc::c_int) };
            if polled > 0 {
                let mut chunk = [0u8; 64 * 1024];
                match self.stdout.read(&mut chunk) {
                    Ok(0) | Err(_) => return Err(self.death()),
                    Ok(n) => self.unread.extend_from_slice(&chunk[..n]),
                }
                continue;
            }
            if let Some(resident) = resident_bytes(self.process.id()).filter(|r| *r > memory_cap) {
                self.kill();
                return Err(out_of_memory(resident, memory_cap));
            }
            if Instant::now() >= deadline {
                self.kill();
                return Err(hang());
            }
        }
    }

    /// A whole frame from the bytes read so far, if there is one.
    fn take_frame(&mut self) -> Option<Vec<u8>> {
        let length = u32::from_le_bytes(self.unread.get(..4)?.try_into().ok()?) as usize;
        let frame = self.unread.get(4..4 + length)?.to_vec();
        self.unread.drain(..4 + length);
        Some(frame)
    }

    fn kill(&mut self) {
        self.process.kill().ok();
        self.process.wait().ok();
    }

    /// How the child ended (it closed its output or its input): its exit status and the last
    /// lines it wrote to stderr.
    fn death(&mut self) -> Failure {
        let status = wait_briefly(&mut self.process);
        if let Some(reader) = self.stderr_reader.take() {
            reader.join().ok();
        }
        let tail = String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned();
        let last_lines: Vec<&str> = tail
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .rev()
            .take(3)
            .collect();
        let said = last_lines.into_iter().rev().collect::<Vec<_>>().join(" | ");
        let how = match status {
            Some(status) => describe(status),
            None => "closed its output but kept running (killed)".to_string(),
        };
        Failure {
            kind: CrashKind::Died,
            message: if said.is_empty() {
                how
            } else {
                format!("{how}; it said: {said}")
            },
        }
    }
}

impl Drop for Child {
    /// An idle child ends by itself when its input closes, and so writes out what a process
    /// writes at its exit (a coverage build's profile); one that does not end soon is killed.
    fn drop(&mut self) {
        self.stdin = None;
        wait_briefly(&mut self.process);
    }
}

/// A process's resident memory, from `/proc` (Linux).
fn resident_bytes(pid: u32) -> Option<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).unwrap_or(4096))
}

fn out_of_memory(resident: u64, cap: u64) -> Failure {
    Failure {
        kind: CrashKind::OutOfMemory,
        message: format!(
            "resident memory reached {} MiB, over the cap of {} MiB",
            resident >> 20,
            cap >> 20
        ),
    }
}

fn hang() -> Failure {
    Failure {
        kind: CrashKind::Hang,
        message: "no answer before the deadline".to_string(),
    }
}

/// The exit status of a child that is ending, or `None` (and killed) if it does not end soon.
fn wait_briefly(process: &mut std::process::Child) -> Option<ExitStatus> {
    let give_up = Instant::now() + Duration::from_secs(2);
    loop {
        match process.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < give_up => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                process.kill().ok();
                process.wait().ok();
                return None;
            }
        }
    }
}

/// How a process ended, in words.
pub fn describe(status: ExitStatus) -> String {
    match (status.signal(), status.code()) {
        (Some(signal), _) => {
            let name = match signal {
                libc::SIGSEGV => "SIGSEGV",
                libc::SIGABRT => "SIGABRT",
                libc::SIGBUS => "SIGBUS",
                libc::SIGILL => "SIGILL",
                libc::SIGFPE => "SIGFPE",
                libc::SIGKILL => "SIGKILL",
                libc::SIGTRAP => "SIGTRAP",
                libc::SIGTERM => "SIGTERM",
                _ => "signal",
            };
            format!("killed by signal {signal} ({name})")
        }
        (None, Some(code)) => format!("exited with status {code}"),
        (None, None) => "ended".to_string(),
    }
}

/// Reads one frame; `None` at a clean end of input.
pub fn read_frame(input: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut length = [0u8; 4];
    match input.read_exact(&mut length) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut frame = vec![0u8; u32::from_le_bytes(length) as usize];
    input.read_exact(&mut frame)?;
    Ok(Some(frame))
}

/// Writes one frame, in one write.
pub fn write_frame(output: &mut impl Write, frame: &[u8]) -> io::Result<()> {
    let mut bytes = Vec::with_capacity(4 + frame.len());
    bytes.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    bytes.extend_from_slice(frame);
    output.write_all(&bytes)?;
    output.flush()
}

/// A program run to completion for one job (WABT's tools), watched like a [`Child`].
pub struct Run {
    process: std::process::Child,
    /// Everything the program wrote, once it closes its output.
    output: Receiver<(Vec<u8>, Vec<u8>)>,
}

impl Run {
    /// Starts `command` with its output captured.
    pub fn spawn(command: Command) -> io::Result<Run> {
        let program = command.get_program().to_owned();
        let (mut command, announces) = spawned_to_die_with_its_parent(command);
        let mut process = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let mut stdout = process.stdout.take().expect("piped stdout");
        let mut stderr = process.stderr.take().expect("piped stderr");
        let mut ready = [0u8];
        if announces && (stdout.read_exact(&mut ready).is_err() || ready[0] != READY) {
            process.kill().ok();
            let mut why = Vec::new();
            stderr.read_to_end(&mut why).ok();
            process.wait().ok();
            return Err(io::Error::other(format!(
                "{} did not start: {}",
                program.display(),
                String::from_utf8_lossy(&why).trim()
            )));
        }
        let (sender, output) = mpsc::channel();
        std::thread::Builder::new()
            .name("wasmdiff-run-output".into())
            .spawn(move || {
                let errors = std::thread::spawn(move || {
                    let mut text = Vec::new();
                    stderr.read_to_end(&mut text).ok();
                    text
                });
                let mut text = Vec::new();
                stdout.read_to_end(&mut text).ok();
                let errors = errors.join().unwrap_or_default();
                sender.send((text, errors)).ok();
            })?;
        Ok(Run { process, output })
    }

    /// The program's exit status, stdout and stderr, unless it misses `deadline` or outgrows
    /// `memory_cap` bytes of resident memory first (then it is killed).
    pub fn finish(
        mut self,
        deadline: Instant,
        memory_cap: u64,
    ) -> Result<(ExitStatus, Vec<u8>, Vec<u8>), Failure> {
        loop {
            let wait = deadline.saturating_duration_since(Instant::now()).min(POLL);
            match self.output.recv_timeout(wait) {
                Ok((stdout, stderr)) => {
                    let status = self.process.wait().map_err(|e| Failure {
                        kind: CrashKind::Died,
                        message: e.to_string(),
                    })?;
                    return Ok((status, stdout, stderr));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Failure {
                        kind: CrashKind::Died,
                        message: "its output could not be read".to_string(),
                    });
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            if let Some(resident) = resident_bytes(self.process.id()).filter(|r| *r > memory_cap) {
                self.process.kill().ok();
                self.process.wait().ok();
                return Err(out_of_memory(resident, memory_cap));
            }
            if Instant::now() >= deadline {
                self.process.kill().ok();
                self.process.wait().ok();
                return Err(hang());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The state letter of process `pid` in `/proc` (`Z` once it is dead and not yet reaped).
    fn state(pid: u32) -> Option<char> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        stat.rsplit_once(") ")?.1.chars().next()
    }

    #[test]
    fn a_dropped_child_ends_by_itself_when_it_can_and_is_killed_when_it_cannot() {
        let ended = std::env::temp_dir().join(format!("wasmdiff-ended-{}", std::process::id()));
        let mut polite = Command::new("sh");
        polite
            .arg("-c")
            .arg("cat > /dev/null; touch \"$0\"")
            .arg(&ended);
        drop(Child::spawn(polite).unwrap());
        assert!(
            std::fs::remove_file(&ended).is_ok(),
            "the child was killed before its own end"
        );

        let mut deaf = Command::new("sleep");
        deaf.arg("60");
        let deaf = Child::spawn(deaf).unwrap();
        let pid = deaf.process.id();
        drop(deaf);
        assert!(
            state(pid).is_none(),
            "a child that ignores its input outlived its handle"
        );
    }

    #[test]
    fn a_child_dies_with_the_thread_that_started_it() {
        // Neither handle is dropped (that would kill the child): only the thread ends.
        let started = std::thread::spawn(|| {
            let mut busy = Command::new("sleep");
            busy.arg("60");
            let child = Child::spawn(busy).unwrap();
            let mut also_busy = Command::new("sleep");
            also_busy.arg("60");
            let run = Run::spawn(also_busy).unwrap();
            let pids = (child.process.id(), run.process.id());
            std::mem::forget((child, run));
            pids
        });
        let (child, run) = started.join().unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while [child, run]
            .iter()
            .any(|&pid| state(pid).is_some_and(|s| s != 'Z'))
        {
            assert!(
                Instant::now() < deadline,
                "an engine process outlived its parent"
            );
            std::thread::sleep(POLL);
        }
    }
}
