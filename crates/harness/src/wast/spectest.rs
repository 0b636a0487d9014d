//! The spec test suite's `spectest` module, for engines that take modules without imports:
//! each import from `spectest` becomes a definition of the same item at the same place in its
//! index space (imports come first there, and so do these definitions), with the contents the
//! suite gives it: `print*` functions that do nothing, globals of 666 and 666.6, a table of 10
//! to 20 funcrefs, a memory of 1 to 2 pages. Nothing else of the module changes.

use wasm_encoder::{
    CodeSection, ConstExpr, Function, FunctionSection, GlobalSection, GlobalType, Instruction,
    MemorySection, MemoryType, RefType, TableSection, TableType,
};
use wasmdiff_engines::sections::{self, Addition};
use wasmparser::{Payload, TypeRef, ValType, Validator, WasmFeatures};

/// Why a module's imports cannot be given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// An import `spectest` lacks, or of another type: linking must fail.
    Unlinkable(String),
    /// An import from another module (one a script registered): engines here have no linker.
    Elsewhere(String),
}

impl std::fmt::Display for LinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkError::Unlinkable(why) => write!(f, "unlinkable: {why}"),
            LinkError::Elsewhere(module) => write!(
                f,
                "imports from `{module}`, a registered module (wasmdiff's engines do not link modules)"
            ),
        }
    }
}

/// The definitions standing for the imports, in import order per index space.
#[derive(Default)]
struct Definitions {
    functions: FunctionSection,
    code: CodeSection,
    tables: TableSection,
    memories: MemorySection,
    globals: GlobalSection,
}

/// `module` with its `spectest` imports defined in place; unchanged when it imports nothing.
pub fn link(module: &[u8]) -> Result<Vec<u8>, LinkError> {
    let mut imports = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        if let Ok(Payload::ImportSection(reader)) = payload {
            for import in reader.into_imports().flatten() {
                imports.push((
                    import.module.to_string(),
                    import.name.to_string(),
                    import.ty,
                ));
            }
        }
    }
    if imports.is_empty() {
        return Ok(module.to_vec());
    }
    let types = Validator::new_with_features(WasmFeatures::all())
        .validate_all(module)
        .map_err(|e| LinkError::Unlinkable(format!("invalid module: {}", e.message())))?;
    let types = types.as_ref();
    let mut defined = Definitions::default();
    let mut function_index = 0;
    for (from, name, ty) in &imports {
        if from != "spectest" {
            return Err(LinkError::Elsewhere(from.clone()));
        }
        let unlinkable = || LinkError::Unlinkable(format!("spectest has no {name} of that type"));
        match ty {
            TypeRef::Func(type_index) => {
                let func = types[types.core_function_at(function_index)].unwrap_func();
                function_index += 1;
                let expected: &[ValType] = match name.as_str() {
                    "print" => &[],
                    "print_i32" => &[ValType::I32],
                    "print_i64" => &[ValType::I64],
                    "print_f32" => &[ValType::F32],
                    "print_f64" => &[ValType::F64],
                    "print_i32_f32" => &[ValType::I32, ValType::F32],
                    "print_f64_f64" => &[ValType::F64, ValType::F64],
                    _ => return Err(unlinkable()),
                };
                if func.params() != expected || !func.results().is_empty() {
                    return Err(unlinkable());
                }
                defined.functions.function(*type_index);
                let mut body = Function::new([]);
                body.instruction(&Instruction::End);
                defined.code.function(&body);
            }
            TypeRef::Global(global) => {
                let (value_type, init) = match name.as_str() {
                    "global_i32" => (ValType::I32, ConstExpr::i32_const(666)),
                    "global_i64" => (ValType::I64, ConstExpr::i64_const(666)),
                    "global_f32" => (
                        ValType::F32,
                        ConstExpr::f32_const(f32::from_bits(0x4426_a666).into()),
                    ),
                    "global_f64" => (
                        ValType::F64,
                        ConstExpr::f64_const(f64::from_bits(0x4084_d4cc_cccc_cccd).into()),
                    ),
                    _ => return Err(unlinkable()),
                };
                if global.content_type != value_type || global.mutable {
                    return Err(unlinkable());
                }
                let val_type = match value_type {
                    ValType::I32 => wasm_encoder::ValType::I32,
                    ValType::I64 => wasm_encoder::ValType::I64,
                    ValType::F32 => wasm_encoder::ValType::F32,
                    _ => wasm_encoder::ValType::F64,
                };
                defined.globals.global(
                    GlobalType {
                        val_type,
                        mutable: false,
                        shared: false,
                    },
                    &init,
                );
            }
            TypeRef::Table(table) => {
                let fits = name == "table"
                    && table.element_type == wasmparser::RefType::FUNCREF
                    && !table.table64
                    && table.initial <= 10
                    && table.maximum.is_none_or(|max| max >= 20);
                if !fits {
                    return Err(unlinkable());
                }
                defined.tables.table(TableType {
                    element_type: RefType::FUNCREF,
                    minimum: 10,
                    maximum: Some(20),
                    table64: false,
                    shared: false,
                });
            }
            TypeRef::Memory(memory) => {
                let fits = name == "memory"
                    && !memory.memory64
                    && !memory.shared
                    && memory.initial <= 1
                    && memory.maximum.is_none_or(|max| max >= 2)
                    && memory.page_size_log2.is_none();
                if !fits {
                    return Err(unlinkable());
                }
                defined.memories.memory(MemoryType {
                    minimum: 1,
                    maximum: Some(2),
                    memory64: false,
                    shared: false,
                    page_size_log2: None,
                });
            }
            TypeRef::Tag(_) | TypeRef::FuncExact(_) => return Err(unlinkable()),
        }
    }
    splice(module, &defined).ok_or_else(|| LinkError::Unlinkable("an unreadable module".into()))
}

