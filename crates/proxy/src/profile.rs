//! Host profiles: where real proxies answer the same ABI call differently, each answer as a
//! named rule. The host functions and the driver are written once and consult these rules; a
//! profile is nothing but data. Each rule cites the row of `proxy-wasm-hosts.md` it models and
//! the source it was read from there (cpp = proxy-wasm-cpp-host `src/`, env = Envoy's
//! `source/extensions/common/wasm/context.cc`, ngx = ngx_wasm_module `src/`).

use serde::Serialize;
use wasmdiff_gen::proxy::{HostFn, HostProfile};

/// What a host does with a guest pointer or length it cannot use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BadPointer {
    /// `INVALID_MEMORY_ACCESS` (WASI: `EFAULT`).
    Status,
    /// A trap; also for a null pointer with a length and a misaligned `u32`/`u64` out-pointer.
    Trap,
}

/// How long a filter may use the stream's header and trailer maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeaderMaps {
    /// Each map from its own callback until that returns Continue or the stream is continued;
    /// then get/size/set answer BAD_ARGUMENT and get-pairs an empty map. In `on_log` all
    /// are readable, none writable.
    UntilContinued,
    /// Always readable; request headers writable until the response starts, response headers
    /// until `on_response_headers` returns; writing later traps.
    WritableUntilResponse,
}

/// Header names as the filter sees and sets them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeaderNames {
    /// Every name lowercased, the proxy's and the filter's.
    Lowercased,
    /// Kept as sent; looked up case-insensitively.
    AsSent,
}

/// Pseudo-headers (`:path`, `:method`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PseudoHeaders {
    /// Entries like any other, counted in the callback's header count.
    Entries,
    /// Synthesized: first in the pairs, not counted; `:scheme` and `:authority` read-only.
    Synthesized,
}

/// What a host reads from a serialized map it cannot parse (or one over its limits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MalformedMap {
    /// The empty map (also over 1024 pairs or 1 MiB), and the call goes on.
    Empty,
    BadArgument,
}

/// How the body reaches the filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bodies {
    /// Each chunk as it arrives, with the real end of stream, on headers too; trailers get
    /// their callbacks.
    AsTheyArrive,
    /// Headers never end the stream; the request body in one call, whole, only if there is
    /// one; the response body per chunk and then an empty last call; no trailer callbacks
    /// and no trailer maps.
    Nginx,
}

/// What a callback's Pause does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pause {
    /// Holds the stream in any phase until continued; a paused body keeps buffering.
    Holds,
    /// Holds the request until continued; on response headers it is ignored; the response
    /// body is buffered once (a second Pause is refused); elsewhere it is ignored.
    RequestOnly,
}

/// `proxy_continue_stream` of each stream type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Continue {
    /// Request and response resume their side; downstream is OK; upstream UNIMPLEMENTED.
    EachSide,
    /// Request and response both resume the request; others INTERNAL_FAILURE.
    Request,
}

/// `proxy_send_local_response`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LocalResponse {
    /// From any HTTP context (a root context: OK, nothing happens); the body as given.
    Anywhere,
    /// Until the response starts (later, or a second time, traps); a status outside 100..999
    /// is BAD_ARGUMENT; a non-empty body gets "\n" appended.
    BeforeResponse,
}

/// `proxy_http_call`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HttpCall {
    /// Needs `:method`, `:path` and `:authority` (else BAD_ARGUMENT); tokens 4, 8, 12, …;
    /// the stream goes on unless the filter pauses; a failed call's status is
    /// BROKEN_CONNECTION "reset".
    Envoy,
    /// Needs `:method` and `:path` (else a trap), defaults `:authority`, drops `Host` and
    /// `Connection`; only from request headers or body, a tick or a call response (else a
    /// trap); tokens 0, 1, 2, …; forces Pause and resumes the stream by itself when the
    /// response comes; a failed call gets `:dispatch_status`; `proxy_get_status` is absent.
    Nginx,
}

/// `proxy_get_buffer_bytes` and `proxy_set_buffer_bytes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Buffers {
    /// Get honours `start`; the plugin configuration only in `on_configure`. Set: start 0
    /// drains `size` bytes and prepends, start ≥ length appends, anything between is
    /// BAD_ARGUMENT; configurations and call responses are read-only.
    Envoy,
    /// Get ignores `start`; a zero length writes nothing; each body only in its own
    /// callbacks (else a trap). Set: start 0 and size 0 prepends, otherwise cuts at `start`
    /// and appends the first `size` bytes of the data; only in the body's callbacks.
    Nginx,
}

/// Shared data and its CAS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SharedData {
    /// CAS 0 writes unconditionally; a CAS on a missing key is ignored; one counter for all
    /// keys, from 1.
    Envoy,
    /// Written only if the CAS equals the current one (a missing key's is 0); a counter per
    /// key; a null value deletes.
    Nginx,
}

