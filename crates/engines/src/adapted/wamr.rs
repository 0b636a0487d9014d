//! WAMR's fast interpreter (the WebAssembly Micro Runtime, C), through the raw `wamrx-sys`
//! 0.3.0 bindings (WAMR 2.4.3), built without SIMD (that build downloads sources). It runs
//! only in worker processes, being C.
//!
//! A trap stays the instance's exception, failing every later call, until cleared: the safe
//! `wamrx` wrapper cannot clear it, so this file calls WAMR directly. Calls take and return
//! the four numeric types only, and tables cannot be read: calls and state go through the
//! [adapter](crate::adapted). WAMR has no fuel; the deadline bounds it. proxy-wasm filters
//! run with their host in the same worker ([`proxy`]).

mod proxy;

use std::ffi::{CStr, CString, c_char};
use std::sync::OnceLock;

use wamrx_sys as sys;
use wasmdiff_gen::{Features, Plan, ValType, Value};

use crate::adapted::inspect::has_name_with_nul;
use crate::adapted::{Adaptation, AdaptedInstance, Options};
use crate::outcome::{Execution, Trap, TrapKind};
use crate::progress::{self, Stage};
use crate::{Abilities, Engine, EngineSpec, Isolation, KnownBug, ProxyHosting, always_available};

const FEATURES: Features = Features {
    saturating_float_to_int: true,
    sign_extension: true,
    multi_value: true,
    bulk_memory: true,
    reference_types: true,
    tail_call: true,
    extended_const: true,
    ..Features::NONE
};

pub const SPEC: EngineSpec = EngineSpec {
    name: "wamr",
    engine: "wamr",
    version: || "0.3.0 (WAMR 2.4.3)".to_string(),
    description: "WAMR's fast interpreter (C), in a worker process",
    features: FEATURES,
    abilities: Abilities {
        modules: true,
        proxy: ProxyHosting::Hosts,
        validation: true,
        fuel: false,
        growth_caps: false,
        runs: Isolation::Required,
    },
    default: true,
    known_bugs: &[
        KnownBug {
            id: "wamr-2.4.3-value-after-dead-code",
            description: "after a block that ends in dead code (`block br 0 … end`), the fast interpreter returns the wrong value: the upper half of an f64 where an f32 lies beneath it on the stack",
            // Dead code does nothing: without it the module means the same.
            workaround: crate::rewrite::without_dead_code,
        },
        KnownBug {
            id: "wamr-2.4.3-tail-call-to-import",
            description: "a `return_call` of an imported (host) function crashes the fast interpreter (SIGSEGV); reached by proxy-wasm filters, whose imports are host functions",
            // `call` then `return` means the same.
            workaround: crate::rewrite::tail_calls_to_imports_as_calls,
        },
    ],
    available: always_available,
    build: |limits| {
        start_runtime()?;
        Ok(Box::new(Wamr {
            stack_bytes: limits.stack_bytes as u32,
        }))
    },
};

/// Starts WAMR's process-wide runtime (once; it lives as long as the process).
fn start_runtime() -> anyhow::Result<()> {
    static STARTED: OnceLock<bool> = OnceLock::new();
    let started = *STARTED.get_or_init(|| {
        let mut args = sys::RuntimeInitArgs {
            mem_alloc_type: sys::Alloc_With_System_Allocator,
            ..Default::default()
        };
        // SAFETY: `args` is fully initialized; this runs once, before any other WAMR call.
        unsafe { sys::wasm_runtime_full_init(&mut args) }
    });
    anyhow::ensure!(started, "WAMR's runtime did not start");
    Ok(())
}

struct Wamr {
    stack_bytes: u32,
}

impl Engine for Wamr {
    fn run(&mut self, module: &[u8], plan: &Plan) -> Execution {
        if has_name_with_nul(module) {
            return Execution::Skipped {
                reason: "WAMR does not support names containing NUL (a documented limitation)"
                    .to_string(),
            };
        }
        if let Plan::Proxy(scenario) = plan {
            return proxy::run(module, scenario, self.stack_bytes);
        }
        let adapted = match Adaptation::of(module, plan, Options { tables: true }, &FEATURES) {
            Adaptation::Run(adapted) => adapted,
            Adaptation::Validate => {
                return match Loaded::new(module) {
                    Ok(_) => Execution::Accepted,
                    Err(message) => Execution::Rejected { message },
                };
            }
            Adaptation::Failed(execution) => return execution,
        };
        let loaded = match Loaded::new(&adapted.module) {
            Ok(loaded) => loaded,
            Err(message) => return Execution::Rejected { message },
        };
        progress::mark(Stage::Instantiate);
        match Instance::new(loaded, self.stack_bytes) {
            Ok(mut instance) => adapted.run(&mut instance),
            Err(message) => Execution::InstantiationFailed {
                trap: classify(&message),
            },
        }
    }
}

