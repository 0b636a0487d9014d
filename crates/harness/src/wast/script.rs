//! A `.wast` script read with the `wast` crate into owned commands: modules as bytes, actions
//! with their arguments as values, and what the script expects of each. Whatever wasmdiff
//! cannot put to an engine (threads, components, exceptions, non-null reference arguments)
//! is kept as a command of its own with the reason, so that it is counted, never dropped.

use std::path::{Path, PathBuf};

use anyhow::Context;
use wasmdiff_engines::TrapKind;
use wasmdiff_gen::{RefHeap, Value};
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat};

/// A script and its commands, in order.
pub struct Script {
    pub path: PathBuf,
    pub commands: Vec<Command>,
}

pub struct Command {
    /// 1-based line of the directive.
    pub line: usize,
    pub kind: CommandKind,
}

pub enum CommandKind {
    /// A module to define (and, unless `instantiate` is false, instantiate): the current
    /// module from here on, and the one named `id`.
    Module {
        id: Option<String>,
        bytes: Vec<u8>,
        instantiate: bool,
    },
    /// `register`: the module's exports become importable under `name`.
    Register {
        name: String,
        module: Option<String>,
    },
    /// An invoke or get, and what its outcome must be.
    Action {
        module: Option<String>,
        action: Action,
        expect: Expect,
    },
    /// A module that must be refused or must fail to instantiate.
    ModuleAssertion {
        module: Option<Vec<u8>>,
        expect: ModuleExpect,
    },
    /// A command no engine is asked (why).
    Unsupported(String),
}

pub enum Action {
    Invoke {
        name: String,
        args: Vec<Value>,
    },
    Get {
        global: String,
    },
    /// An invoke wasmdiff cannot make (why): the module's later commands cannot be trusted.
    Impossible(String),
}

pub enum Expect {
    /// A plain `invoke`: any outcome but a crash.
    Anything,
    Values(Vec<Pattern>),
    /// A trap of this kind (`None`: the script's message names no kind wasmdiff classifies).
    Trap(Option<TrapKind>, String),
    Exhaustion,
}

pub enum ModuleExpect {
    /// `assert_invalid`: the module must be refused.
    Invalid,
    /// `assert_malformed` of a binary module: it must be refused. (`None` bytes: a text module
    /// that the text format itself rejects, which tests the `wast` crate, not an engine.)
    Malformed,
    /// `assert_unlinkable`: instantiation must fail at linking.
    Unlinkable,
    /// `assert_trap (module ...)` or `assert_uninstantiable`: instantiation must trap.
    Uninstantiable(Option<TrapKind>, String),
}

/// A value an `assert_return` accepts.
#[derive(Clone, Debug)]
pub enum Pattern {
    Exact(Value),
    /// A NaN of this width (32 or 64): canonical (only the quiet bit) or arithmetic (the quiet
    /// bit at least), of either sign.
    Nan {
        bits: u32,
        canonical: bool,
    },
    /// A vector whose lanes (of `width` bits) are each a value or a NaN pattern.
    Lanes {
        width: u32,
        lanes: Vec<Lane>,
    },
    RefNull,
    RefNonNull,
    Either(Vec<Pattern>),
}

#[derive(Clone, Debug)]
pub enum Lane {
    Bits(u64),
    Nan { canonical: bool },
}

