//! Campaign inputs: input `index` of seed `seed` is always the same bytes, on any machine, so a
//! report's `(seed, index)` makes its input again.

use std::borrow::Cow;

use wasmdiff_gen::Generator;
use wasmdiff_gen::rng::SplitMix64;

/// The bytes of input `index` of a campaign seeded with `seed`: 1 to `max_len` bytes.
pub fn input(seed: u64, index: u64, max_len: usize) -> Vec<u8> {
    let mut rng =
        SplitMix64(SplitMix64(seed).next_u64() ^ index.wrapping_mul(0xd1b5_4a32_d192_ed03));
    let len = 1 + (rng.next_u64() % max_len.max(1) as u64) as usize;
    rng.bytes(len)
}

/// The random module generators an input can be made for (as wasmtime's `ALLOWED_MODULES`).
pub const MODULE_GENERATORS: [Generator; 2] = [Generator::WasmSmith, Generator::Instructions];

/// The module generator named `name`.
pub fn module_generator(name: &str) -> anyhow::Result<Generator> {
    MODULE_GENERATORS
        .into_iter()
        .find(|g| g.name() == name)
        .ok_or_else(|| {
            anyhow::anyhow!("unknown module generator `{name}` (known: wasm-smith, instructions)")
        })
}

/// `input` as one that makes a module of `generator` (as it is without one): the generator
/// is picked by input bytes, so such an input makes the same case again anywhere.
pub fn for_generator(input: &[u8], generator: Option<Generator>) -> Cow<'_, [u8]> {
    match generator {
        None => Cow::Borrowed(input),
        Some(generator) => {
            let mut input = input.to_vec();
            wasmdiff_gen::choose_generator(&mut input, generator);
            Cow::Owned(input)
        }
    }
}

/// A seed for when none is given (printed, so the campaign can be repeated).
pub fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    SplitMix64(nanos ^ u64::from(std::process::id())).next_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_fixed_functions_of_seed_and_index() {
        assert_eq!(input(1, 2, 100), input(1, 2, 100));
        assert_ne!(input(1, 2, 100), input(1, 3, 100));
        assert_ne!(input(1, 2, 100), input(2, 2, 100));
        // Pinned: a change here would silently change every recorded (seed, index).
        assert_eq!(&input(0, 0, 4096)[..4], &[94, 79, 65, 244]);
        for index in 0..1000 {
            let len = input(7, index, 50).len();
            assert!((1..=50).contains(&len));
        }
    }
}
