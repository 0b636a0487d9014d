//! The files the cargo-fuzz targets run with, as libFuzzer, ClusterFuzzLite and OSS-Fuzz read
//! them: `fuzz/<target>.options`, the dictionaries (`fuzz/dict/`, put together per target by
//! `scripts/fuzz-common`) and the seed corpora (`corpus/<target>/`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use wasmdiff_cases::{Case, Version, find_cases};
use wasmdiff_engines::{Limits, outcome::fnv1a};
use wasmdiff_gen::Generator;
use wasmdiff_harness::campaign::DEFAULT_MAX_INPUT_LEN;
use wasmdiff_harness::fuzz_corpus::SeedSorter;
use wasmdiff_harness::{Differential, Target};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The bytes of a libFuzzer dictionary line (`name="value"`, the name optional; `\\`, `\"` and
/// `\xNN` escaped), `None` for a comment or a blank line.
fn entry(line: &str) -> Option<Result<Vec<u8>, String>> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let quoted = match line.split_once('=') {
        Some((name, value)) if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => value,
        _ => line,
    };
    let Some(inner) = quoted
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    else {
        return Some(Err(format!("not a quoted entry: {line}")));
    };
    let mut bytes = Vec::new();
    let mut chars = inner.bytes();
    while let Some(b) = chars.next() {
        match b {
            b'\\' => match chars.next() {
                Some(b'\\') => bytes.push(b'\\'),
                Some(b'"') => bytes.push(b'"'),
                Some(b'x') => {
                    let hex: Vec<u8> = chars.by_ref().take(2).collect();
                    match std::str::from_utf8(&hex)
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                    {
                        Some(byte) if hex.len() == 2 => bytes.push(byte),
                        _ => return Some(Err(format!("bad \\x escape: {line}"))),
                    }
                }
                _ => return Some(Err(format!("bad escape: {line}"))),
            },
            b'"' => return Some(Err(format!("unescaped quote: {line}"))),
            _ => bytes.push(b),
        }
    }
    match bytes.is_empty() {
        true => Some(Err(format!("empty entry: {line}"))),
        false => Some(Ok(bytes)),
    }
}

/// `target`'s dictionary, as `scripts/fuzz-common` writes it for libFuzzer and `$OUT`.
fn dictionary(target: Target) -> Vec<(String, Vec<u8>)> {
    // Tests run side by side: each call writes a file of its own.
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let file = std::env::temp_dir().join(format!(
        "wasmdiff-dict-{}-{}-{}",
        std::process::id(),
        CALLS.fetch_add(1, Ordering::Relaxed),
        target.fuzz_target()
    ));
    let written = Command::new("bash")
        .current_dir(root())
        .arg("-c")
        .arg(r#"source scripts/fuzz-common && write_dict "$1" "$2""#)
        .args(["bash", target.fuzz_target()])
        .arg(&file)
        .status()
        .unwrap();
    assert!(written.success(), "write_dict {}", target.fuzz_target());
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::remove_file(&file).ok();
    text.lines()
        .filter_map(|line| {
            let name = line.split_once('=').map_or("", |(n, _)| n).to_string();
            entry(line).map(|bytes| (name, bytes.unwrap_or_else(|e| panic!("{e}"))))
        })
        .collect()
}

#[test]
fn every_fuzz_target_has_options_and_a_dictionary_libfuzzer_reads() {
    let manifest = std::fs::read_to_string(root().join("fuzz/Cargo.toml")).unwrap();
    for target in Target::ALL {
        let name = target.fuzz_target();
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no `{name}` target"
        );
        let options = std::fs::read_to_string(root().join(format!("fuzz/{name}.options")))
            .unwrap_or_else(|e| panic!("fuzz/{name}.options: {e}"));
        let option = |key: &str| {
            options
                .lines()
                .skip_while(|l| l.trim() != "[libfuzzer]")
                .find_map(|l| l.strip_prefix(key)?.trim().strip_prefix('=').map(str::trim))
                .map(str::to_string)
        };
        assert_eq!(option("dict").as_deref(), Some(&*format!("{name}.dict")));
        // With every engine instrumented, libFuzzer's entropic schedule and input reduction
        // cost the targets most of their speed (README, Modes).
        for key in ["entropic", "reduce_inputs"] {
            assert_eq!(option(key).as_deref(), Some("0"), "{name}: {key}");
        }
        let max_len: usize = option("max_len").unwrap().parse().unwrap();
        assert!(
            max_len >= DEFAULT_MAX_INPUT_LEN,
            "{name}: max_len {max_len} is shorter than the campaign's inputs"
        );
        let entries = dictionary(target);
        assert!(entries.len() >= 10, "{name}: {} entries", entries.len());
    }
}

#[test]
fn the_differential_dictionary_names_the_corner_sweep() {
    let entries = dictionary(Target::Modules);
    let chunk = &entries
        .iter()
        .find(|(name, _)| name == "sweep_first_chunk")
        .expect("a sweep entry")
        .1;
    let specs = Target::Modules.default_engines();
    let differential =
        Differential::for_target(&specs, Limits::default(), Target::Modules).unwrap();
    let case = differential.generate(chunk).unwrap();
    assert_eq!(case.generator, Generator::Sweep);
}

#[test]
fn the_seed_corpora_hold_every_regression_case() {
    let regressions = root().join("corpus/regressions");
    let mut sorter = SeedSorter::default();
    let mut seeds = 0;
    for dir in find_cases(&regressions, Version::Shrunk).unwrap() {
        let case = Case::load(&dir).unwrap();
        for (target, input) in sorter.seeds(&case).unwrap() {
            let file = root()
                .join("corpus")
                .join(target.fuzz_target())
                .join(format!("{:016x}", fnv1a(&input)));
            assert!(
                std::fs::read(&file).is_ok_and(|stored| stored == input),
                "{} is missing from {}: run scripts/fuzz-corpus seed",
                dir.display(),
                file.parent().unwrap().display()
            );
            seeds += 1;
        }
    }
    assert!(seeds >= 10, "only {seeds} seeds from the regression cases");
}
