//! wasmer, in this process: its Cranelift and Singlepass compilers. Fuel is wasmer's metering
//! middleware (one point per operator); running out of points shows as `unreachable`, told
//! apart by asking for the points left.
//!
//! 7.4.x pins a Cranelift that cannot share a build with wasmtime's, so this is 7.3.0. The
//! harness's memory and table caps are not applied here (wasmer has no growth hook to report
//! a refusal): generated modules declare small maxima, and where a module outgrows the caps
//! the capped engines' refusal makes the comparison inconclusive anyway.

use std::sync::Arc;

use wasmdiff_gen::proxy::{HostFunction, host_imports};
use wasmdiff_gen::{Features, RefHeap, Value};
use wasmdiff_proxy::{Host, SliceGuest};
use wasmer::sys::vm::TrapCode;
use wasmer::sys::{CompilerConfig, Cranelift, EngineBuilder, Singlepass};
use wasmer::{
    Extern, Function, FunctionEnv, FunctionEnvMut, FunctionType, Imports, InstantiationError,
    LinkError, Module, RuntimeError, Store, Type,
};
use wasmer_middlewares::Metering;
use wasmer_middlewares::metering::{MeteringPoints, get_remaining_points, set_remaining_points};

use super::{Backend, Cached, StoreData};
use crate::limits::Limits;
use crate::outcome::HostStop;
use crate::outcome::{Execution, ExportState, ExportValue, Instance, Trap, TrapKind};
use crate::{Abilities, Engine, EngineSpec, Isolation, KnownBug, always_available};

/// Must match the pinned version in the workspace `Cargo.toml` (a test checks `Cargo.lock`).
pub const VERSION: &str = "7.3.0";

/// wasmer's default proposals (threads aside: no shared memories here).
const CRANELIFT: Features = Features {
    saturating_float_to_int: true,
    sign_extension: true,
    multi_value: true,
    bulk_memory: true,
    reference_types: true,
    simd: true,
    extended_const: true,
    multi_memory: true,
    ..Features::NONE
};

/// Singlepass has no SIMD.
const SINGLEPASS: Features = Features {
    simd: false,
    ..CRANELIFT
};

#[derive(Clone, Copy)]
enum Compiler {
    Cranelift,
    Singlepass,
}

/// wasmer has no hook to refuse a table's growth: `table.grow` by a large delta allocates it
/// all (a mutated spec module asked for 32 GiB), and a failed allocation aborts the process.
/// So wasmer runs in a worker, where that is a crash finding. Fuel by its metering
/// middleware; no growth hook, so only declared maxima bound growth.
const ABILITIES: Abilities = Abilities {
    growth_caps: false,
    runs: Isolation::Required,
    ..Abilities::ALL
};

const KNOWN_BUGS: &[KnownBug] = &[KnownBug {
    id: "wasmer-7.3.0-huge-table-grow-aborts",
    description: "`table.grow` of a table without a maximum by billions of elements allocates them all, and the failed allocation aborts the process (where growth may fail with -1)",
    // Growth past the harness's table cap answers -1 first: what the spec allows.
    workaround: |module| {
        crate::rewrite::bounded_table_growth(module, Limits::default().table_elements as u32)
    },
}];

pub const SPECS: &[EngineSpec] = &[
    EngineSpec {
        name: "wasmer-cranelift",
        engine: "wasmer",
        version: || VERSION.to_string(),
        description: "wasmer with its Cranelift compiler",
        features: CRANELIFT,
        abilities: ABILITIES,
        default: true,
        known_bugs: KNOWN_BUGS,
        available: always_available,
        build: |limits| Wasmer::build(Compiler::Cranelift, CRANELIFT, limits),
    },
    EngineSpec {
        name: "wasmer-singlepass",
        engine: "wasmer",
        version: || VERSION.to_string(),
        description: "wasmer with its Singlepass (baseline) compiler",
        features: SINGLEPASS,
        abilities: ABILITIES,
        default: true,
        known_bugs: KNOWN_BUGS,
        available: always_available,
        build: |limits| Wasmer::build(Compiler::Singlepass, SINGLEPASS, limits),
    },
];

