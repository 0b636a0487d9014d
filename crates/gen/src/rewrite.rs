//! Instruction-level module rewriting: for the generator (NaNs made canonical where wasm-smith
//! leaves them), for engine wrappers (the self-test engines' planted bugs), for known-bug
//! workarounds (the same module without a bug's trigger), for the oracle's explanations (NaN
//! nondeterminism) and for the shrinker (a module without some of its instructions).

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
/// its index in that body; and the index of the function's first scratch local.
#[derive(Clone, Copy)]
struct Position {
    body: usize,
    instruction: usize,
    scratch: u32,
}

struct Rewriter<F> {
    splice: F,
    body: usize,
    /// Locals appended to every function, for the splices' own use.
    scratch: Vec<wasm_encoder::ValType>,
    /// The parameter count of each defined function (needed only with scratch locals).
    params: Vec<u32>,
}

impl<F: FnMut(Position, &Operator<'_>) -> Option<Splice>> Reencode for Rewriter<F> {
    type Error = Infallible;

    /// Custom sections go as they are: the name section is not parsed again (and a malformed
    /// one stays malformed, as an engine saw it).
    fn parse_custom_section(
        &mut self,
        module: &mut wasm_encoder::Module,
        section: wasmparser::CustomSectionReader<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        module.section(&self.custom_section(section)?);
        Ok(())
    }

    fn parse_function_body(
        &mut self,
        code: &mut CodeSection,
        func: FunctionBody<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        let mut locals = Vec::new();
        let mut declared = self.params.get(self.body).copied().unwrap_or(0);
        for pair in func.get_locals_reader()? {
            let (count, ty) = pair?;
            declared += count;
            locals.push((count, self.val_type(ty)?));
        }
        locals.extend(self.scratch.iter().map(|ty| (1, *ty)));
        let mut function = wasm_encoder::Function::new(locals);
        let mut reader = func.get_operators_reader()?;
        let mut instruction = 0;
        while !reader.eof() {
            let op = reader.read()?;
            let position = Position {
                body: self.body,
                instruction,
                scratch: declared,
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
    Rewriter {
        splice,
        body: 0,
        scratch: Vec::new(),
        params: Vec::new(),
    }
    .parse_core_module(&mut out, wasmparser::Parser::new(0), module)
    .ok()?;
    Some(out.finish())
}

/// `module` with `splice` applied to every instruction it returns a [`Splice`] for, given
/// `scratch` locals appended to every function for the splices' own use (told the first one's
/// index); `None` if the module, or the result, does not validate.
pub fn rewrite_with_scratch(
    module: &[u8],
    scratch: &[wasm_encoder::ValType],
    mut splice: impl FnMut(u32, &Operator<'_>) -> Option<Splice>,
) -> Option<Vec<u8>> {
    let types = wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(module)
        .ok()?;
    let types = types.as_ref();
    let imported = types.function_count() - body_lengths(module).len() as u32;
    let params = (imported..types.function_count())
        .map(|f| {
            types[types.core_function_at(f)]
                .unwrap_func()
                .params()
                .len() as u32
        })
        .collect();
    let mut out = wasm_encoder::Module::new();
    Rewriter {
        splice: |at: Position, op: &Operator<'_>| splice(at.scratch, op),
        body: 0,
        scratch: scratch.to_vec(),
        params,
    }
    .parse_core_module(&mut out, wasmparser::Parser::new(0), module)
    .ok()?;
    Some(out.finish()).filter(|rewritten| validates(rewritten))
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

/// `module` without its dead code: the instructions after an unconditional branch (`br`,
/// `br_table`, `return`, `unreachable`, a tail call, `throw`) up to the end of their block.
/// The same module for the spec; engines with bugs in unreachable code see none. `None` if
/// the module does not validate.
pub fn without_dead_code(module: &[u8]) -> Option<Vec<u8>> {
    use Operator::*;
    // Inside dead code: how many blocks deep it has opened since.
    let mut dead: Option<usize> = None;
    let drop = || Some(Splice::Replace(Vec::new()));
    rewrite_instructions(module, |op| match (dead, op) {
        (
            None,
            Br { .. }
            | BrTable { .. }
            | Return
            | Unreachable
            | ReturnCall { .. }
            | ReturnCallIndirect { .. }
            | ReturnCallRef { .. }
            | Throw { .. }
            | ThrowRef
            | Rethrow { .. },
        ) => {
            dead = Some(0);
            None
        }
        (None, _) => None,
        (Some(depth), Block { .. } | Loop { .. } | If { .. } | Try { .. } | TryTable { .. }) => {
            dead = Some(depth + 1);
            drop()
        }
        (Some(0), End | Else | Catch { .. } | CatchAll | Delegate { .. }) => {
            dead = None;
            None
        }
        (Some(depth), End | Delegate { .. }) => {
            dead = Some(depth - 1);
            drop()
        }
        (Some(_), _) => drop(),
    })
}

/// `module` with each function's body inside a block of the function's result type, so that a
/// branch to the function's own label becomes a branch to that block (whose end the function
/// then reaches). The same module for the spec. Functions of several results are left as they
/// are (their block would need a type of its own). `None` if the module does not validate.
pub fn bodies_in_blocks(module: &[u8]) -> Option<Vec<u8>> {
    let types = wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(module)
        .ok()?;
    let types = types.as_ref();
    let lengths = body_lengths(module);
    let imported = types.function_count() - lengths.len() as u32;
    let mut blocks = Vec::with_capacity(lengths.len());
    for f in imported..types.function_count() {
        let results = types[types.core_function_at(f)].unwrap_func().results();
        blocks.push(match results {
            [] => Some(wasm_encoder::BlockType::Empty),
            [one] => Some(wasm_encoder::BlockType::Result(
                wasm_encoder::reencode::RoundtripReencoder
                    .val_type(*one)
                    .ok()?,
            )),
            _ => None,
        });
    }
    reencode(module, |at, _| {
        let block = blocks[at.body]?;
        match at.instruction {
            0 => Some(Splice::Around {
                before: vec![Instruction::Block(block)],
                after: Vec::new(),
            }),
            i if i + 1 == lengths[at.body] => Some(Splice::Around {
                before: vec![Instruction::End],
                after: Vec::new(),
            }),
            _ => None,
        }
    })
    .filter(|rewritten| validates(rewritten))
}

/// `module` without its custom sections (names, producers, …): the same module for the spec,
/// which says a custom section's contents or place must never make a module invalid. `None`
/// if it cannot be read.
pub fn without_custom_sections(module: &[u8]) -> Option<Vec<u8>> {
    use wasm_encoder::Encode;
    let mut out = module.get(..8)?.to_vec();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        let Some((id, range)) = payload.ok()?.as_section() else {
            continue;
        };
        if id != 0 {
            let content = module.get(range.start as usize..range.end as usize)?;
            out.push(id);
            (content.len() as u32).encode(&mut out);
            out.extend_from_slice(content);
        }
    }
    Some(out)
}

/// `module` without its empty vector sections (no types, no memories, …; not the data count):
/// the same module. `None` if it cannot be read.
pub fn without_empty_sections(module: &[u8]) -> Option<Vec<u8>> {
    use wasm_encoder::Encode;
    const DATA_COUNT: u8 = 12;
    const START: u8 = 8;
    let mut out = module.get(..8)?.to_vec();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        let Some((id, range)) = payload.ok()?.as_section() else {
            continue;
        };
        let content = module.get(range.start as usize..range.end as usize)?;
        let vector = !matches!(id, 0 | START | DATA_COUNT);
        let empty = wasmparser::BinaryReader::new(content, 0)
            .read_var_u32()
            .ok()
            == Some(0);
        if !(vector && empty) {
            out.push(id);
            (content.len() as u32).encode(&mut out);
            out.extend_from_slice(content);
        }
    }
    Some(out)
}

/// `module` with each `table.grow` (of a 32-bit table of funcref or externref) by more than
/// `limit` elements answering -1 without growing: what the spec allows any growth to do, for
/// engines that try such growth and die of it. `None` if the module does not validate.
pub fn bounded_table_growth(module: &[u8], limit: u32) -> Option<Vec<u8>> {
    use wasm_encoder::{BlockType, RefType, ValType as V};
    let mut tables: Vec<Option<RefType>> = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        let table = |ty: wasmparser::TableType| match (ty.table64, ty.element_type) {
            (false, t) if t == wasmparser::RefType::FUNCREF => Some(RefType::FUNCREF),
            (false, t) if t == wasmparser::RefType::EXTERNREF => Some(RefType::EXTERNREF),
            _ => None,
        };
        match payload.ok()? {
            wasmparser::Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if let wasmparser::TypeRef::Table(ty) = import.ok()?.ty {
                        tables.push(table(ty));
                    }
                }
            }
            wasmparser::Payload::TableSection(reader) => {
                for t in reader {
                    tables.push(table(t.ok()?.ty));
                }
            }
            _ => {}
        }
    }
    let scratch = [V::I32, V::Ref(RefType::FUNCREF), V::Ref(RefType::EXTERNREF)];
    rewrite_with_scratch(module, &scratch, |first, op| {
        let Operator::TableGrow { table } = op else {
            return None;
        };
        let element = tables.get(*table as usize).copied().flatten()?;
        let (delta, init) = match element == RefType::FUNCREF {
            true => (first, first + 1),
            false => (first, first + 2),
        };
        Some(Splice::Replace(vec![
            Instruction::LocalSet(delta),
            Instruction::LocalSet(init),
            Instruction::LocalGet(delta),
            Instruction::I32Const(limit as i32),
            Instruction::I32GtU,
            Instruction::If(BlockType::Result(V::I32)),
            Instruction::I32Const(-1),
            Instruction::Else,
            Instruction::LocalGet(init),
            Instruction::LocalGet(delta),
            Instruction::TableGrow(*table),
            Instruction::End,
        ]))
    })
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

/// The lanes of a float result whose NaN bits the spec leaves nondeterministic.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NanLanes {
    F32,
    F64,
    F32x4,
    F64x2,
}