/// Shared queues.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Queues {
    /// Registered by name (ids from 1), resolved by name, `on_queue_ready` delivered.
    Envoy,
    /// Ids from 0; an unknown id traps; `on_queue_ready` never called.
    Nginx,
}

/// Metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Metrics {
    /// Ids carry the type in their low two bits (counters 4, 8, …); misuse is BAD_ARGUMENT,
    /// an unknown id NOT_FOUND.
    Envoy,
    /// Ids from 1; incrementing a gauge, recording a counter, an unknown id, reading a
    /// histogram and a bad type trap; negative increments are taken.
    Nginx,
}

/// Property values and paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Properties {
    /// Typed values as CEL serializes them (integers as 8 bytes, booleans as one); paths
    /// split on NUL; request properties NOT_FOUND outside a stream; set_property keeps any
    /// path, only in a stream.
    Envoy,
    /// Every value as text; NUL in a path reads as "."; dotted paths outside a stream
    /// INTERNAL_FAILURE; Envoy's node, cluster, route, listener and vm-id properties
    /// NOT_FOUND; set_property only under `ngx.` and `wasmx.`.
    Nginx,
}

/// `proxy_set_tick_period_milliseconds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tick {
    /// From any context, changed any time; 0 stops.
    Anytime,
    /// Only from the root context, and only once (else a trap).
    OnceFromRoot,
}

/// The WASI functions where hosts differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Wasi {
    /// `fd_fdstat_set_flags` ENOSYS; `sched_yield`, `poll_oneoff` succeed; `proc_exit` is
    /// logged and returns.
    Envoy,
    /// `fd_fdstat_set_flags` EBADF; `sched_yield`, `poll_oneoff` ENOTSUP; `proc_exit` is
    /// not implemented.
    Nginx,
}

/// One proxy's answers wherever the hosts differ.
#[derive(Debug, Serialize)]
pub struct Behaviour {
    pub profile: HostProfile,
    /// Row 1: host functions the host registers but does not implement: calling one traps
    /// ("host trap (function not yet implemented)"). ngx h:1903-1908,1927-2229.
    pub not_implemented: &'static [HostFn],
    /// Row 2: host functions the host lacks: a filter importing one fails to link.
    /// ngx src/wasm/vm/ngx_wavm.c:563-568.
    pub missing: &'static [HostFn],
    /// Row 3. ngx src/wasm/vm/ngx_wavm_host.h:87-115.
    pub bad_pointer: BadPointer,
    /// Row 5. env decodeHeaders/getMap/getConstMap; ngx h:644-714.
    pub header_maps: HeaderMaps,
    /// Row 6. env addHeaderMapValue; ngx src/wasm/ngx_wasm_util.c:457-458.
    pub header_names: HeaderNames,
    /// Row 7. ngx proxy_wasm/ngx_proxy_wasm_maps.c:45-92.
    pub pseudo_headers: PseudoHeaders,
    /// Row 8: an empty map handed out as a null pointer and size 0 (no allocation), or
    /// serialized. cpp exports.cc:390-395; ngx proxy_wasm/ngx_proxy_wasm_util.c:369-375.
    pub empty_map_is_null: bool,
    /// Row 8: pairs handed out at most (ngx truncates, with a warning). ngx_http_wasm.h:16.
    pub max_pairs_out: Option<usize>,
    /// Row 8. cpp pairs_util.cc:122-150 (ngx reads lengths without checking them against the
    /// buffer, which cannot be modelled: BAD_ARGUMENT stands in).
    pub malformed_map: MalformedMap,
    /// Rows 9 and 10. env decodeHeaders/decodeData; ngx http/proxy_wasm/ngx_http_proxy_wasm.c.
    pub bodies: Bodies,
    /// Row 11. cpp context.cc:491-521; ngx proxy_wasm/ngx_proxy_wasm.c:533-589.
    pub pause: Pause,
    /// Row 12. cpp exports.cc:126-132, env continueStream; ngx h:1001-1045.
    pub continue_stream: Continue,
    /// Row 13. env sendLocalResponse; ngx h:1048-1164, ngx_http_wasm_local_response.c.
    pub local_response: LocalResponse,
    /// Rows 14 and 15. cpp exports.cc:511-534, env httpCall/onHttpCallFailure; ngx
    /// h:1170-1234, http/proxy_wasm/ngx_http_proxy_wasm_dispatch.c.
    pub http_call: HttpCall,
    /// Rows 16 and 17. cpp exports.cc:444-473, env getBuffer, Buffer::copyFrom; ngx
    /// h:29-171,318-552, src/wasm/ngx_wasm_util.c:231-306.
    pub buffers: Buffers,
    /// Row 18. cpp shared_data.cc:75-95; ngx src/common/shm/ngx_wa_shm_kv.c:279-282,380.
    pub shared_data: SharedData,
    /// Row 19. cpp context.cc:214-240; ngx h:1412-1591.
    pub queues: Queues,
    /// Row 20. cpp wasm.h (kMetricIdIncrement), env defineMetric…getMetric; ngx h:1598-1825.
    pub metrics: Metrics,
    /// Rows 21 and 22. env findValue/getProperty/setProperty; ngx
    /// proxy_wasm/ngx_proxy_wasm_properties.c:452-670,1085-1232.
    pub properties: Properties,
    /// Row 23. cpp context.cc:484-489; ngx h:268-312.
    pub tick: Tick,
    /// Row 24: the clock's resolution in nanoseconds. ngx src/wasm/ngx_wasm_util.c:469-508.
    pub clock_resolution_nanos: u64,
    /// Row 25: trace logs are logged at debug. ngx h:178-226.
    pub trace_logs_as_debug: bool,
    /// Row 26: `proxy_set_effective_context` checks the id (else it is a no-op).
    /// cpp exports.cc:168-177; ngx h:249-262.
    pub checks_effective_context: bool,
    /// Row 27. cpp exports.cc:796-800,1250-1295; ngx src/wasm/wasi/ngx_wasi_preview1_host.c.
    pub wasi: Wasi,
}

