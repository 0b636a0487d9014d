//! Coverage against inputs from one campaign, for `scripts/coverage --campaign`: in a build
//! with `-Cinstrument-coverage --cfg wasmdiff_coverage`, the process's profile is written to
//! `$WASMDIFF_COVERAGE_DIR/inputs-<n>.profraw` as the campaign passes 25, 50, 100, … inputs
//! and once more at its end.

use std::ffi::{CString, c_char, c_int};
use std::path::PathBuf;

use anyhow::Context;

unsafe extern "C" {
    // The profiler runtime that `-Cinstrument-coverage` links in.
    fn __llvm_profile_set_filename(name: *const c_char);
    fn __llvm_profile_write_file() -> c_int;
}

const FIRST: u64 = 25;

pub struct Snapshots {
    dir: Option<PathBuf>,
    next: u64,
    /// The first snapshot that could not be written, reported at the end.
    failed: Option<anyhow::Error>,
}

impl Snapshots {
    pub fn from_env() -> anyhow::Result<Snapshots> {
        let dir = std::env::var_os(crate::fuzz::COVERAGE_DIR_ENV).map(PathBuf::from);
        if let Some(dir) = &dir {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        Ok(Snapshots {
            dir,
            next: FIRST,
            failed: None,
        })
    }

    /// Called as the campaign goes: a snapshot each time the input count doubles.
    pub fn observe(&mut self, inputs: u64) {
        if self.dir.is_some() && inputs >= self.next {
            if let Err(e) = self.write(inputs) {
                self.failed.get_or_insert(e);
            }
            while self.next <= inputs {
                self.next *= 2;
            }
        }
    }

    /// The last snapshot, with every input; or the first that failed.
    pub fn finish(&mut self, inputs: u64) -> anyhow::Result<()> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        match self.dir {
            Some(_) => self.write(inputs),
            None => Ok(()),
        }
    }

    fn write(&self, inputs: u64) -> anyhow::Result<()> {
        let dir = self.dir.as_ref().expect("only with a directory");
        let path = dir.join(format!("inputs-{inputs}.profraw"));
        let name = CString::new(path.to_string_lossy().into_owned())?;
        // SAFETY: both are safe to call at any time; `name` is leaked (a few bytes a
        // snapshot) because the runtime may keep the pointer for its write at exit.
        let written = unsafe {
            __llvm_profile_set_filename(name.into_raw());
            __llvm_profile_write_file()
        };
        anyhow::ensure!(written == 0, "cannot write the profile {}", path.display());
        Ok(())
    }
}
