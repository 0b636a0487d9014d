//! Modules that are sometimes invalid, for validation campaigns: a wasm-smith module changed
//! by wasm-mutate (whose mutations mostly keep it valid) or by a few flipped bytes (which
//! mostly do not).

use arbitrary::Unstructured;

use crate::features::Features;
use crate::{GenerateError, Generator, swarm};

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
