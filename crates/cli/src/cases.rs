//! Commands on stored cases: shrink, replay, explain, triage, promote, import.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use wasmdiff_cases::signature::diverging_exports;
use wasmdiff_cases::{Case, Existing, Version, describe, find_cases, write_case};
use wasmdiff_engines::Limits;
use wasmdiff_harness::replay::{self, Replayer, check_expectation, expectation_now};
use wasmdiff_harness::shrink::{ShrinkBudget, shrink_stored};
use wasmdiff_harness::{Differential, Target};
use wasmdiff_oracle::Verdict;

use crate::show;
use crate::target::TargetArg;

/// The cases at `path`, loaded; none is an error.
fn load_cases(path: &Path, version: Version) -> anyhow::Result<Vec<Case>> {
    let dirs = find_cases(path, version)?;
    if dirs.is_empty() {
        bail!(
            "no cases in {} (a case directory holds report.json and module.wasm)",
            path.display()
        );
    }
    dirs.iter().map(|dir| Case::load(dir)).collect()
}

#[derive(Args)]
pub struct ShrinkArgs {
    /// A finding (or a directory of findings); the result goes to its `shrunk/` directory.
    case: PathBuf,
    /// Engine configurations to shrink on (default: those the case was found with).
    #[arg(long)]
    engines: Option<String>,
    /// Candidates to try at most per case; the result is the same on any machine.
    #[arg(long, default_value_t = ShrinkBudget::default().evaluations)]
    evaluations: usize,
}

