//! The ABI's numbers: statuses, enumerations, WASI errno values.

/// `proxy_*` host function statuses.
pub mod status {
    pub const OK: u32 = 0;
    pub const NOT_FOUND: u32 = 1;
    pub const BAD_ARGUMENT: u32 = 2;
    pub const SERIALIZATION_FAILURE: u32 = 3;
    pub const INVALID_MEMORY_ACCESS: u32 = 6;
    pub const EMPTY: u32 = 7;
    pub const CAS_MISMATCH: u32 = 8;
    pub const INTERNAL_FAILURE: u32 = 10;
    pub const BROKEN_CONNECTION: u32 = 11;
    pub const UNIMPLEMENTED: u32 = 12;
}

/// WASI errno values the subset returns.
pub mod errno {
    pub const SUCCESS: u32 = 0;
    pub const BADF: u32 = 8;
    pub const FAULT: u32 = 21;
    pub const INVAL: u32 = 28;
    pub const NOSYS: u32 = 52;
    pub const NOTSUP: u32 = 58;
}

/// A callback's `Action` result.
pub const ACTION_PAUSE: u32 = 1;

/// Buffer types.
pub mod buffer {
    pub const HTTP_REQUEST_BODY: u32 = 0;
    pub const HTTP_RESPONSE_BODY: u32 = 1;
    pub const DOWNSTREAM_DATA: u32 = 2;
    pub const UPSTREAM_DATA: u32 = 3;
    pub const HTTP_CALL_RESPONSE_BODY: u32 = 4;
    pub const GRPC_CALL_MESSAGE: u32 = 5;
    pub const VM_CONFIGURATION: u32 = 6;
    pub const PLUGIN_CONFIGURATION: u32 = 7;
    pub const FOREIGN_FUNCTION_ARGUMENTS: u32 = 8;
}

/// Header map types.
pub mod map {
    pub const HTTP_REQUEST_HEADERS: u32 = 0;
    pub const HTTP_REQUEST_TRAILERS: u32 = 1;
    pub const HTTP_RESPONSE_HEADERS: u32 = 2;
    pub const HTTP_RESPONSE_TRAILERS: u32 = 3;
    pub const GRPC_RECEIVE_INITIAL_METADATA: u32 = 4;
    pub const GRPC_RECEIVE_TRAILING_METADATA: u32 = 5;
    pub const HTTP_CALL_RESPONSE_HEADERS: u32 = 6;
    pub const HTTP_CALL_RESPONSE_TRAILERS: u32 = 7;
}

/// Stream types.
pub mod stream {
    pub const HTTP_REQUEST: u32 = 0;
    pub const HTTP_RESPONSE: u32 = 1;
    pub const DOWNSTREAM: u32 = 2;
    pub const UPSTREAM: u32 = 3;
}

/// Metric types.
pub mod metric {
    pub const COUNTER: u32 = 0;
    pub const GAUGE: u32 = 1;
    pub const HISTOGRAM: u32 = 2;
}

/// The largest log level (critical).
pub const LOG_LEVEL_MAX: u32 = 5;

/// The root (plugin) context's id; HTTP streams get the ids after it.
pub const ROOT_CONTEXT: u32 = 1;

/// The gRPC status of a call that got no response.
pub const GRPC_UNAVAILABLE: u32 = 14;
