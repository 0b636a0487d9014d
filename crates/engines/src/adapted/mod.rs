//! Adapted modules, for engines whose embedding can only call an export without arguments and
//! read back integers: the C engines' small APIs (wasm3 and WAMR, in this folder), and two
//! engines in other processes (`remote/`): JavaScript (no exact NaN payloads, no `v128`) and
//! WABT's script runner (lossy float printing, no state dumps).
//!
//! The adapter appends exported functions to the module, leaving every original byte as it
//! was: one wrapper per planned call, which calls the export with the plan's arguments as
//! constants and returns its results as integers (floats by their bits, `v128` as two `i64`,
//! references as "is null"); a getter per exported global; and a length and a digest function
//! per exported memory and table (see [`ExportValue::digest`]). Engines call the wrappers in
//! order and decode what they return with [`Results::decode`].

#[cfg(any(feature = "v8", feature = "wabt", feature = "wamr"))]
pub(crate) mod inspect;
#[cfg(feature = "wamr")]
pub(crate) mod wamr;
#[cfg(feature = "wasm3")]
pub(crate) mod wasm3;

use std::collections::VecDeque;
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    BlockType, CodeSection, ExportKind, ExportSection, Function, FunctionSection, Instruction,
    MemArg, TypeSection,
};

use wasmdiff_gen::{Features, Invocation, Plan, ValType, Value};
use wasmparser::{ExternalKind, Payload, Validator, WasmFeatures};

use crate::outcome::{
    CallOutcome, CrashKind, Execution, ExportState, ExportValue, FNV_OFFSET, FNV_PRIME, Trap,
    TrapKind,
};
use crate::progress::{self, Stage};
use crate::sections::{self, Addition};

/// The integer results of an adapted export decoded into the original export's values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Results(Vec<ValType>);

impl Results {
    /// How many integers the adapted export returns.
    pub fn carrier_count(&self) -> usize {
        self.0.iter().map(|t| carriers(t).len()).sum()
    }

    /// The original values from the adapted export's integers (each given as the bits of an
    /// `i64`, or of an `i32` in the low half).
    pub fn decode(&self, raw: &[i64]) -> Result<Vec<Value>, String> {
        if raw.len() != self.carrier_count() {
            return Err(format!(
                "expected {} results, got {}",
                self.carrier_count(),
                raw.len()
            ));
        }
        let mut raw = raw.iter().copied();
        let mut next = || raw.next().expect("counted");
        Ok(self
            .0
            .iter()
            .map(|ty| match ty {
                ValType::I32 => Value::I32(next() as i32),
                ValType::I64 => Value::I64(next()),
                ValType::F32 => Value::F32(next() as u32),
                ValType::F64 => Value::F64(next() as u64),
                ValType::V128 => {
                    let low = next() as u64 as u128;
                    let high = next() as u64 as u128;
                    Value::V128(low | high << 64)
                }
                ValType::Ref { heap, .. } => Value::Ref {
                    heap: *heap,
                    null: next() != 0,
                },
            })
            .collect())
    }
}

/// How an exported item's state is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observation {
    /// Call `getter`; its results decode to the global's value.
    Global { getter: String, results: Results },
    /// Read the memory directly (by its export name), or call `length` and `digest`.
    Memory { length: String, digest: String },
    /// Call `length` and `digest`.
    Table { length: String, digest: String },
    /// The engine cannot observe it.
    Unobserved,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateItem {
    pub export: String,
    pub observation: Observation,
}

/// A module ready for an engine that calls exports without arguments.
#[derive(Clone, Debug)]
pub struct Adapted {
    pub module: Vec<u8>,
    /// One wrapper per planned call, in plan order: its export name and result decoding.
    pub calls: Vec<(String, Results)>,
    /// Every exported memory, global and table, sorted by export name.
    pub state: Vec<StateItem>,
}

impl Adapted {
    /// The exports to call, in order, for an engine that reads no memory itself: the
    /// planned calls, then the state readers.
    pub fn exports_to_call(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.calls.iter().map(|(name, _)| name.as_str()).collect();
        for item in &self.state {
            match &item.observation {
                Observation::Global { getter, .. } => names.push(getter),
                Observation::Memory { length, digest } | Observation::Table { length, digest } => {
                    names.extend([length.as_str(), digest.as_str()])
                }
                Observation::Unobserved => {}
            }
        }
        names
    }

