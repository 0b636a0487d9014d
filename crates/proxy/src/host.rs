//! The host: its state, and the machinery every host function runs on, over the [`Guest`]
//! interface each engine adapts to. Every guest pointer and length is checked (with overflow)
//! against the guest's memory before the guest is asked for the range: a hostile filter gets
//! a status or a defined trap, never a host panic or an access outside its memory.

use std::collections::{BTreeMap, VecDeque};

use wasmdiff_gen::Value;
use wasmdiff_gen::proxy::{Bytes, CalloutResponse, HostFunction, Pairs, Property, Scenario};
use wasmdiff_gen::rng::SplitMix64;

use crate::abi::{self, errno, status};
use crate::profile::{BadPointer, Behaviour, HeaderNames, behaviour};
use crate::trace::{
    Callout, FinalState, Forwarded, HostResult, LocalResponse, Metric, Queue, StreamEnd,
    StreamRecord,
};

/// What an engine gives the host while a host function runs: ranges of the filter's memory
/// and calls into it, the way proxy-wasm-cpp-host's `WasmVm` does, so that a filter in
/// another process costs a round trip per access rather than a copy of its memory.
pub trait Guest {
    /// The engine's trap, re-raised unchanged when a nested guest call traps.
    type Trap;
    fn host(&mut self) -> &mut Host;
    /// The size in bytes of the filter's exported memory (0 if it has none).
    fn memory_size(&mut self) -> u64;
    /// The `len` bytes at `ptr` (the host has checked the range; `None` if it is not there).
    fn read(&mut self, ptr: u32, len: u32) -> Option<Vec<u8>>;
    /// Writes `bytes` at `ptr` (checked by the host likewise); `false` if it could not.
    fn write(&mut self, ptr: u32, bytes: &[u8]) -> bool;
    /// Calls a filter export (the allocator); `None` if there is no such export.
    fn call(&mut self, export: &str, args: &[Value]) -> Option<Result<Vec<Value>, Self::Trap>>;
}

/// A guest in this process, whose memory the engine can lend as a slice: every [`Guest`]
/// access is a slice operation.
pub trait SliceGuest {
    type Trap;
    fn host(&mut self) -> &mut Host;
    /// The filter's exported memory (empty if it has none).
    fn memory(&mut self) -> &mut [u8];
    fn call(&mut self, export: &str, args: &[Value]) -> Option<Result<Vec<Value>, Self::Trap>>;
}

impl<S: SliceGuest> Guest for S {
    type Trap = S::Trap;

    fn host(&mut self) -> &mut Host {
        SliceGuest::host(self)
    }

    fn memory_size(&mut self) -> u64 {
        self.memory().len() as u64
    }

    fn read(&mut self, ptr: u32, len: u32) -> Option<Vec<u8>> {
        let start = ptr as usize;
        Some(
            self.memory()
                .get(start..start.checked_add(len as usize)?)?
                .to_vec(),
        )
    }

    fn write(&mut self, ptr: u32, bytes: &[u8]) -> bool {
        let start = ptr as usize;
        let Some(end) = start.checked_add(bytes.len()) else {
            return false;
        };
        match self.memory().get_mut(start..end) {
            Some(range) => {
                range.copy_from_slice(bytes);
                true
            }
            None => false,
        }
    }

    fn call(&mut self, export: &str, args: &[Value]) -> Option<Result<Vec<Value>, Self::Trap>> {
        SliceGuest::call(self, export, args)
    }
}

/// Why a host function traps the filter.
#[derive(Debug)]
pub enum HostTrap<T> {
    /// `proc_exit(code)`.
    Exit(i32),
    /// The host refuses the call the way its proxy does, by trapping (nginx's host traps).
    Refused(String),
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

/// The callback running, for the rules that depend on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    #[default]
    Start,
    ContextCreate,
    VmStart,
    Configure,
    RequestHeaders,
    RequestBody,
    RequestTrailers,
    ResponseHeaders,
    ResponseBody,
    ResponseTrailers,
    Log,
    Done,
    Delete,
    Tick,
    QueueReady,
    CalloutResponse,
}

