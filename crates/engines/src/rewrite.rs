//! Instruction-level module rewriting, for engine wrappers (the planted bug), for known-bug
//! workarounds (the same module without a bug's trigger) and for the shrinker (a module
//! without some of its instructions).

use std::convert::Infallible;
use std::ops::Range;

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

/// Where an instruction is: the index of its function among the module's function bodies, and
/// its index in that body.
#[derive(Clone, Copy)]
struct Position {
    body: usize,
    instruction: usize,
}

struct Rewriter<F> {
    splice: F,
    body: usize,
}

impl<F: FnMut(Position, &Operator<'_>) -> Option<Splice>> Reencode for Rewriter<F> {
    type Error = Infallible;

    fn parse_function_body(
        &mut self,
        code: &mut CodeSection,
        func: FunctionBody<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        let mut function = reencode::utils::new_function_with_parsed_locals(self, &func)?;
        let mut reader = func.get_operators_reader()?;
        let mut instruction = 0;
        while !reader.eof() {
            let op = reader.read()?;
            let position = Position {
                body: self.body,
                instruction,
            };
            instruction += 1;
            match (self.splice)(position, &op) {
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
        self.body += 1;
        Ok(())
    }
}

fn validates(module: &[u8]) -> bool {
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(module)
        .is_ok()
}

/// `module` with `splice` applied to every instruction it returns a [`Splice`] for, told where
/// each one is; `None` if it cannot be decoded. The result is not validated.
fn reencode(
    module: &[u8],
    splice: impl FnMut(Position, &Operator<'_>) -> Option<Splice>,
) -> Option<Vec<u8>> {
    let mut out = wasm_encoder::Module::new();
    Rewriter { splice, body: 0 }
        .parse_core_module(&mut out, wasmparser::Parser::new(0), module)
        .ok()?;
    Some(out.finish())
}

/// `module` with `splice` applied to every instruction it returns a [`Splice`] for; `None` if
/// the module does not validate.
pub fn rewrite_instructions(
    module: &[u8],
    mut splice: impl FnMut(&Operator<'_>) -> Option<Splice>,
) -> Option<Vec<u8>> {
    if !validates(module) {
        return None;
    }
    reencode(module, |_, op| splice(op))
}

/// How many instructions each function body of `module` holds (its final `end` included).
pub fn body_lengths(module: &[u8]) -> Vec<usize> {
    wasmparser::Parser::new(0)
        .parse_all(module)
        .filter_map(|payload| match payload {
            Ok(wasmparser::Payload::CodeSectionEntry(body)) => {
                Some(body.get_operators_reader().map_or(0, |reader| {
                    reader.into_iter().take_while(Result::is_ok).count()
                }))
            }
            _ => None,
        })
        .collect()
}

/// `module` without instructions `range` of function body `body`, if the result validates.
pub fn without_instructions(module: &[u8], body: usize, range: Range<usize>) -> Option<Vec<u8>> {
    let smaller = reencode(module, |at, _| {
        (at.body == body && range.contains(&at.instruction)).then(|| Splice::Replace(Vec::new()))
    })?;
    validates(&smaller).then_some(smaller)
}

/// `module` decoded and encoded again, unchanged in meaning (a baseline for rewrites: the
/// encoder may normalize an encoding, and that alone can change what an engine does).
pub fn roundtrip(module: &[u8]) -> Option<Vec<u8>> {
    rewrite_instructions(module, |_| None)
}
