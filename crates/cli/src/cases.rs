//! Commands on stored cases: shrink, replay, explain, triage, promote, import, seed corpora.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use wasmdiff_cases::signature::diverging_exports;
use wasmdiff_cases::{Case, Existing, Version, describe, find_cases, write_case};
use wasmdiff_engines::Limits;
use wasmdiff_harness::replay::{self, Replayer, check_expectation, expectation_now};
use wasmdiff_harness::shrink::{ShrinkBudget, shrink_stored};
use wasmdiff_harness::{Differential, Target, fuzzing};
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
    print_buckets(load_cases(&args.dir, Version::Shrunk)?);
    Ok(ExitCode::SUCCESS)
}

/// Prints `cases` grouped into buckets of one signature, with the smallest of each.
fn print_buckets(cases: Vec<Case>) {
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
    /// a directory of them (each file becomes a case), or a directory of such directories, one
    /// per fuzz target (`fuzz/artifacts`).
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
    /// Keep the cases as they are: no shrinking of those that diverge.
    #[arg(long)]
    no_shrink: bool,
    /// Shrink candidates to try at most per case.
    #[arg(long, default_value_t = ShrinkBudget::default().evaluations)]
    evaluations: usize,
}

/// The target of a cargo-fuzz artifact directory: its name, as cargo fuzz names it.
fn artifact_target(dir: &Path) -> Option<Target> {
    Target::of_fuzz_target(&dir.file_name()?.to_string_lossy())
}

/// The files directly in `dir`, in name order.
fn files_in(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// The artifacts at `path`, grouped by the target they were made for.
fn artifacts(path: &Path, target: Option<Target>) -> anyhow::Result<Vec<(Target, Vec<PathBuf>)>> {
    std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    let unknown = |what: &Path| {
        let targets: Vec<&str> = Target::ALL.iter().map(|t| t.fuzz_target()).collect();
        anyhow::anyhow!(
            "cannot tell what {} was made for (its directory is not one of {}): give --target",
            what.display(),
            targets.join(", ")
        )
    };
    if !path.is_dir() {
        let dir = path.parent().unwrap_or(Path::new(""));
        let target = target
            .or_else(|| artifact_target(dir))
            .ok_or_else(|| unknown(path))?;
        return Ok(vec![(target, vec![path.to_path_buf()])]);
    }
    if let Some(target) = target.or_else(|| artifact_target(path)) {
        return Ok(vec![(target, files_in(path)?)]);
    }
    // A directory of artifact directories, one per target.
    let mut groups = Vec::new();
    for target in Target::ALL {
        let dir = path.join(target.fuzz_target());
        if dir.is_dir() {
            groups.push((target, files_in(&dir)?));
        }
    }
    match groups.is_empty() {
        true => Err(unknown(path)),
        false => Ok(groups),
    }
}

pub fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let groups = artifacts(&args.artifact, args.target.map(Target::from))?;
    let total: usize = groups.iter().map(|(_, files)| files.len()).sum();
    if total == 0 {
        bail!("no artifacts in {}", args.artifact.display());
    }
    let engines = args
        .engines
        .or_else(|| std::env::var("WASMDIFF_ENGINES").ok());
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut imported = Vec::new();
    let mut diverging = 0;
    for (target, files) in groups {
        let specs = match &engines {
            Some(list) => target.parse_engines(list)?,
            None => target.default_engines(),
        };
        let mut differential = Differential::for_target(&specs, Limits::default(), target)?;
        let generator = fuzzing::generator_from_env(target)?;
        for file in &files {
            let input =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            let input = wasmdiff_harness::inputs::for_generator(&input, generator);
            let (dir, report) =
                wasmdiff_harness::artifact::import(&mut differential, &input, file, &args.out)?;
            println!("{}: {}", dir.display(), report.summary);
            if report.verdict.divergence().is_some() {
                diverging += 1;
                if !args.no_shrink {
                    let budget = ShrinkBudget {
                        evaluations: args.evaluations,
                        ..ShrinkBudget::default()
                    };
                    let (shrunk, report) =
                        shrink_stored(&mut differential, &Case::load(&dir)?, budget)
                            .with_context(|| format!("{}", dir.display()))?;
                    println!("  shrunk: {}: {}", shrunk.display(), report.summary);
                }
            }
            imported.push(dir);
        }
    }
    if args.artifact.is_dir() {
        println!("{total} artifacts: {diverging} diverge\n");
        let cases = imported
            .iter()
            .map(|dir| load_cases(dir, Version::Shrunk))
            .collect::<anyhow::Result<Vec<_>>>()?;
        print_buckets(cases.into_iter().flatten().collect());
    }
    Ok(match diverging {
        0 => ExitCode::SUCCESS,
        _ => ExitCode::from(crate::DIVERGED),
    })
}

#[derive(Args)]
pub struct SeedCorpusArgs {
    /// Cases, or directories of them (`corpus/regressions`, a campaign's findings: a finding
    /// gives its shrunk version when it has one).
    #[arg(required = true)]
    cases: Vec<PathBuf>,
    /// Where the corpora go, one directory per fuzz target.
    #[arg(long, default_value = "corpus")]
    out: PathBuf,
}

pub fn seed_corpus(args: SeedCorpusArgs) -> anyhow::Result<ExitCode> {
    let mut sorter = wasmdiff_harness::fuzz_corpus::SeedSorter::default();
    let mut seeds = Vec::new();
    let mut cases = 0;
    let mut barren = 0;
    for path in &args.cases {
        for case in load_cases(path, Version::Shrunk)? {
            let given = sorter.seeds(&case)?;
            barren += usize::from(given.is_empty());
            seeds.extend(given);
            cases += 1;
        }
    }
    let counts = wasmdiff_harness::fuzz_corpus::write_seeds(&args.out, &seeds)?;
    for (target, count) in &counts {
        println!("{}: {count} seeds", args.out.join(target).display());
    }
    println!(
        "{cases} cases gave {} seeds; {barren} gave none (no generated input, or a divergence \
         no known bug explains, at which a fuzz target would stop at once)",
        seeds.len()
    );
    Ok(ExitCode::SUCCESS)
}
