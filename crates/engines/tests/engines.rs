//! Every engine maps the same behaviour onto the same outcome: the table below is run on each
//! default engine configuration with one expectation for all. Engines are built in this
//! process here (the C engines too: a few modules do not upset them); their worker processes
//! are tested through the `wasmdiff` binary.

use wasmdiff_engines::{
    CallOutcome, EngineSpec, Execution, ExportValue, Isolation, Limits, TrapKind,
};
use wasmdiff_gen::{Invocation, Plan, RefHeap, Value};

fn every_default_engine() -> Vec<&'static EngineSpec> {
    wasmdiff_engines::every_default_engine(&Plan::Calls(Vec::new()))
}

fn call(export: &str, args: &[Value]) -> Invocation {
    Invocation {
        export: export.to_string(),
        args: args.to_vec(),
    }
}

fn run_on(
    specs: Vec<&'static EngineSpec>,
    wat: &str,
    invocations: &[Invocation],
) -> Vec<(&'static str, Execution)> {
    let module = wat::parse_str(wat).unwrap();
    let plan = Plan::Calls(invocations.to_vec());
    specs
        .into_iter()
        .map(|spec| {
            // The C engines recurse on the native stack: room as a worker's main thread has.
            let (module, plan) = (module.clone(), plan.clone());
            let execution = std::thread::Builder::new()
                .stack_size(64 << 20)
                .spawn(move || {
                    (spec.build)(&Limits::default())
                        .unwrap()
                        .run(&module, &plan)
                })
                .unwrap()
                .join()
                .unwrap();
            (spec.name, execution)
        })
        .collect()
}

fn run_everywhere(wat: &str, invocations: &[Invocation]) -> Vec<(&'static str, Execution)> {
    run_on(every_default_engine(), wat, invocations)
}

/// The engines with fuel (the others stop at a deadline instead, tested with workers).
fn with_fuel() -> Vec<&'static EngineSpec> {
    every_default_engine()
        .into_iter()
        .filter(|s| s.abilities.fuel)
        .collect()
}

