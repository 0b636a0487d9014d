//! proxy-wasm filters on V8: the host runs here, the filter in node. Every import of the filter
//! is a synchronous call back to this process (see `v8.js`), and the host's reads and writes
//! of the filter's memory are requests over the same pipes: a read is a round trip, a write
//! is sent without an answer (node handles requests in order, so later reads see it).

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Instant;

use serde::Deserialize;
use wasmdiff_gen::proxy::{HostFunction, Scenario, host_imports};
use wasmdiff_gen::{ValType, Value};
use wasmdiff_proxy::{Guest, Host};
use wasmparser::{ExternalKind, Payload};

use super::{JsError, classify};
use crate::Limits;
use crate::outcome::HostStop;
use crate::outcome::{CrashKind, Execution, Trap, TrapKind};
use crate::progress::Stage;
use crate::remote::process::{Child, Failure};
use crate::sections::start_as_export;

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
enum FromNode {
    Host {
        host: usize,
        args: Vec<String>,
        memory: u64,
    },
    Returned {
        results: Vec<String>,
        memory: u64,
    },
    Threw {
        error: JsError,
        memory: u64,
    },
    Missing,
    Rejected {
        error: JsError,
    },
    InstantiationFailed {
        error: JsError,
    },
    Instantiated {
        exports: Vec<String>,
        memory: u64,
    },
}

/// A function export's parameter and result types.
type Signature = (Vec<ValType>, Vec<ValType>);

/// The filter in node, as the host and the driver see it.
struct Remote<'n> {
    node: &'n mut Child,
    host: Host,
    limits: Limits,
    exports: HashMap<String, Signature>,
    memory: u64,
    /// Why node stopped answering; nothing more is sent once this is set.
    failure: Option<Failure>,
    /// The trace event the current callback will be.
    event: usize,
}

/// What a filter needs before it goes to node: its exports' types, its start function made an
/// export, the job. Made once per filter, which comes back scenario after scenario.
pub(super) struct Prepared {
    original: Vec<u8>,
    module: Vec<u8>,
    job: Vec<u8>,
    exports: HashMap<String, Signature>,
}

impl Prepared {
    fn new(original: &[u8]) -> Result<Prepared, String> {
        let exports = signatures(original)?;
        let (module, start) = start_as_export(original);
        let imports: Vec<_> = host_imports()
            .map(|(module, f)| {
                let types = |types: &[ValType]| types.iter().map(js_type).collect::<Vec<_>>();
                (module, f.name, types(f.params), types(f.results))
            })
            .collect();
        let mut job = serde_json::json!({ "proxy": imports });
        if let Some(start) = &start {
            job["start"] = start.as_str().into();
        }
        Ok(Prepared {
            original: original.to_vec(),
            module,
            job: serde_json::to_vec(&job).expect("jobs serialize"),
            exports,
        })
    }
}

/// The host functions by the index node names them with.
fn functions() -> &'static [&'static HostFunction] {
    static FUNCTIONS: OnceLock<Vec<&'static HostFunction>> = OnceLock::new();
    FUNCTIONS.get_or_init(|| host_imports().map(|(_, f)| f).collect())
}

