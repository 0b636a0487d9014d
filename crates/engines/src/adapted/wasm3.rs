//! wasm3, the C interpreter, through the `wasm3` crate 0.3.1 (which bundles wasm3 0.4.7).
//! It runs only in worker processes: 0.3 double-frees or segfaults when one process loads
//! many modules, so each job also gets a fresh environment and runtime.
//!
//! wasm3 0.4.7 knows the MVP plus sign extension; it has no fuel, no multi-value and no
//! reference types (so exported tables are not observed), calls exports only through typed
//! signatures (the [adapter](crate::adapted) makes every call `() -> i32 | i64 | ()`), and
//! compiles each function on its first call, so it does not validate modules up front.

use std::convert::Infallible;

use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{BlockType, ElementSection, Encode, Instruction};
use wasm3::{Environment, Runtime};
use wasmdiff_gen::{Features, Plan};
use wasmparser::{ElementItems, ElementKind, Operator, Payload, TypeRef};

use crate::adapted::{Adaptation, AdaptedInstance, Options};
use crate::outcome::{Execution, Trap, TrapKind};
use crate::progress::{self, Stage};
use crate::rewrite::{Splice, rewrite_instructions, rewrite_with_scratch};
use crate::{
    Abilities, Engine, EngineSpec, Isolation, KnownBug, Limits, ProxyHosting, always_available,
};

const FEATURES: Features = Features {
    sign_extension: true,
    ..Features::NONE
};

/// Met on this harness's first campaigns with wasm3.
const KNOWN_BUGS: &[KnownBug] = &[
    KnownBug {
        id: "wasm3-0.4.7-memory-size",
        description: "compiling `memory.size` fails in some operand-stack positions (\"no operation found for opcode\")",
        // `memory.grow` by 0 pages gives the size and changes nothing.
        workaround: |module| {
            rewrite_instructions(module, |op| {
                matches!(op, Operator::MemorySize { mem: 0 }).then(|| {
                    Splice::Replace(vec![Instruction::I32Const(0), Instruction::MemoryGrow(0)])
                })
            })
        },
    },
    KnownBug {
        id: "wasm3-0.4.7-table-from-elements",
        description: "table 0 takes its size from the last active element segment, not from its declaration: a segment past the declared size grows the table instead of trapping, and an empty segment is refused (\"table overflow\")",
        // Without its empty and out-of-bounds segments (in the MVP modules wasm3 runs, no
        // instruction refers to segments), a module means the same but for that trap.
        workaround: without_odd_segments,
    },
    KnownBug {
        id: "wasm3-0.4.7-memory-grow-wraps",
        description: "`memory.grow` adds the delta to the current size in 32 bits: a delta that wraps past zero (0xffffffff with a page allocated) succeeds and returns the old size, where growth past the maximum must fail with -1",
        // Growth past the maximum fails by the spec: checked in 64 bits before wasm3 is asked,
        // the module means the same.
        workaround: guard_memory_grow,
    },
    KnownBug {
        id: "wasm3-0.4.7-explicit-table-zero",
        description: "an active element segment of functions that names table 0 explicitly (the encoding with a table index, valid since bulk memory) is refused: \"element table index must be zero for MVP\"",
        // The same segment in the encoding without a table index means the same.
        workaround: implicit_table_zero,
    },
    KnownBug {
        id: "wasm3-0.4.7-dead-memory-op",
        description: "`memory.size` or `memory.grow` in unreachable code (after `br`, say) corrupts the function's result: it returns another value's bits, a parameter's",
        // Dead code does nothing: without it the module means the same.
        workaround: crate::rewrite::without_dead_code,
    },
    KnownBug {
        id: "wasm3-0.4.7-branch-out-of-loop",
        description: "a branch to the function's own label from inside a `loop` that holds a value of its own (`loop (result f32) … i32.const 1 br 1`) returns 0, not the value branched with",
        // Inside a block of its results, a body branches to the block instead: the same
        // meaning, and the shape wasm3 gets right.
        workaround: crate::rewrite::bodies_in_blocks,
    },
    KnownBug {
        id: "wasm3-0.4.7-name-section",
        description: "a module is refused for a malformed name section (\"invalid sub-section size\"), which the spec says must never make a module invalid",
        // Without its custom sections a module means the same.
        workaround: crate::rewrite::without_custom_sections,
    },
    KnownBug {
        id: "wasm3-0.4.7-empty-memory-section",
        description: "a memory section with no memories is refused (\"Wasm MVP can only define one memory per module\")",
        // Without its empty sections a module means the same.
        workaround: crate::rewrite::without_empty_sections,
    },
    KnownBug {
        id: "wasm3-0.4.7-start-trap-crash",
        description: "a trap in the start function (or in a segment initializer) ends the process with SIGSEGV",
        // Without its start function a module instantiates without running it.
        workaround: without_start,
    },
];

