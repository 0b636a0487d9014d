//! The `--target` option: what a campaign tests, or what a fuzz artifact was made for.

use clap::ValueEnum;
use wasmdiff_harness::Target;

#[derive(Clone, Copy, ValueEnum)]
pub enum TargetArg {
    /// Random modules, and modules around single instructions, run through calls.
    Modules,
    /// proxy-wasm filters (random, and built with the SDKs) driven through scenarios.
    ProxyWasm,
    /// The same under every host profile (Envoy, nginx): engines compared under each host,
    /// then where the filter's observable behaviour differs between hosts.
    ProxyHosts,
    /// Modules that are sometimes invalid (mutated, bytes flipped): who accepts them.
    Validation,
    /// The corner sweep alone, once: every instruction against its operands' corner values.
    Sweep,
    /// Seed modules (`--seeds`: the spec suite's scripts, regression cases) changed by
    /// wasm-mutate and called with edge values.
    Mutate,
}

impl From<TargetArg> for Target {
    fn from(arg: TargetArg) -> Target {
        match arg {
            TargetArg::Modules | TargetArg::Sweep => Target::Modules,
            TargetArg::ProxyWasm => Target::ProxyWasm,
            TargetArg::ProxyHosts => Target::ProxyHosts,
            TargetArg::Validation => Target::Validation,
            TargetArg::Mutate => Target::Mutate,
        }
    }
}
