//! `wasmdiff engines`.

use std::process::ExitCode;

pub fn main() -> anyhow::Result<ExitCode> {
    for spec in wasmdiff_engines::all() {
        let default = if spec.default {
            ""
        } else {
            " (not in the default lineup)"
        };
        println!(
            "{:<26} {} {}{default}",
            spec.name, spec.engine, spec.version
        );
        println!("{:<26} {}", "", spec.description);
        println!(
            "{:<26} features: {}",
            "",
            spec.features.enabled().join(", ")
        );
    }
    let defaults = wasmdiff_engines::defaults();
    let common = wasmdiff_gen::Features::common(defaults.iter().map(|s| &s.features));
    println!(
        "\ndefault lineup generates with: {}",
        common.enabled().join(", ")
    );
    Ok(ExitCode::SUCCESS)
}
