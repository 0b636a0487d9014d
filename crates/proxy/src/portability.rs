//! Where one filter behaves differently under two hosts, as its users would notice: what the
//! proxy forwarded or answered, the callouts it made, what it logged, where the filter
//! broke. Host-call traces always differ a little between proxies (pointers aside, their
//! statuses and sizes are the hosts' own), so the comparison is of what is observable, and
//! the traces say why.

use std::fmt;

use serde::{Deserialize, Serialize};
use wasmdiff_gen::proxy::Bytes;

use crate::trace::{Event, Forwarded, HostResult, Outcome, Trace};

/// Something a filter's users observe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "aspect", rename_all = "kebab-case")]
pub enum Aspect {
    /// The first callback that trapped (the proxy fails the stream, the filter is broken).
    Trap,
    StreamEnd {
        context: u32,
    },
    LocalResponse {
        context: u32,
    },
    Forwarded {
        context: u32,
        direction: Direction,
        part: Part,
    },
    /// The callout made `index`-th (its token is the host's own).
    Callout {
        index: usize,
    },
    Log {
        index: usize,
    },
    Metric {
        name: Bytes,
    },
}

/// An aspect without which stream, callout, log line or metric it is: what a signature keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "aspect", rename_all = "kebab-case")]
pub enum AspectKind {
    Trap,
    StreamEnd,
    LocalResponse,
    Forwarded { direction: Direction, part: Part },
    Callout,
    Log,
    Metric,
}

impl fmt::Display for AspectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AspectKind::Trap => f.write_str("where the filter traps"),
            AspectKind::StreamEnd => f.write_str("how a stream ends"),
            AspectKind::LocalResponse => f.write_str("a local response"),
            AspectKind::Forwarded { direction, part } => {
                write!(f, "the {} {} forwarded", direction.name(), part.name())
            }
            AspectKind::Callout => f.write_str("a callout"),
            AspectKind::Log => f.write_str("a log line"),
            AspectKind::Metric => f.write_str("a metric"),
        }
    }
}

impl Aspect {
    pub fn kind(&self) -> AspectKind {
        match self {
            Aspect::Trap => AspectKind::Trap,
            Aspect::StreamEnd { .. } => AspectKind::StreamEnd,
            Aspect::LocalResponse { .. } => AspectKind::LocalResponse,
            Aspect::Forwarded {
                direction, part, ..
            } => AspectKind::Forwarded {
                direction: *direction,
                part: *part,
            },
            Aspect::Callout { .. } => AspectKind::Callout,
            Aspect::Log { .. } => AspectKind::Log,
            Aspect::Metric { .. } => AspectKind::Metric,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    Request,
    Response,
}

impl Direction {
    pub fn name(self) -> &'static str {
        match self {
            Direction::Request => "request",
            Direction::Response => "response",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    Headers,
    Body,
    Trailers,
}

impl Part {
    pub fn name(self) -> &'static str {
        match self {
            Part::Headers => "headers",
            Part::Body => "body",
            Part::Trailers => "trailers",
        }
    }
}

impl fmt::Display for Aspect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Aspect::Trap => write!(f, "where the filter traps"),
            Aspect::StreamEnd { context } => write!(f, "how stream {context} ends"),
            Aspect::LocalResponse { context } => {
                write!(f, "the local response of stream {context}")
            }
            Aspect::Forwarded {
                context,
                direction,
                part,
            } => write!(
                f,
                "the {} {} forwarded on stream {context}",
                direction.name(),
                part.name()
            ),
            Aspect::Callout { index } => write!(f, "callout #{index}"),
            Aspect::Log { index } => write!(f, "log line #{index}"),
            Aspect::Metric { name } => write!(f, "metric {name}"),
        }
    }
}

/// One aspect and how it looked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Observation {
    pub aspect: Aspect,
    pub value: String,
}

/// The first observable difference between two runs; the events behind it in each run (the
/// host call or callback that made it, where one did); and the first event where the runs
/// part (a different callback, host call or result: the hosts' own ids and sizes aside).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostDifference {
    pub aspect: Aspect,
    /// How the aspect looked in each run (`None`: it is not there).
    pub left: Option<String>,
    pub right: Option<String>,
    pub behind: (Option<usize>, Option<usize>),
    pub parting_event: Option<usize>,
}