/// Whether `op` is float arithmetic, whose NaN results have nondeterministic bits (sign,
/// payload); moves, `abs`, `neg`, `copysign`, `pmin`/`pmax` and reinterpretations are exact.
fn nan_lanes(op: &Operator<'_>) -> Option<NanLanes> {
    use Operator::*;
    Some(match op {
        F32Add | F32Sub | F32Mul | F32Div | F32Sqrt | F32Min | F32Max | F32Ceil | F32Floor
        | F32Trunc | F32Nearest | F32DemoteF64 => NanLanes::F32,
        F64Add | F64Sub | F64Mul | F64Div | F64Sqrt | F64Min | F64Max | F64Ceil | F64Floor
        | F64Trunc | F64Nearest | F64PromoteF32 => NanLanes::F64,
        F32x4Add | F32x4Sub | F32x4Mul | F32x4Div | F32x4Sqrt | F32x4Min | F32x4Max | F32x4Ceil
        | F32x4Floor | F32x4Trunc | F32x4Nearest | F32x4DemoteF64x2Zero | F32x4RelaxedMadd
        | F32x4RelaxedNmadd | F32x4RelaxedMin | F32x4RelaxedMax => NanLanes::F32x4,
        F64x2Add | F64x2Sub | F64x2Mul | F64x2Div | F64x2Sqrt | F64x2Min | F64x2Max | F64x2Ceil
        | F64x2Floor | F64x2Trunc | F64x2Nearest | F64x2PromoteLowF32x4 | F64x2RelaxedMadd
        | F64x2RelaxedNmadd | F64x2RelaxedMin | F64x2RelaxedMax => NanLanes::F64x2,
        _ => return None,
    })
}

