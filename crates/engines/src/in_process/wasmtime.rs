//! wasmtime: Cranelift (optimizing and not), Winch, and the Pulley interpreter.

use wasmdiff_gen::proxy::{HostFunction, host_imports};
use wasmdiff_gen::{Features, RefHeap, Value};
use wasmdiff_proxy::{Host, SliceGuest};
use wasmtime::{
    Caller, Config, Extern, Func, FuncType, Linker, Module, OptLevel, Ref, Store, Strategy,
    Trap as WasmtimeTrap, Val, ValType,
};

use super::{Backend, Cached, StoreData};
use crate::limits::{GrowthCap, Limits};
use crate::outcome::HostStop;
use crate::outcome::{Execution, ExportState, ExportValue, Instance, Trap, TrapKind};
use crate::{Abilities, Engine, EngineSpec, always_available};

/// Must match the pinned version in the workspace `Cargo.toml` (a test checks `Cargo.lock`).
pub const VERSION: &str = "48.0.8";

/// What Cranelift (native or Pulley) compiles. Threads stay off: shared memories need a
/// wasmtime build feature this harness does not enable; GC and exceptions wait for a
/// comparison of GC references.
const CRANELIFT: Features = Features {
    saturating_float_to_int: true,
    sign_extension: true,
    multi_value: true,
    bulk_memory: true,
    reference_types: true,
    simd: true,
    relaxed_simd: true,
    tail_call: true,
    extended_const: true,
    multi_memory: true,
    memory64: true,
    custom_page_sizes: true,
    wide_arithmetic: true,
    ..Features::NONE
};

/// Winch returns errors for proposals it does not (fully) implement; they stay off here.
const WINCH: Features = Features {
    saturating_float_to_int: true,
    sign_extension: true,
    multi_value: true,
    bulk_memory: true,
    extended_const: true,
    multi_memory: true,
    memory64: true,
    ..Features::NONE
};

#[derive(Clone, Copy)]
enum Compiler {
    Cranelift(OptLevel),
    Winch,
    Pulley,
}

pub const SPECS: &[EngineSpec] = &[
    EngineSpec {
        name: "wasmtime-cranelift",
        engine: "wasmtime",
        version: || VERSION.to_string(),
        description: "Cranelift, optimizing (opt-level speed)",
        features: CRANELIFT,
        abilities: Abilities::ALL,
        default: true,
        available: always_available,
        known_bugs: &[],
        build: |limits| Wasmtime::build(Compiler::Cranelift(OptLevel::Speed), CRANELIFT, limits),
    },
    EngineSpec {
        name: "wasmtime-cranelift-noopt",
        engine: "wasmtime",
        version: || VERSION.to_string(),
        description: "Cranelift with optimizations off",
        features: CRANELIFT,
        abilities: Abilities::ALL,
        default: true,
        available: always_available,
        known_bugs: &[],
        build: |limits| Wasmtime::build(Compiler::Cranelift(OptLevel::None), CRANELIFT, limits),
    },
    EngineSpec {
        name: "wasmtime-winch",
        engine: "wasmtime",
        version: || VERSION.to_string(),
        description: "Winch, the single-pass baseline compiler",
        features: WINCH,
        abilities: Abilities::ALL,
        default: true,
        available: always_available,
        known_bugs: &[],
        build: |limits| Wasmtime::build(Compiler::Winch, WINCH, limits),
    },
    EngineSpec {
        name: "wasmtime-pulley",
        engine: "wasmtime",
        version: || VERSION.to_string(),
        description: "Pulley, Cranelift-compiled portable bytecode interpreter",
        features: CRANELIFT,
        abilities: Abilities::ALL,
        default: true,
        available: always_available,
        known_bugs: &[],
        build: |limits| Wasmtime::build(Compiler::Pulley, CRANELIFT, limits),
    },
];

struct Wasmtime {
    engine: wasmtime::Engine,
    /// Every proxy-wasm host function, for filters; other modules import nothing.
    linker: Linker<StoreData>,
}

