//! Invocation plans: which exports to call, with which arguments, in what order.

use arbitrary::{Result, Unstructured};
use serde::{Deserialize, Serialize};
use wasmparser::{ExternalKind, Payload, Validator, WasmFeatures};

use crate::value::{RefHeap, ValType, Value, arbitrary_value};

/// At most this many calls per test case, to bound execution time.
pub const MAX_INVOCATIONS: usize = 32;

/// One call of an exported function.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Invocation {
    pub export: String,
    pub args: Vec<Value>,
}

/// An exported function and its signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportedFunc {
    pub name: String,
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
}

impl ExportedFunc {
    /// Whether the harness can make up arguments for this function.
    pub fn is_callable(&self) -> bool {
        self.params.iter().all(ValType::is_passable)
    }
}

/// Why a module cannot be planned.
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    // Not a `#[source]`: the message already says it all, once.
    #[error("invalid module: {0}")]
    Invalid(wasmparser::BinaryReaderError),
    #[error("the module imports `{module}::{name}`; wasmdiff runs only modules without imports")]
    HasImports { module: String, name: String },
}

impl From<wasmparser::BinaryReaderError> for ModuleError {
    fn from(e: wasmparser::BinaryReaderError) -> ModuleError {
        ModuleError::Invalid(e)
    }
}

/// The module's exported functions, in export order. Validates the module on the way.
pub fn exported_functions(module: &[u8]) -> std::result::Result<Vec<ExportedFunc>, ModuleError> {
    let types = Validator::new_with_features(WasmFeatures::all()).validate_all(module)?;
    let mut funcs = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        match payload? {
            Payload::ImportSection(reader) => {
                if let Some(import) = reader.into_imports().next() {
                    let import = import?;
                    return Err(ModuleError::HasImports {
                        module: import.module.to_string(),
                        name: import.name.to_string(),
                    });
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    if export.kind != ExternalKind::Func {
                        continue;
                    }
                    let types = types.as_ref();
                    let ty = types[types.core_function_at(export.index)].unwrap_func();
                    funcs.push(ExportedFunc {
                        name: export.name.to_string(),
                        params: ty
                            .params()
                            .iter()
                            .map(|t| ValType::from_wasmparser(*t))
                            .collect(),
                        results: ty
                            .results()
                            .iter()
                            .map(|t| ValType::from_wasmparser(*t))
                            .collect(),
                    });
                }
            }
            _ => {}
        }
    }
    Ok(funcs)
}

impl ValType {
    /// A wasmparser value type in this crate's terms.
    pub fn from_wasmparser(ty: wasmparser::ValType) -> ValType {
        use wasmparser::{AbstractHeapType as A, HeapType};
        match ty {
            wasmparser::ValType::I32 => ValType::I32,
            wasmparser::ValType::I64 => ValType::I64,
            wasmparser::ValType::F32 => ValType::F32,
            wasmparser::ValType::F64 => ValType::F64,
            wasmparser::ValType::V128 => ValType::V128,
            wasmparser::ValType::Ref(r) => {
                let heap = match r.heap_type() {
                    HeapType::Abstract {
                        shared: false,
                        ty: A::Func | A::NoFunc,
                    } => RefHeap::Func,
                    HeapType::Abstract {
                        shared: false,
                        ty: A::Extern | A::NoExtern,
                    } => RefHeap::Extern,
                    _ => RefHeap::Any,
                };
                ValType::Ref {
                    heap,
                    nullable: r.is_nullable(),
                }
            }
        }
    }
}

/// A plan over `funcs`: every callable export once, in export order (so even an exhausted input
/// exercises all of them), then further calls the input chooses, with fresh arguments. Calls
/// are cheap next to compiling, so the input usually asks for several more.
pub fn plan(u: &mut Unstructured<'_>, funcs: &[ExportedFunc]) -> Result<Vec<Invocation>> {
    let callable: Vec<&ExportedFunc> = funcs.iter().filter(|f| f.is_callable()).collect();
    let mut plan = Vec::new();
    for func in callable.iter().take(MAX_INVOCATIONS) {
        plan.push(invocation(u, func)?);
    }
    while plan.len() < MAX_INVOCATIONS && !callable.is_empty() && u.ratio(7, 8)? {
        let func = u.choose(&callable)?;
        plan.push(invocation(u, func)?);
    }
    Ok(plan)
}

fn invocation(u: &mut Unstructured<'_>, func: &ExportedFunc) -> Result<Invocation> {
    let args = func
        .params
        .iter()
        .map(|ty| arbitrary_value(u, *ty))
        .collect::<Result<_>>()?;
    Ok(Invocation {
        export: func.name.clone(),
        args,
    })
}

/// A plan calling each callable export once with zero (or null) arguments.
pub fn zero_plan(funcs: &[ExportedFunc]) -> Vec<Invocation> {
    funcs
        .iter()
        .filter(|f| f.is_callable())
        .map(|f| Invocation {
            export: f.name.clone(),
            args: f.params.iter().map(|t| Value::zero(*t)).collect(),
        })
        .collect()
}
