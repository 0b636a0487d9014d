//! Choosing engines: the default lineup, lists named on the command line, and the defaults
//! this build or machine lacks.

use wasmdiff_gen::Plan;

use crate::{EngineSpec, all, left_out, selftest};

/// The available configurations used when none are named, for plans like `plan`.
pub fn defaults_for(plan: &Plan) -> Vec<&'static EngineSpec> {
    all()
        .into_iter()
        .filter(|s| s.default && s.abilities.refuses(plan).is_none() && (s.available)().is_ok())
        .collect()
}

/// The available configurations used for modules when none are named.
pub fn defaults() -> Vec<&'static EngineSpec> {
    defaults_for(&Plan::Calls(Vec::new()))
}

/// Default engines for plans like `plan` that this build or machine lacks, each with why:
/// engines not built (by project) and configurations unavailable here.
pub fn missing_defaults(plan: &Plan) -> Vec<(String, String)> {
    let mut missing: Vec<(String, String)> = left_out()
        .into_iter()
        .map(|(engine, why)| (engine.to_string(), why.to_string()))
        .collect();
    for spec in all() {
        if spec.default
            && spec.abilities.refuses(plan).is_none()
            && let Err(why) = (spec.available)()
        {
            missing.push((spec.name.to_string(), why));
        }
    }
    missing
}

/// [`missing_defaults`] in one line (`engine (why); …`), or `None` when none is missing.
pub fn missing_defaults_in_words(plan: &Plan) -> Option<String> {
    let missing: Vec<String> = missing_defaults(plan)
        .into_iter()
        .map(|(engine, why)| format!("{engine} ({why})"))
        .collect();
    (!missing.is_empty()).then(|| missing.join("; "))
}

/// The default configurations for plans like `plan`, for tests that claim to run on every
/// engine. Default engines that are not built, or not available on this machine, are named
/// on stderr; with `CI=true` (CI installs them all) they are an error instead, so that such
/// a test cannot pass on fewer engines than it says.
pub fn every_default_engine(plan: &Plan) -> Vec<&'static EngineSpec> {
    if let Some(missing) = missing_defaults_in_words(plan) {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true, but default engines are missing: {missing}");
        }
        eprintln!("note: left out of this test: {missing}");
    }
    defaults_for(plan)
}

/// Parses a comma-separated list of configuration names (`default` and `all` also work:
/// the available default engines, and every available engine, for plans like `plan`).
pub fn parse_list_for(list: &str, plan: &Plan) -> anyhow::Result<Vec<&'static EngineSpec>> {
    let mut specs = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match name {
            "default" => specs.extend(defaults_for(plan)),
            "all" => specs.extend(all().into_iter().filter(|s| {
                !selftest::SPECS.iter().any(|t| t.name == s.name)
                    && s.abilities.refuses(plan).is_none()
                    && (s.available)().is_ok()
            })),
            _ => {
                let spec = all().into_iter().find(|s| s.name == name).ok_or_else(|| {
                    let known: Vec<&str> = all().iter().map(|s| s.name).collect();
                    let left_out = left_out()
                        .iter()
                        .find(|(engine, _)| name.starts_with(engine))
                        .map(|(_, why)| format!("; {name} is {why}"))
                        .unwrap_or_default();
                    anyhow::anyhow!(
                        "unknown engine `{name}` (known: {}){left_out}",
                        known.join(", ")
                    )
                })?;
                if let Err(why) = (spec.available)() {
                    anyhow::bail!("engine `{name}` is unavailable here: {why}");
                }
                if let Some(why) = spec.abilities.refuses(plan) {
                    anyhow::bail!("engine `{name}` cannot take part: {why}");
                }
                specs.push(spec);
            }
        }
    }
    anyhow::ensure!(!specs.is_empty(), "no engines named in `{list}`");
    let mut seen = std::collections::HashSet::new();
    specs.retain(|s| seen.insert(s.name));
    Ok(specs)
}

/// [`parse_list_for`] modules.
pub fn parse_list(list: &str) -> anyhow::Result<Vec<&'static EngineSpec>> {
    parse_list_for(list, &Plan::Calls(Vec::new()))
}