struct Wasmer {
    compiler: Compiler,
    features: Features,
    fuel: u64,
}

impl Wasmer {
    fn build(
        compiler: Compiler,
        features: Features,
        limits: &Limits,
    ) -> anyhow::Result<Box<dyn Engine>> {
        let wasmer = Wasmer {
            compiler,
            features,
            fuel: limits.fuel,
        };
        Ok(Box::new(Cached::new(wasmer, limits)))
    }

    /// An engine for one module: a metering middleware serves a single module.
    fn engine(&self) -> wasmer::Engine {
        let metering = Arc::new(Metering::new(
            self.fuel,
            |_: &wasmer::wasmparser::Operator| 1,
        ));
        let mut proposals = wasmer::sys::Features::none();
        proposals
            .multi_value(self.features.multi_value)
            .bulk_memory(self.features.bulk_memory)
            .reference_types(self.features.reference_types)
            .simd(self.features.simd)
            .extended_const(self.features.extended_const)
            .multi_memory(self.features.multi_memory);
        let engine = match self.compiler {
            Compiler::Cranelift => {
                let mut config = Cranelift::new();
                config.push_middleware(metering);
                EngineBuilder::new(config)
                    .set_features(Some(proposals))
                    .engine()
            }
            Compiler::Singlepass => {
                let mut config = Singlepass::new();
                config.push_middleware(metering);
                EngineBuilder::new(config)
                    .set_features(Some(proposals))
                    .engine()
            }
        };
        engine.into()
    }
}

/// What a wasmer store holds for host functions: the store data and, once instantiated, the
/// instance (for the filter's memory and allocator).
struct Env {
    data: StoreData,
    instance: Option<wasmer::Instance>,
}

impl Backend for Wasmer {
    /// A compiled module and the engine that compiled it (its store needs that engine).
    type Module = (Module, wasmer::Engine);
    type Session = Session;
    // The host functions' environment gets the instance only from `Instance::new`'s result.
    const START_BEFORE_INSTANCE: bool = true;

    fn compile(&mut self, bytes: &[u8]) -> Result<(Module, wasmer::Engine), String> {
        let engine = self.engine();
        let module = Module::new(&engine, bytes).map_err(|e| e.to_string())?;
        Ok((module, engine))
    }

    fn instantiate(
        &mut self,
        (module, engine): &(Module, wasmer::Engine),
        data: StoreData,
        _limits: &Limits,
    ) -> Result<Session, Execution> {
        let mut store = Store::new(engine.clone());
        let env = FunctionEnv::new(
            &mut store,
            Env {
                data,
                instance: None,
            },
        );
        let mut imports = Imports::new();
        for (module, function) in host_imports() {
            let ty = FunctionType::new(
                function.params.iter().map(val_type).collect::<Vec<_>>(),
                function.results.iter().map(val_type).collect::<Vec<_>>(),
            );
            let host = Function::new_with_env(&mut store, &env, ty, move |env, args| {
                host_call(env, function, args)
            });
            imports.define(module, function.name, host);
        }
        match wasmer::Instance::new(&mut store, module, &imports) {
            Ok(instance) => {
                env.as_mut(&mut store).instance = Some(instance.clone());
                Ok(Session {
                    store,
                    instance,
                    env,
                })
            }
            Err(e) => Err(Execution::InstantiationFailed {
                trap: match e {
                    InstantiationError::Start(error)
                    | InstantiationError::Link(LinkError::Trap(error)) => classify(error, None),
                    InstantiationError::Link(LinkError::Resource(message)) => {
                        Trap::new(TrapKind::ResourceLimit, message)
                    }
                    other => Trap::new(TrapKind::Unclassified, other),
                },
            }),
        }
    }
}

fn val_type(ty: &wasmdiff_gen::ValType) -> Type {
    match ty {
        wasmdiff_gen::ValType::I64 => Type::I64,
        _ => Type::I32,
    }
}