impl Pattern {
    pub fn matches(&self, value: &Value) -> bool {
        match (self, value) {
            (Pattern::Exact(expected), got) => expected == got,
            (
                Pattern::Nan {
                    bits: 32,
                    canonical,
                },
                Value::F32(v),
            ) => nan_matches(u64::from(*v), 32, *canonical),
            (
                Pattern::Nan {
                    bits: 64,
                    canonical,
                },
                Value::F64(v),
            ) => nan_matches(*v, 64, *canonical),
            (Pattern::Lanes { width, lanes }, Value::V128(v)) => {
                lanes.iter().enumerate().all(|(i, lane)| {
                    let mask = if *width == 64 {
                        u64::MAX
                    } else {
                        (1 << width) - 1
                    };
                    let bits = (v >> (i as u32 * width)) as u64 & mask;
                    match lane {
                        Lane::Bits(expected) => bits == *expected,
                        Lane::Nan { canonical } => nan_matches(bits, *width, *canonical),
                    }
                })
            }
            (Pattern::RefNull, Value::Ref { null, .. }) => *null,
            (Pattern::RefNonNull, Value::Ref { null, .. }) => !*null,
            (Pattern::Either(any), got) => any.iter().any(|p| p.matches(got)),
            _ => false,
        }
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pattern::Exact(value) => write!(f, "{value}"),
            Pattern::Nan { bits, canonical } => {
                let kind = if *canonical {
                    "canonical"
                } else {
                    "arithmetic"
                };
                write!(f, "f{bits}:nan:{kind}")
            }
            Pattern::Lanes { width, lanes } => {
                let lanes: Vec<String> = lanes
                    .iter()
                    .map(|l| match l {
                        Lane::Bits(b) => format!("{b:#x}"),
                        Lane::Nan { canonical: true } => "nan:canonical".into(),
                        Lane::Nan { canonical: false } => "nan:arithmetic".into(),
                    })
                    .collect();
                write!(f, "v128 f{width}x{} [{}]", 128 / width, lanes.join(" "))
            }
            Pattern::RefNull => f.write_str("ref.null"),
            Pattern::RefNonNull => f.write_str("a non-null reference"),
            Pattern::Either(any) => {
                let any: Vec<String> = any.iter().map(|p| p.to_string()).collect();
                write!(f, "either ({})", any.join(" | "))
            }
        }
    }
}

/// Whether `bits` (of a float of `width` bits) is a canonical NaN (only the quiet bit in the
/// payload) or an arithmetic one (the quiet bit set), of either sign.
fn nan_matches(bits: u64, width: u32, canonical: bool) -> bool {
    let (exponent_and_quiet, payload) = match width {
        32 => (0x7fc0_0000u64, 0x003f_ffffu64),
        _ => (0x7ff8_0000_0000_0000, 0x0007_ffff_ffff_ffff),
    };
    let magnitude = bits & ((1 << (width - 1)) - 1);
    match canonical {
        true => magnitude == exponent_and_quiet,
        false => magnitude & !payload == exponent_and_quiet,
    }
}

/// The trap kind a spec message names (the spec's wording; first match).
pub fn expected_trap(message: &str) -> Option<TrapKind> {
    use TrapKind::*;
    [
        ("integer divide by zero", IntegerDivideByZero),
        ("integer overflow", IntegerOverflow),
        ("invalid conversion to integer", InvalidConversion),
        ("out of bounds memory access", MemoryOutOfBounds),
        ("out of bounds table access", TableOutOfBounds),
        // `call_indirect` past the table's end.
        ("undefined element", TableOutOfBounds),
        ("uninitialized element", UndefinedElement),
        ("indirect call type mismatch", IndirectCallTypeMismatch),
        ("unreachable", Unreachable),
        ("null function", NullReference),
        ("null reference", NullReference),
        ("null structure", NullReference),
        ("null array", NullReference),
        ("call stack exhausted", StackExhausted),
        ("unaligned atomic", UnalignedAtomic),
        ("out of bounds array access", ArrayOutOfBounds),
        ("cast failure", CastFailure),
    ]
    .iter()
    .find(|(text, _)| message.contains(text))
    .map(|(_, kind)| *kind)
}

