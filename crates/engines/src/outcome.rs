//! What an engine observed, in engine-neutral terms: every engine maps its own errors onto
//! these types in its own file, so the oracle compares like with like.

use std::fmt;

use serde::{Deserialize, Serialize};
use wasmdiff_gen::{Invocation, Value};

/// The shared trap classification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrapKind {
    Unreachable,
    IntegerDivideByZero,
    IntegerOverflow,
    InvalidConversion,
    MemoryOutOfBounds,
    TableOutOfBounds,
    IndirectCallTypeMismatch,
    /// `call_indirect` through a null table entry.
    UndefinedElement,
    NullReference,
    UnalignedAtomic,
    ArrayOutOfBounds,
    CastFailure,
    UncaughtException,
    /// A trap raised by a host function.
    HostError,
    /// Call-stack exhaustion: where it happens differs legitimately between engines.
    StackExhausted,
    /// A harness limit (memory, table, instance count) was hit.
    ResourceLimit,
    /// The engine's termination budget (fuel) ran out.
    OutOfFuel,
    /// An engine error the engine's file does not classify yet.
    Unclassified,
}

impl TrapKind {
    /// Outcomes whose exact point legitimately differs between engines: never a finding.
    pub fn is_inconclusive(&self) -> bool {
        matches!(
            self,
            TrapKind::StackExhausted | TrapKind::ResourceLimit | TrapKind::OutOfFuel
        )
    }

    pub fn name(&self) -> &'static str {
        match self {
            TrapKind::Unreachable => "unreachable",
            TrapKind::IntegerDivideByZero => "integer-divide-by-zero",
            TrapKind::IntegerOverflow => "integer-overflow",
            TrapKind::InvalidConversion => "invalid-conversion",
            TrapKind::MemoryOutOfBounds => "memory-out-of-bounds",
            TrapKind::TableOutOfBounds => "table-out-of-bounds",
            TrapKind::IndirectCallTypeMismatch => "indirect-call-type-mismatch",
            TrapKind::UndefinedElement => "undefined-element",
            TrapKind::NullReference => "null-reference",
            TrapKind::UnalignedAtomic => "unaligned-atomic",
            TrapKind::ArrayOutOfBounds => "array-out-of-bounds",
            TrapKind::CastFailure => "cast-failure",
            TrapKind::UncaughtException => "uncaught-exception",
            TrapKind::HostError => "host-error",
            TrapKind::StackExhausted => "stack-exhausted",
            TrapKind::ResourceLimit => "resource-limit",
            TrapKind::OutOfFuel => "out-of-fuel",
            TrapKind::Unclassified => "unclassified",
        }
    }
}

impl fmt::Display for TrapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A classified trap; the message is the engine's own words, for people, never compared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trap {
    pub kind: TrapKind,
    pub message: String,
}

impl Trap {
    pub fn new(kind: TrapKind, message: impl fmt::Display) -> Trap {
        Trap {
            kind,
            message: message.to_string(),
        }
    }

    /// The harness's limits refused a memory or table growth the module was entitled to.
    pub fn growth_refused() -> Trap {
        Trap::new(
            TrapKind::ResourceLimit,
            "growth refused by the harness limits",
        )
    }
}

/// What one call did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallOutcome {
    Returned(Vec<Value>),
    Trapped(Trap),
}

impl CallOutcome {
    pub fn is_inconclusive(&self) -> bool {
        matches!(self, CallOutcome::Trapped(t) if t.kind.is_inconclusive())
    }
}

impl fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallOutcome::Returned(values) if values.is_empty() => f.write_str("returned"),
            CallOutcome::Returned(values) => {
                let values: Vec<String> = values.iter().map(Value::to_string).collect();
                write!(f, "{}", values.join(" "))
            }
            CallOutcome::Trapped(trap) => write!(f, "trap {}", trap.kind),
        }
    }
}

/// The contents of an exported item after the calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExportValue {
    Memory(Vec<u8>),
    Global(Value),
    Table(Vec<Value>),
}

