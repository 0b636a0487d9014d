//! Campaign-level properties: the oracle catches a planted bug and writes it down, the real
//! engines give no unexplained divergences, verdicts are deterministic, crashes are contained.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use wasmdiff_cases::Report;
use wasmdiff_engines::{
    Abilities, CrashKind, Engine, EngineSpec, Execution, Isolation, Limits, always_available,
};
use wasmdiff_gen::{Features, Generator, Invocation, Plan, TestCase, Value};
use wasmdiff_harness::{CampaignConfig, Differential, Stats, campaign, inputs};
use wasmdiff_oracle::{DivergenceKind, Verdict};

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasmdiff-test-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    dir
}

fn config(engines: &str, seed: u64, iterations: u64, out: &Path) -> CampaignConfig {
    CampaignConfig::bounded(
        wasmdiff_engines::parse_list(engines).unwrap(),
        seed,
        iterations,
        out.to_path_buf(),
    )
}

/// The default engines that run in this process (those needing a worker process are tested
/// through the `wasmdiff` binary, which serves as their worker).
fn in_process_defaults() -> Vec<&'static EngineSpec> {
    wasmdiff_engines::every_default_engine(&wasmdiff_gen::Plan::Calls(Vec::new()))
        .into_iter()
        .filter(|s| s.abilities.runs != Isolation::Required)
        .collect()
}

fn run(config: CampaignConfig) -> Stats {
    campaign::run(config, Arc::new(AtomicBool::new(false)), |_| {}).unwrap()
}

