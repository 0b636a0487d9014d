//! Properties of a module that some engines cannot handle by design (a documented limit, not a
//! bug): such an engine sits the module out, saying why.

use wasmparser::{Parser, Payload, TypeRef};

/// Whether the module has a 64-bit table (memory64's table64, which older engines lack).
#[cfg(any(feature = "v8", feature = "wabt"))]
pub fn has_table64(module: &[u8]) -> bool {
    Parser::new(0)
        .parse_all(module)
        .any(|payload| match payload {
            Ok(Payload::TableSection(reader)) => {
                reader.into_iter().any(|t| t.is_ok_and(|t| t.ty.table64))
            }
            Ok(Payload::ImportSection(reader)) => reader
                .into_imports()
                .any(|i| i.is_ok_and(|i| matches!(i.ty, TypeRef::Table(t) if t.table64))),
            _ => false,
        })
}

/// Whether an import, export or custom section name holds a NUL character.
#[cfg(feature = "wamr")]
pub fn has_name_with_nul(module: &[u8]) -> bool {
    Parser::new(0)
        .parse_all(module)
        .any(|payload| match payload {
            Ok(Payload::ExportSection(reader)) => reader
                .into_iter()
                .any(|e| e.is_ok_and(|e| e.name.contains('\0'))),
            Ok(Payload::ImportSection(reader)) => reader
                .into_imports()
                .any(|i| i.is_ok_and(|i| i.module.contains('\0') || i.name.contains('\0'))),
            Ok(Payload::CustomSection(section)) => section.name().contains('\0'),
            _ => false,
        })
}