/// Runs `f` with an error buffer for WAMR; the message it wrote.
fn with_error_buffer<T>(f: impl FnOnce(*mut c_char, u32) -> T) -> (T, String) {
    let mut buffer = [0 as c_char; 256];
    let result = f(buffer.as_mut_ptr(), buffer.len() as u32);
    // SAFETY: WAMR writes a NUL-terminated message into the zeroed buffer, or nothing.
    let message = unsafe { CStr::from_ptr(buffer.as_ptr()) };
    (result, message.to_string_lossy().into_owned())
}

/// A loaded (validated) module. WAMR keeps using the bytes it was loaded from.
struct Loaded {
    raw: sys::wasm_module_t,
    _bytes: Box<[u8]>,
}

impl Loaded {
    fn new(module: &[u8]) -> Result<Loaded, String> {
        let mut bytes: Box<[u8]> = module.into();
        let (raw, message) = with_error_buffer(|buffer, size| {
            // SAFETY: the bytes live as long as the loaded module; the buffer is valid.
            unsafe { sys::wasm_runtime_load(bytes.as_mut_ptr(), bytes.len() as u32, buffer, size) }
        });
        match raw.is_null() {
            true => Err(message),
            false => Ok(Loaded { raw, _bytes: bytes }),
        }
    }
}

impl Drop for Loaded {
    fn drop(&mut self) {
        // SAFETY: loaded by `wasm_runtime_load`; its instance, if any, was dropped first.
        unsafe { sys::wasm_runtime_unload(self.raw) };
    }
}

struct Instance {
    raw: sys::wasm_module_inst_t,
    env: sys::wasm_exec_env_t,
    // Dropped after the instance (fields drop in order).
    _module: Loaded,
}

impl Instance {
    fn new(module: Loaded, stack_bytes: u32) -> Result<Instance, String> {
        // No auxiliary stack and no app heap: WAMR would carve or grow the module's memory.
        let (raw, message) = with_error_buffer(|buffer, size| {
            // SAFETY: the module is loaded; the buffer is valid.
            unsafe { sys::wasm_runtime_instantiate(module.raw, 0, 0, buffer, size) }
        });
        if raw.is_null() {
            return Err(message);
        }
        // SAFETY: `raw` is a live instance.
        let env = unsafe { sys::wasm_runtime_create_exec_env(raw, stack_bytes) };
        if env.is_null() {
            // SAFETY: `raw` is live and unused elsewhere.
            unsafe { sys::wasm_runtime_deinstantiate(raw) };
            return Err("cannot create an execution environment".to_string());
        }
        Ok(Instance {
            raw,
            env,
            _module: module,
        })
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // SAFETY: both were created in `new` and are dropped once.
        unsafe {
            sys::wasm_runtime_destroy_exec_env(self.env);
            sys::wasm_runtime_deinstantiate(self.raw);
        }
    }
}

impl AdaptedInstance for Instance {
    fn call(&mut self, export: &str, results: usize) -> Result<Vec<i64>, Trap> {
        let values = match call(self.env, self.raw, export, &[]) {
            None => {
                return Err(Trap::new(
                    TrapKind::Unclassified,
                    format!("no export `{export}`"),
                ));
            }
            Some(Err(message)) => return Err(classify(&message)),
            Some(Ok(values)) if values.len() != results => {
                return Err(Trap::new(
                    TrapKind::Unclassified,
                    format!("{} results, not {results}", values.len()),
                ));
            }
            Some(Ok(values)) => values,
        };
        values
            .iter()
            .map(|v| match v {
                Value::I32(v) => Ok(i64::from(*v)),
                Value::I64(v) => Ok(*v),
                _ => Err(Trap::new(
                    TrapKind::Unclassified,
                    "a result is not an integer",
                )),
            })
            .collect()
    }

    fn memory(&mut self, export: &str) -> Option<Vec<u8>> {
        let name = CString::new(export).ok()?;
        // SAFETY: `raw` is live; the memory instance belongs to it and is read before any
        // further wasm code runs.
        unsafe {
            let memory = sys::wasm_runtime_lookup_memory(self.raw, name.as_ptr());
            if memory.is_null() {
                return None;
            }
            let length = u64::from(sys::wasm_memory_get_cur_page_count(memory))
                * u64::from(sys::wasm_memory_get_bytes_per_page(memory));
            let base = sys::wasm_memory_get_base_address(memory) as *const u8;
            Some(match base.is_null() || length == 0 {
                true => Vec::new(),
                false => std::slice::from_raw_parts(base, length as usize).to_vec(),
            })
        }
    }
}

