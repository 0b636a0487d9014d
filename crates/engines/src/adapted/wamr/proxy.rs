//! proxy-wasm filters on WAMR, host and filter together in WAMR's worker process. The host
//! functions are WAMR raw natives (registered once for the process, each carrying its
//! [`HostFunction`] as the attachment); the exec env's user data is the run's [`Host`]. A host
//! stop becomes the instance's exception, and a nested trap stays the exception it was.

use std::ffi::{CString, c_void};
use std::sync::OnceLock;

use wamrx_sys as sys;
use wasmdiff_gen::proxy::{HostFunction, Scenario, host_imports};
use wasmdiff_gen::{ValType, Value};
use wasmdiff_proxy::{Host, SliceGuest};

use super::{Instance, Loaded, call, classify};
use crate::outcome::{Execution, HostStop, Trap, TrapKind};
use crate::progress::{self, Stage};
use crate::sections::start_as_export;

/// Marks the host's own stops among WAMR's exception messages.
const HOST_STOP: &str = "wasmdiff host stop: ";

/// Registers the host functions with WAMR, once, before any filter is loaded.
fn register_natives() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            let mut modules: Vec<(&str, Vec<sys::NativeSymbol>)> = Vec::new();
            for (module, function) in host_imports() {
                let symbol = sys::NativeSymbol {
                    symbol: leak(function.name),
                    func_ptr: host_native as *mut c_void,
                    signature: leak(&native_signature(function)),
                    attachment: function as *const HostFunction as *mut c_void,
                };
                match modules.iter_mut().find(|(m, _)| *m == module) {
                    Some((_, symbols)) => symbols.push(symbol),
                    None => modules.push((module, vec![symbol])),
                }
            }
            for (module, symbols) in modules {
                // WAMR keeps (and sorts) the array and the strings for the process's life.
                let symbols = symbols.leak();
                // SAFETY: the name and the symbols live forever; the runtime is started.
                let ok = unsafe {
                    sys::wasm_runtime_register_natives_raw(
                        leak(module),
                        symbols.as_mut_ptr(),
                        symbols.len() as u32,
                    )
                };
                if !ok {
                    return Err(format!(
                        "WAMR did not take the host functions of `{module}`"
                    ));
                }
            }
            Ok(())
        })
        .clone()
}

fn leak(text: &str) -> *const std::ffi::c_char {
    CString::new(text)
        .expect("host names have no NUL")
        .into_raw()
}

/// WAMR's signature string: `(ii)i`, `I` for i64.
fn native_signature(function: &HostFunction) -> String {
    let letters = |types: &[ValType]| {
        types
            .iter()
            .map(|t| if *t == ValType::I64 { 'I' } else { 'i' })
            .collect::<String>()
    };
    format!(
        "({}){}",
        letters(function.params),
        letters(function.results)
    )
}

/// One host function call from a filter: arguments in 64-bit slots, the result in the first.
unsafe extern "C" fn host_native(env: sys::wasm_exec_env_t, args: *mut u64) {
    // SAFETY: WAMR passes the exec env of a live instance and the attachment registered with
    // the symbol, a `&'static HostFunction`.
    let (function, instance) = unsafe {
        let attachment = sys::wasm_runtime_get_function_attachment(env);
        (
            &*(attachment as *const HostFunction),
            sys::wasm_runtime_get_module_inst(env),
        )
    };
    // SAFETY: the user data is the running filter's host (set before any call), or null for
    // a filter that is not a proxy-wasm run.
    let host = unsafe { sys::wasm_runtime_get_user_data(env) as *mut Host };
    if host.is_null() {
        raise(instance, &format!("{HOST_STOP}no proxy-wasm host here"));
        return;
    }
    // SAFETY: `args` holds a slot per parameter (and at least one for the result).
    let values: Vec<Value> = function
        .params
        .iter()
        .enumerate()
        .map(|(i, ty)| {
            let slot = unsafe { *args.add(i) };
            match ty {
                ValType::I64 => Value::I64(slot as i64),
                _ => Value::I32(slot as u32 as i32),
            }
        })
        .collect();
    let mut guest = NativeGuest {
        env,
        instance,
        // SAFETY: the host outlives the call, and only this call uses it meanwhile.
        host: unsafe { &mut *host },
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wasmdiff_proxy::host::call(&mut guest, function, &values)
    }));
    match outcome {
        Ok(Ok(results)) => {
            if let Some(result) = results.first() {
                let slot = match result {
                    Value::I64(v) => *v as u64,
                    Value::I32(v) => u64::from(*v as u32),
                    _ => 0,
                };
                // SAFETY: the first slot takes the result.
                unsafe { *args = slot };
            }
        }
        Ok(Err(trap)) => match HostStop::of(trap) {
            Ok(stop) => raise(instance, &format!("{HOST_STOP}{stop}")),
            // The nested call's exception, raised again unchanged.
            Err(nested) => raise(instance, exception_text(&nested.message)),
        },
        Err(_) => raise(
            instance,
            &format!("{HOST_STOP}host panic in {}", function.name),
        ),
    }
}