/// What a run leaves observable, in order: the first trap, then each stream, callouts, logs
/// and metrics.
pub fn observations<T: PartialEq>(
    trace: &Trace<T>,
    trap_text: impl Fn(&T) -> String,
) -> Vec<Observation> {
    let mut seen = Vec::new();
    let mut add = |aspect: Aspect, value: String| seen.push(Observation { aspect, value });
    let trapped = trace.events.iter().find_map(|event| match event {
        Event::Callback {
            name,
            args,
            outcome: Outcome::Trapped(trap),
        } => {
            let args: Vec<String> = args.iter().map(ToString::to_string).collect();
            Some(format!("{name}({}): {}", args.join(", "), trap_text(trap)))
        }
        _ => None,
    });
    if let Some(trapped) = trapped {
        add(Aspect::Trap, trapped);
    }
    for stream in &trace.state.streams {
        let context = stream.context;
        add(Aspect::StreamEnd { context }, format!("{:?}", stream.end));
        if let Some(local) = &stream.local_response {
            let headers = pairs(&local.headers);
            add(
                Aspect::LocalResponse { context },
                format!("{} {} headers [{headers}]", local.status, local.body),
            );
        }
        for (direction, forwarded) in [
            (Direction::Request, &stream.request),
            (Direction::Response, &stream.response),
        ] {
            forwarded_parts(forwarded, |part, value| {
                add(
                    Aspect::Forwarded {
                        context,
                        direction,
                        part,
                    },
                    value,
                )
            });
        }
    }
    for (index, callout) in trace.state.callouts.iter().enumerate() {
        add(
            Aspect::Callout { index },
            format!(
                "{} to {} headers [{}] body {} timeout {} ms",
                callout.kind,
                callout.upstream,
                pairs(&callout.headers),
                callout.body,
                callout.timeout_ms
            ),
        );
    }
    for (index, (level, message)) in trace.state.logs.iter().enumerate() {
        add(Aspect::Log { index }, format!("level {level}: {message}"));
    }
    for metric in &trace.state.metrics {
        add(
            Aspect::Metric {
                name: metric.name.clone(),
            },
            metric.value.to_string(),
        );
    }
    seen
}

fn forwarded_parts(forwarded: &Forwarded, mut add: impl FnMut(Part, String)) {
    add(Part::Headers, pairs(&forwarded.headers));
    add(Part::Body, forwarded.body.to_string());
    add(Part::Trailers, pairs(&forwarded.trailers));
}

fn pairs(pairs: &[(Bytes, Bytes)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first observable difference between runs `left` and `right` of one filter, if any.
pub fn first_difference<T: PartialEq>(
    left: &Trace<T>,
    right: &Trace<T>,
    trap_text: impl Fn(&T) -> String,
) -> Option<HostDifference> {
    let ours = observations(left, &trap_text);
    let theirs = observations(right, &trap_text);
    let value = |seen: &[Observation], aspect: &Aspect| {
        seen.iter()
            .find(|o| &o.aspect == aspect)
            .map(|o| o.value.clone())
    };
    // A trap explains what follows it, so it comes first.
    let trap = [Aspect::Trap];
    let aspects = trap.iter().chain(
        ours.iter()
            .chain(
                theirs
                    .iter()
                    .filter(|o| !ours.iter().any(|p| p.aspect == o.aspect)),
            )
            .map(|o| &o.aspect)
            .filter(|a| **a != Aspect::Trap),
    );
    for aspect in aspects {
        let (left_value, right_value) = (value(&ours, aspect), value(&theirs, aspect));
        if left_value != right_value {
            return Some(HostDifference {
                aspect: aspect.clone(),
                left: left_value,
                right: right_value,
                behind: (behind(left, aspect), behind(right, aspect)),
                parting_event: parting_event(left, right),
            });
        }
    }
    None
}

/// The event that made an aspect what it is, where one event did.
fn behind<T>(trace: &Trace<T>, aspect: &Aspect) -> Option<usize> {
    match aspect {
        // The callback's last host call that trapped or failed (SDKs panic on a status they
        // do not expect); else the callback.
        Aspect::Trap => trace
            .events
            .iter()
            .position(|e| {
                matches!(
                    e,
                    Event::Callback {
                        outcome: Outcome::Trapped(_),
                        ..
                    }
                )
            })
            .map(|callback| {
                // The callback's own host calls come right before it.
                let calls = trace.events[..callback]
                    .iter()
                    .rposition(|e| !matches!(e, Event::Host { .. }))
                    .map_or(0, |other| other + 1);
                (calls..callback)
                    .rev()
                    .find(|&i| {
                        matches!(
                            &trace.events[i],
                            Event::Host { result, .. }
                                if !matches!(result, HostResult::Status(0) | HostResult::Done)
                        )
                    })
                    .unwrap_or(callback)
            }),
        Aspect::LocalResponse { .. } => host_calls(trace, &["proxy_send_local_response"]).last(),
        Aspect::Callout { index } => host_calls(
            trace,
            &[
                "proxy_http_call",
                "proxy_dispatch_http_call",
                "proxy_grpc_call",
            ],
        )
        .nth(*index),
        Aspect::Log { index } => host_calls(trace, &["proxy_log"]).nth(*index),
        _ => None,
    }
}

/// The indices of the calls of host functions `names`.
fn host_calls<'t, T>(
    trace: &'t Trace<T>,
    names: &'t [&'t str],
) -> impl Iterator<Item = usize> + 't {
    trace
        .events
        .iter()
        .enumerate()
        .filter(
            move |(_, e)| matches!(e, Event::Host { name, .. } if names.contains(&name.as_str())),
        )
        .map(|(i, _)| i)
}

/// The index of the first event where two traces part: another callback or host function,
/// other arguments, another outcome. The bytes a host wrote (its ids, sizes) are left out.
pub fn parting_event<T: PartialEq>(left: &Trace<T>, right: &Trace<T>) -> Option<usize> {
    let same = |a: &Event<T>, b: &Event<T>| match (a, b) {
        (
            Event::Host {
                name, args, result, ..
            },
            Event::Host {
                name: n,
                args: a2,
                result: r,
                ..
            },
        ) => name == n && args == a2 && result == r,
        _ => a == b,
    };
    let common = left.events.len().min(right.events.len());
    (0..common)
        .find(|&i| !same(&left.events[i], &right.events[i]))
        .or((left.events.len() != right.events.len()).then_some(common))
}
