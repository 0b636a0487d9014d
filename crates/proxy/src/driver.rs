//! The lifecycle driver: takes an instantiated filter through a scenario as a proxy would.
//!
//! Root context: `_initialize`, `proxy_on_context_create`, `proxy_on_vm_start`,
//! `proxy_on_configure`. Then each stream in its own context: request headers, body chunks
//! and trailers, then response headers, body and trailers, then log, done and delete; ticks
//! after each stream when the filter set a tick period; finally the root's done and delete.
//! A callback returning PAUSE holds the stream: body chunks keep buffering (the next body
//! callback sees the whole buffer), and the stream resumes only if the filter calls
//! `proxy_continue_stream` (say, from a callout response); otherwise it stalls. A local
//! response or a closed stream ends it. Callout responses and queue notifications are
//! delivered right after the callback that caused them. A trapped callback leaves the filter
//! broken: nothing more is delivered.

use wasmdiff_gen::Value;
use wasmdiff_gen::proxy::{CalloutResponse, Message, Scenario};

use crate::abi::{ACTION_PAUSE, ROOT_CONTEXT};
use crate::host::{Host, StreamState, stream_context};
use crate::trace::{Event, Outcome, StreamEnd, Trace};

/// An instantiated filter, as each engine provides it to [`drive`].
pub trait Vm {
    type Trap;
    fn host(&mut self) -> &mut Host;
    fn has_export(&mut self, name: &str) -> bool;
    /// Told before each callback the index its event will have in the trace (or after the
    /// host calls it makes), so that a crash can say where it happened.
    fn at_event(&mut self, _index: usize) {}
    /// Calls an export with a fresh termination budget.
    fn call(&mut self, name: &str, args: &[Value]) -> Result<Vec<Value>, Self::Trap>;
}

/// Callout responses and queue notifications delivered per run at most: a filter answering
/// each notification with another enqueue would otherwise never stop.
const MAX_DELIVERIES: usize = 64;

/// The simulated time each callback takes.
const CALLBACK_NANOS: u64 = 1_000_000;

struct Run<'v, V: Vm> {
    vm: &'v mut V,
    scenario: &'v Scenario,
    events: Vec<Event<V::Trap>>,
    failed: bool,
    deliveries: usize,
    callouts_answered: usize,
}

/// Runs `vm` (instantiated with a fresh [`Host`] for `scenario`) through the scenario.
pub fn drive<V: Vm>(vm: &mut V, scenario: &Scenario) -> Trace<V::Trap> {
    let mut run = Run {
        vm,
        scenario,
        events: Vec::new(),
        failed: false,
        deliveries: 0,
        callouts_answered: 0,
    };
    run.lifecycle();
    let state = run.vm.host().final_state();
    Trace {
        events: run.events,
        state,
    }
}

fn i32s(values: &[u32]) -> Vec<Value> {
    values.iter().map(|v| Value::I32(*v as i32)).collect()
}

