//! The proxy-wasm ABI v0.2.1 host, written once: every `env` host function and the WASI subset
//! filters need, a deterministic host state, the lifecycle driver and the traces it records.
//!
//! It knows no engine. An engine adapts to it by wiring each import of a filter, from
//! [`wasmdiff_gen::proxy::HOST_FUNCTIONS`], to [`host::call`] through a [`Guest`] (guest memory,
//! calls into the filter, the host state), and by running [`drive`] over a [`Vm`].

pub mod abi;
pub mod driver;
pub mod host;
pub mod maps;
pub mod trace;

pub use driver::{Vm, drive};
pub use host::{Guest, Host, HostTrap};
pub use trace::{Event, FinalState, Outcome, Trace};

use wasmdiff_gen::proxy::{AbiFunction, host_function};
use wasmparser::{Payload, TypeRef};

/// The host function for each function import of `module`, in import order; an error naming
/// the first import the host does not provide (non-function imports included).
pub fn resolve_imports(module: &[u8]) -> Result<Vec<&'static AbiFunction>, String> {
    let mut functions = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        let Ok(Payload::ImportSection(reader)) = payload else {
            continue;
        };
        for import in reader.into_imports() {
            let import = import.map_err(|e| e.to_string())?;
            let function = match import.ty {
                TypeRef::Func(_) => host_function(import.module, import.name),
                _ => None,
            };
            functions.push(function.ok_or_else(|| {
                format!(
                    "the filter imports `{}::{}`, which the proxy-wasm 0.2.1 host does not provide",
                    import.module, import.name
                )
            })?);
        }
    }
    Ok(functions)
}
