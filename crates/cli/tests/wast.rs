//! The WebAssembly spec test suite (the snapshot in `../shared/wasm-testsuite`) on the engines:
//! the core files pass on wasmtime and wasmi; a planted miscompilation fails exactly its
//! assertions and the baseline check catches it; the whole suite on the default lineup
//! matches `corpus/wast-baseline.json`. Lives beside the `wasmdiff` binary: engines that run
//! isolated need it as their worker.

use std::path::{Path, PathBuf};
use std::process::Command;

use wasmdiff_engines::Limits;
use wasmdiff_harness::wast::baseline::{Baseline, EngineBaseline};
use wasmdiff_harness::wast::{Matrix, Runner, find_scripts, script};

/// The spec suite: `WASMDIFF_TESTSUITE`, else `shared/wasm-testsuite` beside the repository.
/// Missing, it is an error with `CI=true` (CI has it); otherwise the test says so and passes.
fn testsuite() -> Option<PathBuf> {
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let candidates = [
        std::env::var_os("WASMDIFF_TESTSUITE").map(PathBuf::from),
        Some(repository.join("../shared/wasm-testsuite")),
        Some(PathBuf::from("/work/shared/wasm-testsuite")),
    ];
    let found = candidates
        .into_iter()
        .flatten()
        .find(|p| p.join("i32.wast").is_file());
    if found.is_none() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "CI=true, but the spec test suite is not found (set WASMDIFF_TESTSUITE)"
        );
        eprintln!("note: the spec test suite is not here (set WASMDIFF_TESTSUITE): not run");
    }
    found
}

fn run(engines: &str, files: &[PathBuf], root: &Path) -> Matrix {
    let specs = wasmdiff_engines::parse_list(engines).unwrap();
    let mut runner = Runner::new(&specs, Limits::default().for_terminating_code()).unwrap();
    let mut matrix = Matrix::new(&specs);
    for file in files {
        matrix.add(&runner.run(&script::read(file).unwrap()), root);
    }
    matrix
}

#[test]
fn the_core_files_pass_on_wasmtime_and_wasmi() {
    let Some(suite) = testsuite() else { return };
    let mut files: Vec<PathBuf> = [
        "i32",
        "i64",
        "f32",
        "f64",
        "conversions",
        "memory",
        "address",
        "br_table",
        "call_indirect",
        "float_exprs",
        "left-to-right",
        "traps",
    ]
    .iter()
    .map(|name| suite.join(format!("{name}.wast")))
    .collect();
    files.extend(
        find_scripts(&suite)
            .unwrap()
            .into_iter()
            .filter(|f| f.parent() == Some(&suite))
            .filter(|f| {
                f.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("simd_")
            }),
    );
    let matrix = run("wasmtime-cranelift,wasmi-eager", &files, &suite);
    for (engine, total) in matrix.engines.iter().zip(matrix.totals()) {
        let judged = total.passed + total.failed;
        eprintln!(
            "{engine}: {} of {judged} passed ({} skipped) in {} files",
            total.passed,
            total.skipped,
            matrix.files.len()
        );
        assert!(judged > 30_000, "{engine}: only {judged} commands judged");
        assert!(total.passed * 100 >= judged * 99, "{engine}: {total:?}");
    }
}

#[test]
fn a_planted_miscompilation_fails_its_assertions_and_the_baseline_catches_it() {
    let Some(suite) = testsuite() else { return };
    let i32 = suite.join("i32.wast");
    let matrix = run("wasmi-eager,planted", &[i32], &suite);
    let (_, cells) = &matrix.files[0];
    assert_eq!(cells[0].failed, 0, "{:?}", cells[0]);
    let planted = &cells[1];
    assert!(planted.failed > 0);
    let failure = planted.first_failure.as_ref().unwrap();
    assert!(failure.command.contains("shr_u"), "{failure:?}");
    // A baseline that expects planted to pass catches every failure; one that knows them
    // does not complain.
    let version = matrix.versions[1].clone();
    let conformant = Baseline {
        engines: [
            (
                "wasmi-eager".to_string(),
                EngineBaseline {
                    version: matrix.versions[0].clone(),
                    failures: Default::default(),
                },
            ),
            (
                "planted".to_string(),
                EngineBaseline {
                    version,
                    failures: Default::default(),
                },
            ),
        ]
        .into(),
    };
    let differences = conformant.differences(&matrix);
    assert_eq!(differences.len(), 1, "{differences:?}");
    assert!(
        differences[0].contains("planted: i32.wast: now fails at lines"),
        "{differences:?}"
    );
    let known = conformant.updated(&matrix);
    assert!(known.differences(&matrix).is_empty());
}

#[test]
fn a_malformed_script_is_one_line_with_its_position() {
    let dir = std::env::temp_dir().join(format!("wasmdiff-wast-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.wast");
    std::fs::write(
        &bad,
        "(module)\n(assert_return (invoke \"f\" (i32.const)))\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_wasmdiff"))
        .args(["wast", bad.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("bad.wast:2:"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The whole suite on the default lineup fails exactly where the baseline says it does.
#[test]
fn the_spec_suite_matches_its_baseline() {
    let Some(suite) = testsuite() else { return };
    let baseline_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/wast-baseline.json");
    let baseline = Baseline::load(&baseline_path).unwrap();
    let specs = wasmdiff_engines::every_default_engine(&wasmdiff_gen::Plan::Calls(Vec::new()));
    let mut runner = Runner::new(&specs, Limits::default().for_terminating_code()).unwrap();
    let mut matrix = Matrix::new(&specs);
    for file in find_scripts(&suite).unwrap() {
        // Scripts the `wast` crate cannot read (legacy exception syntax) are the CLI's to
        // report; they have no commands to judge.
        if let Ok(script) = script::read(&file) {
            matrix.add(&runner.run(&script), &suite);
        }
    }
    let differences = baseline.differences(&matrix);
    assert!(
        differences.is_empty(),
        "the spec suite no longer matches {} (after a deliberate change: `wasmdiff wast {} \
         --write-baseline corpus/wast-baseline.json`):\n{}",
        baseline_path.display(),
        suite.display(),
        differences.join("\n")
    );
}