/// Runs a filter through `scenario` in `node`, preparing it unless `prepared` holds it; a
/// crash leaves `node` unusable (the caller starts another).
pub(super) fn run(
    node: &mut Child,
    prepared: &mut Option<Prepared>,
    module: &[u8],
    scenario: &Scenario,
    limits: &Limits,
) -> Result<Execution, Failure> {
    if let Err(message) = wasmdiff_proxy::resolve_imports(module, scenario.host) {
        return Ok(Execution::Rejected { message });
    }
    if prepared.as_ref().is_none_or(|p| p.original != module) {
        match Prepared::new(module) {
            Ok(filter) => *prepared = Some(filter),
            Err(message) => return Ok(Execution::Rejected { message }),
        }
    }
    let prepared = prepared.as_ref().expect("just prepared");
    node.send(&[&prepared.job, &prepared.module])?;
    let mut remote = Remote {
        node,
        host: Host::new(scenario),
        limits: *limits,
        exports: prepared.exports.clone(),
        memory: 0,
        failure: None,
        event: 0,
    };
    let answer = remote.answer();
    if let Some(failure) = remote.failure.take() {
        return Err(failure);
    }
    let execution = match answer {
        Some(FromNode::Rejected { error }) => Execution::Rejected {
            message: format!("{}: {}", error.name, error.message),
        },
        Some(FromNode::InstantiationFailed { error }) => Execution::InstantiationFailed {
            trap: trap_of(&error),
        },
        Some(FromNode::Instantiated { exports, memory }) => {
            remote.memory = memory;
            remote.exports.retain(|name, _| exports.contains(name));
            let trace = wasmdiff_proxy::drive(&mut remote, scenario);
            if remote.failure.is_none() {
                remote.send(&[br#"{"op":"end"}"#]);
            }
            match remote.failure.take() {
                Some(failure) => {
                    return Ok(Execution::crashed(
                        failure.kind,
                        failure.message,
                        Stage::Event(remote.event),
                    ));
                }
                None => Execution::Traced { trace },
            }
        }
        Some(_) => return Err(bad_answer("an answer out of turn to a proxy-wasm job")),
        None => unreachable!("no answer without a failure"),
    };
    Ok(execution)
}

fn bad_answer(message: impl Into<String>) -> Failure {
    Failure {
        kind: CrashKind::BadAnswer,
        message: message.into(),
    }
}

impl Remote<'_> {
    fn send(&mut self, frames: &[&[u8]]) {
        if self.failure.is_none()
            && let Err(failure) = self.node.send(frames)
        {
            self.failure = Some(failure);
        }
    }

    fn request(&mut self, request: serde_json::Value) {
        let request = serde_json::to_vec(&request).expect("requests serialize");
        self.send(&[&request]);
    }

    fn receive(&mut self) -> Option<Vec<u8>> {
        if self.failure.is_some() {
            return None;
        }
        let deadline = Instant::now() + self.limits.deadline();
        match self
            .node
            .receive(deadline, self.limits.process_memory_bytes)
        {
            Ok(frame) => Some(frame),
            Err(failure) => {
                self.failure = Some(failure);
                None
            }
        }
    }

    /// Node's next answer that is not a host call, serving the host calls before it; `None`
    /// once node has failed.
    fn answer(&mut self) -> Option<FromNode> {
        loop {
            let frame = self.receive()?;
            match serde_json::from_slice::<FromNode>(&frame) {
                Ok(FromNode::Host { host, args, memory }) => {
                    self.memory = memory;
                    let reply = self.host_call(host, &args);
                    self.request(reply);
                }
                Ok(answer) => return Some(answer),
                Err(e) => {
                    self.failure = Some(bad_answer(format!(
                        "node answered something unreadable: {e}"
                    )));
                    return None;
                }
            }
        }
    }

    /// Runs host function `index` for the filter: node's instruction to return or throw.
    fn host_call(&mut self, index: usize, args: &[String]) -> serde_json::Value {
        let Some(&function) = functions().get(index) else {
            return serde_json::json!({ "op": "trap", "message": "no such host function" });
        };
        let args: Option<Vec<Value>> = args
            .iter()
            .zip(function.params)
            .map(|(text, ty)| parse(text, *ty))
            .collect();
        let Some(args) = args.filter(|a| a.len() == function.params.len()) else {
            return serde_json::json!({ "op": "trap", "message": "unreadable host call arguments" });
        };
        match wasmdiff_proxy::host::call(self, function, &args) {
            Ok(results) => {
                let results: Vec<String> = results.iter().map(text).collect();
                serde_json::json!({ "op": "return", "results": results })
            }
            Err(trap) => match HostStop::of(trap) {
                Ok(stop) => serde_json::json!({ "op": "trap", "message": stop.0 }),
                Err(_nested) => serde_json::json!({ "op": "rethrow" }),
            },
        }
    }

    /// Calls an export; `None` if the filter has no function export of that name.
    fn invoke(&mut self, name: &str, args: &[Value]) -> Option<Result<Vec<Value>, Trap>> {
        let (_, results) = self.exports.get(name)?.clone();
        let args: Vec<(&str, String)> = args.iter().map(|a| (js_type(&a.ty()), text(a))).collect();
        self.request(serde_json::json!({ "op": "call", "name": name, "args": args }));
        match self.answer() {
            Some(FromNode::Returned {
                results: texts,
                memory,
            }) => {
                self.memory = memory;
                let values: Option<Vec<Value>> = texts
                    .iter()
                    .zip(&results)
                    .map(|(text, ty)| parse(text, *ty))
                    .collect();
                Some(
                    values
                        .filter(|v| v.len() == results.len())
                        .ok_or_else(|| Trap::new(TrapKind::Unclassified, "unreadable results")),
                )
            }
            Some(FromNode::Threw { error, memory }) => {
                self.memory = memory;
                Some(Err(trap_of(&error)))
            }
            Some(FromNode::Missing) => None,
            Some(_) => {
                self.failure = Some(bad_answer("an answer out of turn to a call"));
                Some(Err(lost()))
            }
            None => Some(Err(lost())),
        }
    }
}

/// What a call that never came back is, for the host and the driver (the run ends as a crash).
fn lost() -> Trap {
    Trap::new(TrapKind::HostError, "node stopped answering")
}

impl Guest for Remote<'_> {
    type Trap = Trap;

    fn host(&mut self) -> &mut Host {
        &mut self.host
    }

    fn memory_size(&mut self) -> u64 {
        self.memory
    }

    fn read(&mut self, ptr: u32, len: u32) -> Option<Vec<u8>> {
        self.request(serde_json::json!({ "op": "read", "ptr": ptr, "len": len }));
        self.receive().filter(|bytes| bytes.len() == len as usize)
    }

    fn write(&mut self, ptr: u32, bytes: &[u8]) -> bool {
        let request = serde_json::to_vec(&serde_json::json!({ "op": "write", "ptr": ptr }))
            .expect("requests serialize");
        self.send(&[&request, bytes]);
        self.failure.is_none()
    }

    fn call(&mut self, export: &str, args: &[Value]) -> Option<Result<Vec<Value>, Trap>> {
        // An export of another signature is no allocator.
        let (params, _) = self.exports.get(export)?;
        if !params
            .iter()
            .eq(args.iter().map(|a| a.ty()).collect::<Vec<_>>().iter())
        {
            return None;
        }
        self.invoke(export, args)
    }
}

