//! Real proxy-wasm filters, built with the proxy-wasm Rust SDK 0.2.5 for wasm32-wasip1 from the
//! sources in `guest/examples/` by this crate's build script.

/// A filter: its name (the source file in `guest/examples/`) and its module.
pub struct Filter {
    pub name: &'static str,
    pub wasm: &'static [u8],
}

const BUILT: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/filters.rs"));

/// Every SDK filter, in a fixed order.
pub fn all() -> Vec<Filter> {
    BUILT
        .iter()
        .map(|&(name, wasm)| Filter { name, wasm })
        .collect()
}

/// The SDK filter called `name`.
pub fn find(name: &str) -> Option<Filter> {
    all().into_iter().find(|f| f.name == name)
}