    /// Runs the planned calls and reads the exported state on `instance`, calling the
    /// exports in the order of [`Adapted::exports_to_call`].
    pub fn run(&self, instance: &mut dyn AdaptedInstance) -> Execution {
        let mut calls = Vec::with_capacity(self.calls.len());
        for (index, (name, results)) in self.calls.iter().enumerate() {
            progress::mark(Stage::Call(index));
            let outcome = match instance.call(name, results.carrier_count()) {
                Ok(raw) => match results.decode(&raw) {
                    Ok(values) => CallOutcome::Returned(values),
                    Err(e) => CallOutcome::Trapped(Trap::new(TrapKind::Unclassified, e)),
                },
                Err(trap) => CallOutcome::Trapped(trap),
            };
            let stop = outcome.is_inconclusive();
            calls.push(outcome);
            if stop {
                return Execution::ran(calls, Vec::new);
            }
        }
        progress::mark(Stage::Exports);
        let mut exports = Vec::with_capacity(self.state.len());
        for item in &self.state {
            match self.observe(item, instance) {
                Ok(value) => exports.push(ExportState {
                    name: item.export.clone(),
                    value,
                }),
                Err(e) => {
                    return Execution::crashed(
                        CrashKind::BadAnswer,
                        format!("reading export `{}`: {e}", item.export),
                        Stage::Exports,
                    );
                }
            }
        }
        Execution::ran(calls, || exports)
    }

    fn observe(
        &self,
        item: &StateItem,
        instance: &mut dyn AdaptedInstance,
    ) -> Result<ExportValue, String> {
        let mut call = |name: &str, count: usize| {
            let raw = instance.call(name, count).map_err(|t| t.message)?;
            match raw.len() == count {
                true => Ok(raw),
                false => Err(format!("`{name}` gave {} results", raw.len())),
            }
        };
        Ok(match &item.observation {
            Observation::Global { getter, results } => ExportValue::Global(
                results
                    .decode(&call(getter, results.carrier_count())?)?
                    .remove(0),
            ),
            Observation::Memory { length, digest } => match instance.memory(&item.export) {
                Some(bytes) => ExportValue::Memory(bytes),
                None => digest_of(instance, length, digest)?,
            },
            Observation::Table { length, digest } => digest_of(instance, length, digest)?,
            Observation::Unobserved => ExportValue::Unobserved,
        })
    }
}

/// A memory or table by its length and digest functions.
fn digest_of(
    instance: &mut dyn AdaptedInstance,
    length: &str,
    digest: &str,
) -> Result<ExportValue, String> {
    let mut single = |name: &str| match instance.call(name, 1).map_err(|t| t.message)?[..] {
        [value] => Ok(value as u64),
        _ => Err(format!("`{name}` did not give one result")),
    };
    Ok(ExportValue::Digest {
        items: single(length)?,
        digest: single(digest)?,
    })
}

/// An instance of an adapted module, as an engine's file provides it to [`Adapted::run`].
pub trait AdaptedInstance {
    /// Calls an export without arguments that returns `results` integers: those integers (as
    /// the bits of `i64`s, or of `i32`s in the low half), or the engine's trap.
    fn call(&mut self, export: &str, results: usize) -> Result<Vec<i64>, Trap>;
    /// The contents of an exported memory, if the engine hands them over (else its digest
    /// functions are called).
    fn memory(&mut self, export: &str) -> Option<Vec<u8>>;
}

/// The answers of an engine in another process, which ran the calls of
/// [`Adapted::exports_to_call`] all at once: replayed in order.
pub struct Answers(pub VecDeque<Result<Vec<i64>, Trap>>);

impl AdaptedInstance for Answers {
    fn call(&mut self, export: &str, _: usize) -> Result<Vec<i64>, Trap> {
        self.0.pop_front().unwrap_or_else(|| {
            Err(Trap::new(
                TrapKind::Unclassified,
                format!("no answer for `{export}`"),
            ))
        })
    }

    fn memory(&mut self, _: &str) -> Option<Vec<u8>> {
        None
    }
}

