//! Engines that misbehave on purpose, to prove the harness catches each kind of failure: a
//! miscompiling engine (`planted`), one that also gives NaNs other bits where the spec allows
//! it (`selftest-nan-sign`), one wrong on a single pair of corner operands of one instruction
//! (`selftest-mul-corner`), one with an off-by-one bounds check on a two-byte load
//! (`selftest-load-boundary`), and engines that kill or hang their worker process on modules
//! holding an `i64.popcnt` (`selftest-abort`, `selftest-hang`). None is a default.

use wasm_encoder::Instruction;
use wasmdiff_gen::Plan;
use wasmparser::Operator;

use crate::outcome::Execution;
use crate::rewrite::{Splice, rewrite_instructions};
use crate::{Abilities, Engine, EngineSpec, Isolation};

/// The engine the self-tests wrap: they behave like it on every other module.
#[cfg(feature = "wasmi")]
fn inner() -> &'static EngineSpec {
    &crate::in_process::wasmi::SPECS[0]
}

#[cfg(feature = "wasmi")]
pub const SPECS: &[EngineSpec] = &[
    EngineSpec {
        name: "planted",
        description: "self-test: wasmi (eager) with i32.shr_u miscompiled as i32.shr_s",
        default: false,
        build: |limits| Rewritten::build(limits, miscompile),
        ..crate::in_process::wasmi::SPECS[0]
    },
    EngineSpec {
        name: "selftest-nan-sign",
        description: "self-test: `planted`, and the NaNs of scalar float arithmetic get the \
                      other sign (which the spec allows)",
        default: false,
        build: |limits| {
            Rewritten::build(limits, |module| {
                miscompile(module).and_then(|m| crate::rewrite::flip_nan_signs(&m))
            })
        },
        ..crate::in_process::wasmi::SPECS[0]
    },
    EngineSpec {
        name: "selftest-mul-corner",
        description: "self-test: wasmi (eager) whose i64.mul of i64::MIN by -1 gives i64::MAX",
        default: false,
        build: |limits| Rewritten::build(limits, wrong_mul_corner),
        ..crate::in_process::wasmi::SPECS[0]
    },
    EngineSpec {
        name: "selftest-load-boundary",
        description: "self-test: wasmi (eager) whose i32.load16_u at the memory's last byte reads that byte instead of trapping",
        default: false,
        build: |limits| Rewritten::build(limits, short_load_at_end),
        ..crate::in_process::wasmi::SPECS[0]
    },
    EngineSpec {
        name: "selftest-abort",
        description: "self-test: wasmi (eager), but aborts its process on modules with i64.popcnt",
        default: false,
        abilities: Abilities {
            runs: Isolation::Required,
            ..Abilities::ALL
        },
        known_bugs: &[],
        build: |limits| {
            Ok(Box::new(Misbehaving {
                inner: (inner().build)(limits)?,
                misbehave: || std::process::abort(),
            }))
        },
        ..crate::in_process::wasmi::SPECS[0]
    },
    EngineSpec {
        name: "selftest-hang",
        description: "self-test: wasmi (eager), but never answers on modules with i64.popcnt",
        default: false,
        abilities: Abilities {
            runs: Isolation::Required,
            ..Abilities::ALL
        },
        known_bugs: &[],
        build: |limits| {
            Ok(Box::new(Misbehaving {
                inner: (inner().build)(limits)?,
                misbehave: || loop {
                    std::thread::park();
                },
            }))
        },
        ..crate::in_process::wasmi::SPECS[0]
    },
];

#[cfg(not(feature = "wasmi"))]
pub const SPECS: &[EngineSpec] = &[];

/// wasmi running a rewritten module: a miscompiling engine made to order. A module the
/// rewrite cannot read goes through as it is (the inner engine says why).
#[cfg(feature = "wasmi")]
struct Rewritten {
    inner: Box<dyn Engine>,
    rewrite: fn(&[u8]) -> Option<Vec<u8>>,
}

#[cfg(feature = "wasmi")]
impl Rewritten {
    fn build(
        limits: &crate::Limits,
        rewrite: fn(&[u8]) -> Option<Vec<u8>>,
    ) -> anyhow::Result<Box<dyn Engine>> {
        Ok(Box::new(Rewritten {
            inner: (inner().build)(limits)?,
            rewrite,
        }))
    }
}