/// proxy-wasm-cpp-host with Envoy's context.
pub const ENVOY: Behaviour = Behaviour {
    profile: HostProfile::Envoy,
    not_implemented: &[],
    missing: &[],
    bad_pointer: BadPointer::Status,
    header_maps: HeaderMaps::UntilContinued,
    header_names: HeaderNames::Lowercased,
    pseudo_headers: PseudoHeaders::Entries,
    empty_map_is_null: true,
    max_pairs_out: None,
    malformed_map: MalformedMap::Empty,
    bodies: Bodies::AsTheyArrive,
    pause: Pause::Holds,
    continue_stream: Continue::EachSide,
    local_response: LocalResponse::Anywhere,
    http_call: HttpCall::Envoy,
    buffers: Buffers::Envoy,
    shared_data: SharedData::Envoy,
    queues: Queues::Envoy,
    metrics: Metrics::Envoy,
    properties: Properties::Envoy,
    tick: Tick::Anytime,
    clock_resolution_nanos: 1,
    trace_logs_as_debug: false,
    checks_effective_context: true,
    wasi: Wasi::Envoy,
};

/// Kong's ngx_wasm_module.
pub const NGINX: Behaviour = Behaviour {
    profile: HostProfile::Nginx,
    not_implemented: &[
        HostFn::ProxyGetLogLevel,
        HostFn::ProxyDone,
        HostFn::ProxyCloseStream,
        HostFn::ProxyGetStatus,
        HostFn::ProxyResolveSharedQueue,
        HostFn::ProxyGrpcCall,
        HostFn::ProxyGrpcStream,
        HostFn::ProxyGrpcSend,
        HostFn::ProxyGrpcCancel,
        HostFn::ProxyGrpcClose,
        // Row 27: ngx_wasi_preview1_host.c.
        HostFn::ProcExit,
    ],
    missing: &[HostFn::ProxyGetHeaderMapSize, HostFn::ProxyGetBufferStatus],
    bad_pointer: BadPointer::Trap,
    header_maps: HeaderMaps::WritableUntilResponse,
    header_names: HeaderNames::AsSent,
    pseudo_headers: PseudoHeaders::Synthesized,
    empty_map_is_null: false,
    max_pairs_out: Some(100),
    malformed_map: MalformedMap::BadArgument,
    bodies: Bodies::Nginx,
    pause: Pause::RequestOnly,
    continue_stream: Continue::Request,
    local_response: LocalResponse::BeforeResponse,
    http_call: HttpCall::Nginx,
    buffers: Buffers::Nginx,
    shared_data: SharedData::Nginx,
    queues: Queues::Nginx,
    metrics: Metrics::Nginx,
    properties: Properties::Nginx,
    tick: Tick::OnceFromRoot,
    clock_resolution_nanos: 1_000_000,
    trace_logs_as_debug: true,
    checks_effective_context: false,
    wasi: Wasi::Nginx,
};

/// The host functions some host lacks.
pub fn missing_somewhere() -> Vec<HostFn> {
    let mut missing: Vec<HostFn> = HostProfile::ALL
        .iter()
        .flat_map(|&p| behaviour(p).missing.iter().copied())
        .collect();
    missing.sort_unstable_by_key(|f| *f as usize);
    missing.dedup();
    missing
}

/// The rules of `profile`.
pub fn behaviour(profile: HostProfile) -> &'static Behaviour {
    match profile {
        HostProfile::Envoy => &ENVOY,
        HostProfile::Nginx => &NGINX,
    }
}
