//! wasmi: the register-machine interpreter, with eager or lazy translation.

use wasmdiff_gen::proxy::{HostFunction, host_imports};
use wasmdiff_gen::{Features, RefHeap, Value};
use wasmdiff_proxy::{Host, SliceGuest};
use wasmi::errors::{ErrorKind, InstantiationError, MemoryError, TableError};
use wasmi::{
    Caller, CompilationMode, Config, Extern, FuncType, Linker, Module, Ref, Store, TrapCode, Val,
    ValType,
};

use wasm_encoder::Instruction;
use wasmparser::Operator;

use super::{Backend, Cached, StoreData};
use crate::limits::{GrowthCap, Limits};
use crate::outcome::HostStop;
use crate::outcome::{Execution, ExportState, ExportValue, Instance, Trap, TrapKind};
use crate::rewrite::{Splice, rewrite_instructions};
use crate::{Abilities, Engine, EngineSpec, KnownBug, always_available};

/// Must match the pinned version in the workspace `Cargo.toml` (a test checks `Cargo.lock`).
pub const VERSION: &str = "2.0.0";

const FEATURES: Features = Features {
    saturating_float_to_int: true,
    sign_extension: true,
    multi_value: true,
    bulk_memory: true,
    reference_types: true,
    simd: true,
    // wasmi implements the spec's deterministic relaxed-SIMD semantics.
    relaxed_simd: true,
    tail_call: true,
    extended_const: true,
    multi_memory: true,
    memory64: true,
    custom_page_sizes: true,
    wide_arithmetic: true,
    ..Features::NONE
};

/// Found by this harness on its first campaign (reproducers in `corpus/regressions/`).
const KNOWN_BUGS: &[KnownBug] = &[
    KnownBug {
        id: "wasmi-2.0.0-select-eqz",
        description: "`select` whose condition is `i32.eqz c` (or `c == 0`, `c != 0`) is fused wrongly and can yield the other operand",
        // The comparison followed by `i32.const 1; i32.and` means the same but is not fused.
        workaround: |module| {
            rewrite_instructions(module, |op| {
                matches!(op, Operator::I32Eqz | Operator::I32Eq | Operator::I32Ne).then(|| {
                    Splice::Around {
                        before: vec![],
                        after: vec![Instruction::I32Const(1), Instruction::I32And],
                    }
                })
            })
        },
    },
    KnownBug {
        id: "wasmi-2.0.0-store-same-operand-panic",
        description: "the translator panics (unreachable!) on an integer store with an offset of 64 KiB or more whose address and value are the same computed local",
        // Storing `x | 0` instead of `x` means the same but is a different operand.
        workaround: |module| {
            rewrite_instructions(module, |op| {
                let before = match op {
                    Operator::I32Store { .. }
                    | Operator::I32Store8 { .. }
                    | Operator::I32Store16 { .. } => {
                        vec![Instruction::I32Const(0), Instruction::I32Or]
                    }
                    Operator::I64Store { .. }
                    | Operator::I64Store8 { .. }
                    | Operator::I64Store16 { .. }
                    | Operator::I64Store32 { .. } => {
                        vec![Instruction::I64Const(0), Instruction::I64Or]
                    }
                    _ => return None,
                };
                Some(Splice::Around {
                    before,
                    after: vec![],
                })
            })
        },
    },
];

pub const SPECS: &[EngineSpec] = &[
    EngineSpec {
        name: "wasmi-eager",
        engine: "wasmi",
        version: || VERSION.to_string(),
        description: "register-machine interpreter, eager translation",
        features: FEATURES,
        abilities: Abilities::ALL,
        default: true,
        available: always_available,
        known_bugs: KNOWN_BUGS,
        build: |limits| Wasmi::build(CompilationMode::Eager, limits),
    },
    EngineSpec {
        name: "wasmi-lazy",
        engine: "wasmi",
        version: || VERSION.to_string(),
        description: "register-machine interpreter, eager validation and lazy translation",
        features: FEATURES,
        abilities: Abilities::ALL,
        default: true,
        available: always_available,
        known_bugs: KNOWN_BUGS,
        build: |limits| Wasmi::build(CompilationMode::LazyTranslation, limits),
    },
];

struct Wasmi {
    engine: wasmi::Engine,
    /// Every proxy-wasm host function, for filters; other modules import nothing.
    linker: Linker<StoreData>,
}

