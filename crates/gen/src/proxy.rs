//! proxy-wasm ABI v0.2.1 as data: the host functions a filter may import, the callbacks it
//! exports, the scenarios a proxy drives it through, and random filters shaped to the ABI.

use std::fmt;

use arbitrary::{Result, Unstructured};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::GenerateError;
use crate::features::Features;
use crate::value::ValType;

const I: ValType = ValType::I32;
const L: ValType = ValType::I64;

/// A function with a fixed name and signature: a host function or a callback.
#[derive(Debug, PartialEq, Eq)]
pub struct AbiFunction {
    pub module: &'static str,
    pub name: &'static str,
    pub params: &'static [ValType],
    pub results: &'static [ValType],
}

macro_rules! abi {
    ($($module:literal $name:literal [$($p:ident)*] -> [$($r:ident)*];)*) => {
        &[$(AbiFunction { module: $module, name: $name, params: &[$($p),*], results: &[$($r),*] },)*]
    };
}

/// Module names of the host functions.
pub const ENV: &str = "env";
pub const WASI: &str = "wasi_snapshot_preview1";
/// The older name of WASI's module, which some SDKs' filters (AssemblyScript's) import from.
pub const WASI_UNSTABLE: &str = "wasi_unstable";

/// A host function: which one it is, and its name and signature.
#[derive(Debug, PartialEq, Eq)]
pub struct HostFunction {
    pub id: HostFn,
    pub module: &'static str,
    pub name: &'static str,
    pub params: &'static [ValType],
    pub results: &'static [ValType],
}

macro_rules! host_functions {
    ($($module:ident $name:ident $id:ident [$($p:ident)*] -> [$($r:ident)*];)*) => {
        /// Every host function by name: the host's dispatch matches on it, so that a function
        /// of the table can never go without an implementation.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum HostFn { $($id,)* }

        /// Every host function a filter may import (proxy-wasm 0.2.1, and the WASI subset
        /// filters need).
        pub const HOST_FUNCTIONS: &[HostFunction] = &[$(HostFunction {
            id: HostFn::$id,
            module: host_functions!(@module $module),
            name: stringify!($name),
            params: &[$($p),*],
            results: &[$($r),*],
        },)*];
    };
    (@module env) => { ENV };
    (@module wasi) => { WASI };
}

