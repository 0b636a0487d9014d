//! The options that choose engines and how they run, shared by the commands that run them.

use clap::Args;
use wasmdiff_engines::{EngineSpec, Limits};
use wasmdiff_harness::Target;

#[derive(Args)]
pub struct EngineArgs {
    /// Engine configurations, comma-separated (see `wasmdiff engines`; `default`, `all`).
    #[arg(long, default_value = "default")]
    engines: String,
    /// Run every engine in a worker process, so that no engine failure can stop wasmdiff
    /// (engines in C always run so).
    #[arg(long)]
    isolate: bool,
    /// Seconds an engine in another process gets per test case before it counts as hung.
    #[arg(long, default_value_t = Limits::default().deadline_ms / 1000)]
    deadline: u64,
}

impl EngineArgs {
    /// The engines named, for test cases of `target`.
    pub fn specs(&self, target: Target) -> anyhow::Result<Vec<&'static EngineSpec>> {
        target.parse_engines(&self.engines)
    }

    /// Whether the list asks for the default lineup (so engines missing from it matter).
    pub fn names_defaults(&self) -> bool {
        self.engines.split(',').any(|name| name.trim() == "default")
    }

    pub fn limits(&self) -> anyhow::Result<Limits> {
        anyhow::ensure!(self.deadline >= 1, "--deadline must be at least 1 second");
        Ok(Limits {
            isolate_all: self.isolate,
            deadline_ms: self.deadline * 1000,
            ..Limits::default()
        })
    }
}