/// What the engine's instructions allow the adapter to use.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Table lengths and digests need reference-types instructions (`table.size`,
    /// `table.get`, `ref.is_null`); without them, tables are [`Observation::Unobserved`].
    pub tables: bool,
}

/// The integer types that carry one value of type `ty`.
fn carriers(ty: &ValType) -> Vec<wasm_encoder::ValType> {
    use wasm_encoder::ValType as E;
    match ty {
        ValType::I32 | ValType::F32 | ValType::Ref { .. } => vec![E::I32],
        ValType::I64 | ValType::F64 => vec![E::I64],
        ValType::V128 => vec![E::I64, E::I64],
    }
}

/// Appends instructions turning the value on top of the stack (of type `ty`, also in `local`)
/// into its carriers. The value must already be in `local`; it is read from there.
fn emit_carriers(f: &mut Function, ty: &ValType, local: u32) {
    f.instruction(&Instruction::LocalGet(local));
    match ty {
        ValType::I32 | ValType::I64 => {}
        ValType::F32 => {
            f.instruction(&Instruction::I32ReinterpretF32);
        }
        ValType::F64 => {
            f.instruction(&Instruction::I64ReinterpretF64);
        }
        ValType::V128 => {
            f.instruction(&Instruction::I64x2ExtractLane(0));
            f.instruction(&Instruction::LocalGet(local));
            f.instruction(&Instruction::I64x2ExtractLane(1));
        }
        ValType::Ref { .. } => {
            f.instruction(&Instruction::RefIsNull);
        }
    }
}

/// Turns the values left on the stack (of `types`, last on top) into their carriers, through
/// locals numbered from `first_local` (declared by the caller).
fn store_and_convert(f: &mut Function, types: &[ValType], first_local: u32) {
    for i in (0..types.len() as u32).rev() {
        f.instruction(&Instruction::LocalSet(first_local + i));
    }
    for (i, ty) in types.iter().enumerate() {
        emit_carriers(f, ty, first_local + i as u32);
    }
}

/// A constant instruction for an argument of wasm type `ty`.
fn constant(value: &Value, ty: wasmparser::ValType) -> Result<Instruction<'static>, String> {
    Ok(match (*value, ty) {
        (Value::I32(v), _) => Instruction::I32Const(v),
        (Value::I64(v), _) => Instruction::I64Const(v),
        (Value::F32(bits), _) => Instruction::F32Const(f32::from_bits(bits).into()),
        (Value::F64(bits), _) => Instruction::F64Const(f64::from_bits(bits).into()),
        (Value::V128(bits), _) => Instruction::V128Const(bits as i128),
        (Value::Ref { null: true, .. }, wasmparser::ValType::Ref(r)) => Instruction::RefNull(
            RoundtripReencoder
                .heap_type(r.heap_type())
                .map_err(|e| e.to_string())?,
        ),
        (value, _) => return Err(format!("cannot pass {value} as a constant")),
    })
}

/// The module's exports: name, kind, index.
fn exports(module: &[u8]) -> Result<Vec<(String, ExternalKind, u32)>, String> {
    let mut exports = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        if let Payload::ExportSection(reader) = payload.map_err(|e| e.to_string())? {
            for export in reader {
                let export = export.map_err(|e| e.to_string())?;
                exports.push((export.name.to_string(), export.kind, export.index));
            }
        }
    }
    Ok(exports)
}

/// What the adapter appends, built up function by function.
struct Additions {
    /// New function types (no parameters, these results), each its own type index.
    types: Vec<Vec<wasm_encoder::ValType>>,
    first_type: u32,
    first_function: u32,
    /// Per new function: its type (index into `types`), export name and body.
    functions: Vec<(u32, String, Function)>,
    prefix: String,
}

impl Additions {
    fn add(
        &mut self,
        kind: &str,
        index: usize,
        results: Vec<wasm_encoder::ValType>,
        body: Function,
    ) -> String {
        let ty = match self.types.iter().position(|t| *t == results) {
            Some(at) => at,
            None => {
                self.types.push(results);
                self.types.len() - 1
            }
        };
        let name = format!("{}{kind}_{index}", self.prefix);
        self.functions.push((ty as u32, name.clone(), body));
        name
    }
}