host_functions! {
    env proxy_log ProxyLog [I I I] -> [I];
    env proxy_get_log_level ProxyGetLogLevel [I] -> [I];
    env proxy_get_current_time_nanoseconds ProxyGetCurrentTimeNanoseconds [I] -> [I];
    env proxy_set_tick_period_milliseconds ProxySetTickPeriodMilliseconds [I] -> [I];
    env proxy_done ProxyDone [] -> [I];
    env proxy_set_effective_context ProxySetEffectiveContext [I] -> [I];
    env proxy_get_buffer_bytes ProxyGetBufferBytes [I I I I I] -> [I];
    env proxy_set_buffer_bytes ProxySetBufferBytes [I I I I I] -> [I];
    env proxy_get_buffer_status ProxyGetBufferStatus [I I I] -> [I];
    env proxy_get_header_map_size ProxyGetHeaderMapSize [I I] -> [I];
    env proxy_get_header_map_pairs ProxyGetHeaderMapPairs [I I I] -> [I];
    env proxy_set_header_map_pairs ProxySetHeaderMapPairs [I I I] -> [I];
    env proxy_get_header_map_value ProxyGetHeaderMapValue [I I I I I] -> [I];
    env proxy_add_header_map_value ProxyAddHeaderMapValue [I I I I I] -> [I];
    env proxy_replace_header_map_value ProxyReplaceHeaderMapValue [I I I I I] -> [I];
    env proxy_remove_header_map_value ProxyRemoveHeaderMapValue [I I I] -> [I];
    env proxy_continue_stream ProxyContinueStream [I] -> [I];
    env proxy_close_stream ProxyCloseStream [I] -> [I];
    env proxy_get_status ProxyGetStatus [I I I] -> [I];
    env proxy_send_local_response ProxySendLocalResponse [I I I I I I I I] -> [I];
    env proxy_http_call ProxyHttpCall [I I I I I I I I I I] -> [I];
    env proxy_grpc_call ProxyGrpcCall [I I I I I I I I I I I I] -> [I];
    env proxy_grpc_stream ProxyGrpcStream [I I I I I I I I I] -> [I];
    env proxy_grpc_send ProxyGrpcSend [I I I I] -> [I];
    env proxy_grpc_cancel ProxyGrpcCancel [I] -> [I];
    env proxy_grpc_close ProxyGrpcClose [I] -> [I];
    env proxy_set_shared_data ProxySetSharedData [I I I I I] -> [I];
    env proxy_get_shared_data ProxyGetSharedData [I I I I I] -> [I];
    env proxy_register_shared_queue ProxyRegisterSharedQueue [I I I] -> [I];
    env proxy_resolve_shared_queue ProxyResolveSharedQueue [I I I I I] -> [I];
    env proxy_enqueue_shared_queue ProxyEnqueueSharedQueue [I I I] -> [I];
    env proxy_dequeue_shared_queue ProxyDequeueSharedQueue [I I I] -> [I];
    env proxy_define_metric ProxyDefineMetric [I I I I] -> [I];
    env proxy_record_metric ProxyRecordMetric [I L] -> [I];
    env proxy_increment_metric ProxyIncrementMetric [I L] -> [I];
    env proxy_get_metric ProxyGetMetric [I I] -> [I];
    env proxy_get_property ProxyGetProperty [I I I I] -> [I];
    env proxy_set_property ProxySetProperty [I I I I] -> [I];
    env proxy_call_foreign_function ProxyCallForeignFunction [I I I I I I] -> [I];
    wasi fd_write FdWrite [I I I I] -> [I];
    wasi clock_time_get ClockTimeGet [I L I] -> [I];
    wasi random_get RandomGet [I I] -> [I];
    wasi environ_sizes_get EnvironSizesGet [I I] -> [I];
    wasi environ_get EnvironGet [I I] -> [I];
    wasi args_sizes_get ArgsSizesGet [I I] -> [I];
    wasi args_get ArgsGet [I I] -> [I];
    wasi proc_exit ProcExit [I] -> [];
    wasi sched_yield SchedYield [] -> [I];
    wasi poll_oneoff PollOneoff [I I I I] -> [I];
    wasi fd_fdstat_set_flags FdFdstatSetFlags [I I] -> [I];
}

impl HostFn {
    /// The function's entry in [`HOST_FUNCTIONS`].
    pub fn function(self) -> &'static HostFunction {
        &HOST_FUNCTIONS[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.function().name
    }
}

impl fmt::Display for HostFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The callbacks a filter exports for the HTTP lifecycle this harness drives (plus the
/// allocator and the reactor initializer).
pub const CALLBACKS: &[AbiFunction] = abi! {
    "" "_initialize" [] -> [];
    "" "proxy_on_memory_allocate" [I] -> [I];
    "" "proxy_on_context_create" [I I] -> [];
    "" "proxy_on_vm_start" [I I] -> [I];
    "" "proxy_on_configure" [I I] -> [I];
    "" "proxy_on_tick" [I] -> [];
    "" "proxy_on_queue_ready" [I I] -> [];
    "" "proxy_on_request_headers" [I I I] -> [I];
    "" "proxy_on_request_body" [I I I] -> [I];
    "" "proxy_on_request_trailers" [I I] -> [I];
    "" "proxy_on_response_headers" [I I I] -> [I];
    "" "proxy_on_response_body" [I I I] -> [I];
    "" "proxy_on_response_trailers" [I I] -> [I];
    "" "proxy_on_http_call_response" [I I I I I] -> [];
    "" "proxy_on_grpc_receive" [I I I] -> [];
    "" "proxy_on_grpc_close" [I I I] -> [];
    "" "proxy_on_log" [I] -> [];
    "" "proxy_on_done" [I] -> [I];
    "" "proxy_on_delete" [I] -> [];
};

/// The host function `module::name`, if proxy-wasm 0.2.1 (or its WASI subset, under either
/// of WASI's module names) defines it.
pub fn host_function(module: &str, name: &str) -> Option<&'static HostFunction> {
    let module = if module == WASI_UNSTABLE {
        WASI
    } else {
        module
    };
    HOST_FUNCTIONS
        .iter()
        .find(|f| f.module == module && f.name == name)
}

