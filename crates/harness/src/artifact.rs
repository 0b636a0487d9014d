//! Inputs from outside a campaign (libFuzzer artifacts, inputs left in flight by a process
//! that died) turned into cases. A case is on disk, marked as a presumed crash, before
//! anything runs it; running it then replaces that record with what the engines did.

use std::path::{Path, PathBuf};

use wasmdiff_cases::{Existing, Origin, Report, write_case};
use wasmdiff_engines::{CrashKind, EngineSpec, Execution, Stage, outcome::fnv1a};
use wasmdiff_gen::{Generator, Plan, TestCase};
use wasmdiff_oracle::{Divergence, DivergenceKind, Step, Verdict};

use crate::differential::{Checked, Differential};

/// What is recorded for a case that has not finished running: if the process dies running it,
/// this record stays, and says so.
pub fn presumed_crash(case: TestCase, engines: usize, why: &str) -> Checked {
    Checked {
        case,
        executions: (0..engines)
            .map(|_| {
                Execution::crashed(
                    CrashKind::Died,
                    format!("{why}; the engine and the step are unknown"),
                    Stage::Compile,
                )
            })
            .collect(),
        verdict: Verdict::Diverge(Divergence {
            kind: DivergenceKind::Crash,
            step: Step::Compile,
            classes: vec![(0..engines).collect()],
        }),
        known_bugs: Vec::new(),
    }
}

/// The test case the generator makes of `input` for this lineup (an empty module if none).
pub fn case_of(differential: &Differential, input: &[u8]) -> TestCase {
    differential.generate(input).unwrap_or_else(|_| TestCase {
        module: Vec::new(),
        plan: Plan::Calls(Vec::new()),
        generator: Generator::WasmSmith,
    })
}

/// Writes `checked` as a case `out/name`, replacing an earlier record of it.
pub fn write_checked(
    out: &Path,
    name: &str,
    input: &[u8],
    checked: &Checked,
    specs: &[&EngineSpec],
    origin: Origin,
) -> anyhow::Result<(PathBuf, Report)> {
    let report = Report::new(
        &checked.case,
        specs,
        &checked.executions,
        &checked.verdict,
        origin,
    )
    .with_known_bugs(&checked.known_bugs);
    let dir = write_case(
        out,
        name,
        Some(input),
        &checked.case.module,
        &report,
        Existing::Replace,
    )?;
    Ok((dir, report))
}

/// Turns a fuzz input (a `cargo fuzz` artifact, say) into the case `out/imported-<digest>/`,
/// run on `differential`'s engines.
pub fn import(
    differential: &mut Differential,
    input: &[u8],
    file: &Path,
    out: &Path,
) -> anyhow::Result<(PathBuf, Report)> {
    let specs = differential.lineup().specs();
    let name = format!("imported-{:016x}", fnv1a(input));
    let origin = Origin {
        file: Some(file.display().to_string()),
        ..Origin::default()
    };
    let pending = presumed_crash(
        case_of(differential, input),
        specs.len(),
        "the process ended while running this case",
    );
    write_checked(out, &name, input, &pending, &specs, origin.clone())?;
    let checked = differential.check_case(pending.case);
    write_checked(out, &name, input, &checked, &specs, origin)
}