impl Wasmtime {
    fn build(
        compiler: Compiler,
        features: Features,
        limits: &Limits,
    ) -> anyhow::Result<Box<dyn Engine>> {
        let mut config = Config::new();
        config
            .consume_fuel(true)
            .max_wasm_stack(limits.stack_bytes)
            // Traps only need their kind; wasm backtraces cost a stack walk per trap.
            .wasm_backtrace_max_frames(None)
            .relaxed_simd_deterministic(true)
            .cranelift_nan_canonicalization(false)
            // Saturating conversions and sign extension are always on in wasmtime.
            .wasm_multi_value(features.multi_value)
            .wasm_bulk_memory(features.bulk_memory)
            .wasm_reference_types(features.reference_types)
            .wasm_simd(features.simd)
            .wasm_relaxed_simd(features.relaxed_simd)
            .wasm_tail_call(features.tail_call)
            .wasm_extended_const(features.extended_const)
            .wasm_multi_memory(features.multi_memory)
            .wasm_memory64(features.memory64)
            .wasm_custom_page_sizes(features.custom_page_sizes)
            .wasm_wide_arithmetic(features.wide_arithmetic)
            .wasm_exceptions(features.exceptions)
            .wasm_gc(features.gc)
            .wasm_function_references(features.gc);
        match compiler {
            Compiler::Cranelift(level) => {
                config
                    .strategy(Strategy::Cranelift)
                    .cranelift_opt_level(level);
            }
            Compiler::Winch => {
                config.strategy(Strategy::Winch);
            }
            Compiler::Pulley => {
                config
                    .target("pulley64")
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
        }
        let engine = wasmtime::Engine::new(&config).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut linker = Linker::new(&engine);
        for (module, function) in host_imports() {
            let ty = FuncType::new(
                &engine,
                function.params.iter().map(val_type),
                function.results.iter().map(val_type),
            );
            linker
                .func_new(
                    module,
                    function.name,
                    ty,
                    move |mut caller, params, results| {
                        host_call(&mut caller, function, params, results)
                    },
                )
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        Ok(Box::new(Cached::new(Wasmtime { engine, linker }, limits)))
    }
}

impl Backend for Wasmtime {
    type Module = Module;
    type Session = Session;

    fn compile(&mut self, bytes: &[u8]) -> Result<Module, String> {
        Module::new(&self.engine, bytes).map_err(|e| format!("{e:#}"))
    }

    fn instantiate(
        &mut self,
        module: &Module,
        data: StoreData,
        limits: &Limits,
    ) -> Result<Session, Execution> {
        let mut store = Store::new(&self.engine, data);
        store.limiter(|data| &mut data.cap);
        // The start function and segment initializers run under the same budget as a call.
        store
            .set_fuel(limits.fuel)
            .map_err(|e| Execution::panicked(e.to_string()))?;
        match self.linker.instantiate(&mut store, module) {
            Ok(instance) => Ok(Session { store, instance }),
            Err(e) => {
                let trap = if store.data_mut().cap.take_refused() {
                    Trap::growth_refused()
                } else {
                    classify(&e)
                };
                Err(Execution::InstantiationFailed { trap })
            }
        }
    }
}

fn val_type(ty: &wasmdiff_gen::ValType) -> ValType {
    match ty {
        wasmdiff_gen::ValType::I64 => ValType::I64,
        _ => ValType::I32,
    }
}

/// A proxy-wasm host function, called by a filter.
fn host_call(
    caller: &mut Caller<'_, StoreData>,
    function: &'static HostFunction,
    params: &[Val],
    results: &mut [Val],
) -> wasmtime::Result<()> {
    let args: Vec<Value> = params.iter().map(from_val).collect();
    match wasmdiff_proxy::host::call(&mut CallerGuest(caller), function, &args) {
        Ok(values) => {
            for (slot, value) in results.iter_mut().zip(&values) {
                *slot = to_val(value);
            }
            Ok(())
        }
        // A nested call's own trap goes on unchanged.
        Err(trap) => Err(HostStop::of(trap).map_or_else(|nested| nested, wasmtime::Error::new)),
    }
}

/// The filter, as the host sees it during a host call.
struct CallerGuest<'a, 'b>(&'a mut Caller<'b, StoreData>);

impl SliceGuest for CallerGuest<'_, '_> {
    type Trap = wasmtime::Error;

    fn host(&mut self) -> &mut Host {
        self.0.data_mut().host()
    }

    fn memory(&mut self) -> &mut [u8] {
        match self.0.get_export("memory") {
            Some(Extern::Memory(memory)) => memory.data_mut(&mut *self.0),
            _ => &mut [],
        }
    }

    fn call(
        &mut self,
        export: &str,
        args: &[Value],
    ) -> Option<Result<Vec<Value>, wasmtime::Error>> {
        let func = self.0.get_export(export)?.into_func()?;
        let ty = func.ty(&*self.0);
        // An export of another signature is no allocator.
        let params: Vec<ValType> = args.iter().map(|a| val_type(&a.ty())).collect();
        if ty.params().len() != params.len()
            || ty.params().zip(&params).any(|(p, a)| !ValType::eq(&p, a))
        {
            return None;
        }
        let args: Vec<Val> = args.iter().map(to_val).collect();
        let mut results: Vec<Val> = ty.results().map(|_| Val::I32(0)).collect();
        Some(
            func.call(&mut *self.0, &args, &mut results)
                .map(|()| results.iter().map(from_val).collect()),
        )
    }
}

impl wasmtime::ResourceLimiter for GrowthCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(self.allow_memory(desired, max))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(self.allow_table(desired, max))
    }
}

