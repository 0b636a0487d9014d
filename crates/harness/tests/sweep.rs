//! The corner sweep finds bugs that need one corner of an instruction's operands, and makes
//! each a case of its one tuple: a wrong answer on one pair of corner operands, and a
//! boundary error on a two-byte load, each planted in a self-test engine.

use wasmdiff_engines::Limits;
use wasmdiff_gen::sweep;
use wasmdiff_harness::Differential;
use wasmdiff_harness::sweep::{Disagreement, check_chunk};

/// Every disagreement of the whole sweep between wasmi and `engine`.
fn sweep_against(engine: &str) -> Vec<Disagreement> {
    let specs = wasmdiff_engines::parse_list(&format!("wasmi-eager,{engine}")).unwrap();
    let mut differential =
        Differential::new(&specs, Limits::default().for_terminating_code()).unwrap();
    let mut found = Vec::new();
    let mut calls = 0;
    for index in 0..sweep::chunk_count() {
        let result = check_chunk(&mut differential, index).unwrap();
        assert_eq!(result.sat_out, 0, "chunk {index}");
        calls += result.calls;
        assert_eq!(
            result.agreed + result.inconclusive + result.disagreements.len(),
            result.calls,
            "chunk {index}"
        );
        found.extend(result.disagreements);
    }
    assert_eq!(calls, 2 * sweep::tuple_count());
    found
}

#[test]
fn one_pair_of_corner_operands_is_found_and_becomes_a_case_of_its_tuple() {
    let found = sweep_against("selftest-mul-corner");
    // i64::MIN * -1, its operands as parameters and as constants; nothing else.
    assert_eq!(
        found.len(),
        2,
        "{:?}",
        found.iter().map(|d| d.instruction).collect::<Vec<_>>()
    );
    for disagreement in &found {
        assert_eq!(disagreement.instruction, "i64.mul");
        let checked = &disagreement.checked;
        assert!(disagreement.call.is_some());
        assert!(checked.verdict.divergence().is_some());
        let calls = checked.case.plan.calls();
        assert_eq!(calls.len(), 1, "a case of one tuple");
        let text = wasmprinter::print_bytes(&checked.case.module).unwrap();
        let functions = wasmdiff_engines::rewrite::body_lengths(&checked.case.module).len();
        assert_eq!(functions, 1, "{text}");
        assert!(text.contains("i64.mul"), "{text}");
    }
}

#[test]
fn a_boundary_error_on_a_multi_byte_access_is_found() {
    let found = sweep_against("selftest-load-boundary");
    assert!(!found.is_empty());
    for disagreement in &found {
        assert_eq!(disagreement.instruction, "i32.load16_u");
        let divergence = disagreement.checked.verdict.divergence().unwrap();
        assert_eq!(
            divergence.kind,
            wasmdiff_oracle::DivergenceKind::TrapVsReturn
        );
    }
    // Memories of 1 and 3 pages, at several offsets and alignments, in both forms.
    assert!(found.len() >= 8, "{}", found.len());
}

/// The sweep is a fixed list: these are its tuples, in this order, on any machine (pinned:
/// a change to the sweep shows here first).
#[test]
fn the_sweep_is_the_same_on_any_machine() {
    let mut digest = wasmdiff_engines::outcome::FNV_OFFSET;
    let mut fold = |bytes: &[u8]| {
        for b in bytes {
            digest = (digest ^ u64::from(*b)).wrapping_mul(wasmdiff_engines::outcome::FNV_PRIME);
        }
    };
    for index in 0..sweep::chunk_count() {
        let chunk = sweep::chunk(index).unwrap();
        fold(&chunk.module);
        fold(serde_json::to_string(&chunk.calls).unwrap().as_bytes());
    }
    assert_eq!(
        (sweep::chunk_count(), sweep::tuple_count(), digest),
        (772, 131_442, 16_101_302_501_269_410_760)
    );
}
