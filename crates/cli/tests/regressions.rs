//! Every stored regression case (`corpus/regressions/`) replays as its expectation says. It
//! lives beside the `wasmdiff` binary: cases of engines that run isolated need it as their
//! worker.

use std::path::Path;

use wasmdiff_cases::{Case, Version, find_cases};
use wasmdiff_harness::replay::{self, Replayer, check_expectation};

#[test]
fn every_regression_case_meets_its_expectation() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/regressions");
    let dirs = find_cases(&corpus, Version::Original).unwrap();
    assert!(
        !dirs.is_empty(),
        "no regression cases in {}",
        corpus.display()
    );
    let mut replayer = Replayer::default();
    let (mut failures, mut skipped) = (Vec::new(), Vec::new());
    for dir in &dirs {
        let case = Case::load(dir).unwrap();
        let expectation = case
            .report
            .expectation
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no expectation", dir.display()));
        let missing = replay::missing_engines(&case);
        if !missing.is_empty() {
            let missing: Vec<String> = missing
                .iter()
                .map(|(engine, why)| format!("{engine}: {why}"))
                .collect();
            skipped.push(format!("{} ({})", case.name(), missing.join("; ")));
            continue;
        }
        let specs = replay::lineup(&case, None).unwrap();
        let replayed = replayer.replay(&case, &specs).unwrap();
        if let Err(why) = check_expectation(expectation, &replayed) {
            failures.push(format!("{}: {why}", dir.display()));
        }
    }
    if !skipped.is_empty() {
        let skipped = skipped.join(", ");
        // CI builds and installs every engine: there, a skipped case is a failure.
        if std::env::var("CI").as_deref() == Ok("true") {
            failures.push(format!("skipped with CI=true: {skipped}"));
        } else {
            eprintln!("note: skipped, their engines are not here: {skipped}");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        skipped.len() < dirs.len(),
        "every regression case was skipped"
    );
}