pub const SPEC: EngineSpec = EngineSpec {
    name: "wasm3",
    engine: "wasm3",
    version: || "0.3.1 (wasm3 0.4.7)".to_string(),
    description: "wasm3's interpreter (C), in a worker process",
    features: FEATURES,
    abilities: Abilities {
        modules: true,
        proxy: ProxyHosting::Unable(
            "wasm3 0.4.7 cannot call into a module from a host function (`m3_Call` restarts the module's stack), and proxy-wasm hosts must call the filter's allocator from host calls",
        ),
        validation: false,
        fuel: false,
        // No hook: the harness's memory cap is written into its modules instead.
        growth_caps: false,
        runs: Isolation::Required,
    },
    default: true,
    known_bugs: KNOWN_BUGS,
    available: always_available,
    build: |limits| Ok(Box::new(Wasm3 { limits: *limits })),
};

struct Wasm3 {
    limits: Limits,
}

impl Engine for Wasm3 {
    fn run(&mut self, module: &[u8], plan: &Plan) -> Execution {
        if !matches!(plan, Plan::Calls(_)) {
            return Execution::Skipped {
                reason: "wasm3 only runs modules".to_string(),
            };
        }
        let runtime = match Environment::new()
            .and_then(|env| env.create_runtime(self.limits.stack_bytes as u32))
        {
            Ok(runtime) => runtime,
            Err(e) => return Execution::panicked(format!("cannot start wasm3: {e}")),
        };
        // wasm3 has no hook to cap memory growth: the cap the other engines' hooks enforce is
        // written into the module instead, on the size wasm3 would allocate, so that no module
        // takes the worker past its own memory cap and a growth that wraps (a known bug)
        // still shows.
        let cap_pages = (self.limits.memory_bytes >> 16) as u64;
        let capped = guarded_memory_grow(module, cap_pages, Sum::Wrapping);
        let module = capped.as_deref().unwrap_or(module);
        let adapted = match Adaptation::of(module, plan, Options { tables: false }, &FEATURES) {
            Adaptation::Run(adapted) => adapted,
            Adaptation::Validate => {
                return match runtime.parse_and_load_module(module.to_vec()) {
                    Ok(_) => Execution::Accepted,
                    Err(e) => Execution::Rejected {
                        message: e.to_string(),
                    },
                };
            }
            Adaptation::Failed(execution) => return execution,
        };
        // Loading parses, instantiates and runs the start function; functions compile lazily.
        progress::mark(Stage::Instantiate);
        if let Err(e) = runtime.parse_and_load_module(adapted.module.clone()) {
            let message = e.to_string();
            // Loading also initializes memory and runs the start function.
            let at_instantiation =
                message.starts_with("[trap]") || message.contains("data segment overflowing");
            return match at_instantiation {
                true => Execution::InstantiationFailed {
                    trap: classify(&message),
                },
                false => Execution::Rejected { message },
            };
        }
        adapted.run(&mut Instance(&runtime))
    }
}

struct Instance<'a>(&'a Runtime);