pub fn shrink(args: ShrinkArgs) -> anyhow::Result<ExitCode> {
    for case in load_cases(&args.case, Version::Original)? {
        let specs = replay::lineup(&case, args.engines.as_deref())?;
        let target = Target::of(&case.report.plan);
        let mut differential = Differential::for_target(&specs, Limits::default(), target)?;
        let budget = ShrinkBudget {
            evaluations: args.evaluations,
            ..ShrinkBudget::default()
        };
        let start = std::time::Instant::now();
        let (dir, report) = shrink_stored(&mut differential, &case, budget)
            .with_context(|| format!("{}", case.dir.display()))?;
        let record = report
            .shrink
            .as_ref()
            .expect("a shrunk case records its shrink");
        println!("{}", dir.display());
        println!(
            "  module {} -> {} bytes, diverging function {} -> {} instructions, plan {} -> {} parts",
            record.from.module_bytes,
            record.to.module_bytes,
            record.from.instructions,
            record.to.instructions,
            record.from.plan,
            record.to.plan
        );
        println!(
            "  {} candidates in {:.1} s, ended by {}",
            record.evaluations,
            start.elapsed().as_secs_f64(),
            record.ended_by
        );
        println!("  {}", report.summary);
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct ReplayArgs {
    /// A case, or a directory of cases (findings replay their shrunk version when they have one).
    cases: PathBuf,
    /// Engine configurations (default: those each case was recorded with).
    #[arg(long)]
    engines: Option<String>,
}

/// Exit status: 1 if any case still diverges or misses its stored expectation.
pub fn replay(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let cases = load_cases(&args.cases, Version::Shrunk)?;
    let mut replayer = Replayer::default();
    let (mut diverging, mut unmet, mut skipped) = (0, 0, 0);
    for case in &cases {
        let missing = replay::missing_engines(case);
        if args.engines.is_none() && !missing.is_empty() {
            let missing: Vec<String> = missing
                .iter()
                .map(|(engine, why)| format!("{engine} ({why})"))
                .collect();
            println!(
                "== {}: skipped, its engines are not here: {}\n",
                case.name(),
                missing.join(", ")
            );
            skipped += 1;
            continue;
        }
        let specs = replay::lineup(case, args.engines.as_deref())?;
        let replayed = replayer.replay(case, &specs)?;
        println!("== {}", case.name());
        let checked = &replayed.checked;
        show::side_by_side(
            &checked.case,
            &replayed.names,
            &checked.executions,
            &checked.verdict,
        );
        println!(
            "{}",
            describe(
                &checked.verdict,
                &replayed.names,
                &checked.case.plan,
                &checked.executions
            )
        );
        if !checked.known_bugs.is_empty() {
            let bugs: Vec<&str> = checked.known_bugs.iter().map(|b| b.id).collect();
            println!("explained by known bug {}", bugs.join(" + "));
        }
        if let Verdict::Diverge(_) = checked.verdict {
            diverging += 1;
        }
        if let Some(expectation) = &case.report.expectation {
            match check_expectation(expectation, &replayed) {
                Ok(()) => println!("expectation met"),
                Err(why) => {
                    unmet += 1;
                    println!("EXPECTATION NOT MET: {why}");
                }
            }
        }
        println!();
    }
    println!(
        "{} cases: {diverging} diverge, {unmet} miss their expectation, {skipped} skipped",
        cases.len()
    );
    Ok(if diverging + unmet > 0 {
        ExitCode::from(crate::DIVERGED)
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Args)]
pub struct ExplainArgs {
    /// A case (a finding explains its shrunk version when it has one).
    case: PathBuf,
}

pub fn explain(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let [case] = &load_cases(&args.case, Version::Shrunk)?[..] else {
        bail!("{} holds several cases: name one", args.case.display());
    };
    let specs = replay::lineup(case, None)?;
    let replayed = Replayer::default().replay(case, &specs)?;
    let checked = &replayed.checked;
    let summary = describe(
        &checked.verdict,
        &replayed.names,
        &checked.case.plan,
        &checked.executions,
    );
    println!("case {}: {summary}", case.name());
    let engines: Vec<String> = specs
        .iter()
        .map(|s| format!("{} ({} {})", s.name, s.engine, (s.version)()))
        .collect();
    println!("engines: {}", engines.join(", "));
    if let Some(signature) = &replayed.signature {
        println!("signature: {signature}");
    }
    if let Some(record) = &case.report.shrink {
        println!(
            "shrunk from {} to {} bytes, {} to {} instructions in the diverging function",
            record.from.module_bytes,
            record.to.module_bytes,
            record.from.instructions,
            record.to.instructions
        );
    }
    let exports = checked.verdict.divergence().and_then(|d| {
        diverging_exports(
            &d.step,
            &checked.case.plan,
            &checked.executions[d.classes[0][0]],
        )
    });
    // With no divergence (or one of the whole module), nothing is marked.
    let marked = exports.unwrap_or_default();
    println!(
        "\n{}",
        show::marked_wat(&checked.case.module, Some(&marked), "diverges here")
    );
    show::side_by_side(
        &checked.case,
        &replayed.names,
        &checked.executions,
        &checked.verdict,
    );
    Ok(match checked.verdict {
        Verdict::Diverge(_) => ExitCode::from(crate::DIVERGED),
        _ => ExitCode::SUCCESS,
    })
}

#[derive(Args)]
pub struct TriageArgs {
    /// A directory of findings.
    dir: PathBuf,
}

pub fn triage(args: TriageArgs) -> anyhow::Result<ExitCode> {
    let cases = load_cases(&args.dir, Version::Shrunk)?;
    let total = cases.len();
    let buckets = replay::triage(cases);
    println!("{} buckets from {total} cases\n", buckets.len());
    for bucket in &buckets {
        let smallest = &bucket.cases[0];
        let signature = match (&bucket.signature, bucket.coarse) {
            (Some(signature), false) => signature.to_string(),
            (Some(signature), true) => format!("{signature} (not shrunk)"),
            (None, _) => "no divergence".to_string(),
        };
        println!("{:>5} x {signature}", bucket.cases.len());
        let instructions = smallest
            .report
            .shrink
            .as_ref()
            .map(|s| format!(", {} instructions", s.to.instructions));
        println!(
            "        smallest: {} ({} bytes{})",
            smallest.dir.display(),
            smallest.module.len(),
            instructions.unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct PromoteArgs {
    /// A case (a finding promotes its shrunk version when it has one).
    case: PathBuf,
    /// The regression's name: lowercase letters, digits and dashes.
    #[arg(long)]
    name: String,
    /// The corpus directory; the case goes to `<corpus>/regressions/<name>/`.
    #[arg(long, default_value = "corpus")]
    corpus: PathBuf,
    /// Replace an existing regression of that name (after an engine upgrade, say).
    #[arg(long)]
    force: bool,
}

pub fn promote(args: PromoteArgs) -> anyhow::Result<ExitCode> {
    let valid = !args.name.is_empty()
        && args
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        bail!(
            "--name `{}`: use lowercase letters, digits and dashes",
            args.name
        );
    }
    let [case] = &load_cases(&args.case, Version::Shrunk)?[..] else {
        bail!("{} holds several cases: promote one", args.case.display());
    };
    let regressions = args.corpus.join("regressions");
    if regressions.join(&args.name).exists() && !args.force {
        bail!(
            "{} exists (use --force to replace it)",
            regressions.join(&args.name).display()
        );
    }
    std::fs::create_dir_all(&regressions)
        .with_context(|| format!("cannot create {}", regressions.display()))?;
    let specs = replay::lineup(case, None)?;
    let replayed = Replayer::default().replay(case, &specs)?;
    let checked = &replayed.checked;
    let mut report = wasmdiff_cases::Report::new(
        &checked.case,
        &specs,
        &checked.executions,
        &checked.verdict,
        case.report.origin.clone(),
    )
    .with_known_bugs(&checked.known_bugs);
    report.shrink = case.report.shrink.clone();
    report.expectation = Some(expectation_now(&replayed, &specs));
    let dir = write_case(
        &regressions,
        &args.name,
        case.input.as_deref(),
        &checked.case.module,
        &report,
        Existing::Replace,
    )?;
    println!("{}: {}", dir.display(), report.summary);
    match report.expectation {
        Some(wasmdiff_cases::Expectation::Diverge { .. }) => {
            println!(
                "expectation: this divergence, while the engines stay at their current versions"
            )
        }
        _ => println!("expectation: every engine agrees"),
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct ImportArgs {
    /// A fuzz input, such as a `cargo fuzz` artifact (`fuzz/artifacts/differential/crash-*`),
    /// or a directory of them (each file becomes a case).
    artifact: PathBuf,
    /// What the inputs were made for (default: from the artifact directory's name, as cargo
    /// fuzz names it after its target: differential, proxy_wasm, validation).
    #[arg(long, value_enum)]
    target: Option<TargetArg>,
    /// Engine configurations (default: `WASMDIFF_ENGINES` as the fuzz target reads it, else the
    /// default lineup).
    #[arg(long)]
    engines: Option<String>,
    /// Where the cases go, as `imported-<digest>/`.
    #[arg(long, default_value = "findings")]
    out: PathBuf,
}

/// The target of a cargo-fuzz artifact: the name of the directory cargo fuzz keeps it in.
fn artifact_target(artifact: &Path) -> anyhow::Result<Target> {
    let dir = match artifact.is_dir() {
        true => artifact,
        false => artifact.parent().unwrap_or(Path::new("")),
    };
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    name.as_deref()
        .and_then(Target::of_fuzz_target)
        .with_context(|| {
            let targets: Vec<&str> = Target::ALL.iter().map(|t| t.fuzz_target()).collect();
            format!(
                "cannot tell what {} was made for (its directory is not one of {}): give --target",
                artifact.display(),
                targets.join(", ")
            )
        })
}

pub fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    std::fs::metadata(&args.artifact)
        .with_context(|| format!("cannot read {}", args.artifact.display()))?;
    let target = match args.target {
        Some(target) => Target::from(target),
        None => artifact_target(&args.artifact)?,
    };
    let files = match args.artifact.is_dir() {
        true => {
            let entries = std::fs::read_dir(&args.artifact)
                .with_context(|| format!("cannot read {}", args.artifact.display()))?;
            let mut files: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            files
        }
        false => vec![args.artifact.clone()],
    };
    if files.is_empty() {
        bail!("no artifacts in {}", args.artifact.display());
    }
    let engines = args
        .engines
        .or_else(|| std::env::var("WASMDIFF_ENGINES").ok());
    let specs = match engines {
        Some(list) => target.parse_engines(&list)?,
        None => target.default_engines(),
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut differential = Differential::for_target(&specs, Limits::default(), target)?;
    let mut diverging = 0;
    for file in &files {
        let input =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let (dir, report) =
            wasmdiff_harness::artifact::import(&mut differential, &input, file, &args.out)?;
        println!("{}: {}", dir.display(), report.summary);
        diverging += usize::from(report.verdict.divergence().is_some());
    }
    if files.len() > 1 {
        println!("{} artifacts: {diverging} diverge", files.len());
    }
    Ok(match diverging {
        0 => ExitCode::SUCCESS,
        _ => ExitCode::from(crate::DIVERGED),
    })
}
