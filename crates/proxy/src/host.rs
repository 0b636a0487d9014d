//! The host: its state, and every host function, over the [`Guest`] interface each engine
//! adapts to. Every guest pointer and length is checked (with overflow) before use: a hostile
//! filter gets a status or a defined trap, never a host panic or an access outside its memory.

use std::collections::{BTreeMap, VecDeque};

use wasmdiff_gen::Value;
use wasmdiff_gen::proxy::{AbiFunction, Bytes, CalloutResponse, Pairs, Scenario};
use wasmdiff_gen::rng::SplitMix64;

use crate::abi::{self, buffer, errno, map, metric, status};
use crate::maps;
use crate::trace::{
    Callout, FinalState, Forwarded, HostResult, LocalResponse, Metric, Queue, StreamEnd,
    StreamRecord,
};

/// What an engine gives the host while a host function runs.
pub trait Guest {
    /// The engine's trap, re-raised unchanged when a nested guest call traps.
    type Trap;
    fn host(&mut self) -> &mut Host;
    /// The filter's exported memory (empty if it has none).
    fn memory(&mut self) -> &mut [u8];
    /// Calls a filter export (the allocator); `None` if there is no such export.
    fn call(&mut self, export: &str, args: &[Value]) -> Option<Result<Vec<Value>, Self::Trap>>;
}

/// Why a host function traps the filter.
#[derive(Debug)]
pub enum HostTrap<T> {
    /// `proc_exit(code)`.
    Exit(i32),
    /// A nested call into the filter (its allocator) trapped.
    Guest(T),
    /// The host itself panicked: a bug in this host, recorded in the final state.
    Panic(String),
}

/// A host call that was recorded: see [`crate::trace::Event::Host`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostCall {
    pub name: &'static str,
    pub args: Vec<Value>,
    pub read: Vec<u8>,
    pub wrote: Vec<u8>,
    pub result: HostResult,
}

/// One HTTP stream's state.
#[derive(Clone, Debug, Default)]
pub(crate) struct StreamState {
    pub request_headers: Pairs,
    pub request_trailers: Pairs,
    pub response_headers: Pairs,
    pub response_trailers: Pairs,
    /// Body bytes buffered (not yet forwarded) in each direction.
    pub request_body: Vec<u8>,
    pub response_body: Vec<u8>,
    pub forwarded_request_body: Vec<u8>,
    pub forwarded_response_body: Vec<u8>,
    pub local_response: Option<LocalResponse>,
    /// `proxy_continue_stream` for the request / the response, since the driver last looked.
    pub continued: [bool; 2],
    pub closed: bool,
    pub end: Option<StreamEnd>,
}

/// The host's state for one run of a filter (one VM): scenario, traffic, shared data, queues,
/// metrics, callouts, and the host calls made so far.
pub struct Host {
    start_nanos: u64,
    pub(crate) now_nanos: u64,
    rng: SplitMix64,
    log_level: u32,
    environment: Pairs,
    vm_configuration: Bytes,
    plugin_configuration: Bytes,
    properties: Pairs,
    properties_set: Pairs,
    pub(crate) effective_context: u32,
    pub(crate) streams: Vec<StreamState>,
    /// The response being delivered, during `proxy_on_http_call_response`.
    pub(crate) callout_response: Option<CalloutResponse>,
    callouts: Vec<Callout>,
    /// HTTP callouts whose responses the driver has not delivered yet.
    pub(crate) pending_callouts: VecDeque<u32>,
    shared_data: BTreeMap<Bytes, (Bytes, u32)>,
    cas: u32,
    queues: Vec<(Queue, u32)>,
    /// Queues with items to announce with `proxy_on_queue_ready`.
    pub(crate) queue_ready: VecDeque<u32>,
    metrics: Vec<Metric>,
    tick_period_ms: u32,
    logs: Vec<(u32, Bytes)>,
    calls: Vec<HostCall>,
    host_panics: Vec<String>,
}

/// Streams' context ids start after the root context's.
pub(crate) fn stream_context(index: usize) -> u32 {
    abi::ROOT_CONTEXT + 1 + index as u32
}

