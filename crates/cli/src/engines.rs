//! `wasmdiff engines`.

use std::process::ExitCode;

use wasmdiff_engines::{Isolation, ProxyHosting};

pub fn main() -> anyhow::Result<ExitCode> {
    for spec in wasmdiff_engines::all() {
        let status = match (spec.available)() {
            Err(why) => format!("UNAVAILABLE: {why}"),
            Ok(()) if spec.default => "in the default lineup".to_string(),
            Ok(()) => "available, not in the default lineup".to_string(),
        };
        println!("{:<26} {} {}", spec.name, spec.engine, (spec.version)());
        println!("{:<26} {}", "", spec.description);
        println!("{:<26} {status}", "");
        let mut can = Vec::new();
        for (able, what) in [
            (spec.abilities.modules, "modules"),
            (spec.abilities.proxy == ProxyHosting::Hosts, "proxy-wasm"),
            (spec.abilities.validation, "validation"),
        ] {
            if able {
                can.push(what);
            }
        }
        let place = match spec.abilities.runs {
            Isolation::Optional => "in process (a worker with --isolate)",
            Isolation::Required => "always in a worker process",
            Isolation::External => "its own program, in its own process",
        };
        println!("{:<26} runs: {}; {place}", "", can.join(", "));
        let fuel = match spec.abilities.fuel {
            true => "fuel",
            false => "no fuel (the deadline stops it)",
        };
        let growth = match spec.abilities.growth_caps {
            true => "growth capped by the harness",
            false => "growth bounded by declared maxima",
        };
        println!("{:<26} limits: {fuel}; {growth}", "");
        if let ProxyHosting::Unable(why) = spec.abilities.proxy {
            println!("{:<26} sits proxy-wasm out: {why}", "");
        }
        let features = spec.features.enabled();
        let features = match features.is_empty() {
            true => "the MVP only".to_string(),
            false => format!("MVP + {}", features.join(", ")),
        };
        println!("{:<26} features: {features}", "");
    }
    for (engine, why) in wasmdiff_engines::left_out() {
        println!("{engine:<26} NOT BUILT: {why}");
    }
    let defaults = wasmdiff_engines::defaults();
    let common = wasmdiff_gen::Features::common(defaults.iter().map(|s| &s.features));
    println!(
        "\n{} engines in the default lineup for modules; they all support: {}",
        defaults.len(),
        match common.enabled() {
            all if all.is_empty() => "the MVP only".to_string(),
            all => format!("MVP + {}", all.join(", ")),
        }
    );
    println!(
        "each test case picks what every engine supports or what two engines share; engines \
         lacking a feature the module uses sit it out"
    );
    Ok(ExitCode::SUCCESS)
}