/// Reads and parses a `.wast` file; a bad one is an error `file:line:column: message`.
pub fn read(path: &Path) -> anyhow::Result<Script> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let located = |e: wast::Error| {
        let (line, column) = e.span().linecol_in(&text);
        anyhow::anyhow!(
            "{}:{}:{}: {}",
            path.display(),
            line + 1,
            column + 1,
            e.message()
        )
    };
    let mut lexer = wast::lexer::Lexer::new(&text);
    lexer.allow_confusing_unicode(path.ends_with("names.wast"));
    let buffer = ParseBuffer::new_with_lexer(lexer).map_err(located)?;
    let wast: Wast<'_> = parser::parse(&buffer).map_err(located)?;
    let mut commands = Vec::new();
    for directive in wast.directives {
        let line = directive.span().linecol_in(&text).0 + 1;
        commands.push(Command {
            line,
            kind: command(directive),
        });
    }
    Ok(Script {
        path: path.to_path_buf(),
        commands,
    })
}

fn unsupported(why: &str) -> CommandKind {
    CommandKind::Unsupported(why.to_string())
}

/// A module's bytes, or why there are none to give an engine.
fn encode(module: &mut QuoteWat<'_>) -> Result<Vec<u8>, String> {
    match module {
        QuoteWat::Wat(Wat::Component(_)) | QuoteWat::QuoteComponent(..) => {
            Err("a component (the component model is not run here)".into())
        }
        _ => module.encode().map_err(|e| e.message()),
    }
}

fn command(directive: WastDirective<'_>) -> CommandKind {
    match directive {
        WastDirective::Module(mut module) => {
            let id = module.name().map(|id| id.name().to_string());
            match encode(&mut module) {
                Ok(bytes) => CommandKind::Module {
                    id,
                    bytes,
                    instantiate: true,
                },
                Err(e) => CommandKind::Unsupported(e),
            }
        }
        WastDirective::ModuleDefinition(mut module) => {
            let id = module.name().map(|id| id.name().to_string());
            match encode(&mut module) {
                Ok(bytes) => CommandKind::Module {
                    id,
                    bytes,
                    instantiate: false,
                },
                Err(e) => CommandKind::Unsupported(format!("the module does not assemble: {e}")),
            }
        }
        WastDirective::ModuleInstance { .. } => {
            unsupported("`module instance` (instances of module definitions)")
        }
        WastDirective::AssertMalformed { mut module, .. } => {
            let text = matches!(module, QuoteWat::QuoteModule(..));
            match (text, encode(&mut module)) {
                (false, Ok(bytes)) => CommandKind::ModuleAssertion {
                    module: Some(bytes),
                    expect: ModuleExpect::Malformed,
                },
                _ => CommandKind::ModuleAssertion {
                    module: None,
                    expect: ModuleExpect::Malformed,
                },
            }
        }
        WastDirective::AssertInvalid { mut module, .. } => match encode(&mut module) {
            Ok(bytes) => CommandKind::ModuleAssertion {
                module: Some(bytes),
                expect: ModuleExpect::Invalid,
            },
            Err(e) => CommandKind::Unsupported(format!("the module does not assemble: {e}")),
        },
        WastDirective::AssertInvalidCustom { .. } | WastDirective::AssertMalformedCustom { .. } => {
            unsupported("custom-section assertions (engines ignore custom sections)")
        }
        WastDirective::AssertUnlinkable { module, .. } => {
            let mut module = QuoteWat::Wat(module);
            match encode(&mut module) {
                Ok(bytes) => CommandKind::ModuleAssertion {
                    module: Some(bytes),
                    expect: ModuleExpect::Unlinkable,
                },
                Err(e) => CommandKind::Unsupported(format!("the module does not assemble: {e}")),
            }
        }
        WastDirective::Register { name, module, .. } => CommandKind::Register {
            name: name.to_string(),
            module: module.map(|id| id.name().to_string()),
        },
        WastDirective::Invoke(invoke) => action(invoke, Expect::Anything),
        WastDirective::AssertReturn { exec, results, .. } => {
            let patterns: Result<Vec<Pattern>, String> = results.iter().map(pattern).collect();
            match (exec, patterns) {
                (_, Err(why)) => CommandKind::Unsupported(why),
                (WastExecute::Invoke(invoke), Ok(patterns)) => {
                    action(invoke, Expect::Values(patterns))
                }
                (WastExecute::Get { module, global, .. }, Ok(patterns)) => CommandKind::Action {
                    module: module.map(|id| id.name().to_string()),
                    action: Action::Get {
                        global: global.to_string(),
                    },
                    expect: Expect::Values(patterns),
                },
                (WastExecute::Wat(_), Ok(_)) => unsupported("`assert_return` of a module"),
            }
        }
        WastDirective::AssertTrap { exec, message, .. } => {
            let kind = expected_trap(message);
            match exec {
                WastExecute::Invoke(invoke) => {
                    action(invoke, Expect::Trap(kind, message.to_string()))
                }
                WastExecute::Wat(module) => {
                    let mut module = QuoteWat::Wat(module);
                    match encode(&mut module) {
                        Ok(bytes) => CommandKind::ModuleAssertion {
                            module: Some(bytes),
                            expect: ModuleExpect::Uninstantiable(kind, message.to_string()),
                        },
                        Err(e) => {
                            CommandKind::Unsupported(format!("the module does not assemble: {e}"))
                        }
                    }
                }
                WastExecute::Get { .. } => unsupported("`assert_trap` of a `get`"),
            }
        }
        WastDirective::AssertExhaustion { call, .. } => action(call, Expect::Exhaustion),
        WastDirective::AssertException { .. } => {
            unsupported("`assert_exception` (uncaught exceptions are not compared here)")
        }
        WastDirective::AssertSuspension { .. } => {
            unsupported("`assert_suspension` (stack switching)")
        }
        WastDirective::Thread(_) | WastDirective::Wait { .. } => {
            unsupported("threads (`thread`, `wait`)")
        }
    }
}