impl Host {
    pub fn new(scenario: &Scenario) -> Host {
        Host {
            start_nanos: scenario.time_nanos,
            now_nanos: scenario.time_nanos,
            rng: SplitMix64(scenario.random_seed),
            log_level: scenario.log_level,
            environment: scenario.environment.clone(),
            vm_configuration: scenario.vm_configuration.clone(),
            plugin_configuration: scenario.plugin_configuration.clone(),
            properties: scenario.properties.clone(),
            properties_set: Vec::new(),
            effective_context: abi::ROOT_CONTEXT,
            streams: Vec::new(),
            callout_response: None,
            callouts: Vec::new(),
            pending_callouts: VecDeque::new(),
            shared_data: BTreeMap::new(),
            cas: 0,
            queues: Vec::new(),
            queue_ready: VecDeque::new(),
            metrics: Vec::new(),
            tick_period_ms: 0,
            logs: Vec::new(),
            calls: Vec::new(),
            host_panics: Vec::new(),
        }
    }

    /// The host calls recorded since the last time this was asked.
    pub fn take_calls(&mut self) -> Vec<HostCall> {
        std::mem::take(&mut self.calls)
    }

    pub(crate) fn tick_period_ms(&self) -> u32 {
        self.tick_period_ms
    }

    pub(crate) fn callout(&self, id: u32) -> Option<&Callout> {
        self.callouts.iter().find(|c| c.id == id)
    }

    /// The stream of the effective context, if it is a stream.
    pub(crate) fn stream(&mut self) -> Option<&mut StreamState> {
        let index = self.effective_context.checked_sub(abi::ROOT_CONTEXT + 1)?;
        self.streams.get_mut(index as usize)
    }

    fn map(&mut self, map_type: u32) -> Result<&mut Pairs, u32> {
        match map_type {
            map::HTTP_REQUEST_HEADERS => self.stream().map(|s| &mut s.request_headers),
            map::HTTP_REQUEST_TRAILERS => self.stream().map(|s| &mut s.request_trailers),
            map::HTTP_RESPONSE_HEADERS => self.stream().map(|s| &mut s.response_headers),
            map::HTTP_RESPONSE_TRAILERS => self.stream().map(|s| &mut s.response_trailers),
            map::HTTP_CALL_RESPONSE_HEADERS => {
                self.callout_response.as_mut().map(|r| &mut r.headers)
            }
            map::HTTP_CALL_RESPONSE_TRAILERS => {
                self.callout_response.as_mut().map(|r| &mut r.trailers)
            }
            map::GRPC_RECEIVE_INITIAL_METADATA | map::GRPC_RECEIVE_TRAILING_METADATA => None,
            _ => return Err(status::BAD_ARGUMENT),
        }
        .ok_or(status::NOT_FOUND)
    }

    /// A buffer, and whether the filter may change it.
    fn buffer(&mut self, buffer_type: u32) -> Result<(&mut Vec<u8>, bool), u32> {
        match buffer_type {
            buffer::HTTP_REQUEST_BODY => self.stream().map(|s| (&mut s.request_body, true)),
            buffer::HTTP_RESPONSE_BODY => self.stream().map(|s| (&mut s.response_body, true)),
            buffer::HTTP_CALL_RESPONSE_BODY => self
                .callout_response
                .as_mut()
                .map(|r| (&mut r.body.0, true)),
            buffer::VM_CONFIGURATION => Some((&mut self.vm_configuration.0, false)),
            buffer::PLUGIN_CONFIGURATION => Some((&mut self.plugin_configuration.0, false)),
            buffer::DOWNSTREAM_DATA
            | buffer::UPSTREAM_DATA
            | buffer::GRPC_CALL_MESSAGE
            | buffer::FOREIGN_FUNCTION_ARGUMENTS => None,
            _ => return Err(status::BAD_ARGUMENT),
        }
        .ok_or(status::NOT_FOUND)
    }

    fn environment_strings(&self) -> Vec<Vec<u8>> {
        self.environment
            .iter()
            .map(|(k, v)| [&k.0[..], b"=", &v.0[..], b"\0"].concat())
            .collect()
    }

