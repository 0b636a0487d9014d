//! What an engine observed, in engine-neutral terms: every engine maps its own errors onto
//! these types in its own file, so the oracle compares like with like.

use std::fmt;

use serde::{Deserialize, Serialize};
use wasmdiff_gen::proxy::HostProfile;
use wasmdiff_gen::{Invocation, Value};
use wasmdiff_proxy::HostTrap;

use crate::progress::{self, Stage};

/// The shared trap classification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrapKind {
    Unreachable,
    IntegerDivideByZero,
    IntegerOverflow,
    InvalidConversion,
    /// A float-to-integer truncation of NaN or of an out-of-range value, from an engine that
    /// does not say which.
    TruncationFailed,
    MemoryOutOfBounds,
    TableOutOfBounds,
    IndirectCallTypeMismatch,
    /// `call_indirect` through a null table entry.
    UndefinedElement,
    /// `call_indirect` through a null entry or to a function of another type, from an engine
    /// that does not say which.
    IndirectCallFailed,
    /// `call_indirect` through a null entry or past the table's end, from an engine that does
    /// not say which.
    IndirectCallMissing,
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
    /// The wall-clock deadline passed on every engine that ran the module (none has fuel).
    Timeout,
    /// An engine error the engine's file does not classify yet.
    Unclassified,
}

impl TrapKind {
    /// Outcomes whose exact point legitimately differs between engines: never a finding.
    pub fn is_inconclusive(&self) -> bool {
        matches!(
            self,
            TrapKind::StackExhausted
                | TrapKind::ResourceLimit
                | TrapKind::OutOfFuel
                | TrapKind::Timeout
        )
    }

    /// The finer kinds a coarse kind stands for (engines that cannot tell them apart report
    /// the coarse one).
    pub fn refinements(&self) -> &'static [TrapKind] {
        match self {
            TrapKind::IndirectCallFailed => &[
                TrapKind::UndefinedElement,
                TrapKind::IndirectCallTypeMismatch,
            ],
            TrapKind::IndirectCallMissing => {
                &[TrapKind::UndefinedElement, TrapKind::TableOutOfBounds]
            }
            TrapKind::TruncationFailed => &[TrapKind::InvalidConversion, TrapKind::IntegerOverflow],
            _ => &[],
        }
    }

    /// Whether engines reporting these two kinds agree: they could be telling the same trap
    /// (equal kinds, a coarse kind and one of its refinements, or two coarse kinds that share
    /// one).
    pub fn agrees_with(&self, other: &TrapKind) -> bool {
        let possible = |k: &TrapKind| match k.refinements() {
            [] => vec![*k],
            finer => finer.to_vec(),
        };
        let theirs = possible(other);
        possible(self).iter().any(|k| theirs.contains(k))
    }

    pub fn name(&self) -> &'static str {
        match self {
            TrapKind::Unreachable => "unreachable",
            TrapKind::IntegerDivideByZero => "integer-divide-by-zero",
            TrapKind::IntegerOverflow => "integer-overflow",
            TrapKind::InvalidConversion => "invalid-conversion",
            TrapKind::TruncationFailed => "truncation-failed",
            TrapKind::MemoryOutOfBounds => "memory-out-of-bounds",
            TrapKind::TableOutOfBounds => "table-out-of-bounds",
            TrapKind::IndirectCallTypeMismatch => "indirect-call-type-mismatch",
            TrapKind::UndefinedElement => "undefined-element",
            TrapKind::IndirectCallFailed => "indirect-call-failed",
            TrapKind::IndirectCallMissing => "indirect-call-missing",
            TrapKind::NullReference => "null-reference",
            TrapKind::UnalignedAtomic => "unaligned-atomic",
            TrapKind::ArrayOutOfBounds => "array-out-of-bounds",
            TrapKind::CastFailure => "cast-failure",
            TrapKind::UncaughtException => "uncaught-exception",
            TrapKind::HostError => "host-error",
            TrapKind::StackExhausted => "stack-exhausted",
            TrapKind::ResourceLimit => "resource-limit",
            TrapKind::OutOfFuel => "out-of-fuel",
            TrapKind::Timeout => "timeout",
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

    /// A trap known only by its text, classified by `table`: the kind of the first entry
    /// whose text the message contains (for engines that report traps as text only).
    pub fn from_message(message: &str, table: &[(&str, TrapKind)]) -> Trap {
        let kind = table
            .iter()
            .find(|(part, _)| message.contains(part))
            .map_or(TrapKind::Unclassified, |(_, kind)| *kind);
        Trap::new(kind, message)
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
    Memory(#[serde(with = "hex")] Vec<u8>),
    Global(Value),
    Table(Vec<Value>),
    /// A memory or table seen only through its [`ExportValue::digest`], by an engine that
    /// cannot hand over the contents.
    Digest {
        items: u64,
        digest: u64,
    },
    /// An item the engine cannot observe at all: it has no say on it.
    Unobserved,
}

impl ExportValue {
    /// `(items, digest)` of a memory (its bytes) or a table (one word per element: 1 if null,
    /// else 0): FNV-1a over little-endian 64-bit words, then any bytes left over one by one,
    /// so that a wasm function computes it quickly.
    pub fn digest(&self) -> Option<(u64, u64)> {
        match self {
            ExportValue::Memory(bytes) => {
                let words = bytes.chunks_exact(8);
                let tail = words.remainder().iter().map(|b| u64::from(*b));
                let words = words.map(|w| u64::from_le_bytes(w.try_into().unwrap()));
                Some((bytes.len() as u64, fnv1a_words(words.chain(tail))))
            }
            ExportValue::Table(elements) => {
                let null = elements
                    .iter()
                    .map(|v| u64::from(matches!(v, Value::Ref { null: true, .. })));
                Some((elements.len() as u64, fnv1a_words(null)))
            }
            ExportValue::Digest { items, digest } => Some((*items, *digest)),
            ExportValue::Global(_) | ExportValue::Unobserved => None,
        }
    }
}

/// The FNV-1a offset basis and prime (64-bit).
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
pub const FNV_PRIME: u64 = 0x100_0000_01b3;

fn fnv1a_words(words: impl Iterator<Item = u64>) -> u64 {
    words.fold(FNV_OFFSET, |h, w| (h ^ w).wrapping_mul(FNV_PRIME))
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
            ExportValue::Digest { items, digest } => {
                write!(f, "{items} bytes or elements, word digest {digest:016x}")
            }
            ExportValue::Unobserved => f.write_str("not observable on this engine"),
        }
    }
}