/// Every import a filter may have, as `(module, function)`: each host function under its
/// module, and the WASI ones under `wasi_unstable` too. Engines link these.
pub fn host_imports() -> impl Iterator<Item = (&'static str, &'static HostFunction)> {
    let unstable = HOST_FUNCTIONS
        .iter()
        .filter(|f| f.module == WASI)
        .map(|f| (WASI_UNSTABLE, f));
    HOST_FUNCTIONS.iter().map(|f| (f.module, f)).chain(unstable)
}

/// A byte string that reads as text in JSON when it is UTF-8, and as `{"hex": "…"}` otherwise.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for Bytes {
    fn from(text: &str) -> Bytes {
        Bytes(text.as_bytes().to_vec())
    }
}

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum BytesRepr {
    Text(String),
    Hex { hex: String },
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match std::str::from_utf8(&self.0) {
            Ok(text) => BytesRepr::Text(text.to_string()),
            Err(_) => BytesRepr::Hex {
                hex: self.0.iter().map(|b| format!("{b:02x}")).collect(),
            },
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Bytes, D::Error> {
        match BytesRepr::deserialize(d)? {
            BytesRepr::Text(text) => Ok(Bytes(text.into_bytes())),
            BytesRepr::Hex { hex } => (0..hex.len())
                .step_by(2)
                .map(|i| {
                    hex.get(i..i + 2)
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                })
                .collect::<Option<Vec<u8>>>()
                .map(Bytes)
                .ok_or_else(|| serde::de::Error::custom(format!("bad hex bytes `{hex}`"))),
        }
    }
}

/// Header (or trailer, or metadata) pairs, in order.
pub type Pairs = Vec<(Bytes, Bytes)>;

/// One direction of an HTTP exchange.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Message {
    pub headers: Pairs,
    /// The body as it arrives, chunk by chunk.
    pub body: Vec<Bytes>,
    pub trailers: Pairs,
}

/// One HTTP request and its upstream response, as the proxy sees them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Stream {
    pub request: Message,
    pub response: Message,
}

/// The response to a filter's HTTP callout.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CalloutResponse {
    pub headers: Pairs,
    pub body: Bytes,
    pub trailers: Pairs,
}

/// Which proxy a run behaves like where real hosts differ (the ABI leaves much open).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum HostProfile {
    /// Envoy: proxy-wasm-cpp-host, with Envoy's own context where it decides.
    #[default]
    Envoy,
    /// nginx: Kong's ngx_wasm_module.
    Nginx,
}

impl HostProfile {
    pub const ALL: [HostProfile; 2] = [HostProfile::Envoy, HostProfile::Nginx];

    pub fn name(self) -> &'static str {
        match self {
            HostProfile::Envoy => "envoy",
            HostProfile::Nginx => "nginx",
        }
    }
}

impl fmt::Display for HostProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for HostProfile {
    type Err = String;

    fn from_str(name: &str) -> std::result::Result<HostProfile, String> {
        HostProfile::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| format!("unknown host profile `{name}` (known: envoy, nginx)"))
    }
}

/// A property's value as the proxy knows it: hosts encode typed values differently (Envoy
/// as CEL values, 8-byte integers; nginx as text).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Property {
    Int {
        int: i64,
    },
    Bool {
        bool: bool,
    },
    /// A point in time, in nanoseconds since the epoch.
    Time {
        time_nanos: u64,
    },
    Duration {
        duration_nanos: u64,
    },
    Bytes(Bytes),
}

