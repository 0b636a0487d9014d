//! Whole modules from wasm-smith with a swarm configuration drawn from the input.

use arbitrary::Unstructured;

use crate::GenerateError;
use crate::features::Features;

/// Memories never exceed this many 64 KiB pages, so growth fails the same way everywhere.
pub const MAX_MEMORY_PAGES: u64 = 10;
/// Tables never exceed this many elements.
pub const MAX_TABLE_ELEMENTS: u64 = 1_000;
/// Loop iterations plus calls a generated module may make in total before it traps
/// (`unreachable`) by itself: deterministic termination, the same on every engine.
pub const MODULE_FUEL: u32 = 1_000;

/// A swarm-configured wasm-smith module restricted to `features`.
pub fn module(u: &mut Unstructured<'_>, features: &Features) -> Result<Vec<u8>, GenerateError> {
    let mut config: wasm_smith::Config = u.arbitrary()?;
    restrict(&mut config, features);
    let mut module = wasm_smith::Module::new(config, u)?;
    module
        .ensure_termination(MODULE_FUEL)
        .map_err(|e| GenerateError::Internal(format!("ensure_termination: {e}")))?;
    let bytes = module.to_bytes();
    crate::rewrite::canonicalize_nans_after(&bytes, missed_by_wasm_smith).ok_or_else(|| {
        GenerateError::Internal("a wasm-smith module does not re-encode".to_string())
    })
}

/// The float operations whose NaNs wasm-smith's `canonicalize_nans` leaves as they are (0.263:
/// it covers arithmetic, not conversions between widths nor relaxed SIMD), though their NaN
/// bits are nondeterministic too: an `f32.demote_f64` of a NaN reached exported globals, and
/// WABT's answer differed from the other engines' in its bits.
fn missed_by_wasm_smith(op: &wasmparser::Operator<'_>) -> bool {
    use wasmparser::Operator::*;
    matches!(
        op,
        F32DemoteF64
            | F64PromoteF32
            | F32x4DemoteF64x2Zero
            | F64x2PromoteLowF32x4
            | F32x4RelaxedMadd
            | F32x4RelaxedNmadd
            | F32x4RelaxedMin
            | F32x4RelaxedMax
            | F64x2RelaxedMadd
            | F64x2RelaxedNmadd
            | F64x2RelaxedMin
            | F64x2RelaxedMax
    )
}

/// Keeps the swarm's choices but only within what every engine supports and compares well.
pub(crate) fn restrict(c: &mut wasm_smith::Config, f: &Features) {
    c.saturating_float_to_int_enabled &= f.saturating_float_to_int;
    c.sign_extension_ops_enabled &= f.sign_extension;
    c.multi_value_enabled &= f.multi_value;
    c.bulk_memory_enabled &= f.bulk_memory;
    c.reference_types_enabled &= f.reference_types;
    c.simd_enabled &= f.simd;
    c.relaxed_simd_enabled &= f.relaxed_simd && c.simd_enabled;
    c.tail_call_enabled &= f.tail_call;
    c.extended_const_enabled &= f.extended_const;
    c.memory64_enabled &= f.memory64;
    c.custom_page_sizes_enabled &= f.custom_page_sizes;
    c.wide_arithmetic_enabled &= f.wide_arithmetic;
    c.threads_enabled &= f.threads;
    c.exceptions_enabled &= f.exceptions;
    c.gc_enabled &= f.gc && c.reference_types_enabled;
    c.shared_everything_threads_enabled = false;
    c.custom_descriptors_enabled = false;
    c.compact_imports_enabled = false;
    c.acquire_release_atomics_enabled = false;
    c.multibyte_array_access_enabled = false;
    c.max_memories = c.max_memories.min(if f.multi_memory { 4 } else { 1 });
    c.max_tables = c
        .max_tables
        .min(if c.reference_types_enabled { 4 } else { 1 });

    // Self-contained modules whose every item can be observed.
    c.max_imports = 0;
    c.min_imports = 0;
    c.export_everything = true;
    c.allow_invalid_funcs = false;
    c.generate_custom_sections = false;

    // NaN bits are nondeterministic by the spec; canonical NaNs make memories comparable.
    c.canonicalize_nans = true;
    // Small, bounded memories and tables: growth fails identically on every engine.
    c.memory_max_size_required = true;
    c.max_memory32_bytes = MAX_MEMORY_PAGES * 65536;
    c.max_memory64_bytes = (MAX_MEMORY_PAGES * 65536) as u128;
    c.table_max_size_required = true;
    c.max_table_elements = c.max_table_elements.min(MAX_TABLE_ELEMENTS);

    // Something to call, and modules small enough to compile quickly.
    c.min_types = c.min_types.max(1);
    c.max_types = c.max_types.clamp(1, 50);
    c.min_funcs = c.min_funcs.max(1);
    c.max_funcs = c.max_funcs.clamp(1, 30);
    c.max_instructions = c.max_instructions.min(200);
    c.max_data_segments = c.max_data_segments.min(20);
    c.max_element_segments = c.max_element_segments.min(20);
    c.max_elements = c.max_elements.min(100);
    c.max_globals = c.max_globals.min(50);
    c.max_type_size = c.max_type_size.min(1000);
}