/// FNV-1a: a stable digest for printing memory images and naming files.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(FNV_OFFSET, |h, b| (h ^ *b as u64).wrapping_mul(FNV_PRIME))
}

/// Memory images as text, for engines in other processes, which send them as JSON: two hex
/// digits a byte, and a run of zero bytes (most of a memory, usually) as `_<count>;`.
mod hex {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// Zero bytes from which on a run is written as a count.
    const RUN: usize = 8;

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut text = String::with_capacity(bytes.len() / 4);
        let mut at = 0;
        while at < bytes.len() {
            let zeros = leading_zeros(&bytes[at..]);
            if zeros >= RUN {
                text.push_str(&format!("_{zeros};"));
                at += zeros;
            } else {
                let b = bytes[at];
                text.push(char::from(DIGITS[usize::from(b >> 4)]));
                text.push(char::from(DIGITS[usize::from(b & 15)]));
                at += 1;
            }
        }
        s.serialize_str(&text)
    }

    /// How many zero bytes `bytes` starts with, counted 32 at a time where it can: a memory
    /// image is mostly zeros, and counting them one by one took 13 % of an isolated wasmi
    /// campaign's time.
    fn leading_zeros(bytes: &[u8]) -> usize {
        let words = |chunk: &[u8]| {
            let (low, high) = chunk.split_at(16);
            u128::from_ne_bytes(low.try_into().unwrap())
                | u128::from_ne_bytes(high.try_into().unwrap())
        };
        let whole = bytes.chunks_exact(32).take_while(|c| words(c) == 0).count() * 32;
        whole + bytes[whole..].iter().take_while(|b| **b == 0).count()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        decode(&String::deserialize(d)?).ok_or_else(|| D::Error::custom("invalid memory text"))
    }

    pub fn decode(text: &str) -> Option<Vec<u8>> {
        let digit = |c: u8| char::from(c).to_digit(16).map(|d| d as u8);
        let text = text.as_bytes();
        let mut bytes = Vec::new();
        let mut at = 0;
        while at < text.len() {
            if text[at] == b'_' {
                let end = at + text[at..].iter().position(|c| *c == b';')?;
                let count: usize = std::str::from_utf8(&text[at + 1..end]).ok()?.parse().ok()?;
                bytes.resize(bytes.len() + count, 0);
                at = end + 1;
            } else {
                bytes.push(digit(*text.get(at)?)? << 4 | digit(*text.get(at + 1)?)?);
                at += 2;
            }
        }
        Some(bytes)
    }
}