impl From<&str> for Property {
    fn from(text: &str) -> Property {
        Property::Bytes(Bytes::from(text))
    }
}

/// Everything a proxy gives a filter: configuration, environment, and the traffic. Time,
/// randomness and environment come from here, so a run is reproducible.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Scenario {
    /// Wall-clock time at the start, in nanoseconds; it advances 1 ms per callback.
    pub time_nanos: u64,
    /// Seed of the bytes `random_get` returns.
    pub random_seed: u64,
    /// The level `proxy_get_log_level` reports (0 trace … 5 critical).
    pub log_level: u32,
    pub environment: Pairs,
    pub vm_configuration: Bytes,
    pub plugin_configuration: Bytes,
    /// Property paths (segments joined by NUL bytes, as the SDKs send them) and values.
    pub properties: Vec<(Bytes, Property)>,
    pub streams: Vec<Stream>,
    /// `proxy_on_tick` calls after each stream, if the filter set a tick period.
    pub ticks_per_stream: u32,
    /// Responses to the filter's HTTP callouts, in the order the callouts are made; a callout
    /// beyond the list times out (delivered with no headers and no body).
    pub callout_responses: Vec<CalloutResponse>,
    /// The proxy whose host behaviour the run follows.
    pub host: HostProfile,
}

impl Scenario {
    /// The same scenario under `host`.
    pub fn under(&self, host: HostProfile) -> Scenario {
        Scenario {
            host,
            ..self.clone()
        }
    }

    /// Scenarios one step simpler: each drops one stream, header, chunk, trailer, callout
    /// response or property, or empties a configuration, or drops the ticks. For shrinking.
    pub fn simplifications(&self) -> Vec<Scenario> {
        let mut out = Vec::new();
        let mut push = |f: &dyn Fn(&mut Scenario)| {
            let mut s = self.clone();
            f(&mut s);
            if s != *self {
                out.push(s);
            }
        };
        for i in 0..self.streams.len() {
            push(&|s| {
                s.streams.remove(i);
            });
        }
        for i in 0..self.callout_responses.len() {
            push(&|s| {
                s.callout_responses.remove(i);
            });
        }
        for i in 0..self.properties.len() {
            push(&|s| {
                s.properties.remove(i);
            });
        }
        push(&|s| s.vm_configuration = Bytes::default());
        push(&|s| s.plugin_configuration = Bytes::default());
        push(&|s| s.ticks_per_stream = 0);
        fn part(s: &mut Scenario, stream: usize, response: bool) -> &mut Message {
            let stream = &mut s.streams[stream];
            if response {
                &mut stream.response
            } else {
                &mut stream.request
            }
        }
        for (i, stream) in self.streams.iter().enumerate() {
            for (response, message) in [(false, &stream.request), (true, &stream.response)] {
                for j in 0..message.headers.len() {
                    push(&|s| {
                        part(s, i, response).headers.remove(j);
                    });
                }
                for j in 0..message.body.len() {
                    push(&|s| {
                        part(s, i, response).body.remove(j);
                    });
                }
                for j in 0..message.trailers.len() {
                    push(&|s| {
                        part(s, i, response).trailers.remove(j);
                    });
                }
            }
        }
        out
    }

    /// How many steps [`Scenario::simplifications`] could still take, for sizes in reports.
    pub fn size(&self) -> usize {
        let message = |m: &Message| m.headers.len() + m.body.len() + m.trailers.len();
        self.streams.len()
            + self
                .streams
                .iter()
                .map(|s| message(&s.request) + message(&s.response))
                .sum::<usize>()
            + self.callout_responses.len()
            + self.properties.len()
    }
}

