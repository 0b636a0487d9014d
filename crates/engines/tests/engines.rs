//! Every engine maps the same behaviour onto the same outcome: the table below is run on each
//! default engine configuration with one expectation for all.

use wasmdiff_engines::{CallOutcome, Execution, ExportValue, Limits, TrapKind};
use wasmdiff_gen::{Invocation, RefHeap, Value};

fn call(export: &str, args: &[Value]) -> Invocation {
    Invocation {
        export: export.to_string(),
        args: args.to_vec(),
    }
}

fn run_everywhere(wat: &str, invocations: &[Invocation]) -> Vec<(&'static str, Execution)> {
    let module = wat::parse_str(wat).unwrap();
    wasmdiff_engines::defaults()
        .into_iter()
        .map(|spec| {
            let mut engine = (spec.build)(&Limits::default()).unwrap();
            (spec.name, engine.execute(&module, invocations))
        })
        .collect()
}

fn calls(execution: &Execution) -> &[CallOutcome] {
    match execution {
        Execution::Ran { calls, .. } => calls,
        other => panic!("expected the module to run, got {other:?}"),
    }
}

fn trap_kind(outcome: &CallOutcome) -> Option<TrapKind> {
    match outcome {
        CallOutcome::Trapped(trap) => Some(trap.kind),
        CallOutcome::Returned(_) => None,
    }
}

#[test]
fn calls_classify_identically_on_every_engine() {
    let wat = r#"(module
        (type $v (func))
        (table 2 funcref)
        (elem (i32.const 0) func $nop)
        (memory 1 1)
        (func $nop)
        (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
        (func (export "unreachable") unreachable)
        (func (export "load") (param i32) (result i32) local.get 0 i32.load)
        (func (export "indirect") (param i32) local.get 0 call_indirect (type $v))
        (func (export "indirect-wrong-type") (param i32) (result i32)
            local.get 0 call_indirect (param) (result i32))
        (func (export "trunc") (param f32) (result i32) local.get 0 i32.trunc_f32_s)
        (func $recurse (export "recurse") (param i32) (result i32)
            local.get 0 i32.const 1 i32.add call $recurse)
        (func (export "spin") (loop $l br $l))
        (func (export "nan") (param f32) (result f32) local.get 0))"#;
    let expected: &[(Invocation, Option<TrapKind>)] = &[
        (call("div", &[Value::I32(7), Value::I32(2)]), None),
        (
            call("div", &[Value::I32(1), Value::I32(0)]),
            Some(TrapKind::IntegerDivideByZero),
        ),
        (
            call("div", &[Value::I32(i32::MIN), Value::I32(-1)]),
            Some(TrapKind::IntegerOverflow),
        ),
        (call("unreachable", &[]), Some(TrapKind::Unreachable)),
        (
            call("load", &[Value::I32(65533)]),
            Some(TrapKind::MemoryOutOfBounds),
        ),
        (call("indirect", &[Value::I32(0)]), None),
        (
            call("indirect", &[Value::I32(1)]),
            Some(TrapKind::UndefinedElement),
        ),
        (
            call("indirect", &[Value::I32(5)]),
            Some(TrapKind::TableOutOfBounds),
        ),
        (
            call("indirect-wrong-type", &[Value::I32(0)]),
            Some(TrapKind::IndirectCallTypeMismatch),
        ),
        (
            call("trunc", &[Value::F32(0x7fc0_0000)]),
            Some(TrapKind::InvalidConversion),
        ),
        (
            call("trunc", &[Value::F32(0x4f00_0000)]),
            Some(TrapKind::IntegerOverflow),
        ),
        (call("nan", &[Value::F32(0x7fc0_0001)]), None),
    ];
    let invocations: Vec<Invocation> = expected.iter().map(|(i, _)| i.clone()).collect();
    for (engine, execution) in run_everywhere(wat, &invocations) {
        let calls = calls(&execution);
        assert_eq!(calls.len(), expected.len(), "{engine}");
        for ((invocation, kind), outcome) in expected.iter().zip(calls) {
            assert_eq!(
                trap_kind(outcome),
                *kind,
                "{engine}: {invocation:?} gave {outcome:?}"
            );
        }
        assert_eq!(
            calls[0],
            CallOutcome::Returned(vec![Value::I32(3)]),
            "{engine}"
        );
        // A NaN argument comes back with its payload.
        assert_eq!(
            calls[11],
            CallOutcome::Returned(vec![Value::F32(0x7fc0_0001)]),
            "{engine}"
        );
    }
    // Inconclusive outcomes end the run: nothing after them is compared.
    for invocations in [
        vec![call("recurse", &[Value::I32(0)]), call("unreachable", &[])],
        vec![call("spin", &[])],
    ] {
        for (engine, execution) in run_everywhere(wat, &invocations) {
            let calls = calls(&execution);
            assert_eq!(calls.len(), 1, "{engine}");
            let kind = trap_kind(&calls[0]).unwrap();
            assert!(kind.is_inconclusive(), "{engine}: {kind}");
        }
    }
}