const IMPORT: u8 = 2;
const FUNCTION: u8 = 3;
const TABLE: u8 = 4;
const MEMORY: u8 = 5;
const GLOBAL: u8 = 6;
const CODE: u8 = 10;

/// `module` without its import section, and with the definitions put first in their sections
/// (each made if missing).
fn splice(module: &[u8], defined: &Definitions) -> Option<Vec<u8>> {
    let first = vec![
        Addition::of(FUNCTION, &defined.functions, defined.functions.len(), true),
        Addition::of(TABLE, &defined.tables, defined.tables.len(), true),
        Addition::of(MEMORY, &defined.memories, defined.memories.len(), true),
        Addition::of(GLOBAL, &defined.globals, defined.globals.len(), true),
        Addition::of(CODE, &defined.code, defined.code.len(), true),
    ];
    sections::splice(module, first, &[IMPORT]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spectest_imports_become_definitions_in_place() {
        let module = wat::parse_str(
            r#"(module
                (import "spectest" "print_i32" (func $p (param i32)))
                (import "spectest" "global_i32" (global $g i32))
                (import "spectest" "memory" (memory 1))
                (func (export "f") (result i32) i32.const 5 call $p global.get $g)
                (func (export "load") (result i32) i32.const 0 i32.load))"#,
        )
        .unwrap();
        let linked = link(&module).unwrap();
        wasmparser::Validator::new().validate_all(&linked).unwrap();
        let text = wasmprinter::print_bytes(&linked).unwrap();
        assert!(!text.contains("import"), "{text}");
        assert!(text.contains("i32.const 666"), "{text}");
        // `f` still calls function 0 and reads global 0: now the definitions.
        assert!(
            text.contains("(func $p (;0;)") && text.contains("(global $g (;0;)"),
            "{text}"
        );
        assert!(
            text.contains("call $p") && text.contains("global.get $g"),
            "{text}"
        );
        let elsewhere = wat::parse_str(r#"(module (import "M" "f" (func)))"#).unwrap();
        assert_eq!(link(&elsewhere), Err(LinkError::Elsewhere("M".into())));
        let wrong =
            wat::parse_str(r#"(module (import "spectest" "global_i32" (global i64)))"#).unwrap();
        assert!(matches!(link(&wrong), Err(LinkError::Unlinkable(_))));
    }
}