/// The engines with growth hooks, which apply the harness's memory and table caps (the
/// others keep to the module's declared maxima).
fn with_growth_caps() -> Vec<&'static EngineSpec> {
    every_default_engine()
        .into_iter()
        .filter(|s| s.abilities.growth_caps)
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
        // An engine may report a coarser kind (V8 does not tell a null table entry from a
        // signature mismatch); it must agree with the expected one.
        for ((invocation, kind), outcome) in expected.iter().zip(calls) {
            let agrees = match (trap_kind(outcome), kind) {
                (Some(got), Some(kind)) => got.agrees_with(kind),
                (got, kind) => got == *kind,
            };
            assert!(agrees, "{engine}: {invocation:?} gave {outcome:?}");
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
    // Inconclusive outcomes end the run: nothing after them is compared. (Endless loops are
    // for engines with fuel; the others hang, which the worker tests cover.)
    for (engines, invocations) in [
        (
            every_default_engine(),
            vec![call("recurse", &[Value::I32(0)]), call("unreachable", &[])],
        ),
        (with_fuel(), vec![call("spin", &[])]),
    ] {
        for (engine, execution) in run_on(engines, wat, &invocations) {
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
    ];
    // Engines known to get a case wrong, by case: the bug they are known for. (wasm3 dies on
    // a trapping start function: not run here, in the test's process.)
    let known = |engine: &str, case: usize| match (engine, case) {
        ("wasm3", 0) => Some("wasm3-0.4.7-table-from-elements"),
        ("wasm3", 2) => Some("wasm3-0.4.7-start-trap-crash"),
        _ => None,
    };
    for (case, (wat, kind)) in cases.into_iter().enumerate() {
        let (expected, buggy): (Vec<_>, Vec<_>) = every_default_engine()
            .into_iter()
            .partition(|spec| known(spec.name, case).is_none());
        for spec in buggy {
            let bug = known(spec.name, case).unwrap();
            assert!(
                spec.known_bugs.iter().any(|b| b.id == bug),
                "{}: {bug}",
                spec.name
            );
        }
        for (engine, execution) in run_on(expected, wat, &[]) {
            match execution {
                Execution::InstantiationFailed { trap } => {
                    assert!(trap.kind.agrees_with(&kind), "{engine}: {wat}: {trap:?}")
                }
                other => panic!("{engine}: {wat}: {other:?}"),
            }
        }
    }
    // The known bug shows, and its workaround takes it away.
    let wasm3 = wasmdiff_engines::all()
        .into_iter()
        .find(|s| s.name == "wasm3");
    if let Some(wasm3) = wasm3 {
        let [(wat, _), ..] = cases;
        let [(_, ran)] = &run_on(vec![wasm3], wat, &[])[..] else {
            panic!()
        };
        assert!(matches!(ran, Execution::Ran { .. }), "{ran:?}");
        let bug = wasm3
            .known_bugs
            .iter()
            .find(|b| b.id == "wasm3-0.4.7-table-from-elements")
            .unwrap();
        let fixed = (bug.workaround)(&wat::parse_str(wat).unwrap()).unwrap();
        let module = wasmparser::Parser::new(0).parse_all(&fixed);
        assert!(
            !module
                .into_iter()
                .any(|p| matches!(p, Ok(wasmparser::Payload::ElementSection(r)) if r.count() > 0))
        );
    }
}

#[test]
fn growth_past_the_harness_limit_is_inconclusive_not_minus_one() {
    for (engine, execution) in run_on(with_growth_caps(), r#"(module (memory 2000))"#, &[]) {
        match execution {
            Execution::InstantiationFailed { trap } => {
                assert_eq!(trap.kind, TrapKind::ResourceLimit, "{engine}")
            }
            other => panic!("{engine}: {other:?}"),
        }
    }
    let wat = r#"(module (memory 1)
        (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))"#;
    let invocations = [
        call("grow", &[Value::I32(1)]),
        call("grow", &[Value::I32(5000)]),
    ];
    for (engine, execution) in run_on(with_growth_caps(), wat, &invocations) {
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

/// wasm3 has no hook to refuse growth: the harness's cap is written into its modules, on the
/// size it would allocate, so that a growth other engines refuse at the cap never takes its
/// worker to the process memory cap (an out-of-memory "finding" that was the harness's).
#[test]
fn wasm3_growth_stops_at_the_harness_limit() {
    let wasm3: Vec<_> = every_default_engine()
        .into_iter()
        .filter(|s| s.engine == "wasm3")
        .collect();
    let wat = r#"(module (memory 1)
        (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))"#;
    let invocations = [
        call("grow", &[Value::I32(32768)]),
        call("grow", &[Value::I32(1)]),
    ];
    for (engine, execution) in run_on(wasm3, wat, &invocations) {
        let calls = calls(&execution);
        assert_eq!(
            calls[0],
            CallOutcome::Returned(vec![Value::I32(-1)]),
            "{engine}"
        );
        assert_eq!(
            calls[1],
            CallOutcome::Returned(vec![Value::I32(1)]),
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
    let specs = every_default_engine();
    for (spec, (engine, execution)) in specs.iter().zip(run_everywhere(wat, &[call("poke", &[])])) {
        let Execution::Ran { exports, .. } = execution else {
            panic!("{engine}: {execution:?}")
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
        // Engines that cannot hand over contents give digests of them.
        let mut memory = vec![0u8; 65536];
        memory[7] = 0xab;
        assert_eq!(
            exports[2].value.digest(),
            ExportValue::Memory(memory).digest(),
            "{engine}"
        );
        let null = |null| Value::Ref {
            heap: RefHeap::Func,
            null,
        };
        let table = ExportValue::Table(vec![null(true), null(false), null(true)]);
        match &exports[3].value {
            // Without reference-types instructions a table cannot be read from wasm.
            ExportValue::Unobserved => assert!(!spec.features.reference_types, "{engine}"),
            value => assert_eq!(value.digest(), table.digest(), "{engine}"),
        }
    }
}

#[test]
fn invalid_modules_are_rejected_not_errors() {
    let module = [0, b'a', b's', b'm', 1, 0, 0, 0, 1, 5];
    // Engines that validate lazily (wasm3) are not asked about invalid modules.
    let validators = wasmdiff_engines::every_default_engine(&Plan::Validate);
    for spec in validators {
        let mut engine = (spec.build)(&Limits::default()).unwrap();
        for plan in [Plan::Calls(vec![]), Plan::Validate] {
            if spec.abilities.refuses(&plan).is_some() {
                continue;
            }
            let execution = engine.run(&module, &plan);
            assert!(
                matches!(execution, Execution::Rejected { .. }),
                "{}: {execution:?}",
                spec.name
            );
        }
    }
}

#[test]
fn valid_modules_are_accepted_when_only_validated() {
    let module =
        wat::parse_str(r#"(module (func (export "f") (result i32) i32.const 1))"#).unwrap();
    for spec in wasmdiff_engines::every_default_engine(&Plan::Validate) {
        let mut engine = (spec.build)(&Limits::default()).unwrap();
        assert_eq!(
            engine.run(&module, &Plan::Validate),
            Execution::Accepted,
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
    let planted = wasmdiff_engines::all()
        .into_iter()
        .find(|s| s.name == "planted")
        .unwrap();
    let mut planted = (planted.build)(&Limits::default()).unwrap();
    let Execution::Ran { calls, .. } = planted.run(&module, &Plan::Calls(invocations.to_vec()))
    else {
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
        // Engines that are other programs say their version themselves.
        if spec.abilities.runs == Isolation::External {
            continue;
        }
        let krate = match spec.engine {
            "wamr" => "wamrx-sys",
            engine => engine,
        };
        let version = (spec.version)();
        let crate_version = version.split(' ').next().unwrap();
        let entry = format!("name = \"{krate}\"\nversion = \"{crate_version}\"");
        assert!(
            lock.contains(&entry),
            "{} claims {krate} {version}",
            spec.name
        );
    }
}

#[test]
fn engine_lists_parse_with_clear_errors() {
    let specs = wasmdiff_engines::parse_list("wasmi-eager, wasmtime-winch,wasmi-eager").unwrap();
    let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
    assert_eq!(names, ["wasmi-eager", "wasmtime-winch"]);
    let defaults: Vec<&str> = wasmdiff_engines::parse_list("default")
        .unwrap()
        .iter()
        .map(|s| s.name)
        .collect();
    for name in ["wasmtime-cranelift", "wasmi-lazy", "wasmer-singlepass"] {
        assert!(defaults.contains(&name), "{defaults:?}");
    }
    // Validation-only engines and self-tests are never in a lineup for modules by default.
    for name in ["wasmparser", "planted", "selftest-abort"] {
        assert!(!defaults.contains(&name), "{defaults:?}");
    }
    let all_engines = wasmdiff_engines::parse_list("all").unwrap();
    assert!(
        all_engines
            .iter()
            .all(|s| !s.name.starts_with("selftest") && s.name != "planted")
    );
    let error = wasmdiff_engines::parse_list("wasmparser")
        .unwrap_err()
        .to_string();
    assert!(error.contains("does not run modules"), "{error}");
    let error = wasmdiff_engines::parse_list("wasmi-eager,v9")
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("unknown engine `v9`") && error.contains("wasmi-lazy"),
        "{error}"
    );
    assert!(wasmdiff_engines::parse_list(" , ").is_err());
}
