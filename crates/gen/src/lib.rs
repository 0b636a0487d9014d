//! Generation: input bytes → a [`TestCase`] (module bytes + invocation plan).
//!
//! The same bytes and the same [`Features`] always give the same test case.

pub mod features;
pub mod mutate;
pub mod plan;
pub mod proxy;
pub mod rewrite;
pub mod rng;
pub mod single;
pub mod swarm;
pub mod sweep;
pub mod value;

use arbitrary::Unstructured;
use serde::{Deserialize, Serialize};

pub use features::{FeatureMenu, Features};
pub use plan::{ExportedFunc, Invocation, ModuleError};
pub use value::{RefHeap, ValType, Value};

/// Which generator made a module.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Generator {
    /// A whole module from wasm-smith with a swarm configuration.
    WasmSmith,
    /// A short chain of instructions around edge-value operands.
    Instructions,
    /// A module given by the user.
    File,
    /// A wasm-smith module shaped as a proxy-wasm filter, with a scenario.
    RandomFilter,
    /// A filter built with the proxy-wasm Rust SDK, with a scenario.
    SdkFilter,
    /// A wasm-smith module changed by wasm-mutate (perhaps no longer valid), to validate.
    WasmMutate,
    /// A wasm-smith module with a few bytes changed (most likely invalid), to validate.
    ByteFlips,
    /// Part of the corner sweep: a chunk of tuples, or one tuple of it.
    Sweep,
    /// A seed module (the spec test suite's, a regression case's) changed by wasm-mutate.
    MutatedSeed,
}

impl Generator {
    /// Whether this generator's cases come from input bytes alone, so that a smaller input
    /// makes a smaller case of it (files, sweep chunks and mutated seeds do not shrink so).
    pub fn shrinks_by_input(&self) -> bool {
        !matches!(
            self,
            Generator::File | Generator::Sweep | Generator::MutatedSeed
        )
    }

    pub fn name(&self) -> &'static str {
        match self {
            Generator::WasmSmith => "wasm-smith",
            Generator::Instructions => "instructions",
            Generator::File => "file",
            Generator::RandomFilter => "random-filter",
            Generator::SdkFilter => "sdk-filter",
            Generator::WasmMutate => "wasm-mutate",
            Generator::ByteFlips => "byte-flips",
            Generator::Sweep => "sweep",
            Generator::MutatedSeed => "mutated-seed",
        }
    }
}

/// What to do with a module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Plan {
    /// Exported functions to call, in order.
    Calls(Vec<Invocation>),
    /// A proxy-wasm filter's life, as a proxy drives it through this scenario.
    Proxy(proxy::Scenario),
    /// The same under every host profile (the scenario's own host aside), to compare the
    /// filter's observable behaviour between proxies.
    ProxyHosts(proxy::Scenario),
    /// Only say whether the module is valid (accepted, and compiled).
    Validate,
}

impl Plan {
    /// The calls of a call plan (none for the others).
    pub fn calls(&self) -> &[Invocation] {
        match self {
            Plan::Calls(calls) => calls,
            Plan::Proxy(_) | Plan::ProxyHosts(_) | Plan::Validate => &[],
        }
    }

    /// How many parts the plan has: calls, or scenario parts (streams, headers, chunks, …).
    pub fn size(&self) -> usize {
        match self {
            Plan::Calls(calls) => calls.len(),
            Plan::Proxy(scenario) | Plan::ProxyHosts(scenario) => scenario.size(),
            Plan::Validate => 0,
        }
    }

    /// Plans one part smaller, for shrinking: the `i`-th drops the `i`-th call (or a scenario
    /// part).
    pub fn simplifications(&self) -> Vec<Plan> {
        match self {
            Plan::Calls(calls) => (0..calls.len())
                .map(|i| {
                    let mut fewer = calls.clone();
                    fewer.remove(i);
                    Plan::Calls(fewer)
                })
                .collect(),
            Plan::Proxy(scenario) => scenario
                .simplifications()
                .into_iter()
                .map(Plan::Proxy)
                .collect(),
            Plan::ProxyHosts(scenario) => scenario
                .simplifications()
                .into_iter()
                .map(Plan::ProxyHosts)
                .collect(),
            Plan::Validate => Vec::new(),
        }
    }
}

