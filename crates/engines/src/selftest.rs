//! Engines that misbehave on purpose, to prove the harness catches each kind of failure: a
//! miscompiling engine (`planted`), and engines that kill or hang their worker process on
//! modules holding an `i64.popcnt` (`selftest-abort`, `selftest-hang`). None is a default.

use wasm_encoder::Instruction;
use wasmdiff_gen::Plan;
use wasmparser::Operator;

use crate::outcome::Execution;
use crate::rewrite::{Splice, rewrite_instructions};
use crate::{Engine, EngineSpec, Isolation};

/// The engine the self-tests wrap: they behave like it on every other module.
#[cfg(feature = "wasmi")]
fn inner() -> &'static EngineSpec {
    &crate::wasmi::SPECS[0]
}

#[cfg(feature = "wasmi")]
pub const SPECS: &[EngineSpec] = &[
    EngineSpec {
        name: "planted",
        description: "self-test: wasmi (eager) with i32.shr_u miscompiled as i32.shr_s",
        default: false,
        build: |limits| {
            Ok(Box::new(Planted {
                inner: (inner().build)(limits)?,
            }))
        },
        ..crate::wasmi::SPECS[0]
    },
    EngineSpec {
        name: "selftest-abort",
        description: "self-test: wasmi (eager), but aborts its process on modules with i64.popcnt",
        default: false,
        isolation: Isolation::Required,
        known_bugs: &[],
        build: |limits| {
            Ok(Box::new(Misbehaving {
                inner: (inner().build)(limits)?,
                misbehave: || std::process::abort(),
            }))
        },
        ..crate::wasmi::SPECS[0]
    },
    EngineSpec {
        name: "selftest-hang",
        description: "self-test: wasmi (eager), but never answers on modules with i64.popcnt",
        default: false,
        isolation: Isolation::Required,
        known_bugs: &[],
        build: |limits| {
            Ok(Box::new(Misbehaving {
                inner: (inner().build)(limits)?,
                misbehave: || loop {
                    std::thread::park();
                },
            }))
        },
        ..crate::wasmi::SPECS[0]
    },
];

#[cfg(not(feature = "wasmi"))]
pub const SPECS: &[EngineSpec] = &[];

/// wasmi with `i32.shr_u` run as `i32.shr_s`. The two agree unless the shifted value is
/// negative and the shift amount is not a multiple of 32.
struct Planted {
    inner: Box<dyn Engine>,
}

/// `module` with `i32.shr_u` run as `i32.shr_s`; a module the rewriter cannot read goes
/// through as it is (the inner engine says why).
fn miscompile(module: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    rewrite_instructions(module, |op| {
        matches!(op, Operator::I32ShrU).then(|| Splice::Replace(vec![Instruction::I32ShrS]))
    })
    .map_or(std::borrow::Cow::Borrowed(module), std::borrow::Cow::Owned)
}

impl Engine for Planted {
    fn run(&mut self, module: &[u8], plan: &Plan) -> Execution {
        self.inner.run(&miscompile(module), plan)
    }
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
