//! The proxy-wasm ABI v0.2.1 host, written once: every `env` host function and the WASI subset
//! filters need, a deterministic host state, the lifecycle driver and the traces it records.
//!
//! It knows no engine. An engine adapts to it by wiring each import of a filter, from
//! [`wasmdiff_gen::proxy::host_imports`], to [`host::call`] through a [`Guest`] (ranges of guest
//! memory, calls into the filter, the host state), and by running [`drive`] over a [`Vm`].
//! Where real proxies differ, the scenario's host profile decides ([`profile`]).

pub mod abi;
pub mod driver;
mod functions;
pub mod host;
pub mod maps;
pub mod portability;
pub mod profile;
pub mod trace;

pub use driver::{Vm, drive};
pub use host::{Guest, Host, HostTrap, SliceGuest};
pub use trace::{Event, FinalState, Outcome, Trace};

use wasmdiff_gen::proxy::{HostFunction, HostProfile, host_function};
use wasmparser::{Payload, TypeRef};

/// The host function for each function import of `module`, in import order; an error naming
/// the first import the host of `profile` does not provide, or provides with another type
/// (non-function imports included): such a filter fails to link there.
pub fn resolve_imports(
    module: &[u8],
    profile: HostProfile,
) -> Result<Vec<&'static HostFunction>, String> {
    let missing = profile::behaviour(profile).missing;
    let mut types = Vec::new();
    let mut functions = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        match payload {
            Ok(Payload::TypeSection(reader)) => {
                for group in reader.into_iter_err_on_gc_types() {
                    types.push(group.map_err(|e| e.to_string())?);
                }
            }
            Ok(Payload::ImportSection(reader)) => {
                for import in reader.into_imports() {
                    let import = import.map_err(|e| e.to_string())?;
                    let function = match import.ty {
                        TypeRef::Func(ty) => host_function(import.module, import.name)
                            .filter(|f| !missing.contains(&f.id))
                            .map(|f| (f, types.get(ty as usize))),
                        _ => None,
                    };
                    let unknown = || {
                        format!(
                            "the filter imports `{}::{}`, which the proxy-wasm 0.2.1 host of {profile} does not provide",
                            import.module, import.name
                        )
                    };
                    let (function, ty) = function.ok_or_else(unknown)?;
                    if !ty.is_some_and(|ty| has_signature(ty, function)) {
                        return Err(format!(
                            "the filter imports `{}::{}` with another type than the host's{}",
                            import.module,
                            import.name,
                            wasmdiff_gen::proxy::signature(function.params, function.results)
                        ));
                    }
                    functions.push(function);
                }
            }
            _ => {}
        }
    }
    Ok(functions)
}

fn has_signature(ty: &wasmparser::FuncType, function: &HostFunction) -> bool {
    let same = |ours: &[wasmdiff_gen::ValType], theirs: &[wasmparser::ValType]| {
        ours.len() == theirs.len()
            && ours.iter().zip(theirs).all(|(a, b)| match (a, b) {
                (wasmdiff_gen::ValType::I32, wasmparser::ValType::I32)
                | (wasmdiff_gen::ValType::I64, wasmparser::ValType::I64) => true,
                _ => false,
            })
    };
    same(function.params, ty.params()) && same(function.results, ty.results())
}