impl Wasmi {
    fn build(mode: CompilationMode, limits: &Limits) -> anyhow::Result<Box<dyn Engine>> {
        let mut config = Config::default();
        config
            .consume_fuel(true)
            .compilation_mode(mode)
            .set_max_recursion_depth(limits.call_depth())
            .wasm_saturating_float_to_int(FEATURES.saturating_float_to_int)
            .wasm_sign_extension(FEATURES.sign_extension)
            .wasm_multi_value(FEATURES.multi_value)
            .wasm_bulk_memory(FEATURES.bulk_memory)
            .wasm_reference_types(FEATURES.reference_types)
            .wasm_simd(FEATURES.simd)
            .wasm_relaxed_simd(FEATURES.relaxed_simd)
            .wasm_tail_call(FEATURES.tail_call)
            .wasm_extended_const(FEATURES.extended_const)
            .wasm_multi_memory(FEATURES.multi_memory)
            .wasm_memory64(FEATURES.memory64)
            .wasm_custom_page_sizes(FEATURES.custom_page_sizes)
            .wasm_wide_arithmetic(FEATURES.wide_arithmetic);
        let engine = wasmi::Engine::new(&config);
        let mut linker = Linker::new(&engine);
        for (module, function) in host_imports() {
            let ty = FuncType::new(
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
        Ok(Box::new(Cached::new(Wasmi { engine, linker }, limits)))
    }
}

impl Backend for Wasmi {
    type Module = Module;
    type Session = Session;

    fn compile(&mut self, bytes: &[u8]) -> Result<Module, String> {
        Module::new(&self.engine, bytes).map_err(|e| e.to_string())
    }

    fn instantiate(
        &mut self,
        module: &Module,
        data: StoreData,
        limits: &Limits,
    ) -> Result<Session, Execution> {
        let mut store = Store::new(&self.engine, data);
        store.limiter(|data| &mut data.cap);
        // The start function runs under the same budget as a call.
        store
            .set_fuel(limits.fuel)
            .map_err(|e| Execution::panicked(e.to_string()))?;
        match self.linker.instantiate_and_start(&mut store, module) {
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

impl wasmi::errors::HostError for HostStop {}

/// A proxy-wasm host function, called by a filter.
fn host_call(
    caller: &mut Caller<'_, StoreData>,
    function: &'static HostFunction,
    params: &[Val],
    results: &mut [Val],
) -> Result<(), wasmi::Error> {
    let args: Vec<Value> = params.iter().map(from_val).collect();
    match wasmdiff_proxy::host::call(&mut CallerGuest(caller), function, &args) {
        Ok(values) => {
            for (slot, value) in results.iter_mut().zip(&values) {
                *slot = to_val(value);
            }
            Ok(())
        }
        // A nested call's own trap goes on unchanged.
        Err(trap) => Err(HostStop::of(trap).map_or_else(|nested| nested, wasmi::Error::host)),
    }
}

/// The filter, as the host sees it during a host call.
struct CallerGuest<'a, 'b>(&'a mut Caller<'b, StoreData>);

impl SliceGuest for CallerGuest<'_, '_> {
    type Trap = wasmi::Error;

    fn host(&mut self) -> &mut Host {
        self.0.data_mut().host()
    }

    fn memory(&mut self) -> &mut [u8] {
        match self.0.get_export("memory") {
            Some(Extern::Memory(memory)) => memory.data_mut(&mut *self.0),
            _ => &mut [],
        }
    }

    fn call(&mut self, export: &str, args: &[Value]) -> Option<Result<Vec<Value>, wasmi::Error>> {
        let func = self.0.get_export(export)?.into_func()?;
        let ty = func.ty(&*self.0);
        // An export of another signature is no allocator.
        let params: Vec<ValType> = args.iter().map(|a| val_type(&a.ty())).collect();
        if ty.params() != params.as_slice() {
            return None;
        }
        let args: Vec<Val> = args.iter().map(to_val).collect();
        let mut results: Vec<Val> = ty
            .results()
            .iter()
            .map(|t| Val::default_for_ty(*t))
            .collect();
        Some(
            func.call(&mut *self.0, &args, &mut results)
                .map(|()| results.iter().map(from_val).collect()),
        )
    }
}

impl wasmi::ResourceLimiter for GrowthCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        max: Option<usize>,
    ) -> Result<bool, wasmi_core::LimiterError> {
        Ok(self.allow_memory(desired, max))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        max: Option<usize>,
    ) -> Result<bool, wasmi_core::LimiterError> {
        Ok(self.allow_table(desired, max))
    }

    fn instances(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        usize::MAX
    }

    fn memories(&self) -> usize {
        usize::MAX
    }
}

pub(crate) struct Session {
    store: Store<StoreData>,
    instance: wasmi::Instance,
}

impl Instance for Session {
    fn refuel(&mut self, fuel: u64) -> Result<(), String> {
        self.store.set_fuel(fuel).map_err(|e| e.to_string())
    }

    fn call(&mut self, export: &str, args: &[Value]) -> Result<Vec<Value>, Trap> {
        let Some(func) = self.instance.get_func(&self.store, export) else {
            return Err(Trap::new(TrapKind::HostError, "no such exported function"));
        };
        let args: Vec<Val> = args.iter().map(to_val).collect();
        let mut results: Vec<Val> = func
            .ty(&self.store)
            .results()
            .iter()
            .map(|ty| Val::default_for_ty(*ty))
            .collect();
        func.call(&mut self.store, &args, &mut results)
            .map_err(|e| classify(&e))?;
        Ok(results.iter().map(from_val).collect())
    }

    fn growth_refused(&mut self) -> bool {
        self.store.data_mut().cap.take_refused()
    }

    fn has_function(&mut self, name: &str) -> bool {
        self.instance.get_func(&self.store, name).is_some()
    }

    fn host(&mut self) -> &mut Host {
        self.store.data_mut().host()
    }

    fn exports(&mut self) -> Vec<ExportState> {
        let externs: Vec<(String, Extern)> = self
            .instance
            .exports(&self.store)
            .map(|e| (e.name().to_string(), e.into_extern()))
            .collect();
        let mut states = Vec::new();
        for (name, item) in externs {
            let value = match item {
                Extern::Memory(m) => ExportValue::Memory(m.data(&self.store).to_vec()),
                Extern::Global(g) => ExportValue::Global(from_val(&g.get(&self.store))),
                Extern::Table(t) => ExportValue::Table(
                    (0..t.size(&self.store))
                        .map(|i| t.get(&self.store, i).map_or(NULL_FUNC, |r| from_ref(&r)))
                        .collect(),
                ),
                Extern::Func(_) => continue,
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

/// wasmi reports some spec traps as plain errors (an element segment that does not fit is an
/// `InstantiationError`, not a trap): they are classified here, as the trap they are.
fn classify(error: &wasmi::Error) -> Trap {
    if let Some(stop) = error.downcast_ref::<HostStop>() {
        return Trap::new(TrapKind::HostError, stop);
    }
    let kind = match error.kind() {
        ErrorKind::Instantiation(InstantiationError::ElementSegmentDoesNotFit { .. }) => {
            TrapKind::TableOutOfBounds
        }
        ErrorKind::Instantiation(InstantiationError::FailedToInstantiateMemory(
            MemoryError::OutOfBoundsAccess,
        )) => TrapKind::MemoryOutOfBounds,
        ErrorKind::Instantiation(InstantiationError::FailedToInstantiateTable(
            TableError::InitOutOfBounds,
        )) => TrapKind::TableOutOfBounds,
        kind => match kind.as_trap_code() {
            Some(TrapCode::UnreachableCodeReached) => TrapKind::Unreachable,
            Some(TrapCode::MemoryOutOfBounds) => TrapKind::MemoryOutOfBounds,
            Some(TrapCode::TableOutOfBounds) => TrapKind::TableOutOfBounds,
            Some(TrapCode::IndirectCallToNull) => TrapKind::UndefinedElement,
            Some(TrapCode::IntegerDivisionByZero) => TrapKind::IntegerDivideByZero,
            Some(TrapCode::IntegerOverflow) => TrapKind::IntegerOverflow,
            Some(TrapCode::BadConversionToInteger) => TrapKind::InvalidConversion,
            Some(TrapCode::StackOverflow) => TrapKind::StackExhausted,
            Some(TrapCode::BadSignature) => TrapKind::IndirectCallTypeMismatch,
            Some(TrapCode::OutOfFuel) => TrapKind::OutOfFuel,
            Some(TrapCode::GrowthOperationLimited | TrapCode::OutOfSystemMemory) => {
                TrapKind::ResourceLimit
            }
            _ => TrapKind::Unclassified,
        },
    };
    Trap::new(kind, error)
}

fn to_val(value: &Value) -> Val {
    match *value {
        Value::I32(v) => Val::I32(v),
        Value::I64(v) => Val::I64(v),
        Value::F32(bits) => Val::F32(wasmi::F32::from_bits(bits)),
        Value::F64(bits) => Val::F64(wasmi::F64::from_bits(bits)),
        Value::V128(bits) => Val::V128(bits.into()),
        // Only null references are ever passed (see `ValType::is_passable`).
        Value::Ref {
            heap: RefHeap::Extern,
            ..
        } => Val::default_for_ty(ValType::ExternRef),
        Value::Ref { .. } => Val::default_for_ty(ValType::FuncRef),
    }
}

fn from_val(value: &Val) -> Value {
    match value {
        Val::I32(v) => Value::I32(*v),
        Val::I64(v) => Value::I64(*v),
        Val::F32(v) => Value::F32(v.to_bits()),
        Val::F64(v) => Value::F64(v.to_bits()),
        Val::V128(v) => Value::V128(v.as_u128()),
        Val::FuncRef(f) => Value::Ref {
            heap: RefHeap::Func,
            null: f.is_null(),
        },
        Val::ExternRef(r) => Value::Ref {
            heap: RefHeap::Extern,
            null: r.is_null(),
        },
    }
}

fn from_ref(r: &Ref) -> Value {
    let heap = if r.is_func() {
        RefHeap::Func
    } else {
        RefHeap::Extern
    };
    Value::Ref {
        heap,
        null: r.is_null(),
    }
}