/// A module and what to do with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestCase {
    #[serde(skip)]
    pub module: Vec<u8>,
    pub plan: Plan,
    pub generator: Generator,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("the input does not make a module: {0}")]
    Input(#[from] arbitrary::Error),
    /// A generator produced something it should not have: a bug in wasmdiff.
    #[error("generator bug: {0}")]
    Internal(String),
}

/// Turns input bytes into a test case whose module only uses features from `menu`.
///
/// Layout: byte 0 picks the features from the menu; byte 1 chooses the generator (its low bit:
/// whole wasm-smith modules, or small instruction expressions, which hit one instruction's
/// corners far more often per input) and how many trailing bytes drive the invocation plan;
/// the bytes between make the module. The plan gets its own bytes because the module
/// generators happily consume everything.
pub fn generate(data: &[u8], menu: &FeatureMenu) -> Result<TestCase, GenerateError> {
    if let Some(part) = data.strip_prefix(SWEEP_PREFIX) {
        return sweep_case(part);
    }
    let (features, data) = pick_features(data, menu);
    let (&header, rest) = data.split_first().unwrap_or((&0, &[]));
    let plan_len = (rest.len() / 2).min(usize::from(header >> 2) * 4);
    let (module_bytes, plan_bytes) = rest.split_at(rest.len() - plan_len);
    let mut u = Unstructured::new(module_bytes);
    let (module, generator) = if header & 1 == 0 {
        (single::module(&mut u, features)?, Generator::Instructions)
    } else {
        (swarm::module(&mut u, features)?, Generator::WasmSmith)
    };
    let funcs = plan::exported_functions(&module)
        .map_err(|e| GenerateError::Internal(format!("generated module: {e}")))?;
    let calls = plan::plan(&mut Unstructured::new(plan_bytes), &funcs)?;
    Ok(TestCase {
        module,
        plan: Plan::Calls(calls),
        generator,
    })
}

/// Changes `data` so that the generator of its layout ([`generate`], [`generate_proxy`],
/// [`generate_validation`]: byte 1's low bit in each) makes its module with `generator`,
/// keeping the rest. For tests and benchmarks that need one generator; they should still
/// check [`TestCase::generator`].
pub fn choose_generator(data: &mut Vec<u8>, generator: Generator) {
    const HEADER: usize = 1;
    if data.len() <= HEADER {
        data.resize(HEADER + 1, 0);
    }
    match generator {
        Generator::WasmSmith | Generator::RandomFilter | Generator::ByteFlips => data[HEADER] |= 1,
        Generator::Instructions | Generator::SdkFilter | Generator::WasmMutate => {
            data[HEADER] &= !1
        }
        Generator::File | Generator::Sweep | Generator::MutatedSeed => {
            panic!("{} modules come from no random generator", generator.name())
        }
    }
}

/// Inputs that name part of the corner sweep rather than make a random module start so: then
/// come the chunk's index and, for one tuple's case, the call's index in the chunk, each a
/// little-endian `u32`.
pub const SWEEP_PREFIX: &[u8] = b"wasmdiff:sweep:";

/// The input naming chunk `chunk` of the sweep, or only its call `call`.
pub fn sweep_input(chunk: usize, call: Option<usize>) -> Vec<u8> {
    let mut input = SWEEP_PREFIX.to_vec();
    input.extend((chunk as u32).to_le_bytes());
    if let Some(call) = call {
        input.extend((call as u32).to_le_bytes());
    }
    input
}

