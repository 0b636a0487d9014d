//! Real proxy-wasm filters: built with the proxy-wasm Rust SDK 0.2.5 for wasm32-wasip1 from the
//! sources in `guest/examples/` by this crate's build script, and with the AssemblyScript SDK
//! (`@solo-io/proxy-runtime` 0.1.8) from `assemblyscript/assembly/` by
//! `scripts/build-as-filters`, which keeps them prebuilt in `assemblyscript/built/` (building
//! them needs npm and its registry).

/// The SDK a filter was written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sdk {
    Rust,
    AssemblyScript,
}

/// A filter: its name (its source file's), its SDK and its module.
pub struct Filter {
    pub name: &'static str,
    pub sdk: Sdk,
    pub wasm: &'static [u8],
}

const BUILT: &[(&str, Sdk, &[u8])] = include!(concat!(env!("OUT_DIR"), "/filters.rs"));

/// Every SDK filter, in a fixed order: the Rust SDK's, then AssemblyScript's.
pub fn all() -> Vec<Filter> {
    BUILT
        .iter()
        .map(|&(name, sdk, wasm)| Filter { name, sdk, wasm })
        .collect()
}

/// The SDK filter called `name`.
pub fn find(name: &str) -> Option<Filter> {
    all().into_iter().find(|f| f.name == name)
}
