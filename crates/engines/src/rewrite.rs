//! Instruction-level module rewriting, for engine wrappers (the planted bug) and for known-bug
//! workarounds (the same module without a bug's trigger).

use std::convert::Infallible;

use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{CodeSection, Instruction};
use wasmparser::{FunctionBody, Operator};

/// What to do with one instruction.
pub enum Splice {
    /// Emit these instead.
    Replace(Vec<Instruction<'static>>),
    /// Keep it, with these around it.
    Around {
        before: Vec<Instruction<'static>>,
        after: Vec<Instruction<'static>>,
    },
}

struct Rewriter<F>(F);

impl<F: FnMut(&Operator<'_>) -> Option<Splice>> Reencode for Rewriter<F> {
    type Error = Infallible;

    fn parse_function_body(
        &mut self,
        code: &mut CodeSection,
        func: FunctionBody<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        let mut function = reencode::utils::new_function_with_parsed_locals(self, &func)?;
        let mut reader = func.get_operators_reader()?;
        while !reader.eof() {
            let op = reader.read()?;
            match (self.0)(&op) {
                Some(Splice::Replace(instructions)) => {
                    for instruction in &instructions {
                        function.instruction(instruction);
                    }
                }
                Some(Splice::Around { before, after }) => {
                    for instruction in &before {
                        function.instruction(instruction);
                    }
                    function.instruction(&self.instruction(op)?);
                    for instruction in &after {
                        function.instruction(instruction);
                    }
                }
                None => {
                    function.instruction(&self.instruction(op)?);
                }
            }
        }
        code.function(&function);
        Ok(())
    }
}

/// `module` with `splice` applied to every instruction it returns a [`Splice`] for; `None` if
/// the module does not validate.
pub fn rewrite_instructions(
    module: &[u8],
    splice: impl FnMut(&Operator<'_>) -> Option<Splice>,
) -> Option<Vec<u8>> {
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(module)
        .ok()?;
    let mut out = wasm_encoder::Module::new();
    Rewriter(splice)
        .parse_core_module(&mut out, wasmparser::Parser::new(0), module)
        .ok()?;
    Some(out.finish())
}

/// `module` decoded and encoded again, unchanged in meaning (a baseline for rewrites: the
/// encoder may normalize an encoding, and that alone can change what an engine does).
pub fn roundtrip(module: &[u8]) -> Option<Vec<u8>> {
    rewrite_instructions(module, |_| None)
}