/// A scenario for trying a filter by hand: one authorized POST with a body in two chunks and
/// a 200 response, a second GET, an auth service that says 200, and a tick after each stream.
pub fn example_scenario() -> Scenario {
    let pairs = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (Bytes::from(*k), Bytes::from(*v)))
            .collect()
    };
    let response = Message {
        headers: pairs(&[(":status", "200"), ("content-type", "text/plain")]),
        body: vec![Bytes::from("all secret "), Bytes::from("things")],
        trailers: Vec::new(),
    };
    Scenario {
        time_nanos: 1_700_000_000_000_000_000,
        random_seed: 1,
        log_level: 0,
        environment: pairs(&[("WASMDIFF", "1")]),
        vm_configuration: Bytes::default(),
        plugin_configuration: Bytes::from("{\"header\":\"x-wasmdiff\",\"value\":\"yes\"}"),
        properties: vec![
            (Bytes::from("plugin_name"), Property::from("example")),
            (Bytes::from("request\0path"), Property::from("/login")),
            (Bytes::from("response\0code"), Property::Int { int: 200 }),
        ],
        streams: vec![
            Stream {
                request: Message {
                    headers: pairs(&[
                        (":method", "POST"),
                        (":path", "/login"),
                        (":authority", "example.com"),
                        ("authorization", "Bearer allow"),
                        ("user-agent", "curl/8.0"),
                        ("x-debug", "1"),
                    ]),
                    body: vec![Bytes::from("user=alice&pass"), Bytes::from("word=secret")],
                    trailers: Vec::new(),
                },
                response: response.clone(),
            },
            Stream {
                request: Message {
                    headers: pairs(&[
                        (":method", "GET"),
                        (":path", "/items"),
                        (":authority", "example.com"),
                    ]),
                    body: Vec::new(),
                    trailers: Vec::new(),
                },
                response,
            },
        ],
        ticks_per_stream: 1,
        callout_responses: vec![CalloutResponse {
            headers: pairs(&[(":status", "200")]),
            body: Bytes::default(),
            trailers: Vec::new(),
        }],
        host: HostProfile::Envoy,
    }
}

const HEADER_NAMES: &[&str] = &[
    ":method",
    ":path",
    ":authority",
    ":scheme",
    ":status",
    "content-type",
    "content-length",
    "authorization",
    "x-api-key",
    "user-agent",
    "x-request-id",
    "cookie",
    "x-forwarded-for",
    "accept",
    "x-debug",
    "",
    "X-Mixed-Case",
];
const HEADER_VALUES: &[&str] = &[
    "GET",
    "POST",
    "/",
    "/api/v1/items?id=7",
    "example.com",
    "https",
    "200",
    "403",
    "500",
    "application/json",
    "text/plain",
    "Bearer allow",
    "Bearer deny",
    "secret",
    "curl/8.0",
    "0",
    "",
    "a=b; c=d",
    "10.0.0.1",
    "*/*",
];
const BODIES: &[&str] = &[
    "",
    "hello",
    "hello world",
    "{\"user\":\"alice\",\"password\":\"secret\"}",
    "secret",
    "SECRET secret sec",
    "ret",
    "x",
];
const CONFIGURATIONS: &[&str] = &[
    "",
    "{}",
    "{\"header\":\"x-wasmdiff\",\"value\":\"yes\"}",
    "{\"deny\":true}",
    "{\"replace\":\"secret\",\"with\":\"******\"}",
    "{\"tick_ms\":100}",
    "{\"queue\":\"events\"}",
    "not json",
];
const PROPERTY_PATHS: &[&str] = &[
    "plugin_name",
    "plugin_root_id",
    "plugin_vm_id",
    "request\0path",
    "source\0address",
    "node\0id",
];
/// Typed properties, whose encodings differ between hosts.
const TYPED_PROPERTIES: &[&str] = &[
    "response\0code",
    "source\0port",
    "connection\0mtls",
    "request\0time",
    "request\0duration",
];

fn property(u: &mut Unstructured<'_>) -> Result<(Bytes, Property)> {
    if u.ratio(1, 2)? {
        return Ok((
            pick(u, PROPERTY_PATHS)?,
            Property::Bytes(pick(u, HEADER_VALUES)?),
        ));
    }
    let path = *u.choose(TYPED_PROPERTIES)?;
    let value = match path {
        "response\0code" => Property::Int {
            int: *u.choose(&[200, 403, 503])?,
        },
        "source\0port" => Property::Int {
            int: u.int_in_range(1..=65535)?,
        },
        "connection\0mtls" => Property::Bool {
            bool: u.arbitrary()?,
        },
        "request\0time" => Property::Time {
            time_nanos: 1_700_000_000_000_000_000 + u64::from(u.arbitrary::<u32>()?),
        },
        _ => Property::Duration {
            duration_nanos: u64::from(u.arbitrary::<u32>()?),
        },
    };
    Ok((Bytes::from(path), value))
}

