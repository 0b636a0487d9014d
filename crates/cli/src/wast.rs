//! `wasmdiff wast FILE|DIR`: the spec test suite's scripts on every engine, as a matrix of
//! engines × files (passed/failed/skipped), each engine's first failure per file, and totals.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use wasmdiff_harness::Target;
use wasmdiff_harness::wast::baseline::Baseline;
use wasmdiff_harness::wast::{Matrix, Runner, find_scripts, script};

use crate::engine_args::EngineArgs;

#[derive(Args)]
pub struct WastArgs {
    /// A `.wast` script, or a directory of them (searched below).
    path: PathBuf,
    #[command(flatten)]
    engines: EngineArgs,
    /// Print the matrix as JSON instead.
    #[arg(long)]
    json: bool,
    /// Check the run against this baseline of expected failures: exit 1 on any change.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Write what failed now into this baseline (the engines and files run; others kept).
    #[arg(long)]
    write_baseline: Option<PathBuf>,
}

/// Exit status: 0 when every engine passed what it ran (or matched the baseline given), 1
/// otherwise, 2 on a bad input.
pub fn main(args: WastArgs) -> anyhow::Result<ExitCode> {
    let specs = args.engines.specs(Target::Modules)?;
    let files = find_scripts(&args.path)?;
    anyhow::ensure!(
        !files.is_empty(),
        "no .wast scripts in {}",
        args.path.display()
    );
    // One file is one input: a bad one is an error. Of many, a bad one is reported and left.
    let single = files.len() == 1 && args.path.is_file();
    let root = if args.path.is_dir() {
        args.path.clone()
    } else {
        args.path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    };
    let baseline = args.baseline.as_deref().map(Baseline::load).transpose()?;
    // Spec scripts end by themselves; fuel is only a guard against a runaway engine.
    let mut runner = Runner::new(&specs, args.engines.limits()?.for_terminating_code())?;
    let mut matrix = Matrix::new(&specs);
    let mut unreadable = Vec::new();
    let start = Instant::now();
    for file in &files {
        let script = match script::read(file) {
            Ok(script) => script,
            Err(e) if single => return Err(e),
            Err(e) => {
                unreadable.push(format!("{e:#}"));
                continue;
            }
        };
        matrix.add(&runner.run(&script), &root);
    }
    let elapsed = start.elapsed();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&matrix)?);
    } else {
        print_matrix(&matrix, &runner, elapsed.as_secs_f64());
    }
    for e in &unreadable {
        eprintln!("not read: {e}");
    }
    if let Some(path) = &args.write_baseline {
        let existing = match path.exists() {
            true => Baseline::load(path)?,
            false => Baseline::default(),
        };
        existing.updated(&matrix).save(path)?;
        eprintln!("baseline written: {}", path.display());
    }
    let failed = matrix.totals().iter().any(|t| t.failed > 0);
    Ok(match &baseline {
        Some(baseline) => {
            let differences = baseline.differences(&matrix);
            for difference in &differences {
                println!("BASELINE: {difference}");
            }
            match differences.is_empty() {
                true => {
                    println!("matches the baseline");
                    ExitCode::SUCCESS
                }
                false => ExitCode::from(crate::DIVERGED),
            }
        }
        None if failed => ExitCode::from(crate::DIVERGED),
        None => ExitCode::SUCCESS,
    })
}

fn print_matrix(matrix: &Matrix, runner: &Runner, seconds: f64) {
    let width = matrix
        .files
        .iter()
        .map(|(f, _)| f.len())
        .max()
        .unwrap_or(4)
        .max(6);
    println!("passed/failed/skipped per engine; engines:");
    for (i, (name, version)) in matrix.engines.iter().zip(&matrix.versions).enumerate() {
        println!("  E{i:<2} {name} ({version})");
    }
    let header: String = (0..matrix.engines.len())
        .map(|i| format!(" {:>13}", format!("E{i}")))
        .collect();
    println!("\n{:<width$}{header}", "file");
    for (file, cells) in &matrix.files {
        let row: String = cells
            .iter()
            .map(|c| {
                format!(
                    " {:>13}",
                    format!("{}/{}/{}", c.passed, c.failed, c.skipped)
                )
            })
            .collect();
        println!("{file:<width$}{row}");
    }
    let totals = matrix.totals();
    let row: String = totals
        .iter()
        .map(|c| {
            format!(
                " {:>13}",
                format!("{}/{}/{}", c.passed, c.failed, c.skipped)
            )
        })
        .collect();
    println!("{:<width$}{row}", "total");
    println!("\nper engine:");
    let busy = runner.busy();
    for (i, name) in matrix.engines.iter().enumerate() {
        let t = &totals[i];
        let ran = t.passed + t.failed;
        println!(
            "  {name:<26} {:>6.2} % of {ran} passed, {} skipped, {} odd one out; {:.1} s, {:.0} commands/s",
            100.0 * t.passed as f64 / ran.max(1) as f64,
            t.skipped,
            t.disagreements,
            busy[i].as_secs_f64(),
            ran as f64 / busy[i].as_secs_f64().max(1e-9)
        );
    }
    let commands: usize = totals.iter().map(|t| t.passed + t.failed).sum();
    println!(
        "  all together: {commands} commands judged in {seconds:.1} s ({:.0}/s)",
        commands as f64 / seconds.max(1e-9)
    );
    let mut shown = false;
    for (i, name) in matrix.engines.iter().enumerate() {
        for (file, cells) in &matrix.files {
            if let Some(f) = &cells[i].first_failure {
                if !shown {
                    println!("\nfirst failure per engine and file:");
                    shown = true;
                }
                println!(
                    "  {name} {file}:{} ({} failures) {}: expected {}, got {}",
                    f.line, cells[i].failed, f.command, f.expected, f.got
                );
            }
        }
    }
}
