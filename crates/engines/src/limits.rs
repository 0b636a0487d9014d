//! The limits every engine runs under, the same for all, and how engines in other processes
//! are supervised.

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest linear memory, in bytes.
    pub memory_bytes: usize,
    /// Largest table, in elements.
    pub table_elements: usize,
    /// Wasm call stack, in bytes (engines that count frames derive a depth from it).
    pub stack_bytes: usize,
    /// Termination budget per call, in the engine's fuel units.
    pub fuel: u64,
    /// Wall-clock time an engine in another process gets per job before it counts as hung
    /// (engines without fuel rely on it).
    pub deadline_ms: u64,
    /// Resident memory an engine's process may use before it counts as out of memory.
    pub process_memory_bytes: u64,
    /// Run every engine in a worker process, not only those that need one.
    pub isolate_all: bool,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            memory_bytes: 64 << 20,
            table_elements: 100_000,
            stack_bytes: 1 << 20,
            fuel: 20_000_000,
            deadline_ms: 10_000,
            process_memory_bytes: 2 << 30,
            isolate_all: false,
        }
    }
}

impl Limits {
    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.deadline_ms)
    }

    /// The limits for code known to end by itself (the corner sweep's single instructions,
    /// the spec suite's scripts): a fuel budget that only a runaway engine reaches. Some
    /// engines charge a bulk operation's whole length up front, before its bounds check
    /// (wasmtime 48: issues bytecodealliance/wasmtime#14161 and #14047), which the normal
    /// budget turns into running out of fuel where the instruction traps or fails.
    pub fn for_terminating_code(&self) -> Limits {
        Limits {
            fuel: 1 << 36,
            ..*self
        }
    }

    /// The native stack a thread that runs engines needs: room for the engines' own wasm
    /// stack limit plus the harness.
    pub fn thread_stack_bytes(&self) -> usize {
        self.stack_bytes * 4 + (8 << 20)
    }

    /// Call depth for engines that count frames rather than bytes.
    pub fn call_depth(&self) -> usize {
        self.stack_bytes / 256
    }
}

/// The growth policy engines plug into their resource-limiter hooks. It remembers whether it
/// refused anything: a refusal makes the outcome inconclusive rather than a `-1` to compare.
#[derive(Debug)]
pub struct GrowthCap {
    limits: Limits,
    refused: bool,
}

impl GrowthCap {
    pub fn new(limits: Limits) -> GrowthCap {
        GrowthCap {
            limits,
            refused: false,
        }
    }

    /// Whether a memory may grow to `desired` bytes, given its declared `maximum`.
    pub fn allow_memory(&mut self, desired: usize, maximum: Option<usize>) -> bool {
        self.check(desired, maximum, self.limits.memory_bytes)
    }

    /// Whether a table may grow to `desired` elements, given its declared `maximum`.
    pub fn allow_table(&mut self, desired: usize, maximum: Option<usize>) -> bool {
        self.check(desired, maximum, self.limits.table_elements)
    }

    fn check(&mut self, desired: usize, maximum: Option<usize>, limit: usize) -> bool {
        // Past the declared maximum, growth fails by the spec on every engine (some engines
        // ask the limiter first, some do not): that is no refusal of ours.
        if maximum.is_some_and(|max| desired > max) {
            return false;
        }
        let allowed = desired <= limit;
        self.refused |= !allowed;
        allowed
    }

    /// Whether anything was refused since the last call, resetting the flag.
    pub fn take_refused(&mut self) -> bool {
        std::mem::take(&mut self.refused)
    }
}