/// Why a module was not adapted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdaptError {
    /// The module is invalid whatever the features: the engine only says whether it accepts it.
    Invalid(String),
    /// A valid module the adapter cannot handle: a harness error, never an engine's answer.
    Unsupported(String),
}

/// What an adapted engine does with a plan.
pub enum Adaptation {
    /// Run the adapted module's calls and read its state.
    Run(Adapted),
    /// Only say whether the engine accepts the module as it is: the plan is to validate, or
    /// the module is invalid with the engine's features (so it must refuse it).
    Validate,
    /// The harness failed the engine: this is its outcome.
    Failed(Execution),
}

impl Adaptation {
    /// What an engine of `features` does with `plan` on `module`.
    pub fn of(module: &[u8], plan: &Plan, options: Options, features: &Features) -> Adaptation {
        let Plan::Calls(invocations) = plan else {
            return Adaptation::Validate;
        };
        // A module invalid with the engine's own features is one for it to refuse (it sits
        // out such modules when another engine's features make them valid).
        if features.validate(module).is_err() {
            return Adaptation::Validate;
        }
        match adapt(module, invocations, options) {
            Ok(adapted) => Adaptation::Run(adapted),
            Err(AdaptError::Invalid(_)) => Adaptation::Validate,
            Err(AdaptError::Unsupported(why)) => Adaptation::Failed(Execution::crashed(
                CrashKind::Harness,
                format!("the adapter cannot take this module: {why}"),
                Stage::Compile,
            )),
        }
    }
}

/// Adapts `module` for running `invocations` and reading the exported state.
pub fn adapt(
    module: &[u8],
    invocations: &[Invocation],
    options: Options,
) -> Result<Adapted, AdaptError> {
    let types = Validator::new_with_features(WasmFeatures::all())
        .validate_all(module)
        .map_err(|e| AdaptError::Invalid(e.message().to_string()))?;
    adapt_valid(module, types.as_ref(), invocations, options).map_err(AdaptError::Unsupported)
}

fn adapt_valid(
    module: &[u8],
    types: wasmparser::types::TypesRef<'_>,
    invocations: &[Invocation],
    options: Options,
) -> Result<Adapted, String> {
    let exports = exports(module)?;
    // A prefix no export starts with, for the names of the added exports.
    let mut prefix = "__wasmdiff_".to_string();
    while exports.iter().any(|(name, ..)| name.starts_with(&prefix)) {
        prefix.insert(0, '_');
    }
    let mut additions = Additions {
        types: Vec::new(),
        first_type: types.core_type_count_in_module(),
        first_function: types.function_count(),
        functions: Vec::new(),
        prefix,
    };

    let mut calls = Vec::with_capacity(invocations.len());
    for (i, invocation) in invocations.iter().enumerate() {
        let Some(&(_, ExternalKind::Func, index)) =
            exports.iter().find(|(name, ..)| *name == invocation.export)
        else {
            return Err(format!("no exported function `{}`", invocation.export));
        };
        let ty = types[types.core_function_at(index)].unwrap_func().clone();
        if ty.params().len() != invocation.args.len() {
            return Err(format!("wrong argument count for `{}`", invocation.export));
        }
        let results: Vec<ValType> = ty
            .results()
            .iter()
            .map(|t| ValType::from_wasmparser(*t))
            .collect();
        let mut body = Function::new(locals_of(ty.results())?);
        for (arg, param) in invocation.args.iter().zip(ty.params()) {
            body.instruction(&constant(arg, *param)?);
        }
        body.instruction(&Instruction::Call(index));
        store_and_convert(&mut body, &results, 0);
        body.instruction(&Instruction::End);
        let carrier_types = results.iter().flat_map(carriers).collect();
        let name = additions.add("call", i, carrier_types, body);
        calls.push((name, Results(results)));
    }

    let mut state = Vec::new();
    for (i, (export, kind, index)) in exports.iter().enumerate() {
        let observation = match kind {
            ExternalKind::Global => {
                let global = types.global_at(*index);
                let ty = ValType::from_wasmparser(global.content_type);
                let mut body = Function::new(locals_of(&[global.content_type])?);
                body.instruction(&Instruction::GlobalGet(*index));
                store_and_convert(&mut body, std::slice::from_ref(&ty), 0);
                body.instruction(&Instruction::End);
                let getter = additions.add("global", i, carriers(&ty), body);
                Observation::Global {
                    getter,
                    results: Results(vec![ty]),
                }
            }
            ExternalKind::Memory => {
                let memory = types.memory_at(*index);
                let page = 1u64 << memory.page_size_log2.unwrap_or(16);
                let length = additions.add("memory_length", i, vec![wasm_encoder::ValType::I64], {
                    let mut body = Function::new([]);
                    memory_bytes(&mut body, *index, memory.memory64, page);
                    body.instruction(&Instruction::End);
                    body
                });
                let digest = additions.add(
                    "memory_digest",
                    i,
                    vec![wasm_encoder::ValType::I64],
                    memory_digest(*index, memory.memory64, page),
                );
                Observation::Memory { length, digest }
            }
            ExternalKind::Table if options.tables => {
                let table = types.table_at(*index);
                let length = additions.add("table_length", i, vec![wasm_encoder::ValType::I64], {
                    let mut body = Function::new([]);
                    body.instruction(&Instruction::TableSize(*index));
                    if !table.table64 {
                        body.instruction(&Instruction::I64ExtendI32U);
                    }
                    body.instruction(&Instruction::End);
                    body
                });
                let digest = additions.add(
                    "table_digest",
                    i,
                    vec![wasm_encoder::ValType::I64],
                    table_digest(*index, table.table64),
                );
                Observation::Table { length, digest }
            }
            ExternalKind::Table => Observation::Unobserved,
            ExternalKind::Func | ExternalKind::Tag | ExternalKind::FuncExact => continue,
        };
        state.push(StateItem {
            export: export.clone(),
            observation,
        });
    }
    state.sort_by(|a, b| a.export.cmp(&b.export));

    Ok(Adapted {
        module: splice(module, &additions)?,
        calls,
        state,
    })
}