    /// The final state, once the run is over.
    pub fn final_state(&self) -> FinalState {
        FinalState {
            streams: self
                .streams
                .iter()
                .enumerate()
                .map(|(i, s)| StreamRecord {
                    context: stream_context(i),
                    request: Forwarded {
                        headers: s.request_headers.clone(),
                        body: Bytes(s.forwarded_request_body.clone()),
                        trailers: s.request_trailers.clone(),
                    },
                    response: Forwarded {
                        headers: s.response_headers.clone(),
                        body: Bytes(s.forwarded_response_body.clone()),
                        trailers: s.response_trailers.clone(),
                    },
                    local_response: s.local_response.clone(),
                    end: s.end.clone().unwrap_or(StreamEnd::NotStarted),
                })
                .collect(),
            callouts: self.callouts.clone(),
            logs: self.logs.clone(),
            metrics: self.metrics.clone(),
            shared_data: self
                .shared_data
                .iter()
                .map(|(k, (v, cas))| (k.clone(), v.clone(), *cas))
                .collect(),
            queues: self.queues.iter().map(|(q, _)| q.clone()).collect(),
            tick_period_ms: self.tick_period_ms,
            properties: self.properties_set.clone(),
            host_panics: self.host_panics.clone(),
        }
    }
}

/// Why a host function stops early: a status for the filter, or a trap.
enum Stop<T> {
    Status(u32),
    Trap(HostTrap<T>),
}

impl<T> From<u32> for Stop<T> {
    fn from(status: u32) -> Stop<T> {
        Stop::Status(status)
    }
}

/// One host call in progress: the guest, and what was read and written, for the trace.
struct Call<'g, G: Guest> {
    guest: &'g mut G,
    read: Vec<u8>,
    wrote: Vec<u8>,
    /// The status for guest memory faults: `INVALID_MEMORY_ACCESS`, or WASI's `FAULT`.
    fault: u32,
}

fn range(ptr: u32, len: u32, memory: usize) -> Option<std::ops::Range<usize>> {
    let end = (ptr as usize).checked_add(len as usize)?;
    (end <= memory).then_some(ptr as usize..end)
}

impl<G: Guest> Call<'_, G> {
    fn host(&mut self) -> &mut Host {
        self.guest.host()
    }

    fn read(&mut self, ptr: u32, len: u32) -> Result<Vec<u8>, Stop<G::Trap>> {
        let memory = self.guest.memory();
        let range = range(ptr, len, memory.len()).ok_or(Stop::Status(self.fault))?;
        let bytes = memory[range].to_vec();
        self.read.extend_from_slice(&bytes);
        Ok(bytes)
    }

    fn read_u32(&mut self, ptr: u32) -> Result<u32, Stop<G::Trap>> {
        let bytes = self.read(ptr, 4)?;
        Ok(u32::from_le_bytes(bytes.try_into().expect("four bytes")))
    }

    fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), Stop<G::Trap>> {
        let len = u32::try_from(bytes.len()).map_err(|_| Stop::Status(self.fault))?;
        let memory = self.guest.memory();
        let range = range(ptr, len, memory.len()).ok_or(Stop::Status(self.fault))?;
        memory[range].copy_from_slice(bytes);
        self.wrote.extend_from_slice(bytes);
        Ok(())
    }

    fn write_u32(&mut self, ptr: u32, value: u32) -> Result<(), Stop<G::Trap>> {
        self.write(ptr, &value.to_le_bytes())
    }

    /// Hands `data` to the filter: allocated in the guest by its allocator, then pointer and
    /// size written through the out-pointers. Empty data is a null pointer with size 0, and
    /// no allocation.
    fn give(&mut self, data: &[u8], data_pp: u32, size_p: u32) -> Result<(), Stop<G::Trap>> {
        let size = u32::try_from(data.len()).map_err(|_| Stop::Status(status::INTERNAL_FAILURE))?;
        let ptr = if size == 0 { 0 } else { self.allocate(size)? };
        if size > 0 {
            self.write(ptr, data)?;
        }
        self.write_u32(data_pp, ptr)?;
        self.write_u32(size_p, size)
    }

    fn allocate(&mut self, size: u32) -> Result<u32, Stop<G::Trap>> {
        let args = [Value::I32(size as i32)];
        let result = match self.guest.call("proxy_on_memory_allocate", &args) {
            Some(result) => result,
            None => self
                .guest
                .call("malloc", &args)
                .ok_or(Stop::Status(status::INVALID_MEMORY_ACCESS))?,
        };
        match result
            .map_err(|trap| Stop::Trap(HostTrap::Guest(trap)))?
            .as_slice()
        {
            // A null or out-of-memory pointer from a broken allocator is refused, not used.
            [Value::I32(ptr)]
                if *ptr != 0 && range(*ptr as u32, size, self.guest.memory().len()).is_some() =>
            {
                Ok(*ptr as u32)
            }
            _ => Err(Stop::Status(status::INVALID_MEMORY_ACCESS)),
        }
    }

    fn read_map(&mut self, ptr: u32, len: u32) -> Result<Pairs, Stop<G::Trap>> {
        let data = self.read(ptr, len)?;
        maps::deserialize(&data).ok_or(Stop::Status(status::BAD_ARGUMENT))
    }
}

