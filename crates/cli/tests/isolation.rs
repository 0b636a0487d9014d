//! Engines in worker processes, through the `wasmdiff` binary (which serves as their worker):
//! an engine that aborts or hangs becomes a finding and the campaign goes on; the engines in
//! other processes (V8, WABT, wasm3, WAMR) agree with wasmtime on seeded modules; validation
//! campaigns compare who accepts what.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use wasmdiff_engines::Limits;
use wasmdiff_harness::{Differential, campaign, inputs};

fn wasmdiff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wasmdiff"))
        .args(args)
        .output()
        .unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wasmdiff-iso-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    dir
}

/// Runs `wasmdiff fuzz` with `args` into `out` and returns its statistics.
fn campaign(out: &Path, args: &[&str]) -> Value {
    let output = wasmdiff(
        &[
            &["fuzz", "--no-shrink", "--out", out.to_str().unwrap()],
            args,
        ]
        .concat(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    serde_json::from_slice(&std::fs::read(out.join("stats.json")).unwrap()).unwrap()
}

fn engine<'a>(stats: &'a Value, name: &str) -> &'a Value {
    stats["engines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap()
}

/// The reports of the findings the campaign wrote, outside `known/`.
fn reports(out: &Path) -> Vec<Value> {
    std::fs::read_dir(out)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("report.json").is_file())
        .map(|e| serde_json::from_slice(&std::fs::read(e.path().join("report.json")).unwrap()))
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn an_engine_that_aborts_becomes_a_crash_finding_and_the_campaign_goes_on() {
    let out = scratch("abort");
    let stats = campaign(
        &out,
        &[
            "--engines",
            "wasmi-eager,selftest-abort",
            "--seed",
            "5",
            "--iterations",
            "300",
        ],
    );
    // Every input ran: the aborted worker was replaced each time.
    assert_eq!(stats["inputs"], 300);
    let aborts = engine(&stats, "selftest-abort")["crashed"]
        .as_u64()
        .unwrap();
    assert!(aborts >= 1, "no module triggered the abort: {stats}");
    assert!(stats["agreed"].as_u64().unwrap() > 200, "{stats}");
    let crashes: Vec<Value> = reports(&out)
        .into_iter()
        .filter(|r| r["verdict"]["kind"] == "crash")
        .collect();
    assert_eq!(crashes.len() as u64, aborts);
    for report in &crashes {
        let outcome = &report["outcomes"][1];
        assert_eq!(outcome["engine"], "selftest-abort");
        let message = outcome["message"].as_str().unwrap();
        assert!(message.contains("SIGABRT"), "{message}");
    }
    // Each reproducer is on disk and holds the trigger: the worker takes its jobs in batches,
    // and a crash is blamed on the job that caused it, not on another of its batch.
    let findings: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("crash-"))
        .map(|e| e.path())
        .collect();
    assert!(!findings.is_empty());
    for finding in findings {
        let wat = std::fs::read_to_string(finding.join("module.wat")).unwrap();
        assert!(wat.contains("i64.popcnt"), "{}", finding.display());
        assert!(finding.join("input.bin").is_file());
    }
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn an_engine_that_hangs_becomes_a_hang_finding_at_its_deadline() {
    let out = scratch("hang");
    let stats = campaign(
        &out,
        &[
            "--engines",
            "wasmi-eager,selftest-hang",
            "--seed",
            "5",
            "--iterations",
            "120",
            "--deadline",
            "1",
        ],
    );
    assert_eq!(stats["inputs"], 120);
    let hangs = engine(&stats, "selftest-hang")["hung"].as_u64().unwrap();
    assert!(hangs >= 1, "no module triggered the hang: {stats}");
    let found: Vec<Value> = reports(&out)
        .into_iter()
        .filter(|r| r["verdict"]["kind"] == "hang")
        .collect();
    assert_eq!(found.len() as u64, hangs);
    let message = found[0]["outcomes"][1]["message"].as_str().unwrap();
    assert!(message.contains("deadline"), "{message}");
    std::fs::remove_dir_all(&out).ok();
}

/// Shrinking a hang costs a deadline per candidate, far more than the campaign's time: the
/// campaign still ends with its time, keeping what shrinking reached and naming the rest.
#[test]
fn a_campaign_bounded_by_seconds_stops_shrinking_with_its_time() {
    let out = scratch("seconds");
    let start = std::time::Instant::now();
    let output = wasmdiff(&[
        "fuzz",
        "--engines",
        "wasmi-eager,selftest-hang",
        "--seed",
        "5",
        "--seconds",
        "4",
        "--deadline",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Unbounded, the first hang alone would take hundreds of seconds to shrink.
    assert!(start.elapsed().as_secs() < 60, "{stdout}");
    let stats: Value =
        serde_json::from_slice(&std::fs::read(out.join("stats.json")).unwrap()).unwrap();
    assert_eq!(stats["shrink_queue"], 0, "{stats}");
    let shrunk = stats["shrunk"].as_array().unwrap();
    let not_shrunk = stats["not_shrunk"].as_array().unwrap();
    assert!(!shrunk.is_empty() || !not_shrunk.is_empty(), "{stats}");
    for found in shrunk {
        let dir = Path::new(found["dir"].as_str().unwrap());
        let report: Value =
            serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
        assert_eq!(report["shrink"]["ended_by"], "interrupted", "{report}");
    }
    for dir in not_shrunk {
        let dir = dir.as_str().unwrap();
        assert!(Path::new(dir).join("report.json").is_file(), "{dir}");
        assert!(stdout.contains(dir), "{stdout}");
    }
    std::fs::remove_dir_all(&out).ok();
}

/// Engines whose process may die on a module: their open findings are real engine bugs
/// (see the README), so they are held to an agreement rate rather than to none at all.
const C_ENGINES: &[&str] = &["wasm3", "wamr"];

#[test]
fn engines_in_other_processes_agree_with_wasmtime_on_seeded_modules() {
    for name in ["v8-liftoff", "v8-turbofan", "wabt", "wasm3", "wamr"] {
        let out = scratch(name);
        let lineup = format!("wasmtime-cranelift,{name}");
        let stats = campaign(
            &out,
            &["--engines", &lineup, "--seed", "3", "--iterations", "200"],
        );
        let skipped = engine(&stats, name)["skipped"].as_u64().unwrap();
        let returned = engine(&stats, name)["calls_returned"].as_u64().unwrap();
        assert!(
            skipped < 150 && returned > 200,
            "{name} hardly ran: {stats}"
        );
        let new = stats["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["known_bug"].is_null())
            .count();
        if C_ENGINES.contains(&name) {
            let conclusive =
                stats["agreed"].as_u64().unwrap() + stats["divergent"].as_u64().unwrap();
            assert!(new * 100 <= conclusive as usize * 2, "{name}: {stats}");
        } else {
            assert_eq!(new, 0, "{name}: {stats}");
        }
        std::fs::remove_dir_all(&out).ok();
    }
}

/// Input by input: the same verdict and the same explanation with every engine in a worker
/// process as with the engines in this one (offsetting changes cannot hide in the totals).
#[test]
fn isolating_every_engine_changes_no_verdict() {
    let specs =
        wasmdiff_engines::parse_list("wasmtime-cranelift,wasmi-eager,wasmer-singlepass,planted")
            .unwrap();
    let mut inside = Differential::new(&specs, Limits::default()).unwrap();
    let isolated_limits = Limits {
        isolate_all: true,
        ..Limits::default()
    };
    let mut isolated = Differential::new(&specs, isolated_limits).unwrap();
    // Random inputs, the sweep chunk of `i32.shr_u` (where the planted bug shows) and a
    // module that exhausts the stack (inconclusive).
    let shr_u = (0..wasmdiff_gen::sweep::chunk_count())
        .find(|&i| wasmdiff_gen::sweep::chunk(i).unwrap().probes[0].name == "i32.shr_u")
        .unwrap();
    let mut cases: Vec<wasmdiff_gen::TestCase> = (0..200)
        .filter_map(|index| {
            let input = inputs::input(9, index, campaign::DEFAULT_MAX_INPUT_LEN);
            inside.generate(&input).ok()
        })
        .collect();
    cases.push(
        inside
            .generate(&wasmdiff_gen::sweep_input(shr_u, None))
            .unwrap(),
    );
    let deep = wat::parse_str(r#"(module (func (export "f") call 0))"#).unwrap();
    cases.push(wasmdiff_gen::from_module(deep).unwrap());
    let (mut divergent, mut inconclusive) = (0, 0);
    for (index, case) in cases.into_iter().enumerate() {
        let (a, b) = (inside.check_case(case.clone()), isolated.check_case(case));
        assert_eq!(a.verdict, b.verdict, "case {index}");
        let bugs = |c: &wasmdiff_harness::Checked| c.known_bugs.iter().map(|b| b.id).collect();
        let (a_bugs, b_bugs): (Vec<&str>, Vec<&str>) = (bugs(&a), bugs(&b));
        assert_eq!(a_bugs, b_bugs, "case {index}");
        divergent += usize::from(a.verdict.divergence().is_some());
        inconclusive += usize::from(!a.verdict.is_conclusive());
    }
    // Not agreement alone: the comparison covered divergences and inconclusive outcomes.
    assert!(
        divergent > 0 && inconclusive > 0,
        "{divergent} divergent, {inconclusive} inconclusive"
    );
}

#[test]
fn a_validation_campaign_compares_acceptance() {
    let out = scratch("validation");
    let stats = campaign(
        &out,
        &[
            "--target",
            "validation",
            "--engines",
            "wasmtime-cranelift,wasmi-eager,v8-liftoff,wabt,wasmparser",
            "--seed",
            "1",
            "--iterations",
            "300",
        ],
    );
    let parser = engine(&stats, "wasmparser");
    let (accepted, rejected) = (
        parser["accepted"].as_u64().unwrap(),
        parser["rejected"].as_u64().unwrap(),
    );
    // Sometimes invalid: both answers are common.
    assert!(accepted > 50 && rejected > 50, "{stats}");
    assert_eq!(stats["inputs"], 300);
    assert_eq!(stats["divergent"], 0, "{stats}");
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn engines_lists_what_is_available_and_why_not() {
    let output = wasmdiff(&["engines"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    for name in ["v8-liftoff", "wabt", "wasmer-singlepass", "wasm3", "wamr"] {
        assert!(text.contains(name), "{text}");
    }
    assert!(text.contains("always in a worker process"), "{text}");
    // A missing program is reported as the reason, and campaigns refuse the engine clearly.
    let output = Command::new(env!("CARGO_BIN_EXE_wasmdiff"))
        .args(["run", "--engines", "v8-liftoff", "no-such-file.wat"])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unavailable") && stderr.contains("node"),
        "{stderr}"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_wasmdiff"))
        .arg("engines")
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("UNAVAILABLE: node not found"), "{text}");
    assert!(
        text.contains("UNAVAILABLE: wasm-validate not found"),
        "{text}"
    );
}