fn pick(u: &mut Unstructured<'_>, pool: &[&str]) -> Result<Bytes> {
    // Mostly from the pool (names filters look for), sometimes raw bytes.
    if u.ratio(7, 8)? {
        Ok(Bytes::from(*u.choose(pool)?))
    } else {
        let len = u.int_in_range(0..=12)?;
        Ok(Bytes(
            (0..len).map(|_| u.arbitrary()).collect::<Result<_>>()?,
        ))
    }
}

fn pairs(u: &mut Unstructured<'_>, most: usize) -> Result<Pairs> {
    let count = u.int_in_range(0..=most)?;
    (0..count)
        .map(|_| Ok((pick(u, HEADER_NAMES)?, pick(u, HEADER_VALUES)?)))
        .collect()
}

fn message(u: &mut Unstructured<'_>) -> Result<Message> {
    let chunks = u.int_in_range(0..=3)?;
    Ok(Message {
        headers: pairs(u, 6)?,
        body: (0..chunks)
            .map(|_| pick(u, BODIES))
            .collect::<Result<_>>()?,
        trailers: pairs(u, 2)?,
    })
}

/// A scenario drawn from the input: realistic names and values, mostly, with raw bytes mixed in.
pub fn arbitrary_scenario(u: &mut Unstructured<'_>) -> Result<Scenario> {
    let streams = u.int_in_range(1..=3)?;
    let callouts = u.int_in_range(0..=3)?;
    Ok(Scenario {
        time_nanos: 1_700_000_000_000_000_000 + u64::from(u.arbitrary::<u32>()?),
        random_seed: u.arbitrary()?,
        log_level: u.int_in_range(0..=5)?,
        environment: vec![(Bytes::from("WASMDIFF"), Bytes::from("1"))],
        vm_configuration: pick(u, CONFIGURATIONS)?,
        plugin_configuration: pick(u, CONFIGURATIONS)?,
        properties: (0..u.int_in_range(0..=3)?)
            .map(|_| property(u))
            .collect::<Result<_>>()?,
        streams: (0..streams)
            .map(|_| {
                Ok(Stream {
                    request: message(u)?,
                    response: message(u)?,
                })
            })
            .collect::<Result<_>>()?,
        ticks_per_stream: u.int_in_range(0..=2)?,
        callout_responses: (0..callouts)
            .map(|_| {
                let status = *u.choose(&["200", "403", "503"])?;
                let mut headers = vec![(Bytes::from(":status"), Bytes::from(status))];
                headers.extend(pairs(u, 2)?);
                Ok(CalloutResponse {
                    headers,
                    body: pick(u, BODIES)?,
                    trailers: Vec::new(),
                })
            })
            .collect::<Result<_>>()?,
        // Drawn last, so that the rest of a scenario does not depend on it; an exhausted
        // input gives the default host.
        host: *u.choose(&HostProfile::ALL)?,
    })
}

/// A function type in WAT form, ` (param i32) (result i32)`.
pub fn signature(params: &[ValType], results: &[ValType]) -> String {
    let list = |types: &[ValType]| types.iter().map(|t| format!(" {t}")).collect::<String>();
    let params = if params.is_empty() {
        String::new()
    } else {
        format!(" (param{})", list(params))
    };
    let results = if results.is_empty() {
        String::new()
    } else {
        format!(" (result{})", list(results))
    };
    format!("{params}{results}")
}

fn assemble(items: impl Iterator<Item = String>) -> Vec<u8> {
    let body: Vec<String> = items.collect();
    wat::parse_str(format!("(module\n{}\n)", body.join("\n"))).expect("the ABI modules assemble")
}

