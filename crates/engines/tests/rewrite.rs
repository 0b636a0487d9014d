//! Module rewrites that change NaN bits (`wasmdiff_gen::rewrite`), run on wasmi.
#![cfg(feature = "wasmi")]

use wasmdiff_engines::rewrite::{canonicalize_nans, flip_nan_signs};

fn run(module: &[u8]) -> u32 {
    let engine = wasmi::Engine::default();
    let module = wasmi::Module::new(&engine, module).unwrap();
    let mut store = wasmi::Store::new(&engine, ());
    let instance = wasmi::Linker::new(&engine)
        .instantiate_and_start(&mut store, &module)
        .unwrap();
    let f = instance.get_typed_func::<(), i32>(&store, "f").unwrap();
    f.call(&mut store, ()).unwrap() as u32
}

#[test]
fn nans_from_arithmetic_are_made_canonical_or_flipped_and_nothing_else_changes() {
    let module = wat::parse_str(
        r#"(module (func (export "f") (result i32) (local f32)
            f64.const -nan:0x4000000000001
            f32.demote_f64
            local.set 0
            f32.const -nan:0x200001
            f32.abs
            i32.reinterpret_f32
            local.get 0
            i32.reinterpret_f32
            i32.xor))"#,
    )
    .unwrap();
    // The demoted NaN keeps its sign and its payload's top bits on this machine; the
    // `abs` of a NaN is exact, so left as it is.
    let abs = 0x7fa0_0001u32;
    let as_is = run(&module) ^ abs;
    assert!(f32::from_bits(as_is).is_nan(), "{as_is:#x}");
    assert_eq!(run(&canonicalize_nans(&module).unwrap()) ^ abs, 0x7fc0_0000);
    assert_eq!(
        run(&flip_nan_signs(&module).unwrap()) ^ abs,
        as_is ^ 0x8000_0000
    );
    let plain = wat::parse_str(r#"(module (func (export "f") (result i32) i32.const 7))"#).unwrap();
    assert_eq!(run(&canonicalize_nans(&plain).unwrap()), 7);
}

/// The direct calls in a module's code: `(tail call?, function index)`.
fn direct_calls(module: &[u8]) -> Vec<(bool, u32)> {
    let mut calls = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        if let wasmparser::Payload::CodeSectionEntry(body) = payload.unwrap() {
            let mut reader = body.get_operators_reader().unwrap();
            while !reader.eof() {
                match reader.read().unwrap() {
                    wasmparser::Operator::Call { function_index } => {
                        calls.push((false, function_index))
                    }
                    wasmparser::Operator::ReturnCall { function_index } => {
                        calls.push((true, function_index))
                    }
                    _ => {}
                }
            }
        }
    }
    calls
}

#[test]
fn tail_calls_of_imports_become_calls_and_others_stay() {
    let module = wat::parse_str(
        r#"(module
            (import "env" "h" (func $h (result i32)))
            (func $g (result i32) i32.const 7)
            (func (export "f") (result i32) (return_call $h))
            (func (export "k") (result i32) (return_call $g)))"#,
    )
    .unwrap();
    let rewritten = wasmdiff_engines::rewrite::tail_calls_to_imports_as_calls(&module).unwrap();
    assert_eq!(direct_calls(&module), [(true, 0), (true, 1)]);
    assert_eq!(direct_calls(&rewritten), [(false, 0), (true, 1)]);
}