fn arg(args: &[Value], i: usize) -> u32 {
    match args.get(i) {
        Some(Value::I32(v)) => *v as u32,
        Some(Value::I64(v)) => *v as u32,
        _ => 0,
    }
}

fn arg64(args: &[Value], i: usize) -> i64 {
    match args.get(i) {
        Some(Value::I64(v)) => *v,
        Some(Value::I32(v)) => i64::from(*v),
        _ => 0,
    }
}

/// Runs the host function `function` for the filter and records it. The result is the
/// function's results (a status or errno, or nothing for `proc_exit`), or a trap.
pub fn call<G: Guest>(
    guest: &mut G,
    function: &'static AbiFunction,
    args: &[Value],
) -> Result<Vec<Value>, HostTrap<G::Trap>> {
    let fault = if function.module == wasmdiff_gen::proxy::WASI {
        errno::FAULT
    } else {
        status::INVALID_MEMORY_ACCESS
    };
    let mut call = Call {
        guest,
        read: Vec::new(),
        wrote: Vec::new(),
        fault,
    };
    // A panic here is this host's bug: it must not take the engine down with it, and it must
    // not go unnoticed either.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        dispatch(&mut call, function.name, args)
    }))
    .unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_string());
        Err(Stop::Trap(HostTrap::Panic(format!(
            "{}: {message}",
            function.name
        ))))
    });
    let (result, returned) = match outcome {
        Ok(()) if function.results.is_empty() => (HostResult::Done, Ok(Vec::new())),
        Ok(()) => (HostResult::Status(status::OK), Ok(vec![Value::I32(0)])),
        Err(Stop::Status(code)) => (HostResult::Status(code), Ok(vec![Value::I32(code as i32)])),
        Err(Stop::Trap(trap)) => {
            let text = match &trap {
                HostTrap::Exit(code) => format!("proc_exit({code})"),
                HostTrap::Guest(_) => "a nested call into the filter trapped".to_string(),
                HostTrap::Panic(message) => format!("host panic in {message}"),
            };
            if let HostTrap::Panic(message) = &trap {
                call.guest.host().host_panics.push(message.clone());
            }
            (HostResult::Trap(text), Err(trap))
        }
    };
    let record = HostCall {
        name: function.name,
        args: args.to_vec(),
        read: call.read,
        wrote: call.wrote,
        result,
    };
    call.guest.host().calls.push(record);
    returned
}