/// A proxy-wasm host function, called by a filter.
fn host_call(
    mut env: FunctionEnvMut<Env>,
    function: &'static HostFunction,
    params: &[wasmer::Value],
) -> Result<Vec<wasmer::Value>, RuntimeError> {
    let args: Vec<Value> = params.iter().map(from_val).collect();
    match wasmdiff_proxy::host::call(&mut EnvGuest(&mut env), function, &args) {
        Ok(values) => Ok(values.iter().map(to_val).collect()),
        // A nested call's own trap goes on unchanged.
        Err(trap) => Err(HostStop::of(trap)
            .map_or_else(|nested| nested, |stop| RuntimeError::user(Box::new(stop)))),
    }
}

/// The filter, as the host sees it during a host call.
struct EnvGuest<'a, 'b>(&'a mut FunctionEnvMut<'b, Env>);

impl SliceGuest for EnvGuest<'_, '_> {
    type Trap = RuntimeError;

    fn host(&mut self) -> &mut Host {
        self.0.data_mut().data.host()
    }

    fn memory(&mut self) -> &mut [u8] {
        let (env, store) = self.0.data_and_store_mut();
        let Some(memory) = env
            .instance
            .as_ref()
            .and_then(|i| i.exports.get_memory("memory").ok())
        else {
            return &mut [];
        };
        let view = memory.view(&store);
        // SAFETY: the memory outlives this borrow of the host call's environment, and no wasm
        // code runs (nor grows the memory) while the host holds the slice.
        unsafe { std::slice::from_raw_parts_mut(view.data_ptr(), view.data_size() as usize) }
    }

    fn call(&mut self, export: &str, args: &[Value]) -> Option<Result<Vec<Value>, RuntimeError>> {
        let (env, mut store) = self.0.data_and_store_mut();
        let func = env
            .instance
            .as_ref()?
            .exports
            .get_function(export)
            .ok()?
            .clone();
        // An export of another signature is no allocator.
        let params: Vec<Type> = args.iter().map(|a| val_type(&a.ty())).collect();
        if func.ty(&store).params() != params.as_slice() {
            return None;
        }
        let args: Vec<wasmer::Value> = args.iter().map(to_val).collect();
        Some(
            func.call(&mut store, &args)
                .map(|results| results.iter().map(from_val).collect()),
        )
    }
}

pub(crate) struct Session {
    store: Store,
    instance: wasmer::Instance,
    env: FunctionEnv<Env>,
}

impl Instance for Session {
    fn refuel(&mut self, fuel: u64) -> Result<(), String> {
        set_remaining_points(&mut self.store, &self.instance, fuel);
        Ok(())
    }

    fn call(&mut self, export: &str, args: &[Value]) -> Result<Vec<Value>, Trap> {
        let Ok(func) = self.instance.exports.get_function(export) else {
            return Err(Trap::new(TrapKind::HostError, "no such exported function"));
        };
        let args: Vec<wasmer::Value> = args.iter().map(to_val).collect();
        match func.call(&mut self.store, &args) {
            Ok(results) => Ok(results.iter().map(from_val).collect()),
            Err(error) => {
                let points = get_remaining_points(&mut self.store, &self.instance);
                Err(classify(error, Some(points)))
            }
        }
    }

    fn growth_refused(&mut self) -> bool {
        self.env.as_mut(&mut self.store).data.cap.take_refused()
    }

    fn has_function(&mut self, name: &str) -> bool {
        self.instance.exports.get_function(name).is_ok()
    }

    fn host(&mut self) -> &mut Host {
        self.env.as_mut(&mut self.store).data.host()
    }