/// An exported memory, global or table, by export name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportState {
    pub name: String,
    pub value: ExportValue,
}

/// How an engine failed rather than answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CrashKind {
    /// The engine panicked (in process, or in its worker).
    Panic,
    /// The engine's process died: a signal (segfault, abort) or an unexpected exit.
    Died,
    /// The engine's process did not answer within the deadline.
    Hang,
    /// The engine's process went over its memory cap.
    OutOfMemory,
    /// The engine's process answered something that does not fit the job.
    BadAnswer,
    /// The harness could not put the test case to the engine (its adapter failed on a valid
    /// module): a wasmdiff bug, reported like a crash so that it is seen and fixed.
    Harness,
}

impl CrashKind {
    pub fn name(&self) -> &'static str {
        match self {
            CrashKind::Panic => "panic",
            CrashKind::Died => "died",
            CrashKind::Hang => "hang",
            CrashKind::OutOfMemory => "out-of-memory",
            CrashKind::BadAnswer => "bad-answer",
            CrashKind::Harness => "harness",
        }
    }
}

impl fmt::Display for CrashKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything an engine observed for one test case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "kebab-case")]
pub enum Execution {
    /// The engine refused the module.
    Rejected { message: String },
    /// The engine accepted (validated and compiled) the module; asked for nothing more.
    Accepted,
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
    /// The engine itself failed: a panic, or a worker that died, hung or ran out of memory,
    /// at `at` (the last stage it reached).
    Crashed {
        kind: CrashKind,
        message: String,
        #[serde(default)]
        at: Stage,
    },
    /// The engine was not asked: the module needs features it lacks (the reason says which).
    Skipped { reason: String },
    /// A filter through the same scenario under each host profile, in order.
    Hosted { runs: Vec<HostRun> },
}

/// A filter's run under one host profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostRun {
    pub host: HostProfile,
    pub execution: Execution,
}

impl Execution {
    /// What an engine answers a plan for every host, which only the lineup carries out (one
    /// host at a time).
    pub fn not_split() -> Execution {
        Execution::Skipped {
            reason: "a plan for every host runs through the lineup".to_string(),
        }
    }