/// One local per value type, in order.
fn locals_of(types: &[wasmparser::ValType]) -> Result<Vec<(u32, wasm_encoder::ValType)>, String> {
    types
        .iter()
        .map(|t| {
            let ty = match t {
                // Results of non-nullable reference types are kept in nullable locals, which
                // need no initialization rules.
                wasmparser::ValType::Ref(r) => wasmparser::ValType::Ref(
                    wasmparser::RefType::new(true, r.heap_type()).ok_or("unencodable type")?,
                ),
                other => *other,
            };
            Ok((
                1,
                RoundtripReencoder.val_type(ty).map_err(|e| e.to_string())?,
            ))
        })
        .collect()
}

/// Pushes the memory's size in bytes, as an `i64`.
fn memory_bytes(body: &mut Function, memory: u32, memory64: bool, page: u64) {
    body.instruction(&Instruction::MemorySize(memory));
    if !memory64 {
        body.instruction(&Instruction::I64ExtendI32U);
    }
    body.instruction(&Instruction::I64Const(page as i64));
    body.instruction(&Instruction::I64Mul);
}

/// Folds the value on top of the stack (an `i64`) into the digest in local `hash`.
fn fold_into(body: &mut Function, hash: u32) {
    body.instruction(&Instruction::I64Xor);
    body.instruction(&Instruction::I64Const(FNV_PRIME as i64));
    body.instruction(&Instruction::I64Mul);
    body.instruction(&Instruction::LocalSet(hash));
}

/// Emits a loop over `i` (local, `i64`) from its current value while `i + step <= length`,
/// running `each` and adding `step`.
fn counted_loop(body: &mut Function, i: u32, length: u32, step: i64, each: impl Fn(&mut Function)) {
    body.instruction(&Instruction::Block(BlockType::Empty));
    body.instruction(&Instruction::Loop(BlockType::Empty));
    body.instruction(&Instruction::LocalGet(i));
    body.instruction(&Instruction::I64Const(step));
    body.instruction(&Instruction::I64Add);
    body.instruction(&Instruction::LocalGet(length));
    body.instruction(&Instruction::I64GtU);
    body.instruction(&Instruction::BrIf(1));
    each(body);
    body.instruction(&Instruction::LocalGet(i));
    body.instruction(&Instruction::I64Const(step));
    body.instruction(&Instruction::I64Add);
    body.instruction(&Instruction::LocalSet(i));
    body.instruction(&Instruction::Br(0));
    body.instruction(&Instruction::End);
    body.instruction(&Instruction::End);
}