    fn exports(&mut self) -> Vec<ExportState> {
        // The metering middleware exports its own globals: they are not the module's.
        let externs: Vec<(String, Extern)> = self
            .instance
            .exports
            .iter()
            .filter(|(name, _)| !name.starts_with("wasmer_metering_"))
            .map(|(name, item)| (name.clone(), item.clone()))
            .collect();
        let mut states = Vec::new();
        for (name, item) in externs {
            let value = match item {
                Extern::Memory(m) => {
                    ExportValue::Memory(m.view(&self.store).copy_to_vec().unwrap_or_default())
                }
                Extern::Global(g) => ExportValue::Global(from_val(&g.get(&mut self.store))),
                Extern::Table(t) => ExportValue::Table(
                    (0..t.size(&self.store))
                        .map(|i| {
                            t.get(&mut self.store, i).map_or(
                                Value::Ref {
                                    heap: RefHeap::Func,
                                    null: true,
                                },
                                |v| from_val(&v),
                            )
                        })
                        .collect(),
                ),
                Extern::Function(_) | Extern::Tag(_) => continue,
            };
            states.push(ExportState { name, value });
        }
        states
    }
}

/// wasmer's errors in the shared classification; `points` tells an exhausted meter from a
/// real `unreachable`.
fn classify(error: RuntimeError, points: Option<MeteringPoints>) -> Trap {
    if let Some(stop) = error.downcast_ref::<HostStop>() {
        return Trap::new(TrapKind::HostError, stop);
    }
    let message = error.message();
    let kind = match error.to_trap() {
        Some(TrapCode::UnreachableCodeReached)
            if matches!(points, Some(MeteringPoints::Exhausted)) =>
        {
            TrapKind::OutOfFuel
        }
        Some(TrapCode::StackOverflow) => TrapKind::StackExhausted,
        Some(TrapCode::HeapAccessOutOfBounds) => TrapKind::MemoryOutOfBounds,
        Some(TrapCode::HeapMisaligned | TrapCode::UnalignedAtomic) => TrapKind::UnalignedAtomic,
        Some(TrapCode::TableAccessOutOfBounds) => TrapKind::TableOutOfBounds,
        Some(TrapCode::IndirectCallToNull) => TrapKind::UndefinedElement,
        Some(TrapCode::BadSignature) => TrapKind::IndirectCallTypeMismatch,
        Some(TrapCode::IntegerOverflow) => TrapKind::IntegerOverflow,
        Some(TrapCode::IntegerDivisionByZero) => TrapKind::IntegerDivideByZero,
        Some(TrapCode::BadConversionToInteger) => TrapKind::InvalidConversion,
        Some(TrapCode::UnreachableCodeReached) => TrapKind::Unreachable,
        Some(TrapCode::UncaughtException) => TrapKind::UncaughtException,
        _ => TrapKind::Unclassified,
    };
    Trap::new(kind, message)
}

fn to_val(value: &Value) -> wasmer::Value {
    match *value {
        Value::I32(v) => wasmer::Value::I32(v),
        Value::I64(v) => wasmer::Value::I64(v),
        Value::F32(bits) => wasmer::Value::F32(f32::from_bits(bits)),
        Value::F64(bits) => wasmer::Value::F64(f64::from_bits(bits)),
        Value::V128(bits) => wasmer::Value::V128(bits),
        // Only null references are ever passed (see `ValType::is_passable`).
        Value::Ref {
            heap: RefHeap::Extern,
            ..
        } => wasmer::Value::ExternRef(None),
        Value::Ref { .. } => wasmer::Value::FuncRef(None),
    }
}

fn from_val(value: &wasmer::Value) -> Value {
    match value {
        wasmer::Value::I32(v) => Value::I32(*v),
        wasmer::Value::I64(v) => Value::I64(*v),
        wasmer::Value::F32(v) => Value::F32(v.to_bits()),
        wasmer::Value::F64(v) => Value::F64(v.to_bits()),
        wasmer::Value::V128(v) => Value::V128(*v),
        wasmer::Value::FuncRef(f) => Value::Ref {
            heap: RefHeap::Func,
            null: f.is_none(),
        },
        wasmer::Value::ExternRef(r) => Value::Ref {
            heap: RefHeap::Extern,
            null: r.is_none(),
        },
        wasmer::Value::ExceptionRef(r) => Value::Ref {
            heap: RefHeap::Any,
            null: r.is_none(),
        },
    }
}