    /// A one-line summary for progress output and tables.
    pub fn summary(&self) -> String {
        match self {
            Execution::Rejected { message } => format!("rejected: {message}"),
            Execution::Accepted => "accepted".to_string(),
            Execution::InstantiationFailed { trap } => format!("instantiation trap {}", trap.kind),
            Execution::Ran { calls, .. } => format!("ran {} calls", calls.len()),
            Execution::Traced { trace } => {
                format!("ran {} callbacks and host calls", trace.events.len())
            }
            Execution::Crashed { kind, message, at } => {
                format!("crashed ({kind}) at {at}: {message}")
            }
            Execution::Skipped { reason } => format!("skipped: {reason}"),
            Execution::Hosted { runs } => runs
                .iter()
                .map(|r| format!("under {}: {}", r.host, r.execution.summary()))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }

    /// A finished run: the calls up to and including the first inconclusive one, and the
    /// exported state (sorted by name) only if every call was conclusive.
    pub fn ran(
        mut calls: Vec<CallOutcome>,
        exports: impl FnOnce() -> Vec<ExportState>,
    ) -> Execution {
        if let Some(stop) = calls.iter().position(CallOutcome::is_inconclusive) {
            calls.truncate(stop + 1);
            return Execution::Ran {
                calls,
                exports: Vec::new(),
            };
        }
        let mut exports = exports();
        exports.sort_by(|a, b| a.name.cmp(&b.name));
        Execution::Ran { calls, exports }
    }

    /// Crashed, as a panic at the stage last marked on this thread.
    pub fn panicked(message: impl Into<String>) -> Execution {
        Execution::crashed(CrashKind::Panic, message, progress::current())
    }

    pub fn crashed(kind: CrashKind, message: impl Into<String>, at: Stage) -> Execution {
        Execution::Crashed {
            kind,
            message: message.into(),
            at,
        }
    }
}

/// An instantiated module, as each engine provides it to [`drive`] (and, for proxy-wasm
/// runs, to the proxy driver through `crate::in_process::ProxyVm`).
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
/// execution every engine shares. Calls stop after the first inconclusive outcome.
pub fn drive(instance: &mut dyn Instance, invocations: &[Invocation], fuel: u64) -> Execution {
    let mut calls = Vec::with_capacity(invocations.len());
    for (index, invocation) in invocations.iter().enumerate() {
        progress::mark(Stage::Call(index));
        let outcome = match call_with_budget(instance, &invocation.export, &invocation.args, fuel) {
            Ok(values) => CallOutcome::Returned(values),
            Err(trap) => CallOutcome::Trapped(trap),
        };
        let stop = outcome.is_inconclusive();
        calls.push(outcome);
        if stop {
            break;
        }
    }
    Execution::ran(calls, || {
        progress::mark(Stage::Exports);
        instance.exports()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_digests_cover_tails_and_tables() {
        let memory = ExportValue::Memory((0u8..13).collect());
        let (items, digest) = memory.digest().unwrap();
        assert_eq!(items, 13);
        let by_hand = [
            u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]),
            8,
            9,
            10,
            11,
            12,
        ]
        .iter()
        .fold(FNV_OFFSET, |h, w| (h ^ w).wrapping_mul(FNV_PRIME));
        assert_eq!(digest, by_hand);
        let null = Value::Ref {
            heap: wasmdiff_gen::RefHeap::Func,
            null: true,
        };
        let live = Value::Ref {
            heap: wasmdiff_gen::RefHeap::Func,
            null: false,
        };
        let a = ExportValue::Table(vec![null.clone(), live.clone()]);
        let b = ExportValue::Table(vec![live, null]);
        assert_ne!(a.digest(), b.digest());
    }

    #[test]
    fn memory_travels_as_hex_with_zero_runs_counted() {
        let state = ExportValue::Memory(vec![0, 0xab, 0x10]);
        let json = serde_json::to_string(&state).unwrap();
        assert_eq!(json, r#"{"memory":"00ab10"}"#);
        assert_eq!(serde_json::from_str::<ExportValue>(&json).unwrap(), state);
        let mut page = vec![0u8; 65536];
        page[100] = 7;
        let state = ExportValue::Memory(page);
        let json = serde_json::to_string(&state).unwrap();
        assert_eq!(json, r#"{"memory":"_100;07_65435;"}"#);
        assert_eq!(serde_json::from_str::<ExportValue>(&json).unwrap(), state);
        // Runs of every length around the 32-byte steps of the count, wherever they end.
        for len in 0..100 {
            for one in 0..=len {
                let mut bytes = vec![0u8; len];
                if let Some(b) = bytes.get_mut(one) {
                    *b = 1;
                }
                let state = ExportValue::Memory(bytes);
                let json = serde_json::to_string(&state).unwrap();
                assert_eq!(serde_json::from_str::<ExportValue>(&json).unwrap(), state);
            }
        }
        for bad in ["0g", "0", "_12", "_x;"] {
            let json = format!(r#"{{"memory":"{bad}"}}"#);
            assert!(serde_json::from_str::<ExportValue>(&json).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_run_stops_at_its_first_inconclusive_call() {
        let calls = vec![
            CallOutcome::Returned(vec![]),
            CallOutcome::Trapped(Trap::new(TrapKind::StackExhausted, "deep")),
            CallOutcome::Returned(vec![]),
        ];
        let ran = Execution::ran(calls, || panic!("no state after an inconclusive call"));
        assert!(
            matches!(ran, Execution::Ran { calls, exports } if calls.len() == 2 && exports.is_empty())
        );
    }
}

/// Why a host function stopped the filter, as an engine error: a trap of kind `host-error`.
#[derive(Debug)]
pub struct HostStop(pub String);

impl HostStop {
    /// The host's own reasons; nested guest traps are re-raised as they are, not through here.
    pub fn of<T>(trap: HostTrap<T>) -> Result<HostStop, T> {
        match trap {
            HostTrap::Exit(code) => Ok(HostStop(format!("proc_exit({code})"))),
            HostTrap::Refused(message) => Ok(HostStop(format!("host trap: {message}"))),
            HostTrap::Panic(message) => Ok(HostStop(format!("host panic in {message}"))),
            HostTrap::Guest(trap) => Err(trap),
        }
    }
}

impl fmt::Display for HostStop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HostStop {}