/// Locals of the digest functions.
const INDEX: u32 = 0;
const LENGTH: u32 = 1;
const HASH: u32 = 2;

fn digest_function() -> Function {
    let mut body = Function::new([(3, wasm_encoder::ValType::I64)]);
    body.instruction(&Instruction::I64Const(FNV_OFFSET as i64));
    body.instruction(&Instruction::LocalSet(HASH));
    body
}

/// FNV-1a over the memory's 64-bit words, then its remaining bytes.
fn memory_digest(memory: u32, memory64: bool, page: u64) -> Function {
    let mut body = digest_function();
    memory_bytes(&mut body, memory, memory64, page);
    body.instruction(&Instruction::LocalSet(LENGTH));
    let address = |body: &mut Function| {
        body.instruction(&Instruction::LocalGet(HASH));
        body.instruction(&Instruction::LocalGet(INDEX));
        if !memory64 {
            body.instruction(&Instruction::I32WrapI64);
        }
    };
    let memarg = MemArg {
        offset: 0,
        align: 0,
        target: wasm_encoder::MemArgTarget::Memory(memory),
        ordering: None,
    };
    counted_loop(&mut body, INDEX, LENGTH, 8, |body| {
        address(body);
        body.instruction(&Instruction::I64Load(memarg));
        fold_into(body, HASH);
    });
    counted_loop(&mut body, INDEX, LENGTH, 1, |body| {
        address(body);
        body.instruction(&Instruction::I64Load8U(memarg));
        fold_into(body, HASH);
    });
    body.instruction(&Instruction::LocalGet(HASH));
    body.instruction(&Instruction::End);
    body
}

/// FNV-1a over one word per element: 1 for null, 0 otherwise.
fn table_digest(table: u32, table64: bool) -> Function {
    let mut body = digest_function();
    body.instruction(&Instruction::TableSize(table));
    if !table64 {
        body.instruction(&Instruction::I64ExtendI32U);
    }
    body.instruction(&Instruction::LocalSet(LENGTH));
    counted_loop(&mut body, INDEX, LENGTH, 1, |body| {
        body.instruction(&Instruction::LocalGet(HASH));
        body.instruction(&Instruction::LocalGet(INDEX));
        if !table64 {
            body.instruction(&Instruction::I32WrapI64);
        }
        body.instruction(&Instruction::TableGet(table));
        body.instruction(&Instruction::RefIsNull);
        body.instruction(&Instruction::I64ExtendI32U);
        fold_into(body, HASH);
    });
    body.instruction(&Instruction::LocalGet(HASH));
    body.instruction(&Instruction::End);
    body
}

const TYPE: u8 = 1;
const FUNCTION: u8 = 3;
const EXPORT: u8 = 7;
const CODE: u8 = 10;

/// `module` with the additions appended to its type, function, export and code sections
/// (each made if missing), every original byte kept.
fn splice(module: &[u8], additions: &Additions) -> Result<Vec<u8>, String> {
    let mut types = TypeSection::new();
    for results in &additions.types {
        types.ty().function([], results.iter().copied());
    }
    let mut functions = FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    for (i, (ty, name, body)) in additions.functions.iter().enumerate() {
        functions.function(additions.first_type + ty);
        exports.export(name, ExportKind::Func, additions.first_function + i as u32);
        code.function(body);
    }
    let added = vec![
        Addition::of(TYPE, &types, types.len(), false),
        Addition::of(FUNCTION, &functions, functions.len(), false),
        Addition::of(EXPORT, &exports, exports.len(), false),
        Addition::of(CODE, &code, code.len(), false),
    ];
    sections::splice(module, added, &[])
}

#[cfg(all(test, feature = "wasmi"))]
mod tests {
    use super::*;

    fn wat(text: &str) -> Vec<u8> {
        wat::parse_str(text).unwrap()
    }