/// A module importing every host function but those in `leave_out`.
fn imports_module(leave_out: &[HostFn]) -> Vec<u8> {
    assemble(
        HOST_FUNCTIONS
            .iter()
            .filter(|f| !leave_out.contains(&f.id))
            .map(|f| {
                format!(
                    "(import \"{}\" \"{}\" (func{}))",
                    f.module,
                    f.name,
                    signature(f.params, f.results)
                )
            }),
    )
}

/// [`imports_module`], assembled once per `leave_out` (a target uses one).
fn imports_without(leave_out: &[HostFn]) -> Vec<u8> {
    static MODULES: std::sync::Mutex<Vec<(Vec<HostFn>, Vec<u8>)>> =
        std::sync::Mutex::new(Vec::new());
    let mut modules = MODULES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, module)) = modules.iter().find(|(left, _)| left == leave_out) {
        return module.clone();
    }
    let module = imports_module(leave_out);
    modules.push((leave_out.to_vec(), module.clone()));
    module
}

/// A module importing every host function (what a random filter may import), and one exporting
/// a memory and every callback (what it must export).
fn abi_modules() -> &'static (Vec<u8>, Vec<u8>) {
    static MODULES: std::sync::OnceLock<(Vec<u8>, Vec<u8>)> = std::sync::OnceLock::new();
    MODULES.get_or_init(|| {
        let imports = imports_module(&[]);
        let exports = assemble(
            std::iter::once("(memory (export \"memory\") 1 4)".to_string()).chain(
                CALLBACKS.iter().map(|f| {
                    let results: String = f.results.iter().map(|_| " i32.const 0").collect();
                    format!(
                        "(func (export \"{}\"){}{results})",
                        f.name,
                        signature(f.params, f.results)
                    )
                }),
            ),
        );
        (imports, exports)
    })
}