impl fmt::Display for ExportValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportValue::Memory(bytes) => write!(
                f,
                "memory of {} bytes, digest {:016x}",
                bytes.len(),
                fnv1a(bytes)
            ),
            ExportValue::Global(value) => write!(f, "global {value}"),
            ExportValue::Table(elements) => {
                let null = elements
                    .iter()
                    .filter(|v| matches!(v, Value::Ref { null: true, .. }))
                    .count();
                write!(f, "table of {} elements ({null} null)", elements.len())
            }
        }
    }
}

/// FNV-1a: a stable digest for printing memory images (not used for comparison).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// An exported memory, global or table, by export name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportState {
    pub name: String,
    pub value: ExportValue,
}

/// Everything an engine observed for one test case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "kebab-case")]
pub enum Execution {
    /// The engine refused the module.
    Rejected { message: String },
    /// Instantiation failed (a trap in a segment initializer or the start function, or a limit).
    InstantiationFailed { trap: Trap },
    /// Instantiated: each call's outcome in order, then the exported state sorted by name.
    /// Calls stop after the first inconclusive outcome, and then no state is taken.
    Ran {
        calls: Vec<CallOutcome>,
        exports: Vec<ExportState>,
    },
    /// A proxy-wasm filter went through a scenario: every callback and host call, and the
    /// final state.
    Traced { trace: wasmdiff_proxy::Trace<Trap> },
    /// The engine itself failed (a panic, or a crashed worker): always a finding.
    Crashed { message: String },
}

impl Execution {
    /// A one-line summary for progress output and tables.
    pub fn summary(&self) -> String {
        match self {
            Execution::Rejected { message } => format!("rejected: {message}"),
            Execution::InstantiationFailed { trap } => format!("instantiation trap {}", trap.kind),
            Execution::Ran { calls, .. } => format!("ran {} calls", calls.len()),
            Execution::Traced { trace } => {
                format!("ran {} callbacks and host calls", trace.events.len())
            }
            Execution::Crashed { message } => format!("crashed: {message}"),
        }
    }
}

/// An instantiated module, as each engine provides it to [`drive`] (and, for proxy-wasm
/// runs, to the proxy driver through [`crate::proxy::ProxyVm`]).
pub trait Instance {
    /// Sets the termination budget for the next call.
    fn refuel(&mut self, fuel: u64) -> Result<(), String>;
    /// Calls an export: its results, or the engine's trap in the shared classification.
    fn call(&mut self, export: &str, args: &[Value]) -> Result<Vec<Value>, Trap>;
    /// Whether the harness limits refused a growth since the last time this was asked.
    fn growth_refused(&mut self) -> bool;
    /// Every exported memory, global and table, in any order.
    fn exports(&mut self) -> Vec<ExportState>;
    fn has_function(&mut self, name: &str) -> bool;
    /// The proxy-wasm host of a filter's instance.
    fn host(&mut self) -> &mut wasmdiff_proxy::Host;
}

/// One call with a full fuel budget. A refused growth shows as `-1` or a trap: either way not
/// the module's own doing, so it is reported as the harness limit it is.
pub fn call_with_budget(
    instance: &mut dyn Instance,
    export: &str,
    args: &[Value],
    fuel: u64,
) -> Result<Vec<Value>, Trap> {
    let result = match instance.refuel(fuel) {
        Ok(()) => instance.call(export, args),
        Err(e) => Err(Trap::new(TrapKind::HostError, e)),
    };
    if instance.growth_refused() {
        return Err(Trap::growth_refused());
    }
    result
}

/// Runs the invocations in order on an instance, each with a full fuel budget: the part of
/// execution every engine shares.
pub fn drive(instance: &mut dyn Instance, invocations: &[Invocation], fuel: u64) -> Execution {
    let mut calls = Vec::with_capacity(invocations.len());
    for invocation in invocations {
        let outcome = match call_with_budget(instance, &invocation.export, &invocation.args, fuel) {
            Ok(values) => CallOutcome::Returned(values),
            Err(trap) => CallOutcome::Trapped(trap),
        };
        let stop = outcome.is_inconclusive();
        calls.push(outcome);
        if stop {
            return Execution::Ran {
                calls,
                exports: Vec::new(),
            };
        }
    }
    let mut exports = instance.exports();
    exports.sort_by(|a, b| a.name.cmp(&b.name));
    Execution::Ran { calls, exports }
}