impl AdaptedInstance for Instance<'_> {
    fn call(&mut self, export: &str, results: usize) -> Result<Vec<i64>, Trap> {
        let trap = |e: wasm3::error::Error| classify(&e.to_string());
        match results {
            0 => self
                .0
                .find_function::<(), ()>(export)
                .and_then(|f| f.call())
                .map(|()| vec![])
                .map_err(trap),
            1 => match self.0.find_function::<(), i32>(export) {
                Ok(f) => f.call().map(|v| vec![i64::from(v)]).map_err(trap),
                Err(_) => self
                    .0
                    .find_function::<(), i64>(export)
                    .and_then(|f| f.call())
                    .map(|v| vec![v])
                    .map_err(trap),
            },
            n => Err(Trap::new(
                TrapKind::Unclassified,
                format!("wasm3 cannot return {n} results"),
            )),
        }
    }

    fn memory(&mut self, _export: &str) -> Option<Vec<u8>> {
        // SAFETY: no wasm code runs while the copy is made; wasm3 has one memory.
        Some(unsafe { (*self.0.memory()).to_vec() })
    }
}

/// wasm3 0.4.7's trap messages in the shared classification (first match).
fn classify(message: &str) -> Trap {
    use TrapKind::*;
    Trap::from_message(
        message,
        &[
            ("stack overflow", StackExhausted),
            ("unreachable", Unreachable),
            ("divide by zero", IntegerDivideByZero),
            ("integer overflow", IntegerOverflow),
            ("invalid conversion", InvalidConversion),
            ("out of bounds memory access", MemoryOutOfBounds),
            ("data segment overflowing", MemoryOutOfBounds),
            ("indirect call type mismatch", IndirectCallTypeMismatch),
            // wasm3's name for an index past the table's end; but wasm3 sizes table 0 by its
            // last active element segment (see `KNOWN_BUGS`), so a null entry can show so too.
            ("undefined element", IndirectCallMissing),
            ("null table element", UndefinedElement),
        ],
    )
}

/// `module` without its start section, every other byte kept.
fn without_start(module: &[u8]) -> Option<Vec<u8>> {
    const START: u8 = 8;
    let mut out = module.get(..8)?.to_vec();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        let Some((id, range)) = payload.ok()?.as_section() else {
            continue;
        };
        if id != START {
            let content = module.get(range.start as usize..range.end as usize)?;
            out.push(id);
            (content.len() as u32).encode(&mut out);
            out.extend_from_slice(content);
        }
    }
    Some(out)
}

/// `module` with each `memory.grow` that would pass memory 0's maximum (its declared one, else
/// the 65536 pages of a 32-bit memory) answered -1 without asking the engine.
fn guard_memory_grow(module: &[u8]) -> Option<Vec<u8>> {
    let maximum = declared_maximum(module)?.unwrap_or(65536);
    guarded_memory_grow(module, maximum, Sum::Exact)
}

/// Memory 0's declared maximum in pages, if it has one; `None` if the module is unreadable.
fn declared_maximum(module: &[u8]) -> Option<Option<u64>> {
    let mut maximum = None;
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        match payload.ok()? {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if let TypeRef::Memory(memory) = import.ok()?.ty {
                        maximum.get_or_insert(memory.maximum);
                    }
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    maximum.get_or_insert(memory.ok()?.maximum);
                }
            }
            _ => {}
        }
    }
    Some(maximum.flatten())
}

/// How a guard adds a growth to the current size.
enum Sum {
    /// As the spec does.
    Exact,
    /// In 32 bits, as wasm3 does (its known bug): the size wasm3 would allocate.
    Wrapping,
}

