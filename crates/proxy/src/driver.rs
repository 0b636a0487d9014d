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
//! broken: nothing more is delivered. Where proxies deliver differently (nginx: bodies whole
//! or with an empty last call, no trailer callbacks, Pause only on the request, callouts that
//! pause and resume the stream by themselves), the host's profile decides.

use wasmdiff_gen::Value;
use wasmdiff_gen::proxy::{CalloutResponse, Message, Scenario};

use crate::abi::{ACTION_PAUSE, GRPC_UNAVAILABLE, ROOT_CONTEXT};
use crate::host::{Delivery, Host, Phase, StreamState, stream_context};
use crate::profile::{Bodies, HeaderMaps, HttpCall, Pause, PseudoHeaders};
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

    /// Calls a callback with host calls acting on `effective` (the callback's own context,
    /// but for callout responses).
    fn invoke(&mut self, name: &str, effective: u32, args: &[u32]) -> Option<Vec<Value>> {
        if self.failed || !self.vm.has_export(name) {
            return None;
        }
        let host = self.vm.host();
        host.effective_context = effective;
        host.phase = Phase::of(name);
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
            if let Some(callout) = host.pending_callouts.pop_front() {
                self.deliveries += 1;
                let rule = host.rules().http_call;
                // Responses are the scenario's, in callout order; past them, the callout fails.
                let response = self
                    .scenario
                    .callout_responses
                    .get(self.callouts_answered)
                    .cloned();
                self.callouts_answered += 1;
                let failed = response.is_none();
                let mut response = response.unwrap_or_else(CalloutResponse::default);
                response.headers = host.arriving(&response.headers);
                if callout.grpc {
                    // Envoy answers a unary call with its message, or closes it UNAVAILABLE
                    // (env onGrpcReceive, onGrpcClose); nginx implements no gRPC.
                    let (callback, last) = match failed {
                        false => ("proxy_on_grpc_receive", response.body.len() as u32),
                        true => ("proxy_on_grpc_close", GRPC_UNAVAILABLE),
                    };
                    host.delivery = Some(Delivery {
                        response,
                        failed,
                        grpc: true,
                    });
                    self.invoke(callback, ROOT_CONTEXT, &[ROOT_CONTEXT, callout.token, last]);
                    self.vm.host().delivery = None;
                    continue;
                }
                // nginx says why a call failed in a pseudo-header (ngx proxy_wasm_maps.c), and
                // resumes the stream that made the call by itself (ngx dispatch.c:447).
                let effective = match rule {
                    HttpCall::Envoy => ROOT_CONTEXT,
                    HttpCall::Nginx => {
                        if failed {
                            response
                                .headers
                                .push((":dispatch_status".into(), "timeout".into()));
                        }
                        if let Some(stream) = host.stream_of(callout.context) {
                            stream.continued[0] = true;
                        }
                        callout.context
                    }
                };
                let counts = [
                    callout.token,
                    response.headers.len() as u32,
                    response.body.len() as u32,
                    response.trailers.len() as u32,
                ];
                host.delivery = Some(Delivery {
                    response,
                    failed,
                    grpc: false,
                });
                self.invoke(
                    "proxy_on_http_call_response",
                    effective,
                    &[ROOT_CONTEXT, counts[0], counts[1], counts[2], counts[3]],
                );
                self.vm.host().delivery = None;
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
            if self.vm.host().tick_period_ms > 0 {
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
        let rules = self.vm.host().rules();
        let headers = self.vm.host().arriving(&message.headers);
        let trailers = self.vm.host().arriving(&message.trailers);
        let state = self.stream_state(context);
        if response {
            state.response_started = true;
            state.response_headers = headers.clone();
        } else {
            state.request_headers = headers.clone();
        }
        // nginx does not count the pseudo-headers it synthesizes.
        let count = match rules.pseudo_headers {
            PseudoHeaders::Entries => headers.len(),
            PseudoHeaders::Synthesized => headers
                .iter()
                .filter(|(k, _)| !k.0.starts_with(b":"))
                .count(),
        } as u32;
        let trailer_callbacks = rules.bodies == Bodies::AsTheyArrive;
        let ends_here = match rules.bodies {
            Bodies::AsTheyArrive => message.body.is_empty() && message.trailers.is_empty(),
            Bodies::Nginx => false,
        };
        let map = 2 * usize::from(response);
        let action = self.phase(
            context,
            response,
            Some(map),
            &format!("proxy_on_{side}_headers"),
            &[count, u32::from(ends_here)],
        );
        // nginx ignores a Pause on response headers (it expects a local response then).
        let holds = !(response && rules.pause == Pause::RequestOnly);
        self.settle(
            context,
            response,
            action.filter(|_| holds),
            &format!("{side} headers"),
        )?;

        let chunks: Vec<&[u8]> = message.body.iter().map(|c| &c.0[..]).collect();
        // The calls the body gets: each chunk (whether it is the last), as the profile cuts it.
        let calls: Vec<(Vec<u8>, bool)> = match (rules.bodies, response) {
            (Bodies::AsTheyArrive, _) => chunks
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    (
                        c.to_vec(),
                        i + 1 == chunks.len() && message.trailers.is_empty(),
                    )
                })
                .collect(),
            (Bodies::Nginx, false) if chunks.is_empty() => Vec::new(),
            (Bodies::Nginx, false) => vec![(chunks.concat(), true)],
            (Bodies::Nginx, true) => chunks
                .iter()
                .map(|c| (c.to_vec(), false))
                .chain(std::iter::once((Vec::new(), true)))
                .collect(),
        };
        for (chunk, last) in calls {
            let buffered = {
                let state = self.stream_state(context);
                let buffer = if response {
                    &mut state.response_body
                } else {
                    &mut state.request_body
                };
                buffer.extend_from_slice(&chunk);
                buffer.len() as u32
            };
            let action = self.phase(
                context,
                response,
                None,
                &format!("proxy_on_{side}_body"),
                &[buffered, u32::from(last)],
            );
            let paused = action == Some(ACTION_PAUSE);
            // nginx buffers a paused response body once; a second Pause is refused.
            let refused = response && rules.pause == Pause::RequestOnly && {
                let state = self.stream_state(context);
                let again = state.paused_response_body;
                state.paused_response_body |= paused;
                again
            };
            // PAUSE on a chunk before the last one keeps buffering; on the last, it holds.
            if paused && !last && !refused {
                self.ended(context)?;
            } else {
                self.settle(
                    context,
                    response,
                    action.filter(|_| !refused),
                    &format!("{side} body"),
                )?;
                self.forward_body(context, response);
            }
        }

        let state = self.stream_state(context);
        *if response {
            &mut state.response_trailers
        } else {
            &mut state.request_trailers
        } = trailers.clone();
        if trailer_callbacks && !trailers.is_empty() {
            let action = self.phase(
                context,
                response,
                Some(map + 1),
                &format!("proxy_on_{side}_trailers"),
                &[trailers.len() as u32],
            );
            self.settle(context, response, action, &format!("{side} trailers"))?;
            self.forward_body(context, response);
        }
        Ok(())
    }

    /// One stream callback; its action (`None` if not called or trapped). `map` is the
    /// stream map the callback hands the filter, which Envoy keeps open until the callback
    /// continues (env decodeHeaders).
    fn phase(
        &mut self,
        context: u32,
        response: bool,
        map: Option<usize>,
        name: &str,
        args: &[u32],
    ) -> Option<u32> {
        let rules = self.vm.host().rules();
        let state = self.stream_state(context);
        state.continued[usize::from(response)] = false;
        state.dispatched = false;
        if let Some(map) = map {
            state.open_maps[map] = true;
        }
        let args: Vec<u32> = std::iter::once(context)
            .chain(args.iter().copied())
            .collect();
        // A callback the filter lacks continues (cpp-host answers Continue for it).
        let action = match self.callback(name, context, &args).as_deref() {
            Some([Value::I32(action)]) => Some(*action as u32),
            _ => None,
        };
        let state = self.stream_state(context);
        if let (Some(map), HeaderMaps::UntilContinued) = (map, rules.header_maps)
            && action != Some(ACTION_PAUSE)
        {
            state.open_maps[map] = false;
        }
        // An nginx callout pauses the stream whatever the callback returned (ngx
        // proxy_wasm_dispatch.c); the response, delivered by now, resumed it.
        if state.dispatched && rules.http_call == HttpCall::Nginx {
            return Some(ACTION_PAUSE);
        }
        action
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