/// A random filter: a wasm-smith module (swarm configuration from the input) that may import
/// any host function but those in `leave_out`, and exports a memory, the allocator and every
/// callback. Its callbacks do arbitrary things with arbitrary pointers, lengths and enum
/// values.
pub fn random_filter(
    u: &mut Unstructured<'_>,
    features: &Features,
    leave_out: &[HostFn],
) -> std::result::Result<Vec<u8>, GenerateError> {
    let mut config: wasm_smith::Config = u.arbitrary()?;
    crate::swarm::restrict(&mut config, features);
    let (imports, exports) = abi_modules();
    config.available_imports = Some(match leave_out {
        [] => imports.clone(),
        _ => imports_without(leave_out),
    });
    config.exports = Some(exports.clone());
    config.max_imports = HOST_FUNCTIONS.len();
    // The ABI's own types must fit whatever limits the swarm drew.
    config.max_type_size = 1000;
    config.max_types = config.max_types.max(100);
    config.max_funcs = config
        .max_funcs
        .max(HOST_FUNCTIONS.len() + CALLBACKS.len() + 10);
    config.export_everything = false;
    config.max_memories = 0;
    // The exported memory comes from `exports`; wasm-smith would add its own beside it.
    config.min_memories = 0;
    config.memory64_enabled = false;
    let mut module = wasm_smith::Module::new(config, u)?;
    module
        .ensure_termination(crate::swarm::MODULE_FUEL)
        .map_err(|e| GenerateError::Internal(format!("ensure_termination: {e}")))?;
    Ok(module.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_filters_import_nothing_they_are_told_to_leave_out() {
        let leave_out = [HostFn::ProxyGetHeaderMapSize, HostFn::ProxyGetBufferStatus];
        let mut imported = std::collections::BTreeSet::new();
        for seed in 0..40u8 {
            let data: Vec<u8> = (0..2000u32)
                .map(|i| (i as u8).wrapping_mul(seed | 1) ^ seed)
                .collect();
            let module =
                random_filter(&mut Unstructured::new(&data), &Features::ALL, &leave_out).unwrap();
            for payload in wasmparser::Parser::new(0).parse_all(&module) {
                if let wasmparser::Payload::ImportSection(reader) = payload.unwrap() {
                    for import in reader.into_imports() {
                        imported.insert(import.unwrap().name.to_string());
                    }
                }
            }
        }
        assert!(imported.len() > 20, "{imported:?}");
        for left in leave_out {
            assert!(!imported.contains(left.name()), "{left} imported");
        }
    }

    #[test]
    fn the_abi_modules_assemble_and_random_filters_fit_the_abi() {
        assert_eq!(HOST_FUNCTIONS.len(), 50);
        for (i, f) in HOST_FUNCTIONS.iter().enumerate() {
            assert_eq!(f.id as usize, i, "{}", f.name);
        }
        assert_eq!(host_imports().count(), 50 + 11);
        let mut callbacks_seen = 0;
        let mut memory_accesses = 0;
        for seed in 0..40u8 {
            let data: Vec<u8> = (0..2000u32)
                .map(|i| (i as u8).wrapping_mul(seed | 1) ^ seed)
                .collect();
            let module = random_filter(&mut Unstructured::new(&data), &Features::ALL, &[]).unwrap();
            let mut validator =
                wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all());
            validator.validate_all(&module).unwrap();
            // One memory, the exported one: engines without multi-memory can take the filter.
            let mut one_memory = wasmparser::WasmFeatures::all();
            one_memory.remove(wasmparser::WasmFeatures::MULTI_MEMORY);
            wasmparser::Validator::new_with_features(one_memory)
                .validate_all(&module)
                .unwrap();
            for payload in wasmparser::Parser::new(0).parse_all(&module) {
                match payload.unwrap() {
                    wasmparser::Payload::ImportSection(reader) => {
                        for import in reader.into_imports() {
                            let import = import.unwrap();
                            assert!(
                                host_function(import.module, import.name).is_some(),
                                "{}",
                                import.name
                            );
                        }
                    }
                    wasmparser::Payload::CodeSectionEntry(body) => {
                        let mut reader = body.get_operators_reader().unwrap();
                        while !reader.eof() {
                            let op = reader.read().unwrap();
                            memory_accesses += usize::from(matches!(
                                op,
                                wasmparser::Operator::I32Load { .. }
                                    | wasmparser::Operator::I32Store { .. }
                                    | wasmparser::Operator::I64Load { .. }
                                    | wasmparser::Operator::I64Store { .. }
                            ));
                        }
                    }
                    wasmparser::Payload::ExportSection(reader) => {
                        callbacks_seen += reader
                            .into_iter()
                            .filter(|e| e.as_ref().unwrap().name.starts_with("proxy_on"))
                            .count();
                    }
                    _ => {}
                }
            }
        }
        assert_eq!(callbacks_seen, 40 * (CALLBACKS.len() - 1));
        // The filters' code reads and writes their memory.
        assert!(memory_accesses > 40, "{memory_accesses} memory accesses");
    }

    #[test]
    fn scenarios_round_trip_through_json_and_simplify() {
        let data: Vec<u8> = (0..500u32).map(|i| (i * 7 + 3) as u8).collect();
        let scenario = arbitrary_scenario(&mut Unstructured::new(&data)).unwrap();
        let json = serde_json::to_string(&scenario).unwrap();
        assert_eq!(serde_json::from_str::<Scenario>(&json).unwrap(), scenario);
        let binary = Bytes(vec![0xff, 0x00, 0x41]);
        let json = serde_json::to_string(&binary).unwrap();
        assert_eq!(json, "{\"hex\":\"ff0041\"}");
        assert_eq!(serde_json::from_str::<Bytes>(&json).unwrap(), binary);
        assert_eq!(
            serde_json::from_str::<Scenario>("{}").unwrap(),
            Scenario::default()
        );
        let simpler = scenario.simplifications();
        assert!(!simpler.is_empty());
        assert!(
            simpler
                .iter()
                .all(|s| s != &scenario && s.size() <= scenario.size())
        );
    }
}