/// Success is `Ok(())` (status 0); any other status or a trap is `Err`.
fn dispatch<G: Guest>(c: &mut Call<'_, G>, name: &str, a: &[Value]) -> Result<(), Stop<G::Trap>> {
    match name {
        "proxy_log" => {
            let (level, message) = (arg(a, 0), c.read(arg(a, 1), arg(a, 2))?);
            if level > abi::LOG_LEVEL_MAX {
                return Err(status::BAD_ARGUMENT.into());
            }
            c.host().logs.push((level, Bytes(message)));
            Ok(())
        }
        "proxy_get_log_level" => {
            let level = c.host().log_level;
            c.write_u32(arg(a, 0), level)
        }
        "proxy_get_current_time_nanoseconds" => {
            let now = c.host().now_nanos;
            c.write(arg(a, 0), &now.to_le_bytes())
        }
        "proxy_set_tick_period_milliseconds" => {
            c.host().tick_period_ms = arg(a, 0);
            Ok(())
        }
        "proxy_done" => Ok(()),
        "proxy_set_effective_context" => {
            let context = arg(a, 0);
            let known = context == abi::ROOT_CONTEXT
                || (context > abi::ROOT_CONTEXT
                    && ((context - abi::ROOT_CONTEXT - 1) as usize) < c.host().streams.len());
            if !known {
                return Err(status::BAD_ARGUMENT.into());
            }
            c.host().effective_context = context;
            Ok(())
        }
        "proxy_get_buffer_bytes" => {
            let (start, max) = (arg(a, 1) as usize, arg(a, 2) as usize);
            if start.checked_add(max).is_none() {
                return Err(status::BAD_ARGUMENT.into());
            }
            let (buffer, _) = c.host().buffer(arg(a, 0))?;
            let start = start.min(buffer.len());
            let data = buffer[start..start + max.min(buffer.len() - start)].to_vec();
            c.give(&data, arg(a, 3), arg(a, 4))
        }
        "proxy_set_buffer_bytes" => {
            let (start, size) = (arg(a, 1) as usize, arg(a, 2) as usize);
            let data = c.read(arg(a, 3), arg(a, 4))?;
            let (buffer, writable) = c.host().buffer(arg(a, 0))?;
            if !writable || start > buffer.len() {
                return Err(status::BAD_ARGUMENT.into());
            }
            let end = start.saturating_add(size).min(buffer.len());
            buffer.splice(start..end, data);
            Ok(())
        }
        "proxy_get_buffer_status" => {
            let (buffer, _) = c.host().buffer(arg(a, 0))?;
            let size = buffer.len() as u32;
            c.write_u32(arg(a, 1), size)?;
            c.write_u32(arg(a, 2), 0)
        }
        "proxy_get_header_map_size" => {
            let size = maps::serialize(c.host().map(arg(a, 0))?).len() as u32;
            c.write_u32(arg(a, 1), size)
        }
        "proxy_get_header_map_pairs" => {
            let data = maps::serialize(c.host().map(arg(a, 0))?);
            c.give(&data, arg(a, 1), arg(a, 2))
        }
        "proxy_set_header_map_pairs" => {
            let pairs = c.read_map(arg(a, 1), arg(a, 2))?;
            *c.host().map(arg(a, 0))? = pairs;
            Ok(())
        }
        "proxy_get_header_map_value" => {
            let key = c.read(arg(a, 1), arg(a, 2))?;
            let value = c
                .host()
                .map(arg(a, 0))?
                .iter()
                .find(|(k, _)| k.0 == key)
                .map(|(_, v)| v.0.clone());
            let value = value.ok_or(Stop::Status(status::NOT_FOUND))?;
            c.give(&value, arg(a, 3), arg(a, 4))
        }
        "proxy_add_header_map_value" | "proxy_replace_header_map_value" => {
            let key = Bytes(c.read(arg(a, 1), arg(a, 2))?);
            let value = Bytes(c.read(arg(a, 3), arg(a, 4))?);
            let pairs = c.host().map(arg(a, 0))?;
            match pairs.iter_mut().find(|(k, _)| *k == key) {
                Some((_, old)) if name == "proxy_replace_header_map_value" => *old = value,
                _ => pairs.push((key, value)),
            }
            Ok(())
        }
        "proxy_remove_header_map_value" => {
            let key = c.read(arg(a, 1), arg(a, 2))?;
            c.host().map(arg(a, 0))?.retain(|(k, _)| k.0 != key);
            Ok(())
        }
        "proxy_continue_stream" | "proxy_close_stream" => {
            let stream_type = arg(a, 0);
            if stream_type > abi::stream::UPSTREAM {
                return Err(status::BAD_ARGUMENT.into());
            }
            let Some(stream) = c.host().stream() else {
                return Err(status::NOT_FOUND.into());
            };
            if name == "proxy_close_stream" {
                stream.closed = true;
            } else if let Some(flag) = stream.continued.get_mut(stream_type as usize) {
                *flag = true;
            }
            Ok(())
        }
        "proxy_get_status" => {
            c.write_u32(arg(a, 0), 0)?;
            c.give(&[], arg(a, 1), arg(a, 2))
        }
        "proxy_send_local_response" => {
            let details = Bytes(c.read(arg(a, 1), arg(a, 2))?);
            let body = Bytes(c.read(arg(a, 3), arg(a, 4))?);
            let headers = c.read_map(arg(a, 5), arg(a, 6))?;
            let response = LocalResponse {
                status: arg(a, 0),
                details,
                body,
                headers,
                grpc_status: arg(a, 7) as i32,
            };
            let Some(stream) = c.host().stream() else {
                return Err(status::NOT_FOUND.into());
            };
            stream.local_response = Some(response);
            Ok(())
        }
        "proxy_http_call" => {
            let upstream = Bytes(c.read(arg(a, 0), arg(a, 1))?);
            let headers = c.read_map(arg(a, 2), arg(a, 3))?;
            let body = Bytes(c.read(arg(a, 4), arg(a, 5))?);
            c.read_map(arg(a, 6), arg(a, 7))?;
            let has = |name: &str| headers.iter().any(|(k, _)| k.0 == name.as_bytes());
            if upstream.is_empty() || !has(":method") || !has(":path") || !has(":authority") {
                return Err(status::BAD_ARGUMENT.into());
            }
            let id = record_callout(c.host(), "http", upstream, headers, body, arg(a, 8));
            c.host().pending_callouts.push_back(id);
            c.write_u32(arg(a, 9), id)
        }
        "proxy_grpc_call" | "proxy_grpc_stream" => {
            let upstream = Bytes(c.read(arg(a, 0), arg(a, 1))?);
            let service = c.read(arg(a, 2), arg(a, 3))?;
            let method = c.read(arg(a, 4), arg(a, 5))?;
            let metadata = c.read_map(arg(a, 6), arg(a, 7))?;
            let (body, timeout, id_p) = if name == "proxy_grpc_call" {
                (Bytes(c.read(arg(a, 8), arg(a, 9))?), arg(a, 10), arg(a, 11))
            } else {
                (Bytes::default(), 0, arg(a, 8))
            };
            if upstream.is_empty() {
                return Err(status::BAD_ARGUMENT.into());
            }
            let mut headers = metadata;
            headers.push((
                Bytes::from(":path"),
                Bytes([b"/", &service[..], b"/", &method[..]].concat()),
            ));
            let kind = name.trim_start_matches("proxy_").replace('_', "-");
            let id = record_callout(c.host(), &kind, upstream, headers, body, timeout);
            c.write_u32(id_p, id)
        }
        "proxy_grpc_send" | "proxy_grpc_cancel" | "proxy_grpc_close" => {
            if name == "proxy_grpc_send" {
                c.read(arg(a, 1), arg(a, 2))?;
            }
            let known = c
                .host()
                .callout(arg(a, 0))
                .is_some_and(|call| call.kind.starts_with("grpc"));
            if known {
                Ok(())
            } else {
                Err(status::NOT_FOUND.into())
            }
        }
        "proxy_set_shared_data" => {
            let key = Bytes(c.read(arg(a, 0), arg(a, 1))?);
            let value = Bytes(c.read(arg(a, 2), arg(a, 3))?);
            let cas = arg(a, 4);
            let host = c.host();
            if let Some((_, current)) = host.shared_data.get(&key)
                && cas != 0
                && cas != *current
            {
                return Err(status::CAS_MISMATCH.into());
            }
            // One counter for all keys, never 0 (0 means "no CAS").
            host.cas = host.cas.checked_add(1).unwrap_or(1);
            host.shared_data.insert(key, (value, host.cas));
            Ok(())
        }
        "proxy_get_shared_data" => {
            let key = Bytes(c.read(arg(a, 0), arg(a, 1))?);
            let (value, cas) = c
                .host()
                .shared_data
                .get(&key)
                .cloned()
                .ok_or(Stop::Status(status::NOT_FOUND))?;
            c.give(&value.0, arg(a, 2), arg(a, 3))?;
            c.write_u32(arg(a, 4), cas)
        }
        "proxy_register_shared_queue" => {
            let name = Bytes(c.read(arg(a, 0), arg(a, 1))?);
            let host = c.host();
            let owner = host.effective_context;
            let id = match host.queues.iter_mut().find(|(q, _)| q.name == name) {
                Some((queue, registrant)) => {
                    *registrant = owner;
                    queue.id
                }
                None => {
                    let id = host.queues.len() as u32 + 1;
                    host.queues.push((
                        Queue {
                            id,
                            name,
                            items: Vec::new(),
                        },
                        owner,
                    ));
                    id
                }
            };
            c.write_u32(arg(a, 2), id)
        }
        "proxy_resolve_shared_queue" => {
            c.read(arg(a, 0), arg(a, 1))?;
            let name = Bytes(c.read(arg(a, 2), arg(a, 3))?);
            let id = c
                .host()
                .queues
                .iter()
                .find(|(q, _)| q.name == name)
                .map(|(q, _)| q.id);
            c.write_u32(arg(a, 4), id.ok_or(Stop::Status(status::NOT_FOUND))?)
        }
        "proxy_enqueue_shared_queue" => {
            let (id, value) = (arg(a, 0), Bytes(c.read(arg(a, 1), arg(a, 2))?));
            let host = c.host();
            let (queue, _) = host
                .queues
                .iter_mut()
                .find(|(q, _)| q.id == id)
                .ok_or(Stop::Status(status::NOT_FOUND))?;
            queue.items.push(value);
            host.queue_ready.push_back(id);
            Ok(())
        }
        "proxy_dequeue_shared_queue" => {
            let id = arg(a, 0);
            let (queue, _) = c
                .host()
                .queues
                .iter_mut()
                .find(|(q, _)| q.id == id)
                .ok_or(Stop::Status(status::NOT_FOUND))?;
            if queue.items.is_empty() {
                return Err(status::EMPTY.into());
            }
            let item = queue.items.remove(0);
            c.give(&item.0, arg(a, 1), arg(a, 2))
        }
        "proxy_define_metric" => {
            let (kind, name) = (arg(a, 0), Bytes(c.read(arg(a, 1), arg(a, 2))?));
            if kind > metric::HISTOGRAM {
                return Err(status::BAD_ARGUMENT.into());
            }
            let host = c.host();
            let id = match host
                .metrics
                .iter()
                .find(|m| m.name == name && m.kind == kind)
            {
                Some(m) => m.id,
                None => {
                    let id = host.metrics.len() as u32 + 1;
                    host.metrics.push(Metric {
                        id,
                        kind,
                        name,
                        value: 0,
                    });
                    id
                }
            };
            c.write_u32(arg(a, 3), id)
        }
        "proxy_record_metric" | "proxy_increment_metric" => {
            let (id, value) = (arg(a, 0), arg64(a, 1));
            let m = c
                .host()
                .metrics
                .iter_mut()
                .find(|m| m.id == id)
                .ok_or(Stop::Status(status::NOT_FOUND))?;
            match (name, m.kind) {
                ("proxy_record_metric", metric::GAUGE | metric::HISTOGRAM) => {
                    m.value = value as u64
                }
                ("proxy_record_metric", _) => m.value = m.value.wrapping_add(value as u64),
                (_, metric::COUNTER) if value > 0 => m.value = m.value.wrapping_add(value as u64),
                (_, metric::GAUGE) => m.value = m.value.wrapping_add_signed(value),
                _ => return Err(status::BAD_ARGUMENT.into()),
            }
            Ok(())
        }
        "proxy_get_metric" => {
            let id = arg(a, 0);
            let m = c
                .host()
                .metrics
                .iter()
                .find(|m| m.id == id)
                .ok_or(Stop::Status(status::NOT_FOUND))?;
            if m.kind == metric::HISTOGRAM {
                return Err(status::BAD_ARGUMENT.into());
            }
            let value = m.value;
            c.write(arg(a, 1), &value.to_le_bytes())
        }
        "proxy_get_property" => {
            let path = Bytes(c.read(arg(a, 0), arg(a, 1))?);
            let host = c.host();
            let value = (host.properties_set.iter().rev())
                .chain(host.properties.iter())
                .find(|(k, _)| *k == path)
                .map(|(_, v)| v.0.clone())
                .ok_or(Stop::Status(status::NOT_FOUND))?;
            c.give(&value, arg(a, 2), arg(a, 3))
        }
        "proxy_set_property" => {
            let path = Bytes(c.read(arg(a, 0), arg(a, 1))?);
            let value = Bytes(c.read(arg(a, 2), arg(a, 3))?);
            c.host().properties_set.push((path, value));
            Ok(())
        }
        "proxy_call_foreign_function" => {
            c.read(arg(a, 0), arg(a, 1))?;
            c.read(arg(a, 2), arg(a, 3))?;
            Err(status::NOT_FOUND.into())
        }
        "fd_write" => {
            let (fd, iovs, count) = (arg(a, 0), arg(a, 1), arg(a, 2));
            let level = match fd {
                1 => 2,
                2 => 4,
                _ => return Err(errno::BADF.into()),
            };
            // Bound the vector before reading it: each entry is 8 bytes of guest memory.
            let span = count.checked_mul(8).ok_or(Stop::Status(errno::FAULT))?;
            c.read(iovs, span)?;
            let mut message = Vec::new();
            for i in 0..count {
                let entry = iovs + i * 8;
                let (ptr, len) = (c.read_u32(entry)?, c.read_u32(entry + 4)?);
                message.extend(c.read(ptr, len)?);
            }
            let written = message.len() as u32;
            if message.last() == Some(&b'\n') {
                message.pop();
            }
            c.host().logs.push((level, Bytes(message)));
            c.write_u32(arg(a, 3), written)
        }
        "clock_time_get" => {
            let host = c.host();
            let time = match arg(a, 0) {
                0 => host.now_nanos,
                1 => host.now_nanos - host.start_nanos,
                _ => return Err(errno::NOTSUP.into()),
            };
            c.write(arg(a, 2), &time.to_le_bytes())
        }
        "random_get" => {
            let (ptr, len) = (arg(a, 0), arg(a, 1));
            if len > 65536 {
                return Err(errno::INVAL.into());
            }
            let bytes = c.host().rng.bytes(len as usize);
            c.write(ptr, &bytes)
        }
        "environ_sizes_get" => {
            let strings = c.host().environment_strings();
            let size: usize = strings.iter().map(Vec::len).sum();
            c.write_u32(arg(a, 0), strings.len() as u32)?;
            c.write_u32(arg(a, 1), size as u32)
        }
        "environ_get" => {
            let (pointers, mut at) = (arg(a, 0), arg(a, 1));
            for (i, string) in c.host().environment_strings().into_iter().enumerate() {
                c.write_u32(pointers.wrapping_add(i as u32 * 4), at)?;
                c.write(at, &string)?;
                at = at.wrapping_add(string.len() as u32);
            }
            Ok(())
        }
        "args_sizes_get" => {
            c.write_u32(arg(a, 0), 0)?;
            c.write_u32(arg(a, 1), 0)
        }
        "args_get" | "sched_yield" => Ok(()),
        "proc_exit" => Err(Stop::Trap(HostTrap::Exit(arg(a, 0) as i32))),
        "poll_oneoff" => c.write_u32(arg(a, 3), 0),
        "fd_fdstat_set_flags" => match arg(a, 0) {
            0..=2 => Ok(()),
            _ => Err(errno::BADF.into()),
        },
        _ => Err(status::UNIMPLEMENTED.into()),
    }
}

fn record_callout(
    host: &mut Host,
    kind: &str,
    upstream: Bytes,
    headers: Pairs,
    body: Bytes,
    timeout_ms: u32,
) -> u32 {
    let id = host.callouts.len() as u32 + 1;
    host.callouts.push(Callout {
        id,
        kind: kind.to_string(),
        upstream,
        headers,
        body,
        timeout_ms,
    });
    id
}