/// The chunk (and perhaps the one call) `part` names, as a test case.
fn sweep_case(part: &[u8]) -> Result<TestCase, GenerateError> {
    let word = |at: usize| {
        part.get(at..at + 4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize)
    };
    let index = word(0).ok_or(arbitrary::Error::NotEnoughData)? % sweep::chunk_count();
    let chunk = sweep::chunk(index)?;
    let (module, calls) = match word(4) {
        Some(call) => {
            let (module, call) = chunk.single(call % chunk.calls.len())?;
            (module, vec![call])
        }
        None => (chunk.module, chunk.calls),
    };
    Ok(TestCase {
        module,
        plan: Plan::Calls(calls),
        generator: Generator::Sweep,
    })
}

/// Byte 0's pick from the menu, and the bytes after it.
fn pick_features<'a>(data: &'a [u8], menu: &'a FeatureMenu) -> (&'a Features, &'a [u8]) {
    match data.split_first() {
        Some((&pick, rest)) => (menu.pick(pick), rest),
        None => (menu.common(), data),
    }
}

/// Turns input bytes into a proxy-wasm test case: a filter and a scenario to drive it through.
///
/// Layout: byte 0 picks the features from the menu; byte 1's low bit chooses the filter's kind
/// (one of `sdk_filters`, picked by byte 2, or a random wasm-smith filter made from the middle
/// bytes, importing no function of `leave_out`); its other bits say how many trailing bytes
/// make the scenario.
pub fn generate_proxy(
    data: &[u8],
    menu: &FeatureMenu,
    sdk_filters: &[&[u8]],
    leave_out: &[proxy::HostFn],
) -> Result<TestCase, GenerateError> {
    let (features, data) = pick_features(data, menu);
    let (&header, rest) = data.split_first().unwrap_or((&0, &[]));
    let (module, generator, scenario_bytes) = if header & 1 == 0 && !sdk_filters.is_empty() {
        let (&pick, rest) = rest.split_first().unwrap_or((&0, &[]));
        (
            sdk_filters[pick as usize % sdk_filters.len()].to_vec(),
            Generator::SdkFilter,
            rest,
        )
    } else {
        let scenario_len = (rest.len() / 2).min(usize::from(header >> 1) * 8);
        let (module_bytes, scenario_bytes) = rest.split_at(rest.len() - scenario_len);
        let module =
            proxy::random_filter(&mut Unstructured::new(module_bytes), features, leave_out)?;
        (module, Generator::RandomFilter, scenario_bytes)
    };
    let scenario = proxy::arbitrary_scenario(&mut Unstructured::new(scenario_bytes))?;
    Ok(TestCase {
        module,
        plan: Plan::Proxy(scenario),
        generator,
    })
}

/// Turns input bytes into a module to validate, valid or not.
///
/// Layout: byte 0 picks the features from the menu (the module starts valid with them);
/// byte 1's low bit chooses wasm-mutate or byte flips, its other bits how many trailing bytes
/// drive the changes; the bytes between make the module.
pub fn generate_validation(data: &[u8], menu: &FeatureMenu) -> Result<TestCase, GenerateError> {
    let (features, data) = pick_features(data, menu);
    let (&header, rest) = data.split_first().unwrap_or((&0, &[]));
    let how_len = (rest.len() / 2).min(usize::from(header >> 1) * 2);
    let (module_bytes, how) = rest.split_at(rest.len() - how_len);
    let (module, generator) = mutate::sometimes_invalid(
        &mut Unstructured::new(module_bytes),
        features,
        how,
        header & 1 == 1,
    )?;
    Ok(TestCase {
        module,
        plan: Plan::Validate,
        generator,
    })
}