/// WAMR 2.4's exception messages in the shared classification (first match).
fn classify(message: &str) -> Trap {
    use TrapKind::*;
    Trap::from_message(
        message,
        &[
            ("stack overflow", StackExhausted),
            ("unreachable", Unreachable),
            ("divide by zero", IntegerDivideByZero),
            ("integer overflow", IntegerOverflow),
            ("invalid conversion", InvalidConversion),
            ("out of bounds memory access", MemoryOutOfBounds),
            ("out of bounds table access", TableOutOfBounds),
            // WAMR's name for an index past the table's end.
            ("undefined element", TableOutOfBounds),
            ("indirect call type mismatch", IndirectCallTypeMismatch),
            ("uninitialized element", UndefinedElement),
            ("unaligned atomic", UnalignedAtomic),
            ("null", NullReference),
            ("allocate", ResourceLimit),
        ],
    )
}

/// The instance's pending exception, cleared.
fn take_exception(instance: sys::wasm_module_inst_t) -> String {
    // SAFETY: the instance is live; the text is copied before it is cleared.
    unsafe {
        let text = sys::wasm_runtime_get_exception(instance);
        let message = match text.is_null() {
            true => String::new(),
            false => CStr::from_ptr(text).to_string_lossy().into_owned(),
        };
        sys::wasm_runtime_clear_exception(instance);
        message
    }
}

fn kind_of(ty: &ValType) -> u8 {
    (match ty {
        ValType::I64 => sys::WASM_I64,
        ValType::F32 => sys::WASM_F32,
        ValType::F64 => sys::WASM_F64,
        _ => sys::WASM_I32,
    }) as u8
}

/// Calls export `name` with `args`: `None` if there is no such function or it takes other
/// parameters; else its results, or the exception it raised (cleared).
fn call(
    env: sys::wasm_exec_env_t,
    instance: sys::wasm_module_inst_t,
    name: &str,
    args: &[Value],
) -> Option<Result<Vec<Value>, String>> {
    let name = CString::new(name).ok()?;
    // SAFETY: the instance is live and the name NUL-terminated; the type arrays are sized by
    // the counts WAMR gives.
    let (func, results) = unsafe {
        let func = sys::wasm_runtime_lookup_function(instance, name.as_ptr());
        if func.is_null() {
            return None;
        }
        let mut params = vec![0u8; sys::wasm_func_get_param_count(func, instance) as usize];
        sys::wasm_func_get_param_types(func, instance, params.as_mut_ptr());
        let mut results = vec![0u8; sys::wasm_func_get_result_count(func, instance) as usize];
        sys::wasm_func_get_result_types(func, instance, results.as_mut_ptr());
        if !params
            .iter()
            .copied()
            .eq(args.iter().map(|a| kind_of(&a.ty())))
        {
            return None;
        }
        (func, results)
    };
    let mut arguments: Vec<sys::wasm_val_t> = args
        .iter()
        .map(|arg| {
            // SAFETY: a zeroed value is valid; the member written matches its kind.
            let mut value: sys::wasm_val_t = unsafe { std::mem::zeroed() };
            value.kind = kind_of(&arg.ty());
            match *arg {
                Value::I64(v) => value.of.i64_ = v,
                Value::I32(v) => value.of.i32_ = v,
                Value::F32(bits) => value.of.f32_ = f32::from_bits(bits),
                Value::F64(bits) => value.of.f64_ = f64::from_bits(bits),
                _ => {}
            }
            value
        })
        .collect();
    // SAFETY: zeroed values are valid for WAMR to overwrite.
    let mut values: Vec<sys::wasm_val_t> = vec![unsafe { std::mem::zeroed() }; results.len()];
    // SAFETY: the env and function are live; the arrays hold the counts given.
    let ok = unsafe {
        sys::wasm_runtime_call_wasm_a(
            env,
            func,
            values.len() as u32,
            values.as_mut_ptr(),
            arguments.len() as u32,
            arguments.as_mut_ptr(),
        )
    };
    if !ok {
        return Some(Err(take_exception(instance)));
    }
    Some(Ok(values
        .iter()
        .map(|v| {
            let kind = u32::from(v.kind);
            // SAFETY: the member read matches the kind WAMR reported.
            unsafe {
                if kind == sys::WASM_I64 {
                    Value::I64(v.of.i64_)
                } else if kind == sys::WASM_F32 {
                    Value::F32(v.of.f32_.to_bits())
                } else if kind == sys::WASM_F64 {
                    Value::F64(v.of.f64_.to_bits())
                } else {
                    Value::I32(v.of.i32_)
                }
            }
        })
        .collect()))
}