impl Phase {
    /// Whether the response headers have gone downstream by this phase.
    pub fn past_response_headers(self) -> bool {
        matches!(
            self,
            Phase::ResponseBody
                | Phase::ResponseTrailers
                | Phase::Log
                | Phase::Done
                | Phase::Delete
        )
    }

    /// The phase of the callback `name`.
    pub fn of(name: &str) -> Phase {
        match name {
            "proxy_on_context_create" => Phase::ContextCreate,
            "proxy_on_vm_start" => Phase::VmStart,
            "proxy_on_configure" => Phase::Configure,
            "proxy_on_request_headers" => Phase::RequestHeaders,
            "proxy_on_request_body" => Phase::RequestBody,
            "proxy_on_request_trailers" => Phase::RequestTrailers,
            "proxy_on_response_headers" => Phase::ResponseHeaders,
            "proxy_on_response_body" => Phase::ResponseBody,
            "proxy_on_response_trailers" => Phase::ResponseTrailers,
            "proxy_on_log" => Phase::Log,
            "proxy_on_done" => Phase::Done,
            "proxy_on_delete" => Phase::Delete,
            "proxy_on_tick" => Phase::Tick,
            "proxy_on_queue_ready" => Phase::QueueReady,
            "proxy_on_http_call_response" | "proxy_on_grpc_receive" | "proxy_on_grpc_close" => {
                Phase::CalloutResponse
            }
            _ => Phase::Start,
        }
    }
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
    /// Maps the filter may use now, where the profile limits that to a window: request
    /// headers, request trailers, response headers, response trailers.
    pub open_maps: [bool; 4],
    /// The response has reached the filter (its headers callback started).
    pub response_started: bool,
    /// An HTTP callout was made from this stream since the driver last looked.
    pub dispatched: bool,
    /// The filter paused the response body once already.
    pub paused_response_body: bool,
}

/// A callout whose response the driver has not delivered yet.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PendingCallout {
    pub token: u32,
    /// The context that made it.
    pub context: u32,
    /// A unary gRPC call (else an HTTP call).
    pub grpc: bool,
}

/// The response being delivered to `proxy_on_http_call_response`.
#[derive(Clone, Debug)]
pub(crate) struct Delivery {
    pub response: CalloutResponse,
    /// No response came (the scenario had none left): the callout failed.
    pub failed: bool,
    /// The response to a unary gRPC call.
    pub grpc: bool,
}

/// The host's state for one run of a filter (one VM): scenario, traffic, shared data, queues,
/// metrics, callouts, and the host calls made so far.
pub struct Host {
    pub(crate) rules: &'static Behaviour,
    start_nanos: u64,
    pub(crate) now_nanos: u64,
    pub(crate) rng: SplitMix64,
    pub(crate) log_level: u32,
    environment: Pairs,
    pub(crate) vm_configuration: Bytes,
    pub(crate) plugin_configuration: Bytes,
    pub(crate) properties: Vec<(Bytes, Property)>,
    pub(crate) properties_set: Pairs,
    pub(crate) effective_context: u32,
    pub(crate) phase: Phase,
    pub(crate) streams: Vec<StreamState>,
    pub(crate) delivery: Option<Delivery>,
    pub(crate) callouts: Vec<Callout>,
    pub(crate) pending_callouts: VecDeque<PendingCallout>,
    /// HTTP callouts made so far, and gRPC ones (their tokens come from these).
    pub(crate) http_calls: u32,
    pub(crate) grpc_calls: u32,
    /// Value and CAS of each key.
    pub(crate) shared_data: BTreeMap<Bytes, (Bytes, u32)>,
    pub(crate) cas: u32,
    /// Each queue and the context that registered it.
    pub(crate) queues: Vec<(Queue, u32)>,
    /// Queues with items to announce with `proxy_on_queue_ready`.
    pub(crate) queue_ready: VecDeque<u32>,
    pub(crate) metrics: Vec<Metric>,
    pub(crate) tick_period_ms: u32,
    pub(crate) logs: Vec<(u32, Bytes)>,
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
            rules: behaviour(scenario.host),
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
            phase: Phase::Start,
            streams: Vec::new(),
            delivery: None,
            callouts: Vec::new(),
            pending_callouts: VecDeque::new(),
            http_calls: 0,
            grpc_calls: 0,
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

