//! Shrinking: planted-bug findings become tiny reproducers, deterministically, and a campaign
//! leaves them on disk without further commands.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use wasmdiff_cases::{Case, Version, coarse_signature, find_cases};
use wasmdiff_engines::Limits;
use wasmdiff_gen::Generator;
use wasmdiff_harness::replay::{self, Replayer};
use wasmdiff_harness::shrink::{ShrinkBudget, shrink};
use wasmdiff_harness::{CampaignConfig, Differential, Target, campaign, inputs};

fn planted() -> Differential {
    Differential::new(
        &wasmdiff_engines::parse_list("wasmi-eager,planted").unwrap(),
        Limits::default(),
    )
    .unwrap()
}

/// The first planted-bug input of seed 1 that the given generator makes (bit 0 of byte 0
/// chooses it: 0 instructions, 1 wasm-smith).
fn first_planted_finding(differential: &mut Differential, generator: Generator) -> Vec<u8> {
    (0..20_000)
        .map(|index| {
            let mut input = inputs::input(1, index, campaign::DEFAULT_MAX_INPUT_LEN);
            input[0] = (input[0] & !1) | u8::from(generator == Generator::WasmSmith);
            input
        })
        .find(|input| {
            differential
                .check(input)
                .unwrap()
                .verdict
                .divergence()
                .is_some()
        })
        .expect("no planted-bug finding in 20000 inputs")
}

#[test]
fn planted_findings_shrink_to_a_few_instructions_and_bytes() {
    let mut differential = planted();
    for generator in [Generator::Instructions, Generator::WasmSmith] {
        let input = first_planted_finding(&mut differential, generator);
        let case = differential.generate(&input).unwrap();
        let shrunk = shrink(
            &mut differential,
            &case,
            Some(&input),
            ShrinkBudget::default(),
        )
        .unwrap();
        let record = &shrunk.record;
        assert!(record.to.instructions <= 10, "{generator:?}: {record:?}");
        assert!(record.to.module_bytes <= 200, "{generator:?}: {record:?}");
        assert!(
            record.to.module_bytes <= record.from.module_bytes,
            "{record:?}"
        );
        // Still the same divergence.
        let names = ["wasmi-eager", "planted"];
        let original = differential.check_case(case);
        assert_eq!(
            coarse_signature(&shrunk.checked.verdict, &names, &shrunk.checked.executions),
            coarse_signature(&original.verdict, &names, &original.executions)
        );
        // The shrunk input still makes a case with the divergence, through the generator.
        let regenerated = differential
            .check(shrunk.input.as_deref().unwrap())
            .unwrap();
        assert!(regenerated.verdict.divergence().is_some());
    }
}

#[test]
fn shrinking_twice_gives_byte_identical_results() {
    let mut differential = planted();
    let input = first_planted_finding(&mut differential, Generator::WasmSmith);
    let case = differential.generate(&input).unwrap();
    let once = shrink(
        &mut differential,
        &case,
        Some(&input),
        ShrinkBudget::default(),
    )
    .unwrap();
    let mut fresh = planted();
    let twice = shrink(&mut fresh, &case, Some(&input), ShrinkBudget::default()).unwrap();
    assert_eq!(once.checked.case.module, twice.checked.case.module);
    assert_eq!(once.checked.case.plan, twice.checked.case.plan);
    assert_eq!(once.input, twice.input);
    assert_eq!(once.record, twice.record);
}

/// The planted bug (`i32.shr_u` run as `i32.shr_s`) inside dead code, live arithmetic and
/// nested blocks that it does not need: only the shift and its operands may remain.
#[test]
fn instructions_the_divergence_does_not_need_are_deleted() {
    let padded = wat::parse_str(
        r#"(module
          (global $g (mut i64) (i64.const 0))
          (func (export "f") (result i32)
            (local i64 f64)
            i64.const 7
            i64.const 3
            i64.mul
            global.set $g
            block
              br 0
              i32.const 1
              drop
              loop
                f64.const 2.5
                local.set 1
                br 0
              end
            end
            block (result i32)
              local.get 0
              i64.eqz
              drop
              i32.const -8
              i32.const 1
              i32.shr_u
            end
            global.get $g
            local.set 0))"#,
    )
    .unwrap();
    let case = wasmdiff_gen::from_module(padded).unwrap();
    let mut differential = planted();
    let shrunk = shrink(&mut differential, &case, None, ShrinkBudget::default()).unwrap();
    let record = &shrunk.record;
    assert!(record.from.instructions >= 20, "{record:?}");
    // `i32.const`, `i32.const`, `i32.shr_u`, `end` (wasm-shrink may fold the operands).
    assert!(record.to.instructions <= 4, "{record:?}");
    assert!(shrunk.checked.verdict.divergence().is_some());
}

#[test]
fn a_case_that_does_not_diverge_is_not_shrunk() {
    let mut differential = planted();
    let case = differential.generate(&inputs::input(1, 0, 100)).unwrap();
    assert!(
        differential
            .check_case(case.clone())
            .verdict
            .divergence()
            .is_none()
    );
    let error = shrink(&mut differential, &case, None, ShrinkBudget::default())
        .err()
        .unwrap();
    assert!(error.to_string().contains("does not diverge"), "{error}");
}

#[test]
fn a_campaign_leaves_shrunk_cases_that_replay() {
    let out = std::env::temp_dir().join(format!(
        "wasmdiff-test-campaign-shrink-{}",
        std::process::id()
    ));
    std::fs::remove_dir_all(&out).ok();
    let config = CampaignConfig {
        engines: wasmdiff_engines::parse_list("wasmi-eager,planted").unwrap(),
        limits: Limits::default(),
        seed: 1,
        iterations: Some(4000),
        duration: None,
        out: out.clone(),
        jobs: 1,
        max_input_len: campaign::DEFAULT_MAX_INPUT_LEN,
        shrink: Some(ShrinkBudget::default()),
        target: Target::Modules,
    };
    let stats = campaign::run(config, Arc::new(AtomicBool::new(false)), |_| {}).unwrap();
    assert!(!stats.findings.is_empty());
    assert!(!stats.shrunk.is_empty() && stats.shrunk.len() <= stats.findings.len());
    assert_eq!(stats.shrink_queue, 0);
    let shrunk = find_cases(&out, Version::Shrunk).unwrap();
    let mut replayer = Replayer::default();
    for dir in shrunk.iter().filter(|d| d.ends_with("shrunk")) {
        let case = Case::load(dir).unwrap();
        let record = case.report.shrink.as_ref().unwrap();
        assert!(
            record.to.instructions <= 10 && record.to.module_bytes <= 200,
            "{record:?}"
        );
        let replayed = replayer
            .replay(&case, &replay::lineup(&case, None).unwrap())
            .unwrap();
        assert_eq!(
            replayed.signature,
            case.report.signature,
            "{}",
            dir.display()
        );
    }
    std::fs::remove_dir_all(&out).ok();
}
