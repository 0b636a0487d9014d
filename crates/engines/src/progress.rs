//! Where an engine is in a test case, kept where a crash cannot take it away: in a thread
//! local for engines in this process (read after a caught panic), and for engines in another
//! process in a word of memory shared with the supervisor (read after the process died, hung
//! or ran out of memory). Marking costs a store, no system call.

use std::cell::Cell;
use std::fmt;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::process::Command;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// A step of a run, as far as an engine got.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Decoding, validating, compiling (also where a run starts).
    #[default]
    Compile,
    Instantiate,
    /// The call at this index of the plan.
    Call(usize),
    /// Reading the exported memories, globals and tables after the calls.
    Exports,
    /// The proxy-wasm callback that would be trace event this index.
    Event(usize),
}

impl Stage {
    fn encode(self) -> u64 {
        let (tag, index) = match self {
            Stage::Compile => (1, 0),
            Stage::Instantiate => (2, 0),
            Stage::Call(i) => (3, i),
            Stage::Exports => (4, 0),
            Stage::Event(i) => (5, i),
        };
        tag << 56 | (index as u64 & ((1 << 56) - 1))
    }

    fn decode(word: u64) -> Stage {
        let index = (word & ((1 << 56) - 1)) as usize;
        match word >> 56 {
            2 => Stage::Instantiate,
            3 => Stage::Call(index),
            4 => Stage::Exports,
            5 => Stage::Event(index),
            _ => Stage::Compile,
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::Compile => f.write_str("compile"),
            Stage::Instantiate => f.write_str("instantiate"),
            Stage::Call(i) => write!(f, "call #{i}"),
            Stage::Exports => f.write_str("reading exports"),
            Stage::Event(i) => write!(f, "trace event #{i}"),
        }
    }
}

thread_local! {
    static HERE: Cell<Stage> = const { Cell::new(Stage::Compile) };
}

/// The word shared with the supervisor, in a worker process (null elsewhere).
static SHARED: AtomicPtr<AtomicU64> = AtomicPtr::new(std::ptr::null_mut());

/// Records that the engine on this thread has reached `stage`.
pub fn mark(stage: Stage) {
    HERE.set(stage);
    let shared = SHARED.load(Ordering::Relaxed);
    if !shared.is_null() {
        // SAFETY: set once by `attach` to a mapping that lives as long as the process.
        unsafe { &*shared }.store(stage.encode(), Ordering::Relaxed);
    }
}

/// The last stage marked on this thread.
pub fn current() -> Stage {
    HERE.get()
}

/// The file descriptor a child finds its progress word on.
const CHILD_FD: RawFd = 3;
/// Set in a child's environment when it has a progress word.
const ENV: &str = "WASMDIFF_PROGRESS_FD";

/// The supervisor's side: a word of shared memory a child process marks its stages in.
pub struct Progress {
    file: OwnedFd,
    word: &'static AtomicU64,
}

impl Progress {
    pub fn new() -> std::io::Result<Progress> {
        // SAFETY: plain system calls; every result is checked before use.
        unsafe {
            let fd = libc::memfd_create(c"wasmdiff-progress".as_ptr(), libc::MFD_CLOEXEC);
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let file = OwnedFd::from_raw_fd(fd);
            let word = map(fd).ok_or_else(std::io::Error::last_os_error)?;
            Ok(Progress { file, word })
        }
    }

    /// Hands the word to the child `command` will start.
    pub fn share_with(&self, command: &mut Command) {
        use std::os::unix::process::CommandExt;
        let fd = self.file.as_raw_fd();
        command.env(ENV, CHILD_FD.to_string());
        // SAFETY: dup2 and fcntl are async-signal-safe. A duplicate is not close-on-exec; the
        // descriptor itself is, so if it already is the child's, that flag is cleared.
        unsafe {
            command.pre_exec(move || {
                let done = match fd == CHILD_FD {
                    true => libc::fcntl(fd, libc::F_SETFD, 0),
                    false => libc::dup2(fd, CHILD_FD),
                };
                match done {
                    -1 => Err(std::io::Error::last_os_error()),
                    _ => Ok(()),
                }
            });
        }
    }

    /// Starts a job: nothing marked yet.
    pub fn reset(&self) {
        self.word.store(Stage::Compile.encode(), Ordering::Relaxed);
    }

    /// The last stage the child marked.
    pub fn stage(&self) -> Stage {
        Stage::decode(self.word.load(Ordering::Relaxed))
    }
}

/// Maps a progress file's word, growing the file to hold it; `None` on failure. The mapping
/// is never unmapped: a few bytes per worker for the life of the process.
///
/// # Safety
/// `fd` must be an open file descriptor.
unsafe fn map(fd: RawFd) -> Option<&'static AtomicU64> {
    let size = std::mem::size_of::<AtomicU64>();
    // SAFETY: the caller's descriptor; a fresh shared mapping of `size` bytes.
    unsafe {
        if libc::ftruncate(fd, size as libc::off_t) != 0 {
            return None;
        }
        let at = libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd,
            0,
        );
        (at != libc::MAP_FAILED).then(|| &*(at as *const AtomicU64))
    }
}

/// A child's side: marks go to the word its supervisor shared, if it shared one.
pub fn attach() {
    if std::env::var(ENV)
        .ok()
        .and_then(|v| v.parse::<RawFd>().ok())
        != Some(CHILD_FD)
    {
        return;
    }
    // SAFETY: the supervisor put the progress file on this descriptor before starting us.
    if let Some(word) = unsafe { map(CHILD_FD) } {
        SHARED.store(std::ptr::from_ref(word).cast_mut(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_survive_the_shared_word() {
        for stage in [
            Stage::Compile,
            Stage::Instantiate,
            Stage::Call(0),
            Stage::Call(41),
            Stage::Exports,
            Stage::Event(7),
        ] {
            assert_eq!(Stage::decode(stage.encode()), stage);
        }
        let progress = Progress::new().unwrap();
        progress
            .word
            .store(Stage::Call(3).encode(), Ordering::Relaxed);
        assert_eq!(progress.stage(), Stage::Call(3));
        progress.reset();
        assert_eq!(progress.stage(), Stage::Compile);
    }
}
