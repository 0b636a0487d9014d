//! The `wasmdiff` binary as a user meets it: bad inputs give one line and a non-zero exit,
//! never a panic trace; good inputs give outcomes and the documented exit status.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn wasmdiff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wasmdiff"))
        .args(args)
        // Even with backtraces requested, no input may produce one.
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasmdiff-cli-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

/// Exit status 2, and a single line on stderr that contains `expected`.
fn assert_clean_error(output: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "not one line: {stderr}"
    );
    assert!(
        stderr.contains(expected),
        "expected `{expected}` in: {stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
}

const ADD: &str = r#"(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
                            (func (export "shr") (param i32 i32) (result i32) local.get 0 local.get 1 i32.shr_u))"#;

#[test]
fn bad_inputs_give_one_line_errors() {
    let dir = scratch("errors");
    let truncated = write(&dir, "truncated.wasm", b"\0asm\x01\0\0\0\x01\x05");
    let invalid = write(&dir, "invalid.wasm", b"\0asm\x01\0\0\0\x0a\x02\x01\x00");
    let not_wasm = write(&dir, "text.wasm", b"(module)");
    let bad_wat = write(
        &dir,
        "bad.wat",
        b"(module\n  (func (result i32) i32.cnst 1))\n",
    );
    let ill_typed = write(
        &dir,
        "ill-typed.wat",
        b"(module\n  (func (result i32) i32.add))\n",
    );
    let binary_junk = write(&dir, "junk.wat", &[0xff, 0xfe, 0x00, 0x81]);
    let imports = write(
        &dir,
        "imports.wat",
        br#"(module (import "env" "f" (func)))"#,
    );
    let add = write(&dir, "add.wat", ADD.as_bytes());
    let missing = dir.join("missing.wasm").to_string_lossy().into_owned();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["run", &missing], "cannot read"),
        (vec!["run", &truncated], "invalid module"),
        (vec!["run", &invalid], "invalid module"),
        (vec!["run", &not_wasm], "not a Wasm binary"),
        (
            vec!["run", &bad_wat],
            "invalid WAT: unknown operator or unexpected token at",
        ),
        (vec!["run", &ill_typed], "invalid module: type mismatch"),
        (vec!["run", &binary_junk], "neither Wasm nor UTF-8"),
        (vec!["run", &imports], "imports `env::f`"),
        (
            vec!["run", &add, "--engines", "wasmi-eager,v9"],
            "unknown engine `v9`",
        ),
        (
            vec!["run", &add, "--invoke", "sub"],
            "no exported function `sub`",
        ),
        (
            vec!["run", &add, "--invoke", "add", "--args", "1"],
            "takes 2 arguments, 1 given",
        ),
        (
            vec!["run", &add, "--invoke", "add", "--args", "1", "one"],
            "bad i32 value `one`",
        ),
        (
            vec!["run", &add, "--invoke", "add", "--args", "1", "f32:1"],
            "is not a i32",
        ),
        (vec!["fuzz", "--engines", "nope"], "unknown engine `nope`"),
        (vec!["fuzz", "--jobs", "0"], "--jobs must be at least 1"),
        (vec!["fuzz", "--seconds", "soon"], "invalid value 'soon'"),
        (vec!["fuzz", "--bogus"], "unexpected argument '--bogus'"),
        (vec!["frobnicate"], "unrecognized subcommand"),
    ];
    for (args, expected) in cases {
        let output = wasmdiff(&args);
        assert_clean_error(&output, expected);
    }
    // An output directory that cannot be created.
    let blocker = write(&dir, "blocker", b"a file");
    let output = wasmdiff(&[
        "fuzz",
        "--iterations",
        "1",
        "--out",
        &format!("{blocker}/sub"),
    ]);
    assert_clean_error(&output, "cannot create");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn run_prints_outcomes_side_by_side_and_exits_by_verdict() {
    let dir = scratch("run");
    let add = write(&dir, "add.wat", ADD.as_bytes());
    let output = wasmdiff(&["run", &add, "--invoke", "add", "--args", "2", "i32:-3"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("add(i32:2 i32:-3)"), "{stdout}");
    for engine in [
        "wasmtime-cranelift",
        "wasmtime-winch",
        "wasmtime-pulley",
        "wasmi-lazy",
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.contains(engine) && l.contains("i32:-1")),
            "{engine}: {stdout}"
        );
    }
    assert!(stdout.contains("all engines agree"), "{stdout}");

    let output = wasmdiff(&[
        "run",
        &add,
        "--engines",
        "wasmi-eager,wasmi-lazy,planted",
        "--invoke",
        "shr",
        "--args",
        "-8",
        "1",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    // The odd one out is marked, and only it.
    assert!(stdout.contains(" ! planted"), "{stdout}");
    assert_eq!(stdout.matches(" ! ").count(), 1, "{stdout}");
    assert!(stdout.contains("return-value at call #0"), "{stdout}");

    // Without --invoke: every export once, with zero arguments.
    let output = wasmdiff(&["run", &add, "--engines", "wasmi-eager,wasmtime-cranelift"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("#0 add(i32:0 i32:0)") && stdout.contains("#1 shr(i32:0 i32:0)"),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn fuzz_runs_a_campaign_and_summarizes_it() {
    let dir = scratch("fuzz");
    let out = dir.join("findings").to_string_lossy().into_owned();
    let output = wasmdiff(&["fuzz", "--iterations", "40", "--seed", "9", "--out", &out]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("seed 9"), "{stdout}");
    assert!(stdout.contains("40 inputs in"), "{stdout}");
    for engine in wasmdiff_engines::every_default_engine(&wasmdiff_gen::Plan::Calls(Vec::new())) {
        assert!(stdout.contains(engine.name), "{}: {stdout}", engine.name);
    }
    assert!(Path::new(&out).join("stats.json").is_file());
    let output = wasmdiff(&["engines"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("planted"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_planted_bug_goes_from_campaign_to_shrunk_case_to_regression() {
    let dir = scratch("cases");
    let out = dir.join("findings").to_string_lossy().into_owned();
    let output = wasmdiff(&[
        "fuzz",
        "--engines",
        "wasmi-eager,planted",
        "--iterations",
        "4000",
        "--seed",
        "1",
        "--out",
        &out,
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("shrunk "), "{stderr}");

    let output = wasmdiff(&["triage", &out]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("buckets from") && stdout.contains("smallest: "),
        "{stdout}"
    );

    let finding = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("shrunk").is_dir())
        .unwrap();
    let finding = finding.to_string_lossy().into_owned();
    let output = wasmdiff(&["explain", &finding]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(";; <== diverges here") && stdout.contains("i32.shr_u"),
        "{stdout}"
    );
    // Two engines, one each way: no majority, so both are in question.
    assert!(
        stdout.contains(" ? planted") && stdout.contains(" ? wasmi-eager"),
        "{stdout}"
    );

    let output = wasmdiff(&["replay", &out]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("diverge, 0 miss their expectation"),
        "{stdout}"
    );

    let corpus = dir.join("corpus").to_string_lossy().into_owned();
    let output = wasmdiff(&[
        "promote",
        &finding,
        "--name",
        "planted-shr-u",
        "--corpus",
        &corpus,
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = wasmdiff(&["replay", &format!("{corpus}/regressions")]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("expectation met"), "{stdout}");
    assert_clean_error(
        &wasmdiff(&[
            "promote",
            &finding,
            "--name",
            "planted-shr-u",
            "--corpus",
            &corpus,
        ]),
        "exists",
    );
    assert_clean_error(
        &wasmdiff(&[
            "promote", &finding, "--name", "Bad Name", "--corpus", &corpus,
        ]),
        "--name",
    );

    // A fuzz artifact (here: the finding's input) becomes a case again; what it was made for
    // is said, or read from the directory cargo fuzz keeps it in.
    let artifact = format!("{finding}/input.bin");
    let imported = dir.join("imported").to_string_lossy().into_owned();
    let import = |artifact: &str, target: &[&str]| {
        let args = [
            &["import", artifact][..],
            target,
            &["--engines", "wasmi-eager,planted"],
        ];
        wasmdiff(&[&args.concat()[..], &["--out", &imported]].concat())
    };
    let output = import(&artifact, &["--target", "modules"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("imported-") && stdout.contains("[planted]"),
        "{stdout}"
    );
    assert_clean_error(&import(&artifact, &[]), "give --target");
    let artifacts = dir.join("artifacts").join("differential");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::copy(&artifact, artifacts.join("crash-1")).unwrap();
    std::fs::write(artifacts.join("crash-2"), b"\x01").unwrap();
    let output = import(artifacts.to_str().unwrap(), &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("2 artifacts: 1 diverge"), "{stdout}");
    // The diverging one is shrunk, and both end in triage buckets.
    assert_eq!(stdout.matches("  shrunk: ").count(), 1, "{stdout}");
    assert!(stdout.contains("2 buckets from 2 cases"), "{stdout}");
    let shrunk = std::fs::read_dir(&imported)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("shrunk").join("report.json").is_file())
        .count();
    assert_eq!(shrunk, 1, "{stdout}");
    // So does a directory of artifact directories, one per target, as cargo fuzz leaves it.
    let output = import(dir.join("artifacts").to_str().unwrap(), &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("2 artifacts: 1 diverge"), "{stdout}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_campaigns_inputs_and_the_seed_corpora_are_written_as_files() {
    let dir = scratch("inputs");
    let inputs = dir.join("inputs").to_string_lossy().into_owned();
    let output = wasmdiff(&["inputs", "--seed", "7", "--count", "3", &inputs]);
    assert_eq!(output.status.code(), Some(0));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&inputs)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let sizes: Vec<u64> = files.iter().map(|f| f.metadata().unwrap().len()).collect();
    assert_eq!(files.len(), 3);
    assert!(sizes.iter().all(|&n| (1..=2048).contains(&n)), "{sizes:?}");
    // The same seed gives the same bytes.
    let again = dir.join("again").to_string_lossy().into_owned();
    wasmdiff(&["inputs", "--seed", "7", "--count", "3", &again]);
    for file in &files {
        let twin = Path::new(&again).join(file.file_name().unwrap());
        assert_eq!(std::fs::read(file).unwrap(), std::fs::read(twin).unwrap());
    }
    assert_clean_error(
        &wasmdiff(&[
            "inputs",
            "--seed",
            "7",
            "--count",
            "1",
            "--max-input-len",
            "0",
            &inputs,
        ]),
        "--max-input-len",
    );

    let regressions = concat!(env!("CARGO_MANIFEST_DIR"), "/../../corpus/regressions");
    let corpora = dir.join("corpora").to_string_lossy().into_owned();
    let output = wasmdiff(&["seed-corpus", regressions, "--out", &corpora]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    for target in ["differential", "mutate"] {
        let seeds = std::fs::read_dir(Path::new(&corpora).join(target))
            .map(|d| d.count())
            .unwrap_or(0);
        assert!(seeds > 0, "no {target} seeds: {stdout}");
    }
    assert_clean_error(
        &wasmdiff(&["seed-corpus", &inputs, "--out", &corpora]),
        "no cases in",
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn case_commands_reject_bad_cases_cleanly() {
    let dir = scratch("bad-cases");
    let corrupt = dir.join("corrupt");
    std::fs::create_dir_all(&corrupt).unwrap();
    std::fs::write(corrupt.join("report.json"), b"{ not json").unwrap();
    let corrupt = corrupt.to_string_lossy().into_owned();
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let empty = empty.to_string_lossy().into_owned();
    let missing = dir.join("missing").to_string_lossy().into_owned();
    let agreeing = dir.join("agreeing").to_string_lossy().into_owned();
    let regression = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../corpus/regressions/wasmi-2-0-0-select-eqz"
    );
    // A case on which the given engines agree cannot be shrunk.
    std::fs::create_dir_all(&agreeing).unwrap();
    for file in ["report.json", "module.wasm"] {
        std::fs::copy(format!("{regression}/{file}"), format!("{agreeing}/{file}")).unwrap();
    }
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["replay", &corrupt],
            "report.json is not a valid case report",
        ),
        (
            vec!["explain", &corrupt],
            "report.json is not a valid case report",
        ),
        (vec!["triage", &empty], "no cases in"),
        (vec!["replay", &missing], "cannot read"),
        (vec!["import", &missing], "cannot read"),
        (
            vec![
                "shrink",
                &agreeing,
                "--engines",
                "wasmtime-cranelift,wasmtime-winch",
            ],
            "does not diverge",
        ),
        (
            vec!["replay", regression, "--engines", "nope"],
            "unknown engine `nope`",
        ),
    ];
    for (args, expected) in cases {
        assert_clean_error(&wasmdiff(&args), expected);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn proxy_drives_a_filter_through_a_scenario_on_every_engine() {
    let dir = scratch("proxy");
    let output = wasmdiff(&["proxy", "sdk:auth_callout"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("proxy_on_http_call_response") && stdout.contains("all engines agree"),
        "{stdout}"
    );
    assert!(stdout.contains("local response 401"), "{stdout}");

    // A scenario from a file: the example, printed, edited, read back.
    let output = wasmdiff(&["proxy", "sdk:config_driven", "--print-scenario"]);
    let example = String::from_utf8_lossy(&output.stdout).into_owned();
    let denying = example.replace(
        r#"{\"header\":\"x-wasmdiff\",\"value\":\"yes\"}"#,
        r#"{\"deny\":true}"#,
    );
    assert_ne!(denying, example);
    let scenario = write(&dir, "deny.json", denying.as_bytes());
    let output = wasmdiff(&[
        "proxy",
        "sdk:config_driven",
        "--scenario",
        &scenario,
        "--engines",
        "wasmi-eager,wasmtime-winch",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("local response 403"), "{stdout}");

    // A filter whose trace differs on the planted engine: exit status 1, the first difference.
    let filter = write(
        &dir,
        "shr.wat",
        br#"(module (memory (export "memory") 1)
              (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
                i32.const -8 local.get 1 i32.shr_u))"#,
    );
    let output = wasmdiff(&[
        "proxy",
        &filter,
        "--engines",
        "wasmi-eager,wasmi-lazy,planted",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(" ! planted") && stdout.contains("trace at trace event #0"),
        "{stdout}"
    );

    let unknown = write(
        &dir,
        "unknown.wat",
        br#"(module (import "env" "proxy_teleport" (func)))"#,
    );
    let bad_json = write(&dir, "bad.json", b"{ \"streams\": 7 }");
    for (args, expected) in [
        (vec!["proxy", "sdk:nope"], "no SDK filter `nope`"),
        (vec!["proxy", &unknown], "imports `env::proxy_teleport`"),
        (
            vec!["proxy", "sdk:queue", "--scenario", &bad_json],
            "is not a scenario",
        ),
        (
            vec!["proxy", "sdk:queue", "--scenario", "/no/such/file.json"],
            "cannot read",
        ),
    ] {
        assert_clean_error(&wasmdiff(&args), expected);
    }

    let out = dir.join("findings").to_string_lossy().into_owned();
    let output = wasmdiff(&[
        "fuzz",
        "--target",
        "proxy-wasm",
        "--iterations",
        "30",
        "--seed",
        "4",
        "--out",
        &out,
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("random-filter") && stdout.contains("sdk-filter"),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