    #[test]
    fn wrappers_pass_exact_bits_and_keep_the_original_bytes() {
        let module = wat(r#"(module
            (memory (export "m") 1)
            (global (export "g") (mut f64) (f64.const -0.5))
            (func (export "f") (param f32 v128) (result i32 v128 f32)
                local.get 0 i32.reinterpret_f32 local.get 1 local.get 0))"#);
        let nan = Value::F32(0x7fa0_0001);
        let invocation = Invocation {
            export: "f".to_string(),
            args: vec![nan.clone(), Value::V128(1 << 100 | 7)],
        };
        let adapted = adapt(&module, &[invocation], Options { tables: true }).unwrap();
        wasmparser::Validator::new()
            .validate_all(&adapted.module)
            .unwrap();
        // Every original section survives byte for byte inside the adapted module.
        assert!(
            adapted
                .module
                .windows(6)
                .any(|w| w == &module[module.len() - 6..])
        );
        let (name, results) = &adapted.calls[0];
        assert_eq!(results.carrier_count(), 4);
        let engine = run_with_wasmi(&adapted.module, name);
        assert_eq!(
            results.decode(&engine).unwrap(),
            vec![Value::I32(0x7fa0_0001), Value::V128(1 << 100 | 7), nan]
        );
        let names: Vec<&str> = adapted.state.iter().map(|s| s.export.as_str()).collect();
        assert_eq!(names, ["g", "m"]);
    }

    /// Calls an export without arguments on wasmi: its integer results.
    fn run_with_wasmi(module: &[u8], export: &str) -> Vec<i64> {
        let engine = wasmi::Engine::default();
        let module = wasmi::Module::new(&engine, module).unwrap();
        let mut store = wasmi::Store::new(&engine, ());
        let instance = wasmi::Linker::new(&engine)
            .instantiate_and_start(&mut store, &module)
            .unwrap();
        let func = instance.get_func(&store, export).unwrap();
        let mut results: Vec<wasmi::Val> = func
            .ty(&store)
            .results()
            .iter()
            .map(|t| wasmi::Val::default_for_ty(*t))
            .collect();
        func.call(&mut store, &[], &mut results).unwrap();
        results
            .iter()
            .map(|v| match v {
                wasmi::Val::I32(x) => i64::from(*x),
                wasmi::Val::I64(x) => *x,
                other => panic!("not a carrier: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn digests_match_the_harness_digest() {
        let module = wat(r#"(module
            (memory (export "m") 1 2)
            (data (i32.const 3) "\01\02\03\04\05\06\07\08\09")
            (table (export "t") 3 funcref)
            (elem (i32.const 1) func $f)
            (func $f))"#);
        let adapted = adapt(&module, &[], Options { tables: true }).unwrap();
        let mut memory = vec![0u8; 65536];
        memory[3..12].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let null = Value::Ref {
            heap: wasmdiff_gen::RefHeap::Func,
            null: true,
        };
        let live = Value::Ref {
            heap: wasmdiff_gen::RefHeap::Func,
            null: false,
        };
        let expected = [
            ExportValue::Memory(memory).digest().unwrap(),
            ExportValue::Table(vec![null.clone(), live, null])
                .digest()
                .unwrap(),
        ];
        for (item, expected) in adapted.state.iter().zip(expected) {
            let (Observation::Memory { length, digest } | Observation::Table { length, digest }) =
                &item.observation
            else {
                panic!("{item:?}");
            };
            let items = run_with_wasmi(&adapted.module, length)[0];
            let hash = run_with_wasmi(&adapted.module, digest)[0];
            assert_eq!((items as u64, hash as u64), expected, "{}", item.export);
        }
    }

    #[test]
    fn modules_without_functions_get_the_sections_they_lack() {
        let module = wat(r#"(module (global (export "g") i64 (i64.const -3)))"#);
        let adapted = adapt(&module, &[], Options { tables: false }).unwrap();
        wasmparser::Validator::new()
            .validate_all(&adapted.module)
            .unwrap();
        let Observation::Global { getter, results } = &adapted.state[0].observation else {
            panic!()
        };
        let raw = run_with_wasmi(&adapted.module, getter);
        assert_eq!(results.decode(&raw).unwrap(), vec![Value::I64(-3)]);
    }
}