impl<V: Vm> Run<'_, V> {
    /// Calls a callback in `context` if the filter exports it, and records it; `None` if it
    /// was not called or trapped. Deliveries it caused follow.
    fn callback(&mut self, name: &str, context: u32, args: &[u32]) -> Option<Vec<Value>> {
        let results = self.invoke(name, context, args);
        self.deliver();
        results
    }

    fn invoke(&mut self, name: &str, context: u32, args: &[u32]) -> Option<Vec<Value>> {
        if self.failed || !self.vm.has_export(name) {
            return None;
        }
        let host = self.vm.host();
        host.effective_context = context;
        host.now_nanos = host.now_nanos.saturating_add(CALLBACK_NANOS);
        let args = i32s(args);
        self.vm.at_event(self.events.len());
        let result = self.vm.call(name, &args);
        let calls = self.vm.host().take_calls();
        self.events.extend(calls.into_iter().map(|c| Event::Host {
            name: c.name.to_string(),
            args: c.args,
            read: wasmdiff_gen::proxy::Bytes(c.read),
            wrote: wasmdiff_gen::proxy::Bytes(c.wrote),
            result: c.result,
        }));
        let (outcome, returned) = match result {
            Ok(values) => (Outcome::Returned(values.clone()), Some(values)),
            Err(trap) => {
                self.failed = true;
                (Outcome::Trapped(trap), None)
            }
        };
        self.events.push(Event::Callback {
            name: name.to_string(),
            args,
            outcome,
        });
        returned
    }

    /// Delivers callout responses and queue notifications until none are pending.
    fn deliver(&mut self) {
        while self.deliveries < MAX_DELIVERIES && !self.failed {
            let host = self.vm.host();
            if let Some(id) = host.pending_callouts.pop_front() {
                self.deliveries += 1;
                // Responses are the scenario's, in callout order; past them, a timeout.
                let response = self
                    .scenario
                    .callout_responses
                    .get(self.callouts_answered)
                    .cloned();
                self.callouts_answered += 1;
                let response = response.unwrap_or_else(CalloutResponse::default);
                let counts = [
                    id,
                    response.headers.len() as u32,
                    response.body.len() as u32,
                    response.trailers.len() as u32,
                ];
                self.vm.host().callout_response = Some(response);
                self.invoke(
                    "proxy_on_http_call_response",
                    ROOT_CONTEXT,
                    &[ROOT_CONTEXT, counts[0], counts[1], counts[2], counts[3]],
                );
                self.vm.host().callout_response = None;
            } else if let Some(queue) = host.queue_ready.pop_front() {
                self.deliveries += 1;
                self.invoke("proxy_on_queue_ready", ROOT_CONTEXT, &[ROOT_CONTEXT, queue]);
            } else {
                return;
            }
        }
    }

    fn lifecycle(&mut self) {
        let root = ROOT_CONTEXT;
        if self.vm.has_export("_initialize") {
            self.callback("_initialize", root, &[]);
        } else {
            self.callback("_start", root, &[]);
        }
        self.callback("proxy_on_context_create", root, &[root, 0]);
        let vm_configuration = self.scenario.vm_configuration.len() as u32;
        self.callback("proxy_on_vm_start", root, &[root, vm_configuration]);
        let plugin_configuration = self.scenario.plugin_configuration.len() as u32;
        let configured = self.callback("proxy_on_configure", root, &[root, plugin_configuration]);
        // A plugin that fails to configure gets no traffic.
        let refused = matches!(configured.as_deref(), Some([Value::I32(0)]));
        for index in 0..self.scenario.streams.len() {
            self.vm.host().streams.push(StreamState::default());
            if self.failed || refused {
                continue;
            }
            let context = stream_context(index);
            self.callback("proxy_on_context_create", context, &[context, root]);
            let end = self.stream(index, context);
            self.stream_state(context).end = Some(end);
            for name in ["proxy_on_log", "proxy_on_done", "proxy_on_delete"] {
                self.callback(name, context, &[context]);
            }
            if self.vm.host().tick_period_ms() > 0 {
                for _ in 0..self.scenario.ticks_per_stream {
                    self.callback("proxy_on_tick", root, &[root]);
                }
            }
        }
        self.callback("proxy_on_done", root, &[root]);
        self.callback("proxy_on_delete", root, &[root]);
    }

    fn stream_state(&mut self, context: u32) -> &mut StreamState {
        let index = (context - ROOT_CONTEXT - 1) as usize;
        &mut self.vm.host().streams[index]
    }

    /// Both directions of stream `index`; how it ended.
    fn stream(&mut self, index: usize, context: u32) -> StreamEnd {
        let stream = self.scenario.streams[index].clone();
        for (response, message) in [(false, &stream.request), (true, &stream.response)] {
            if let Err(end) = self.direction(context, response, message) {
                return end;
            }
        }
        StreamEnd::Completed
    }

    /// Headers, body and trailers of one direction; `Err` with the stream's end if it ended.
    fn direction(
        &mut self,
        context: u32,
        response: bool,
        message: &Message,
    ) -> Result<(), StreamEnd> {
        let side = if response { "response" } else { "request" };
        let state = self.stream_state(context);
        *if response {
            &mut state.response_headers
        } else {
            &mut state.request_headers
        } = message.headers.clone();
        let ends_here = message.body.is_empty() && message.trailers.is_empty();
        let action = self.phase(
            context,
            response,
            &format!("proxy_on_{side}_headers"),
            &[message.headers.len() as u32, u32::from(ends_here)],
        );
        self.settle(context, response, action, &format!("{side} headers"))?;

        for (i, chunk) in message.body.iter().enumerate() {
            let last = i + 1 == message.body.len() && message.trailers.is_empty();
            let buffered = {
                let state = self.stream_state(context);
                let buffer = if response {
                    &mut state.response_body
                } else {
                    &mut state.request_body
                };
                buffer.extend_from_slice(&chunk.0);
                buffer.len() as u32
            };
            let action = self.phase(
                context,
                response,
                &format!("proxy_on_{side}_body"),
                &[buffered, u32::from(last)],
            );
            // PAUSE on a chunk before the last one keeps buffering; on the last, it holds.
            if action != Some(ACTION_PAUSE) || last {
                self.settle(context, response, action, &format!("{side} body"))?;
                self.forward_body(context, response);
            } else {
                self.ended(context)?;
            }
        }

        if !message.trailers.is_empty() {
            let state = self.stream_state(context);
            *if response {
                &mut state.response_trailers
            } else {
                &mut state.request_trailers
            } = message.trailers.clone();
            let action = self.phase(
                context,
                response,
                &format!("proxy_on_{side}_trailers"),
                &[message.trailers.len() as u32],
            );
            self.settle(context, response, action, &format!("{side} trailers"))?;
            self.forward_body(context, response);
        }
        Ok(())
    }

    /// One stream callback; its action (`None` if not called or trapped).
    fn phase(&mut self, context: u32, response: bool, name: &str, args: &[u32]) -> Option<u32> {
        self.stream_state(context).continued[usize::from(response)] = false;
        let args: Vec<u32> = std::iter::once(context)
            .chain(args.iter().copied())
            .collect();
        match self.callback(name, context, &args)?.as_slice() {
            [Value::I32(action)] => Some(*action as u32),
            _ => None,
        }
    }

    /// Whether the stream goes on after a phase: not if it failed, got a local response or
    /// was closed, or paused without being resumed.
    fn settle(
        &mut self,
        context: u32,
        response: bool,
        action: Option<u32>,
        phase: &str,
    ) -> Result<(), StreamEnd> {
        self.ended(context)?;
        let resumed = self.stream_state(context).continued[usize::from(response)];
        if action == Some(ACTION_PAUSE) && !resumed {
            return Err(StreamEnd::Stalled(phase.to_string()));
        }
        Ok(())
    }

    fn ended(&mut self, context: u32) -> Result<(), StreamEnd> {
        let failed = self.failed;
        let state = self.stream_state(context);
        if failed {
            Err(StreamEnd::Failed)
        } else if state.local_response.is_some() {
            Err(StreamEnd::LocalResponse)
        } else if state.closed {
            Err(StreamEnd::Closed)
        } else {
            Ok(())
        }
    }

    fn forward_body(&mut self, context: u32, response: bool) {
        let state = self.stream_state(context);
        let (buffer, forwarded) = if response {
            (&mut state.response_body, &mut state.forwarded_response_body)
        } else {
            (&mut state.request_body, &mut state.forwarded_request_body)
        };
        forwarded.append(buffer);
    }
}