    /// The rules of the proxy this host behaves like.
    pub fn rules(&self) -> &'static Behaviour {
        self.rules
    }

    /// The host calls recorded since the last time this was asked.
    pub fn take_calls(&mut self) -> Vec<HostCall> {
        std::mem::take(&mut self.calls)
    }

    /// The stream of the effective context, if it is a stream.
    pub(crate) fn stream(&mut self) -> Option<&mut StreamState> {
        self.stream_of(self.effective_context)
    }

    /// The stream of `context`, if it is a stream.
    pub(crate) fn stream_of(&mut self, context: u32) -> Option<&mut StreamState> {
        let index = context.checked_sub(abi::ROOT_CONTEXT + 1)?;
        self.streams.get_mut(index as usize)
    }

    /// The clock as the filter reads it, at the host's resolution.
    pub(crate) fn clock(&self, monotonic: bool) -> u64 {
        let resolution = self.rules.clock_resolution_nanos;
        let now = self.now_nanos / resolution * resolution;
        match monotonic {
            true => now - self.start_nanos / resolution * resolution,
            false => now,
        }
    }

    /// Header names as this host keeps them.
    pub(crate) fn header_name(&self, name: Bytes) -> Bytes {
        match self.rules.header_names {
            HeaderNames::Lowercased => Bytes(name.0.to_ascii_lowercase()),
            HeaderNames::AsSent => name,
        }
    }

    /// Pairs arriving from the client, the upstream or the filter, as this host keeps them.
    pub(crate) fn arriving(&self, pairs: &Pairs) -> Pairs {
        pairs
            .iter()
            .map(|(k, v)| (self.header_name(k.clone()), v.clone()))
            .collect()
    }

    pub(crate) fn environment_strings(&self) -> Vec<Vec<u8>> {
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
pub(crate) enum Stop<T> {
    Status(u32),
    Trap(HostTrap<T>),
}

impl<T> From<u32> for Stop<T> {
    fn from(status: u32) -> Stop<T> {
        Stop::Status(status)
    }
}

/// The host refuses a call by trapping, with the proxy's message.
pub(crate) fn refuse<T>(message: impl Into<String>) -> Stop<T> {
    Stop::Trap(HostTrap::Refused(message.into()))
}

/// One host call in progress: the guest, and what was read and written, for the trace.
pub(crate) struct Call<'g, G: Guest> {
    guest: &'g mut G,
    read: Vec<u8>,
    wrote: Vec<u8>,
    /// The status for guest memory faults: `INVALID_MEMORY_ACCESS`, or WASI's `FAULT`.
    fault: u32,
}