pub(crate) struct Session {
    store: Store<StoreData>,
    instance: wasmtime::Instance,
}

impl Instance for Session {
    fn refuel(&mut self, fuel: u64) -> Result<(), String> {
        self.store.set_fuel(fuel).map_err(|e| e.to_string())
    }

    fn call(&mut self, export: &str, args: &[Value]) -> Result<Vec<Value>, Trap> {
        let Some(func) = self.instance.get_func(&mut self.store, export) else {
            return Err(Trap::new(TrapKind::HostError, "no such exported function"));
        };
        let args: Vec<Val> = args.iter().map(to_val).collect();
        let mut results: Vec<Val> = func
            .ty(&self.store)
            .results()
            .map(|_| Val::I32(0))
            .collect();
        func.call(&mut self.store, &args, &mut results)
            .map_err(|e| classify(&e))?;
        Ok(results.iter().map(from_val).collect())
    }

    fn growth_refused(&mut self) -> bool {
        self.store.data_mut().cap.take_refused()
    }

    fn has_function(&mut self, name: &str) -> bool {
        self.instance.get_func(&mut self.store, name).is_some()
    }

    fn host(&mut self) -> &mut Host {
        self.store.data_mut().host()
    }

    fn exports(&mut self) -> Vec<ExportState> {
        let externs: Vec<(String, Extern)> = self
            .instance
            .exports(&mut self.store)
            .map(|e| (e.name().to_string(), e.into_extern()))
            .collect();
        let mut states = Vec::new();
        for (name, item) in externs {
            let value = match item {
                Extern::Memory(m) => ExportValue::Memory(m.data(&self.store).to_vec()),
                Extern::SharedMemory(m) => ExportValue::Memory(
                    // SAFETY: no other thread runs wasm in this store while the state is read.
                    m.data().iter().map(|cell| unsafe { *cell.get() }).collect(),
                ),
                Extern::Global(g) => ExportValue::Global(from_val(&g.get(&mut self.store))),
                Extern::Table(t) => {
                    let size = t.size(&self.store);
                    ExportValue::Table(
                        (0..size)
                            .map(|i| {
                                t.get(&mut self.store, i)
                                    .map_or(NULL_FUNC, |r| from_ref(&r))
                            })
                            .collect(),
                    )
                }
                Extern::Func(_) | Extern::Tag(_) => continue,
            };
            states.push(ExportState { name, value });
        }
        states
    }
}