/// `module` with the result of every float operation made canonical where it is a NaN (the
/// positive quiet NaN without payload, per lane), so that no NaN bits the spec leaves
/// nondeterministic can reach anything observable. Engines that disagree on a module but
/// agree on this one disagreed on such bits only. `None` if the module does not validate.
pub fn canonicalize_nans(module: &[u8]) -> Option<Vec<u8>> {
    rewrite_nans(module, NanRewrite::Canonicalize, |_| true)
}

/// [`canonicalize_nans`] after the float operations `only` picks alone.
pub fn canonicalize_nans_after(module: &[u8], only: fn(&Operator<'_>) -> bool) -> Option<Vec<u8>> {
    rewrite_nans(module, NanRewrite::Canonicalize, only)
}

/// `module` with the sign of every NaN a scalar float operation produces flipped: the same
/// module for the spec (those bits are nondeterministic), different bits for an engine that
/// compares them. For a self-test engine.
pub fn flip_nan_signs(module: &[u8]) -> Option<Vec<u8>> {
    rewrite_nans(module, NanRewrite::FlipSign, |_| true)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum NanRewrite {
    Canonicalize,
    FlipSign,
}

fn rewrite_nans(
    module: &[u8],
    how: NanRewrite,
    only: fn(&Operator<'_>) -> bool,
) -> Option<Vec<u8>> {
    let lanes_of = |op: &Operator<'_>| nan_lanes(op).filter(|_| only(op));
    let vector = |lanes| matches!(lanes, Some(NanLanes::F32x4 | NanLanes::F64x2));
    let (mut any, mut vectors) = (false, false);
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        if let Ok(wasmparser::Payload::CodeSectionEntry(body)) = payload {
            let reader = body.get_operators_reader().ok()?;
            for op in reader.into_iter().flatten() {
                let lanes = lanes_of(&op);
                any |= lanes.is_some();
                vectors |= vector(lanes);
            }
        }
    }
    if !any {
        // Nothing to rewrite: the module as it is (if it validates), not re-encoded.
        return validates(module).then(|| module.to_vec());
    }
    use wasm_encoder::ValType as V;
    let mut scratch = vec![V::F32, V::F64];
    if vectors && how == NanRewrite::Canonicalize {
        scratch.push(V::V128);
    }
    let lanes = |bits: &[u8], count: usize| {
        Instruction::V128Const(i128::from_le_bytes(
            bits.repeat(count).try_into().expect("16 bytes"),
        ))
    };
    rewrite_with_scratch(module, &scratch, |scratch, op| {
        let (local, replacement, ne, pick) = match (lanes_of(op)?, how) {
            (NanLanes::F32, NanRewrite::Canonicalize) => (
                scratch,
                vec![Instruction::F32Const(f32::NAN.into())],
                Instruction::F32Ne,
                Instruction::Select,
            ),
            (NanLanes::F64, NanRewrite::Canonicalize) => (
                scratch + 1,
                vec![Instruction::F64Const(f64::NAN.into())],
                Instruction::F64Ne,
                Instruction::Select,
            ),
            (NanLanes::F32x4, NanRewrite::Canonicalize) => (
                scratch + 2,
                vec![lanes(&0x7fc0_0000u32.to_le_bytes(), 4)],
                Instruction::F32x4Ne,
                Instruction::V128Bitselect,
            ),
            (NanLanes::F64x2, NanRewrite::Canonicalize) => (
                scratch + 2,
                vec![lanes(&0x7ff8_0000_0000_0000u64.to_le_bytes(), 2)],
                Instruction::F64x2Ne,
                Instruction::V128Bitselect,
            ),
            (NanLanes::F32, NanRewrite::FlipSign) => (
                scratch,
                vec![Instruction::LocalGet(scratch), Instruction::F32Neg],
                Instruction::F32Ne,
                Instruction::Select,
            ),
            (NanLanes::F64, NanRewrite::FlipSign) => (
                scratch + 1,
                vec![Instruction::LocalGet(scratch + 1), Instruction::F64Neg],
                Instruction::F64Ne,
                Instruction::Select,
            ),
            (NanLanes::F32x4 | NanLanes::F64x2, NanRewrite::FlipSign) => return None,
        };
        // x -> (x != x) ? replacement : x, lane by lane.
        let mut after = vec![Instruction::LocalSet(local)];
        after.extend(replacement);
        after.extend([
            Instruction::LocalGet(local),
            Instruction::LocalGet(local),
            Instruction::LocalGet(local),
            ne,
            pick,
        ]);
        Some(Splice::Around {
            before: Vec::new(),
            after,
        })
    })
}

/// `module` with each `return_call` of an imported function made a `call` and a `return`: the
/// same module for the spec (the host function's results become the caller's either way), for
/// engines that crash on tail calls into the host. `None` if the module does not validate.
pub fn tail_calls_to_imports_as_calls(module: &[u8]) -> Option<Vec<u8>> {
    let mut imported = 0u32;
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        if let wasmparser::Payload::ImportSection(reader) = payload.ok()? {
            for import in reader.into_imports() {
                if matches!(import.ok()?.ty, wasmparser::TypeRef::Func(_)) {
                    imported += 1;
                }
            }
        }
    }
    rewrite_instructions(module, |op| match op {
        Operator::ReturnCall { function_index } if *function_index < imported => {
            Some(Splice::Replace(vec![
                Instruction::Call(*function_index),
                Instruction::Return,
            ]))
        }
        _ => None,
    })
}
