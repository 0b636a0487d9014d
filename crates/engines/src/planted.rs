//! A deliberately wrong engine, for proving that the oracle catches real divergences: wasmi
//! (eager) running every module with `i32.shr_u` miscompiled as `i32.shr_s`. The two agree
//! unless the shifted value is negative and the shift amount is not a multiple of 32.

use wasm_encoder::Instruction;
use wasmdiff_gen::Invocation;
use wasmdiff_gen::proxy::Scenario;
use wasmparser::Operator;

use crate::outcome::Execution;
use crate::rewrite::{Splice, rewrite_instructions};
use crate::{Engine, EngineSpec};

pub const SPEC: EngineSpec = EngineSpec {
    name: "planted",
    engine: "wasmi",
    version: crate::wasmi::VERSION,
    description: "self-test: wasmi (eager) with i32.shr_u miscompiled as i32.shr_s",
    features: crate::wasmi::SPECS[0].features,
    default: false,
    known_bugs: crate::wasmi::SPECS[0].known_bugs,
    build: |limits| {
        Ok(Box::new(Planted {
            inner: (crate::wasmi::SPECS[0].build)(limits)?,
        }))
    },
};

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
    fn execute(&mut self, module: &[u8], invocations: &[Invocation]) -> Execution {
        self.inner.execute(&miscompile(module), invocations)
    }

    fn run_proxy(&mut self, module: &[u8], scenario: &Scenario) -> Execution {
        self.inner.run_proxy(&miscompile(module), scenario)
    }
}