/// The message WAMR was given, from the exception text it reports.
fn exception_text(message: &str) -> &str {
    message.strip_prefix("Exception: ").unwrap_or(message)
}

fn raise(instance: sys::wasm_module_inst_t, message: &str) {
    let message = CString::new(message.replace('\0', " ")).expect("no NUL left");
    // SAFETY: the instance is live; WAMR copies the message.
    unsafe { sys::wasm_runtime_set_exception(instance, message.as_ptr()) };
}

/// A trap as the other engines report it: the host's own stops are host errors.
fn trap_of(message: &str) -> Trap {
    match message.split_once(HOST_STOP) {
        Some((_, stop)) => Trap::new(TrapKind::HostError, stop),
        None => classify(message),
    }
}

/// The filter as the host sees it during a host call.
struct NativeGuest<'h> {
    env: sys::wasm_exec_env_t,
    instance: sys::wasm_module_inst_t,
    host: &'h mut Host,
}

impl SliceGuest for NativeGuest<'_> {
    type Trap = Trap;

    fn host(&mut self) -> &mut Host {
        self.host
    }

    fn memory(&mut self) -> &mut [u8] {
        // SAFETY: the memory belongs to the live instance, and no wasm code runs while the
        // slice is in use (the host asks again after each nested call).
        unsafe {
            let memory = sys::wasm_runtime_lookup_memory(self.instance, c"memory".as_ptr());
            if memory.is_null() {
                return &mut [];
            }
            let length = u64::from(sys::wasm_memory_get_cur_page_count(memory))
                * u64::from(sys::wasm_memory_get_bytes_per_page(memory));
            let base = sys::wasm_memory_get_base_address(memory) as *mut u8;
            match base.is_null() || length == 0 {
                true => &mut [],
                false => std::slice::from_raw_parts_mut(base, length as usize),
            }
        }
    }

    fn call(&mut self, export: &str, args: &[Value]) -> Option<Result<Vec<Value>, Trap>> {
        // The message is kept whole, to be raised again if the host gives up on it.
        call(self.env, self.instance, export, args)
            .map(|r| r.map_err(|message| Trap::new(trap_of(&message).kind, message)))
    }
}

/// The instantiated filter, for the driver.
struct Filter {
    instance: Instance,
    host: *mut Host,
}

impl Drop for Filter {
    fn drop(&mut self) {
        // SAFETY: made by `Box::into_raw` in `run`, freed once; no call is running.
        drop(unsafe { Box::from_raw(self.host) });
    }
}

impl wasmdiff_proxy::Vm for Filter {
    type Trap = Trap;

    fn host(&mut self) -> &mut Host {
        // SAFETY: the host lives as long as the filter; no host call runs between callbacks.
        unsafe { &mut *self.host }
    }

    fn has_export(&mut self, name: &str) -> bool {
        let Ok(name) = CString::new(name) else {
            return false;
        };
        // SAFETY: the instance is live and the name NUL-terminated.
        !unsafe { sys::wasm_runtime_lookup_function(self.instance.raw, name.as_ptr()) }.is_null()
    }

    fn at_event(&mut self, index: usize) {
        progress::mark(Stage::Event(index));
    }

    fn call(&mut self, name: &str, args: &[Value]) -> Result<Vec<Value>, Trap> {
        match call(self.instance.env, self.instance.raw, name, args) {
            Some(Ok(values)) => Ok(values),
            Some(Err(message)) => Err(trap_of(&message)),
            None => Err(Trap::new(
                TrapKind::HostError,
                "no exported function of that name and type",
            )),
        }
    }
}

/// Runs a filter through `scenario`.
pub(super) fn run(module: &[u8], scenario: &Scenario, stack_bytes: u32) -> Execution {
    if let Err(message) = wasmdiff_proxy::resolve_imports(module, scenario.host) {
        return Execution::Rejected { message };
    }
    if let Err(message) = register_natives() {
        return Execution::panicked(message);
    }
    // The host needs the instance (its memory, its allocator) from the start function on, and
    // WAMR runs that function without the exec env that carries the host.
    let (module, start) = start_as_export(module);
    let loaded = match Loaded::new(&module) {
        Ok(loaded) => loaded,
        Err(message) => return Execution::Rejected { message },
    };
    progress::mark(Stage::Instantiate);
    let instance = match Instance::new(loaded, stack_bytes) {
        Ok(instance) => instance,
        Err(message) => {
            return Execution::InstantiationFailed {
                trap: classify(&message),
            };
        }
    };
    let host = Box::into_raw(Box::new(Host::new(scenario)));
    // SAFETY: the env is live; the host outlives every call made through it.
    unsafe { sys::wasm_runtime_set_user_data(instance.env, host as *mut c_void) };
    let mut filter = Filter { instance, host };
    if let Some(start) = start
        && let Some(Err(message)) = call(filter.instance.env, filter.instance.raw, &start, &[])
    {
        return Execution::InstantiationFailed {
            trap: trap_of(&message),
        };
    }
    Execution::Traced {
        trace: wasmdiff_proxy::drive(&mut filter, scenario),
    }
}
