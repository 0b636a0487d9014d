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

/// Whether the module declares or imports exception tags (the exception-handling proposal).
#[cfg(feature = "v8")]
pub fn has_tags(module: &[u8]) -> bool {
    Parser::new(0)
        .parse_all(module)
        .any(|payload| match payload {
            Ok(Payload::TagSection(_)) => true,
            Ok(Payload::ImportSection(reader)) => reader
                .into_imports()
                .any(|i| i.is_ok_and(|i| matches!(i.ty, TypeRef::Tag(_)))),
            _ => false,
        })
}

/// The largest page count a memory of the module declares (initial or maximum).
#[cfg(feature = "v8")]
pub fn largest_memory_pages(module: &[u8]) -> u64 {
    let pages = |m: wasmparser::MemoryType| m.maximum.unwrap_or(m.initial).max(m.initial);
    Parser::new(0)
        .parse_all(module)
        .map(|payload| match payload {
            Ok(Payload::MemorySection(reader)) => {
                reader.into_iter().flatten().map(pages).max().unwrap_or(0)
            }
            Ok(Payload::ImportSection(reader)) => reader
                .into_imports()
                .flatten()
                .filter_map(|i| match i.ty {
                    TypeRef::Memory(m) => Some(pages(m)),
                    _ => None,
                })
                .max()
                .unwrap_or(0),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}