const NULL_FUNC: Value = Value::Ref {
    heap: RefHeap::Func,
    null: true,
};

fn classify(error: &wasmtime::Error) -> Trap {
    if let Some(stop) = error.downcast_ref::<HostStop>() {
        return Trap::new(TrapKind::HostError, stop);
    }
    let Some(trap) = error.downcast_ref::<WasmtimeTrap>() else {
        return Trap::new(TrapKind::Unclassified, format!("{error:#}"));
    };
    let kind = match trap {
        WasmtimeTrap::StackOverflow => TrapKind::StackExhausted,
        WasmtimeTrap::MemoryOutOfBounds => TrapKind::MemoryOutOfBounds,
        WasmtimeTrap::HeapMisaligned => TrapKind::UnalignedAtomic,
        WasmtimeTrap::TableOutOfBounds => TrapKind::TableOutOfBounds,
        WasmtimeTrap::IndirectCallToNull => TrapKind::UndefinedElement,
        WasmtimeTrap::BadSignature => TrapKind::IndirectCallTypeMismatch,
        WasmtimeTrap::IntegerOverflow => TrapKind::IntegerOverflow,
        WasmtimeTrap::IntegerDivisionByZero => TrapKind::IntegerDivideByZero,
        WasmtimeTrap::BadConversionToInteger => TrapKind::InvalidConversion,
        WasmtimeTrap::UnreachableCodeReached => TrapKind::Unreachable,
        WasmtimeTrap::OutOfFuel => TrapKind::OutOfFuel,
        WasmtimeTrap::NullReference => TrapKind::NullReference,
        WasmtimeTrap::ArrayOutOfBounds => TrapKind::ArrayOutOfBounds,
        WasmtimeTrap::CastFailure => TrapKind::CastFailure,
        WasmtimeTrap::UnhandledTag => TrapKind::UncaughtException,
        WasmtimeTrap::AllocationTooLarge => TrapKind::ResourceLimit,
        _ => TrapKind::Unclassified,
    };
    Trap::new(kind, trap)
}

fn to_val(value: &Value) -> Val {
    match *value {
        Value::I32(v) => Val::I32(v),
        Value::I64(v) => Val::I64(v),
        Value::F32(bits) => Val::F32(bits),
        Value::F64(bits) => Val::F64(bits),
        Value::V128(bits) => Val::V128(bits.into()),
        // Only null references are ever passed (see `ValType::is_passable`).
        Value::Ref {
            heap: RefHeap::Extern,
            ..
        } => Val::ExternRef(None),
        Value::Ref {
            heap: RefHeap::Any, ..
        } => Val::AnyRef(None),
        Value::Ref {
            heap: RefHeap::Func,
            ..
        } => Val::FuncRef(None::<Func>),
    }
}

fn from_val(value: &Val) -> Value {
    match value {
        Val::I32(v) => Value::I32(*v),
        Val::I64(v) => Value::I64(*v),
        Val::F32(bits) => Value::F32(*bits),
        Val::F64(bits) => Value::F64(*bits),
        Val::V128(v) => Value::V128(v.as_u128()),
        Val::FuncRef(f) => Value::Ref {
            heap: RefHeap::Func,
            null: f.is_none(),
        },
        Val::ExternRef(r) => Value::Ref {
            heap: RefHeap::Extern,
            null: r.is_none(),
        },
        Val::AnyRef(r) => Value::Ref {
            heap: RefHeap::Any,
            null: r.is_none(),
        },
        Val::ExnRef(r) => Value::Ref {
            heap: RefHeap::Any,
            null: r.is_none(),
        },
        Val::ContRef(r) => Value::Ref {
            heap: RefHeap::Any,
            null: r.is_none(),
        },
    }
}

fn from_ref(r: &Ref) -> Value {
    let heap = match r {
        Ref::Func(_) => RefHeap::Func,
        Ref::Extern(_) => RefHeap::Extern,
        _ => RefHeap::Any,
    };
    Value::Ref {
        heap,
        null: r.is_null(),
    }
}