#[cfg(feature = "wasmi")]
impl Engine for Rewritten {
    fn run(&mut self, module: &[u8], plan: &Plan) -> Execution {
        match (self.rewrite)(module) {
            Some(rewritten) => self.inner.run(&rewritten, plan),
            None => self.inner.run(module, plan),
        }
    }
}

/// `module` with `i32.shr_u` run as `i32.shr_s`. The two agree unless the shifted value is
/// negative and the shift amount is not a multiple of 32.
#[cfg(feature = "wasmi")]
fn miscompile(module: &[u8]) -> Option<Vec<u8>> {
    rewrite_instructions(module, |op| {
        matches!(op, Operator::I32ShrU).then(|| Splice::Replace(vec![Instruction::I32ShrS]))
    })
}

/// `module` with `i64.mul` giving `i64::MAX` for `i64::MIN * -1` (which wraps to `i64::MIN`):
/// a wrong answer on one pair of corner operands, in that order.
#[cfg(feature = "wasmi")]
fn wrong_mul_corner(module: &[u8]) -> Option<Vec<u8>> {
    use wasm_encoder::{BlockType, ValType};
    crate::rewrite::rewrite_with_scratch(module, &[ValType::I64, ValType::I64], |a, op| {
        let b = a + 1;
        matches!(op, Operator::I64Mul).then(|| {
            Splice::Replace(vec![
                Instruction::LocalSet(b),
                Instruction::LocalSet(a),
                Instruction::LocalGet(a),
                Instruction::I64Const(i64::MIN),
                Instruction::I64Eq,
                Instruction::LocalGet(b),
                Instruction::I64Const(-1),
                Instruction::I64Eq,
                Instruction::I32And,
                Instruction::If(BlockType::Result(ValType::I64)),
                Instruction::I64Const(i64::MAX),
                Instruction::Else,
                Instruction::LocalGet(a),
                Instruction::LocalGet(b),
                Instruction::I64Mul,
                Instruction::End,
            ])
        })
    })
}

/// `module` with `i32.load16_u` from memory 0 at its last byte reading only that byte, where
/// the second byte is past the end and the load must trap: a boundary error on a multi-byte
/// access.
#[cfg(feature = "wasmi")]
fn short_load_at_end(module: &[u8]) -> Option<Vec<u8>> {
    use wasm_encoder::{BlockType, MemArg, MemArgTarget, ValType};
    crate::rewrite::rewrite_with_scratch(module, &[ValType::I32], |address, op| {
        let Operator::I32Load16U { memarg } = op else {
            return None;
        };
        if memarg.target != wasmparser::MemArgTarget::Memory(0) {
            return None;
        }
        let at = |align| MemArg {
            offset: memarg.offset,
            align,
            target: MemArgTarget::Memory(0),
            ordering: None,
        };
        Some(Splice::Replace(vec![
            Instruction::LocalSet(address),
            Instruction::LocalGet(address),
            Instruction::I64ExtendI32U,
            Instruction::I64Const(memarg.offset as i64),
            Instruction::I64Add,
            Instruction::MemorySize(0),
            Instruction::I64ExtendI32U,
            Instruction::I64Const(65536),
            Instruction::I64Mul,
            Instruction::I64Const(1),
            Instruction::I64Sub,
            Instruction::I64Eq,
            Instruction::If(BlockType::Result(ValType::I32)),
            Instruction::LocalGet(address),
            Instruction::I32Load8U(at(0)),
            Instruction::Else,
            Instruction::LocalGet(address),
            Instruction::I32Load16U(at(u32::from(memarg.align))),
            Instruction::End,
        ]))
    })
}

/// An engine that fails its process on modules with an `i64.popcnt`.
struct Misbehaving {
    inner: Box<dyn Engine>,
    misbehave: fn() -> !,
}

/// Whether the module's code holds an `i64.popcnt`.
pub fn has_trigger(module: &[u8]) -> bool {
    wasmparser::Parser::new(0)
        .parse_all(module)
        .filter_map(Result::ok)
        .any(|payload| match payload {
            wasmparser::Payload::CodeSectionEntry(body) => {
                body.get_operators_reader().is_ok_and(|ops| {
                    ops.into_iter()
                        .any(|op| matches!(op, Ok(Operator::I64Popcnt)))
                })
            }
            _ => false,
        })
}

impl Engine for Misbehaving {
    fn run(&mut self, module: &[u8], plan: &Plan) -> Execution {
        if matches!(plan, Plan::Calls(_)) && has_trigger(module) {
            (self.misbehave)();
        }
        self.inner.run(module, plan)
    }
}
