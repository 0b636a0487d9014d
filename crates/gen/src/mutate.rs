//! wasm-mutate over modules: sometimes invalid ones for validation campaigns (a wasm-smith
//! module mutated, whose mutations mostly keep it valid, or with a few flipped bytes, which
//! mostly do not), and valid ones from seed modules (the spec test suite's, the regression
//! cases'), which reach code that random modules do not.

use arbitrary::Unstructured;

use crate::features::Features;
use crate::rng::SplitMix64;
use crate::{GenerateError, Generator, Plan, TestCase, plan, swarm};

/// Rounds of wasm-mutate on one module at most.
const MUTATIONS: usize = 4;
/// Bytes flipped at most.
const FLIPS: usize = 4;

/// A module made from `u`, then changed as `how` says (from its own bytes).
pub fn sometimes_invalid(
    u: &mut Unstructured<'_>,
    features: &Features,
    how: &[u8],
    flip: bool,
) -> Result<(Vec<u8>, Generator), GenerateError> {
    let module = swarm::module(u, features)?;
    let mut how = Unstructured::new(how);
    if flip {
        return Ok((flip_bytes(module, &mut how)?, Generator::ByteFlips));
    }
    let mut mutated = module;
    for _ in 0..1 + usize::from(how.arbitrary::<u8>()?) % MUTATIONS {
        let seed: u64 = how.arbitrary()?;
        let mut mutate = wasm_mutate::WasmMutate::default();
        mutate.seed(seed).fuel(1000).preserve_semantics(false);
        // No mutation applies to some modules: they go as they are.
        let next = match mutate.run(&mutated) {
            Ok(mut candidates) => candidates.find_map(Result::ok),
            Err(_) => None,
        };
        match next {
            Some(next) => mutated = next,
            None => break,
        }
    }
    Ok((mutated, Generator::WasmMutate))
}

/// Changes up to [`FLIPS`] bytes past the header, each to another value.
fn flip_bytes(mut module: Vec<u8>, how: &mut Unstructured<'_>) -> Result<Vec<u8>, GenerateError> {
    if module.len() <= 8 {
        return Ok(module);
    }
    for _ in 0..1 + usize::from(how.arbitrary::<u8>()?) % FLIPS {
        let at = 8 + usize::from(how.arbitrary::<u16>()?) % (module.len() - 8);
        let change = how.arbitrary::<u8>()?.max(1);
        module[at] ^= change;
    }
    Ok(module)
}

/// Rounds of wasm-mutate on a seed at most.
const SEED_MUTATIONS: usize = 8;

/// `module` after up to `rounds` wasm-mutate mutations (each seeded from `how`), every one
/// valid: a mutation whose result does not validate is passed over. The module as it is when
/// none applies.
fn mutate_valid(module: &[u8], rounds: usize, how: &mut Unstructured<'_>) -> Vec<u8> {
    let mut mutated = module.to_vec();
    for _ in 0..rounds {
        let Ok(seed) = how.arbitrary::<u64>() else {
            break;
        };
        let mut mutate = wasm_mutate::WasmMutate::default();
        mutate.seed(seed).fuel(1000).preserve_semantics(false);
        let next = match mutate.run(&mutated) {
            Ok(mut candidates) => candidates
                .by_ref()
                .take(8)
                .flatten()
                .find(|m| Features::ALL.validate(m).is_ok()),
            Err(_) => None,
        };
        if let Some(next) = next {
            mutated = next;
        }
    }
    mutated
}

/// A plan for `module` (valid, without imports) from `bytes`: every export once, then calls
/// with edge-biased arguments.
fn plan_for(module: &[u8], bytes: &[u8]) -> Result<Plan, GenerateError> {
    let funcs = plan::exported_functions(module)
        .map_err(|e| GenerateError::Internal(format!("a mutated seed: {e}")))?;
    Ok(Plan::Calls(plan::plan(
        &mut Unstructured::new(bytes),
        &funcs,
    )?))
}

/// A seed module changed by wasm-mutate, called with edge values.
///
/// Layout: bytes 0 and 1 pick the seed (little-endian, modulo the seeds' count); byte 2 says
/// how many trailing bytes make the plan (four per unit); the bytes between drive wasm-mutate
/// (a round count, then a seed per round).
pub fn mutated_seed(data: &[u8], seeds: &[Vec<u8>]) -> Result<TestCase, GenerateError> {
    if seeds.is_empty() {
        return Err(GenerateError::Internal("no seed modules to mutate".into()));
    }
    let header = |at: usize| data.get(at).copied().unwrap_or(0);
    let seed = &seeds[usize::from(u16::from_le_bytes([header(0), header(1)])) % seeds.len()];
    let rest = data.get(3..).unwrap_or(&[]);
    let plan_len = (rest.len() / 2).min(usize::from(header(2)) * 4);
    let (how, plan_bytes) = rest.split_at(rest.len() - plan_len);
    let mut how = Unstructured::new(how);
    let rounds = 1 + usize::from(how.arbitrary::<u8>()?) % SEED_MUTATIONS;
    let module = mutate_valid(seed, rounds, &mut how);
    Ok(TestCase {
        plan: plan_for(&module, plan_bytes)?,
        module,
        generator: Generator::MutatedSeed,
    })
}

/// A module given as the whole input (as a fuzzer's structure-aware mutator makes them), called
/// with edge values drawn from the module's own digest: the same module, the same calls.
pub fn module_input(module: &[u8]) -> Result<TestCase, GenerateError> {
    let digest = module.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    });
    let bytes = SplitMix64(digest).bytes(256);
    Ok(TestCase {
        plan: plan_for(module, &bytes).map_err(|_| arbitrary::Error::IncorrectFormat)?,
        module: module.to_vec(),
        generator: Generator::MutatedSeed,
    })
}

/// A structure-aware mutation of `module` for a fuzzer: one to three wasm-mutate rounds
/// seeded by `seed`, valid, at most `max_size` bytes; `None` if `module` is no valid module
/// or no mutation fits.
pub fn mutate_for_fuzzer(module: &[u8], seed: u32, max_size: usize) -> Option<Vec<u8>> {
    Features::ALL.validate(module).ok()?;
    let bytes = SplitMix64(u64::from(seed)).bytes(64);
    let mut how = Unstructured::new(&bytes);
    let rounds = 1 + usize::from(how.arbitrary::<u8>().ok()?) % 3;
    let mutated = mutate_valid(module, rounds, &mut how);
    (mutated != module && mutated.len() <= max_size).then_some(mutated)
}
