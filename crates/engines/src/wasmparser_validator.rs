//! wasmparser, the wasm-tools validator: a voice in validation campaigns beside the engines
//! (which validate with their own code, or with other wasmparser versions).

use wasmdiff_gen::Features;

use crate::outcome::Execution;
use crate::{Abilities, Engine, EngineSpec, Isolation, ProxyHosting, always_available};
use wasmdiff_gen::Plan;

pub const SPEC: EngineSpec = EngineSpec {
    name: "wasmparser",
    engine: "wasmparser",
    // Must match the pinned version in the workspace `Cargo.toml` (a test checks `Cargo.lock`).
    version: || "0.263.0".to_string(),
    description: "the wasm-tools validator, with every proposal (validation only)",
    features: Features::ALL,
    abilities: Abilities {
        modules: false,
        proxy: ProxyHosting::Unable("it only validates"),
        validation: true,
        fuel: false,
        growth_caps: false,
        runs: Isolation::Optional,
    },
    default: true,
    known_bugs: &[],
    available: always_available,
    build: |_| Ok(Box::new(Wasmparser)),
};

struct Wasmparser;

impl Engine for Wasmparser {
    fn run(&mut self, module: &[u8], plan: &Plan) -> Execution {
        match plan {
            Plan::Validate => match Features::ALL.validate(module) {
                Ok(()) => Execution::Accepted,
                Err(message) => Execution::Rejected { message },
            },
            Plan::ProxyHosts(_) => Execution::not_split(),
            Plan::Calls(_) | Plan::Proxy(_) => Execution::Skipped {
                reason: "wasmparser only validates".to_string(),
            },
        }
    }
}