/// A test case for a module given by the user: each callable export once with zero arguments.
pub fn from_module(module: Vec<u8>) -> Result<TestCase, ModuleError> {
    let funcs = plan::exported_functions(&module)?;
    Ok(TestCase {
        plan: Plan::Calls(plan::zero_plan(&funcs)),
        module,
        generator: Generator::File,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn same_bytes_same_case() {
        for seed in 0..50 {
            let data = input(seed, 1500);
            let menu = FeatureMenu::new(&[Features::ALL]);
            let a = generate(&data, &menu).unwrap();
            let b = generate(&data, &menu).unwrap();
            assert_eq!(a, b);
            assert_eq!(a.module, b.module);
        }
    }

    #[test]
    fn generated_modules_validate_and_respect_features() {
        let mut features = Features::ALL;
        features.simd = false;
        features.reference_types = false;
        features.gc = false;
        features.exceptions = false;
        features.threads = false;
        features.tail_call = false;
        features.memory64 = false;
        features.multi_memory = false;
        features.custom_page_sizes = false;
        features.wide_arithmetic = false;
        let mut wasm_features = wasmparser::WasmFeatures::WASM2;
        wasm_features.remove(wasmparser::WasmFeatures::SIMD);
        wasm_features.remove(wasmparser::WasmFeatures::REFERENCE_TYPES);
        wasm_features.insert(wasmparser::WasmFeatures::EXTENDED_CONST);
        let mut seen = std::collections::HashSet::new();
        let menu = FeatureMenu::new(&[features, Features::ALL]);
        for seed in 0..300 {
            let data = input(seed, 64 + (seed as usize * 37) % 3000);
            let case = generate(&data, &menu).unwrap();
            seen.insert(case.generator);
            wasmparser::Validator::new_with_features(wasm_features)
                .validate_all(&case.module)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            for inv in case.plan.calls() {
                assert!(inv.args.iter().all(|v| v.ty() != ValType::V128));
            }
        }
        assert!(seen.contains(&Generator::WasmSmith) && seen.contains(&Generator::Instructions));
    }

    #[test]
    fn validation_cases_are_sometimes_invalid_and_reproducible() {
        let menu = FeatureMenu::new(&[Features::ALL]);
        let (mut valid, mut invalid) = (0, 0);
        let mut seen = std::collections::HashSet::new();
        for seed in 0..120 {
            let data = input(seed, 200 + seed as usize * 13);
            let case = generate_validation(&data, &menu).unwrap();
            assert_eq!(case, generate_validation(&data, &menu).unwrap());
            assert_eq!(case.plan, Plan::Validate);
            seen.insert(case.generator);
            match Features::ALL.validate(&case.module) {
                Ok(()) => valid += 1,
                Err(_) => invalid += 1,
            }
        }
        assert!(seen.contains(&Generator::WasmMutate) && seen.contains(&Generator::ByteFlips));
        assert!(
            valid > 10 && invalid > 10,
            "{valid} valid, {invalid} invalid"
        );
    }

    #[test]
    fn the_generator_can_be_chosen() {
        let menu = FeatureMenu::new(&[Features::ALL]);
        let filter = wat::parse_str("(module)").unwrap();
        for seed in 0..40 {
            let made = |generator| {
                let mut data = input(seed, seed as usize * 7);
                choose_generator(&mut data, generator);
                data
            };
            for generator in [Generator::WasmSmith, Generator::Instructions] {
                assert_eq!(
                    generate(&made(generator), &menu).unwrap().generator,
                    generator
                );
            }
            for generator in [Generator::RandomFilter, Generator::SdkFilter] {
                let case = generate_proxy(&made(generator), &menu, &[&filter], &[]).unwrap();
                assert_eq!(case.generator, generator);
            }
            for generator in [Generator::WasmMutate, Generator::ByteFlips] {
                let case = generate_validation(&made(generator), &menu).unwrap();
                assert_eq!(case.generator, generator);
            }
        }
    }

    #[test]
    fn empty_and_tiny_inputs_still_make_cases() {
        for data in [&[][..], &[0], &[1], &[0xff, 0xff]] {
            let case = generate(data, &FeatureMenu::new(&[Features::ALL])).unwrap();
            assert!(!case.module.is_empty());
        }
    }
}