fn action(invoke: WastInvoke<'_>, expect: Expect) -> CommandKind {
    let args: Result<Vec<Value>, String> = invoke.args.iter().map(argument).collect();
    let action = match args {
        Ok(args) => Action::Invoke {
            name: invoke.name.to_string(),
            args,
        },
        Err(why) => Action::Impossible(why),
    };
    CommandKind::Action {
        module: invoke.module.map(|id| id.name().to_string()),
        action,
        expect,
    }
}

fn heap(heap: &HeapType<'_>) -> Result<RefHeap, String> {
    match heap {
        HeapType::Abstract {
            ty: AbstractHeapType::Func | AbstractHeapType::NoFunc,
            ..
        } => Ok(RefHeap::Func),
        HeapType::Abstract {
            ty: AbstractHeapType::Extern | AbstractHeapType::NoExtern,
            ..
        } => Ok(RefHeap::Extern),
        HeapType::Abstract { .. } => Ok(RefHeap::Any),
        _ => Err("a reference to a concrete type".to_string()),
    }
}

fn argument(arg: &WastArg<'_>) -> Result<Value, String> {
    match arg {
        WastArg::Core(core) => Ok(match core {
            WastArgCore::I32(v) => Value::I32(*v),
            WastArgCore::I64(v) => Value::I64(*v),
            WastArgCore::F32(v) => Value::F32(v.bits),
            WastArgCore::F64(v) => Value::F64(v.bits),
            WastArgCore::V128(v) => Value::V128(u128::from_le_bytes(v.to_le_bytes())),
            WastArgCore::RefNull(h) => Value::Ref {
                heap: heap(h)?,
                null: true,
            },
            WastArgCore::RefExtern(_) | WastArgCore::RefHost(_) => {
                return Err(
                    "a non-null reference argument (wasmdiff passes null ones only)".into(),
                );
            }
        }),
        _ => Err("a component value".into()),
    }
}