#[test]
fn a_planted_bug_is_found_within_a_bounded_campaign_and_written_to_disk() {
    let out = scratch_dir("planted");
    let stats = run(config("wasmi-eager,planted", 1, 4000, &out));
    assert_eq!(stats.inputs, 4000);
    let found = stats
        .findings
        .iter()
        .find(|f| f.known_bug.is_none())
        .expect("the planted bug was not found");
    for file in ["input.bin", "module.wasm", "module.wat", "report.json"] {
        assert!(
            found.dir.join(file).is_file(),
            "{file} missing in {}",
            found.dir.display()
        );
    }
    let report: Report =
        serde_json::from_slice(&std::fs::read(found.dir.join("report.json")).unwrap()).unwrap();
    let Verdict::Diverge(divergence) = &report.verdict else {
        panic!("{:?}", report.verdict)
    };
    // The planted engine is alone in its class, against the real one.
    assert_eq!(divergence.classes, vec![vec![0], vec![1]]);
    assert_eq!(report.engines[1].name, "planted");
    assert!(report.known_bugs.is_empty());
    // The reproducer on disk really reproduces: its input gives the same verdict again.
    let input = std::fs::read(found.dir.join("input.bin")).unwrap();
    let mut differential = Differential::new(
        &wasmdiff_engines::parse_list("wasmi-eager,planted").unwrap(),
        Limits::default(),
    )
    .unwrap();
    assert_eq!(differential.check(&input).unwrap().verdict, report.verdict);
    assert!(
        std::fs::read_to_string(found.dir.join("module.wat"))
            .unwrap()
            .contains("i32.shr_u")
    );
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn the_real_engines_give_no_unexplained_divergence() {
    let out = scratch_dir("real");
    let names: Vec<&str> = in_process_defaults().iter().map(|s| s.name).collect();
    let stats = run(config(&names.join(","), 1, 3000, &out));
    let unexplained: Vec<&str> = stats
        .findings
        .iter()
        .filter(|f| f.known_bug.is_none())
        .map(|f| f.summary.as_str())
        .collect();
    assert!(
        unexplained.is_empty(),
        "false positives or new engine bugs:\n{}",
        unexplained.join("\n")
    );
    // The known wasmi bugs do show up (so this campaign exercises the explaining path), and
    // nearly every input ends in a conclusive comparison.
    assert!(stats.divergent > 0);
    assert!(stats.conclusive() * 100 >= stats.inputs * 95, "{stats:?}");
    assert_eq!(stats.unusable, 0);
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn a_campaign_for_one_generator_makes_only_its_modules() {
    for generator in [Generator::WasmSmith, Generator::Instructions] {
        let out = scratch_dir("one-generator");
        let stats = run(CampaignConfig {
            generator: Some(generator),
            ..config("wasmi-eager,wasmi-lazy", 3, 200, &out)
        });
        assert_eq!(
            stats.generators.keys().collect::<Vec<_>>(),
            [&generator],
            "{:?}",
            stats.generators
        );
        std::fs::remove_dir_all(&out).ok();
    }
}

#[test]
fn the_same_bytes_give_the_same_case_and_verdict() {
    let specs = in_process_defaults();
    let mut a = Differential::new(&specs, Limits::default()).unwrap();
    let mut b = Differential::new(&specs, Limits::default()).unwrap();
    for index in 0..150 {
        let input = inputs::input(11, index, 2048);
        let (x, y) = (a.check(&input).unwrap(), b.check(&input).unwrap());
        assert_eq!(x.case, y.case, "input {index}");
        assert_eq!(x.case.module, y.case.module, "input {index}");
        assert_eq!(x.executions, y.executions, "input {index}");
        assert_eq!(x.verdict, y.verdict, "input {index}");
    }
}

#[test]
fn campaigns_with_the_same_seed_find_the_same_things() {
    let names = |stats: &Stats| -> Vec<String> {
        let mut names: Vec<String> = stats
            .findings
            .iter()
            .map(|f| f.dir.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let (one, two) = (scratch_dir("seed-a"), scratch_dir("seed-b"));
    let mut parallel = config("wasmi-eager,planted", 3, 3000, &two);
    parallel.jobs = 2;
    let (a, b) = (
        run(config("wasmi-eager,planted", 3, 3000, &one)),
        run(parallel),
    );
    assert_eq!(
        (a.agreed, a.divergent, a.inconclusive),
        (b.agreed, b.divergent, b.inconclusive)
    );
    assert_eq!(names(&a), names(&b));
    assert!(!names(&a).is_empty());
    std::fs::remove_dir_all(&one).ok();
    std::fs::remove_dir_all(&two).ok();
}

#[test]
fn an_input_left_in_flight_by_a_dead_campaign_becomes_a_crash_finding() {
    let out = scratch_dir("in-flight");
    std::fs::create_dir_all(&out).unwrap();
    let input = inputs::input(5, 5, 300);
    // The input's length, the input, and bytes left from a longer one held before.
    let mut record = (input.len() as u32).to_le_bytes().to_vec();
    record.extend_from_slice(&input);
    record.extend_from_slice(b"left from a longer input");
    std::fs::write(out.join(".in-flight-0.bin"), &record).unwrap();
    let stats = run(config("wasmi-eager", 1, 0, &out));
    assert_eq!(stats.findings.len(), 1);
    let found = &stats.findings[0];
    assert_eq!(std::fs::read(found.dir.join("input.bin")).unwrap(), input);
    assert!(found.summary.starts_with("crash"), "{}", found.summary);
    assert!(!out.join(".in-flight-0.bin").exists());
    // A campaign that ends normally leaves nothing in flight.
    run(config("wasmi-eager", 1, 20, &out));
    assert!(std::fs::read_dir(&out).unwrap().all(|e| {
        !e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".in-flight")
    }));
    std::fs::remove_dir_all(&out).ok();
}

/// An engine that panics on every module with a memory and is fine otherwise.
struct Panicky;

impl Engine for Panicky {
    fn run(&mut self, module: &[u8], _: &Plan) -> Execution {
        let has_memory = wasmparser::Parser::new(0)
            .parse_all(module)
            .any(|p| matches!(p, Ok(wasmparser::Payload::MemorySection(_))));
        assert!(!has_memory, "deliberate test panic");
        Execution::Rejected {
            message: "no memories here".into(),
        }
    }
}

static PANICKY: EngineSpec = EngineSpec {
    name: "panicky",
    engine: "test",
    version: || "0".to_string(),
    description: "panics on modules with memories",
    features: Features::NONE,
    abilities: Abilities::ALL,
    default: false,
    known_bugs: &[],
    available: always_available,
    build: |_| Ok(Box::new(Panicky)),
};

#[test]
fn an_engine_that_panics_is_reported_as_crashed_and_the_campaign_goes_on() {
    let mut differential = Differential::new(&[&PANICKY], Limits::default()).unwrap();
    let with_memory = wat::parse_str("(module (memory 1))").unwrap();
    let without = wat::parse_str("(module)").unwrap();
    let case = |module: Vec<u8>| wasmdiff_gen::TestCase {
        module,
        plan: wasmdiff_gen::Plan::Calls(vec![]),
        generator: wasmdiff_gen::Generator::File,
    };
    let (executions, verdict) = differential.run(&case(with_memory.clone()));
    match &executions[0] {
        Execution::Crashed {
            kind: CrashKind::Panic,
            message,
            at,
        } => {
            assert!(message.contains("deliberate test panic"), "{message}");
            assert_eq!(*at, wasmdiff_engines::Stage::Compile, "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(verdict.divergence().unwrap().kind, DivergenceKind::Crash);
    // The engine was rebuilt and keeps working.
    assert!(matches!(
        differential.run(&case(without)).0[0],
        Execution::Rejected { .. }
    ));
    assert!(matches!(
        differential.run(&case(with_memory)).0[0],
        Execution::Crashed { .. }
    ));
}

/// Engines in other processes take a batch of cases at once (WABT one script for all, a
/// worker one frame, node a pipeline), and the engines in this process share two threads:
/// each case must still get exactly the executions it gets alone. The batch mixes generated
/// cases with the ones a batch makes hard: a module that fails to instantiate, one whose
/// start function traps, an invalid one, and one WABT refuses for its name section.
#[test]
fn a_batch_gives_each_case_what_it_gets_alone() {
    let engines = wasmdiff_engines::every_default_engine(&Plan::Calls(Vec::new()));
    let mut differential = Differential::new(&engines, Limits::default()).unwrap();
    let mut cases: Vec<TestCase> = (0..20)
        .filter_map(|i| differential.generate(&inputs::input(3, i, 2048)).ok())
        .collect();
    let call = |export: &str, args: Vec<Value>| Invocation {
        export: export.to_string(),
        args,
    };
    let special = [
        (
            r#"(module (memory 1) (data (i32.const 70000) "x")
                (func (export "f") (result i32) i32.const 1))"#,
            vec![call("f", vec![])],
        ),
        (
            r#"(module (func $s unreachable) (start $s)
                (func (export "f") (result i32) i32.const 2))"#,
            vec![call("f", vec![])],
        ),
        (
            r#"(module (func (export "f") (result i32) i64.const 3))"#,
            vec![call("f", vec![])],
        ),
        (
            r#"(module (memory (export "m") 1)
                (func (export "div") (param i32 i32) (result i32)
                  local.get 0 local.get 1 i32.div_s))"#,
            vec![
                call("div", vec![Value::I32(7), Value::I32(2)]),
                call("div", vec![Value::I32(1), Value::I32(0)]),
                call("div", vec![Value::I32(i32::MIN), Value::I32(-1)]),
            ],
        ),
    ];
    for (at, (wat, calls)) in special.into_iter().enumerate() {
        // The text format does not check types: the third module is invalid.
        let module = wat::parse_str(wat).unwrap();
        cases.insert(
            at * 5,
            TestCase {
                module,
                plan: Plan::Calls(calls),
                generator: Generator::File,
            },
        );
    }
    // A name section before the other sections: WABT 1.0.32 refuses the module (a known bug).
    let mut named =
        wat::parse_str(r#"(module (func (export "f") (result i32) i32.const 4))"#).unwrap();
    named.splice(8..8, [0u8, 6, 4, b'n', b'a', b'm', b'e', 0]);
    cases.push(TestCase {
        module: named,
        plan: Plan::Calls(vec![call("f", vec![])]),
        generator: Generator::File,
    });
    let mut held = Vec::new();
    let batched = differential.execute_batch(&cases, |i| held.push(i));
    assert_eq!(
        held,
        (0..cases.len()).collect::<Vec<_>>(),
        "each case held in turn"
    );
    for (i, (case, batched)) in cases.iter().zip(batched).enumerate() {
        let (alone, _) = differential.run(case);
        for ((engine, batched), alone) in engines.iter().zip(&batched).zip(&alone) {
            assert_eq!(batched, alone, "case {i} on {}", engine.name);
        }
    }
}