#[test]
fn instantiation_failures_classify_identically() {
    let cases = [
        (
            r#"(module (table 1 funcref) (func $f) (elem (i32.const 1) func $f))"#,
            TrapKind::TableOutOfBounds,
        ),
        (
            r#"(module (memory 1) (data (i32.const 65535) "ab"))"#,
            TrapKind::MemoryOutOfBounds,
        ),
        (
            r#"(module (func $s unreachable) (start $s))"#,
            TrapKind::Unreachable,
        ),
        (r#"(module (memory 2000))"#, TrapKind::ResourceLimit),
    ];
    for (wat, kind) in cases {
        for (engine, execution) in run_everywhere(wat, &[]) {
            match execution {
                Execution::InstantiationFailed { trap } => {
                    assert_eq!(trap.kind, kind, "{engine}: {wat}")
                }
                other => panic!("{engine}: {wat}: {other:?}"),
            }
        }
    }
}

#[test]
fn growth_past_the_harness_limit_is_inconclusive_not_minus_one() {
    let wat = r#"(module (memory 1)
        (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))"#;
    let invocations = [
        call("grow", &[Value::I32(1)]),
        call("grow", &[Value::I32(5000)]),
    ];
    for (engine, execution) in run_everywhere(wat, &invocations) {
        let calls = calls(&execution);
        assert_eq!(
            calls[0],
            CallOutcome::Returned(vec![Value::I32(1)]),
            "{engine}"
        );
        assert_eq!(
            trap_kind(&calls[1]),
            Some(TrapKind::ResourceLimit),
            "{engine}"
        );
    }
}

#[test]
fn exported_state_is_read_and_sorted_by_name() {
    let wat = r#"(module
        (memory (export "mem") 1 1)
        (global (export "g") (mut i64) (i64.const 5))
        (global (export "a-nan") f64 (f64.const nan:0x4))
        (table (export "tab") 3 funcref)
        (func $f)
        (elem (i32.const 1) func $f)
        (func (export "poke") (i32.store8 (i32.const 7) (i32.const 0xab)) (global.set 0 (i64.const -9))))"#;
    for (engine, execution) in run_everywhere(wat, &[call("poke", &[])]) {
        let Execution::Ran { exports, .. } = execution else {
            panic!("{engine}")
        };
        let names: Vec<&str> = exports.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["a-nan", "g", "mem", "tab"], "{engine}");
        assert_eq!(
            exports[0].value,
            ExportValue::Global(Value::F64(0x7ff0_0000_0000_0004)),
            "{engine}"
        );
        assert_eq!(
            exports[1].value,
            ExportValue::Global(Value::I64(-9)),
            "{engine}"
        );
        let ExportValue::Memory(bytes) = &exports[2].value else {
            panic!()
        };
        assert_eq!((bytes.len(), bytes[7]), (65536, 0xab), "{engine}");
        let null = |null| Value::Ref {
            heap: RefHeap::Func,
            null,
        };
        assert_eq!(
            exports[3].value,
            ExportValue::Table(vec![null(true), null(false), null(true)]),
            "{engine}"
        );
    }
}

#[test]
fn invalid_modules_are_rejected_not_errors() {
    let module = [0, b'a', b's', b'm', 1, 0, 0, 0, 1, 5];
    for spec in wasmdiff_engines::defaults() {
        let mut engine = (spec.build)(&Limits::default()).unwrap();
        assert!(
            matches!(engine.execute(&module, &[]), Execution::Rejected { .. }),
            "{}",
            spec.name
        );
    }
}

#[test]
fn the_planted_engine_is_wrong_exactly_where_planted() {
    let wat = r#"(module (func (export "shr") (param i32 i32) (result i32) local.get 0 local.get 1 i32.shr_u))"#;
    let module = wat::parse_str(wat).unwrap();
    let invocations = [
        call("shr", &[Value::I32(-8), Value::I32(1)]),
        call("shr", &[Value::I32(8), Value::I32(1)]),
    ];
    let mut planted = (wasmdiff_engines::planted::SPEC.build)(&Limits::default()).unwrap();
    let Execution::Ran { calls, .. } = planted.execute(&module, &invocations) else {
        panic!()
    };
    assert_eq!(
        calls[0],
        CallOutcome::Returned(vec![Value::I32(-4)]),
        "negative operand: wrong on purpose"
    );
    assert_eq!(
        calls[1],
        CallOutcome::Returned(vec![Value::I32(4)]),
        "positive operand: right"
    );
}

#[test]
fn declared_versions_match_the_lockfile() {
    let lock = include_str!("../../../Cargo.lock");
    for spec in wasmdiff_engines::all() {
        let entry = format!("name = \"{}\"\nversion = \"{}\"", spec.engine, spec.version);
        assert!(
            lock.contains(&entry),
            "{} claims {} {}",
            spec.name,
            spec.engine,
            spec.version
        );
    }
}

#[test]
fn engine_lists_parse_with_clear_errors() {
    let specs = wasmdiff_engines::parse_list("wasmi-eager, wasmtime-winch,wasmi-eager").unwrap();
    let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
    assert_eq!(names, ["wasmi-eager", "wasmtime-winch"]);
    assert_eq!(wasmdiff_engines::parse_list("default").unwrap().len(), 6);
    let error = wasmdiff_engines::parse_list("wasmi-eager,v9")
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("unknown engine `v9`") && error.contains("wasmi-lazy"),
        "{error}"
    );
    assert!(wasmdiff_engines::parse_list(" , ").is_err());
}
