//! What a run of a filter through a scenario leaves: every callback and host call in order,
//! and the final state of the traffic and of the host. Traces of different engines are
//! compared event by event.

use serde::{Deserialize, Serialize};
use wasmdiff_gen::Value;
use wasmdiff_gen::proxy::{Bytes, Pairs};

/// One thing that happened, in the order it completed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event<T> {
    /// The proxy called a filter callback.
    Callback {
        name: String,
        args: Vec<Value>,
        outcome: Outcome<T>,
    },
    /// The filter called a host function: its arguments, the guest bytes the host read, the
    /// guest bytes it wrote (returned data and out-parameters), and its result.
    Host {
        name: String,
        args: Vec<Value>,
        read: Bytes,
        wrote: Bytes,
        result: HostResult,
    },
}

/// How a callback ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome<T> {
    Returned(Vec<Value>),
    Trapped(T),
}

/// How a host function ended.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostResult {
    /// A status (or WASI errno).
    Status(u32),
    /// A function with no result (`proc_exit` aside, none).
    Done,
    /// The host trapped the filter (`proc_exit`, or a trap in a nested guest call).
    Trap(String),
}

/// How an HTTP stream ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StreamEnd {
    /// Every phase ran and the stream went through.
    Completed,
    /// The filter answered with a local response.
    LocalResponse,
    /// The filter closed the stream.
    Closed,
    /// The filter paused in this phase and never resumed.
    Stalled(String),
    /// A callback trapped: the filter is broken and the proxy fails the stream.
    Failed,
    /// Not reached: an earlier callback trapped.
    NotStarted,
}

/// A local response a filter sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalResponse {
    pub status: u32,
    pub details: Bytes,
    pub body: Bytes,
    pub headers: Pairs,
    pub grpc_status: i32,
}

/// What went upstream (the request) and downstream (the response) of one stream.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forwarded {
    pub headers: Pairs,
    pub body: Bytes,
    pub trailers: Pairs,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamRecord {
    pub context: u32,
    pub request: Forwarded,
    pub response: Forwarded,
    pub local_response: Option<LocalResponse>,
    pub end: StreamEnd,
}

/// An HTTP or gRPC callout a filter made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Callout {
    pub id: u32,
    pub kind: String,
    pub upstream: Bytes,
    pub headers: Pairs,
    pub body: Bytes,
    pub timeout_ms: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metric {
    pub id: u32,
    pub kind: u32,
    pub name: Bytes,
    pub value: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queue {
    pub id: u32,
    pub name: Bytes,
    pub items: Vec<Bytes>,
}

/// The host's state at the end of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalState {
    pub streams: Vec<StreamRecord>,
    pub callouts: Vec<Callout>,
    pub logs: Vec<(u32, Bytes)>,
    pub metrics: Vec<Metric>,
    pub shared_data: Vec<(Bytes, Bytes, u32)>,
    pub queues: Vec<Queue>,
    pub tick_period_ms: u32,
    pub properties: Pairs,
    /// Panics of the host itself (each a bug in wasmdiff): always a finding.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub host_panics: Vec<String>,
}

/// A run of a filter through a scenario on one engine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace<T> {
    pub events: Vec<Event<T>>,
    pub state: FinalState,
}