impl wasmdiff_proxy::Vm for Remote<'_> {
    type Trap = Trap;

    fn host(&mut self) -> &mut Host {
        &mut self.host
    }

    fn has_export(&mut self, name: &str) -> bool {
        self.exports.contains_key(name)
    }

    fn at_event(&mut self, index: usize) {
        self.event = index;
    }

    fn call(&mut self, name: &str, args: &[Value]) -> Result<Vec<Value>, Trap> {
        self.invoke(name, args)
            .unwrap_or_else(|| Err(Trap::new(TrapKind::HostError, "no such exported function")))
    }
}

/// A trap as the other engines report it: the host's own stops are host errors.
fn trap_of(error: &JsError) -> Trap {
    if error.name == "HostStop" {
        Trap::new(TrapKind::HostError, &error.message)
    } else {
        classify(error)
    }
}

fn js_type(ty: &ValType) -> &'static str {
    match ty {
        ValType::I64 => "i64",
        ValType::F32 => "f32",
        ValType::F64 => "f64",
        _ => "i32",
    }
}

/// A value as node's `Number`/`BigInt` reads it (proxy-wasm passes only integers).
fn text(value: &Value) -> String {
    match value {
        Value::I32(v) => v.to_string(),
        Value::I64(v) => v.to_string(),
        Value::F32(bits) => f32::from_bits(*bits).to_string(),
        Value::F64(bits) => f64::from_bits(*bits).to_string(),
        other => other.to_string(),
    }
}

fn parse(text: &str, ty: ValType) -> Option<Value> {
    match ty {
        ValType::I32 => text.parse().ok().map(Value::I32),
        ValType::I64 => text.parse().ok().map(Value::I64),
        ValType::F32 => text.parse::<f32>().ok().map(|f| Value::F32(f.to_bits())),
        ValType::F64 => text.parse::<f64>().ok().map(|f| Value::F64(f.to_bits())),
        _ => None,
    }
}

/// The module's function exports with their types.
fn signatures(module: &[u8]) -> Result<HashMap<String, Signature>, String> {
    let types = wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(module)
        .map_err(|e| e.to_string())?;
    let mut exports = HashMap::new();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        let Payload::ExportSection(reader) = payload.map_err(|e| e.to_string())? else {
            continue;
        };
        for export in reader {
            let export = export.map_err(|e| e.to_string())?;
            if export.kind != ExternalKind::Func {
                continue;
            }
            let types = types.as_ref();
            let ty = types[types.core_function_at(export.index)].unwrap_func();
            let convert = |types: &[wasmparser::ValType]| {
                types
                    .iter()
                    .map(|t| ValType::from_wasmparser(*t))
                    .collect::<Vec<_>>()
            };
            exports.insert(
                export.name.to_string(),
                (convert(ty.params()), convert(ty.results())),
            );
        }
    }
    Ok(exports)
}