fn float_pattern<T>(pattern: &NanPattern<T>, bits: u32, value: impl Fn(&T) -> Value) -> Pattern {
    match pattern {
        NanPattern::CanonicalNan => Pattern::Nan {
            bits,
            canonical: true,
        },
        NanPattern::ArithmeticNan => Pattern::Nan {
            bits,
            canonical: false,
        },
        NanPattern::Value(v) => Pattern::Exact(value(v)),
    }
}

fn lane<T>(pattern: &NanPattern<T>, bits: impl Fn(&T) -> u64) -> Lane {
    match pattern {
        NanPattern::CanonicalNan => Lane::Nan { canonical: true },
        NanPattern::ArithmeticNan => Lane::Nan { canonical: false },
        NanPattern::Value(v) => Lane::Bits(bits(v)),
    }
}

fn lanes_of<T: Copy, const N: usize>(
    values: [T; N],
    width: u32,
    bits: impl Fn(T) -> u64,
) -> Pattern {
    Pattern::Lanes {
        width,
        lanes: values.iter().map(|v| Lane::Bits(bits(*v))).collect(),
    }
}

fn pattern(ret: &WastRet<'_>) -> Result<Pattern, String> {
    match ret {
        WastRet::Core(core) => core_pattern(core),
        _ => Err("a component value".into()),
    }
}

fn core_pattern(core: &WastRetCore<'_>) -> Result<Pattern, String> {
    Ok(match core {
        WastRetCore::I32(v) => Pattern::Exact(Value::I32(*v)),
        WastRetCore::I64(v) => Pattern::Exact(Value::I64(*v)),
        WastRetCore::F32(p) => float_pattern(p, 32, |v| Value::F32(v.bits)),
        WastRetCore::F64(p) => float_pattern(p, 64, |v| Value::F64(v.bits)),
        WastRetCore::V128(v) => match v {
            V128Pattern::I8x16(l) => lanes_of(*l, 8, |x| u64::from(x as u8)),
            V128Pattern::I16x8(l) => lanes_of(*l, 16, |x| u64::from(x as u16)),
            V128Pattern::I32x4(l) => lanes_of(*l, 32, |x| u64::from(x as u32)),
            V128Pattern::I64x2(l) => lanes_of(*l, 64, |x| x as u64),
            V128Pattern::F32x4(l) => Pattern::Lanes {
                width: 32,
                lanes: l.iter().map(|p| lane(p, |v| u64::from(v.bits))).collect(),
            },
            V128Pattern::F64x2(l) => Pattern::Lanes {
                width: 64,
                lanes: l.iter().map(|p| lane(p, |v| v.bits)).collect(),
            },
        },
        WastRetCore::RefNull(_) => Pattern::RefNull,
        WastRetCore::RefExtern(None) | WastRetCore::RefFunc(None) => Pattern::RefNonNull,
        WastRetCore::RefExtern(Some(_))
        | WastRetCore::RefHost(_)
        | WastRetCore::RefFunc(Some(_)) => {
            // wasmdiff sees only whether a reference is null: a non-null one is what it can check.
            Pattern::RefNonNull
        }
        WastRetCore::Either(any) => {
            Pattern::Either(any.iter().map(core_pattern).collect::<Result<_, _>>()?)
        }
        _ => return Err("a GC reference result (any, eq, struct, array, i31)".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_patterns_follow_the_spec() {
        assert!(nan_matches(0x7fc0_0000, 32, true));
        assert!(nan_matches(0xffc0_0000, 32, true));
        assert!(!nan_matches(0x7fc0_0001, 32, true));
        assert!(nan_matches(0x7fc0_0001, 32, false));
        assert!(
            !nan_matches(0x7fa0_0000, 32, false),
            "a signalling NaN is not arithmetic"
        );
        assert!(!nan_matches(0x3f80_0000, 32, false));
        assert!(nan_matches(0xfff8_0000_0000_0000, 64, true));
        assert!(nan_matches(0x7ff8_0000_0000_0001, 64, false));
    }
}