/// `module` with each `memory.grow` whose sum of the current size and the delta exceeds
/// `limit` pages answered -1 without asking the engine; `None` if it has no `memory.grow` (or
/// does not validate).
fn guarded_memory_grow(module: &[u8], limit: u64, sum: Sum) -> Option<Vec<u8>> {
    let mut grows = false;
    let guarded = rewrite_with_scratch(module, &[wasm_encoder::ValType::I32], |delta, op| {
        matches!(op, Operator::MemoryGrow { mem: 0 }).then(|| {
            grows = true;
            // The size as `memory.grow 0` gives it: wasm3's `memory.size` has a bug of its own.
            let mut guard = vec![
                Instruction::LocalSet(delta),
                Instruction::I32Const(0),
                Instruction::MemoryGrow(0),
            ];
            guard.extend(match sum {
                Sum::Exact => vec![
                    Instruction::I64ExtendI32U,
                    Instruction::LocalGet(delta),
                    Instruction::I64ExtendI32U,
                    Instruction::I64Add,
                ],
                Sum::Wrapping => vec![
                    Instruction::LocalGet(delta),
                    Instruction::I32Add,
                    Instruction::I64ExtendI32U,
                ],
            });
            guard.extend([
                Instruction::I64Const(limit as i64),
                Instruction::I64GtU,
                Instruction::If(BlockType::Result(wasm_encoder::ValType::I32)),
                Instruction::I32Const(-1),
                Instruction::Else,
                Instruction::LocalGet(delta),
                Instruction::MemoryGrow(0),
                Instruction::End,
            ]);
            Splice::Replace(guard)
        })
    })?;
    grows.then_some(guarded)
}

/// `module` with its active element segments of functions for table 0 encoded without the
/// table index, as the MVP encodes them.
fn implicit_table_zero(module: &[u8]) -> Option<Vec<u8>> {
    struct Implicit;
    impl Reencode for Implicit {
        type Error = Infallible;

        fn parse_element(
            &mut self,
            elements: &mut ElementSection,
            element: wasmparser::Element<'_>,
        ) -> Result<(), reencode::Error<Infallible>> {
            if let (
                ElementKind::Active {
                    table_index: Some(0),
                    offset_expr,
                },
                ElementItems::Functions(_),
            ) = (&element.kind, &element.items)
            {
                let offset = self.const_expr(offset_expr.clone())?;
                let items = self.element_items(element.items.clone())?;
                elements.active(None, &offset, items);
                return Ok(());
            }
            reencode::utils::parse_element(self, elements, element)
        }
    }
    let mut out = wasm_encoder::Module::new();
    Implicit
        .parse_core_module(&mut out, wasmparser::Parser::new(0), module)
        .ok()?;
    Some(out.finish())
}

/// `module` without its active element segments for table 0 that are empty or end past the
/// table's declared size (constant offsets only).
fn without_odd_segments(module: &[u8]) -> Option<Vec<u8>> {
    let mut table_size = None;
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        match payload.ok()? {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if let TypeRef::Table(table) = import.ok()?.ty {
                        table_size.get_or_insert(table.initial);
                    }
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    table_size.get_or_insert(table.ok()?.ty.initial);
                }
            }
            _ => {}
        }
    }
    let mut out = wasm_encoder::Module::new();
    OddSegments {
        table_size: table_size.unwrap_or(0),
    }
    .parse_core_module(&mut out, wasmparser::Parser::new(0), module)
    .ok()?;
    Some(out.finish())
}

struct OddSegments {
    table_size: u64,
}

impl Reencode for OddSegments {
    type Error = Infallible;

    fn parse_element(
        &mut self,
        elements: &mut ElementSection,
        element: wasmparser::Element<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        if let ElementKind::Active {
            table_index: None | Some(0),
            offset_expr,
        } = &element.kind
        {
            let mut offset = offset_expr.get_operators_reader();
            let count = match &element.items {
                ElementItems::Functions(reader) => reader.count(),
                ElementItems::Expressions(_, reader) => reader.count(),
            };
            if let (Ok(Operator::I32Const { value }), Ok(Operator::End)) =
                (offset.read(), offset.read())
            {
                let end = u64::from(value as u32) + u64::from(count);
                if count == 0 || end > self.table_size {
                    return Ok(());
                }
            }
        }
        reencode::utils::parse_element(self, elements, element)
    }
}