impl<G: Guest> Call<'_, G> {
    pub fn host(&mut self) -> &mut Host {
        self.guest.host()
    }

    pub fn rules(&mut self) -> &'static Behaviour {
        self.guest.host().rules
    }

    /// A pointer or length the guest cannot use: the fault status, or the host's trap.
    fn bad_pointer(&mut self) -> Stop<G::Trap> {
        match self.rules().bad_pointer {
            BadPointer::Status => Stop::Status(self.fault),
            BadPointer::Trap => refuse("invalid data/slice pointer passed to host function"),
        }
    }

    /// Checks `ptr..ptr + len` against the guest's memory.
    fn check(&mut self, ptr: u32, len: u32) -> Result<(), Stop<G::Trap>> {
        let end = u64::from(ptr) + u64::from(len);
        let null = ptr == 0 && len > 0 && self.rules().bad_pointer == BadPointer::Trap;
        if end > self.guest.memory_size() || null {
            return Err(self.bad_pointer());
        }
        Ok(())
    }

    pub fn read(&mut self, ptr: u32, len: u32) -> Result<Vec<u8>, Stop<G::Trap>> {
        self.check(ptr, len)?;
        let Some(bytes) = self.guest.read(ptr, len) else {
            return Err(self.bad_pointer());
        };
        self.read.extend_from_slice(&bytes);
        Ok(bytes)
    }

    pub fn read_u32(&mut self, ptr: u32) -> Result<u32, Stop<G::Trap>> {
        let bytes = self.read(ptr, 4)?;
        Ok(u32::from_le_bytes(bytes.try_into().expect("four bytes")))
    }

    pub fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), Stop<G::Trap>> {
        let Ok(len) = u32::try_from(bytes.len()) else {
            return Err(self.bad_pointer());
        };
        self.check(ptr, len)?;
        if !self.guest.write(ptr, bytes) {
            return Err(self.bad_pointer());
        }
        self.wrote.extend_from_slice(bytes);
        Ok(())
    }

    /// Writes an out-parameter of `bytes.len()` bytes (4 or 8), which must be aligned where
    /// the host checks that.
    fn write_out(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), Stop<G::Trap>> {
        let misaligned = ptr % bytes.len() as u32 != 0;
        if misaligned && self.rules().bad_pointer == BadPointer::Trap {
            return Err(self.bad_pointer());
        }
        self.write(ptr, bytes)
    }

    pub fn write_u32(&mut self, ptr: u32, value: u32) -> Result<(), Stop<G::Trap>> {
        self.write_out(ptr, &value.to_le_bytes())
    }

    pub fn write_u64(&mut self, ptr: u32, value: u64) -> Result<(), Stop<G::Trap>> {
        self.write_out(ptr, &value.to_le_bytes())
    }

    /// Hands `data` to the filter: allocated in the guest by its allocator, then pointer and
    /// size written through the out-pointers. Empty data is a null pointer with size 0, and
    /// no allocation.
    pub fn give(&mut self, data: &[u8], data_pp: u32, size_p: u32) -> Result<(), Stop<G::Trap>> {
        let size = u32::try_from(data.len()).map_err(|_| Stop::Status(status::INTERNAL_FAILURE))?;
        let ptr = if size == 0 { 0 } else { self.allocate(size)? };
        if size > 0 {
            self.write(ptr, data)?;
        }
        self.write_u32(data_pp, ptr)?;
        self.write_u32(size_p, size)
    }

    /// Both hosts look for `malloc` first, then `proxy_on_memory_allocate` (row 28: cpp
    /// wasm.cc:170-175; ngx proxy_wasm/ngx_proxy_wasm.c:1626-1632).
    fn allocate(&mut self, size: u32) -> Result<u32, Stop<G::Trap>> {
        let args = [Value::I32(size as i32)];
        let result = match self.guest.call("malloc", &args) {
            Some(result) => result,
            None => self
                .guest
                .call("proxy_on_memory_allocate", &args)
                .ok_or(Stop::Status(status::INVALID_MEMORY_ACCESS))?,
        };
        let returned = result.map_err(|trap| Stop::Trap(HostTrap::Guest(trap)))?;
        match returned.as_slice() {
            // A null or out-of-memory pointer from a broken allocator is refused, not used.
            [Value::I32(ptr)]
                if *ptr != 0
                    && u64::from(*ptr as u32) + u64::from(size) <= self.guest.memory_size() =>
            {
                Ok(*ptr as u32)
            }
            _ => Err(Stop::Status(status::INVALID_MEMORY_ACCESS)),
        }
    }
}

/// Runs the host function `function` for the filter and records it. The result is the
/// function's results (a status or errno, or nothing for `proc_exit`), or a trap.
pub fn call<G: Guest>(
    guest: &mut G,
    function: &'static HostFunction,
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
        crate::functions::dispatch(&mut call, function.id, args)
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
                HostTrap::Refused(message) => format!("host trap: {message}"),
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
