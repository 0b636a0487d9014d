//! Every host function, written once. Where proxies differ, the host's [`Behaviour`] rule
//! decides; the dispatch matches on [`HostFn`] without a fallback, so that a function of the
//! table cannot go unimplemented.
//!
//! [`Behaviour`]: crate::profile::Behaviour

use wasmdiff_gen::Value;
use wasmdiff_gen::proxy::{Bytes, HostFn, Pairs, Property};

use crate::abi::{self, GRPC_UNAVAILABLE, buffer, errno, map, metric, status};
use crate::host::{Call, Guest, Host, PendingCallout, Phase, Stop, refuse};
use crate::maps;
use crate::profile::{
    Buffers, Continue, HeaderMaps, HttpCall, LocalResponse as LocalRule, MalformedMap, Metrics,
    Properties, PseudoHeaders, Queues, SharedData, Tick, Wasi,
};
use crate::trace::{Callout, LocalResponse, Metric, Queue};

type Outcome<T> = Result<(), Stop<T>>;

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

/// Success is `Ok(())` (status 0); any other status or a trap is `Err`.
pub(crate) fn dispatch<G: Guest>(c: &mut Call<'_, G>, id: HostFn, a: &[Value]) -> Outcome<G::Trap> {
    if c.rules().not_implemented.contains(&id) {
        return Err(refuse(format!("function not yet implemented: {id}")));
    }
    match id {
        HostFn::ProxyLog => log(c, a),
        HostFn::ProxyGetLogLevel => {
            let level = c.host().log_level;
            c.write_u32(arg(a, 0), level)
        }
        HostFn::ProxyGetCurrentTimeNanoseconds => {
            let now = c.host().clock(false);
            c.write_u64(arg(a, 0), now)
        }
        HostFn::ProxySetTickPeriodMilliseconds => set_tick_period(c, arg(a, 0)),
        HostFn::ProxyDone => Ok(()),
        HostFn::ProxySetEffectiveContext => set_effective_context(c, arg(a, 0)),
        HostFn::ProxyGetBufferBytes => get_buffer_bytes(c, a),
        HostFn::ProxySetBufferBytes => set_buffer_bytes(c, a),
        HostFn::ProxyGetBufferStatus => {
            let size = buffer_of(c, arg(a, 0), Access::Read)?.len() as u32;
            c.write_u32(arg(a, 1), size)?;
            c.write_u32(arg(a, 2), 0)
        }
        HostFn::ProxyGetHeaderMapSize => {
            // Envoy's `HeaderMap::byteSize()`: the names' and values' bytes (env
            // getHeaderMapSize); ngx_wasm_module lacks the function.
            let size: usize = map_of(c, arg(a, 0), Access::Read)?
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum();
            c.write_u32(arg(a, 1), size as u32)
        }
        HostFn::ProxyGetHeaderMapPairs => get_header_map_pairs(c, a),
        HostFn::ProxySetHeaderMapPairs => {
            let pairs = read_map(c, arg(a, 1), arg(a, 2))?;
            let pairs = c.host().arriving(&pairs);
            let rules = c.rules();
            let current = map_of(c, arg(a, 0), Access::Write)?;
            // Synthesized read-only pseudo-headers stay as they are.
            let kept: Pairs = match rules.pseudo_headers {
                PseudoHeaders::Entries => Vec::new(),
                PseudoHeaders::Synthesized => current
                    .iter()
                    .filter(|(k, _)| read_only(k))
                    .cloned()
                    .collect(),
            };
            *current = kept
                .into_iter()
                .chain(pairs.into_iter().filter(|(k, _)| {
                    rules.pseudo_headers == PseudoHeaders::Entries || !read_only(k)
                }))
                .collect();
            Ok(())
        }
        HostFn::ProxyGetHeaderMapValue => {
            let key = c.read(arg(a, 1), arg(a, 2))?;
            let value = map_of(c, arg(a, 0), Access::Lookup)?
                .iter()
                .find(|(k, _)| same_name(&k.0, &key))
                .map(|(_, v)| v.0.clone());
            let value = value.ok_or(Stop::Status(status::NOT_FOUND))?;
            c.give(&value, arg(a, 3), arg(a, 4))
        }
        HostFn::ProxyAddHeaderMapValue | HostFn::ProxyReplaceHeaderMapValue => {
            let key = Bytes(c.read(arg(a, 1), arg(a, 2))?);
            let value = Bytes(c.read(arg(a, 3), arg(a, 4))?);
            let key = c.host().header_name(key);
            let rules = c.rules();
            let pairs = map_of(c, arg(a, 0), Access::Write)?;
            if rules.pseudo_headers == PseudoHeaders::Synthesized && read_only(&key) {
                return Ok(());
            }
            match pairs.iter_mut().find(|(k, _)| same_name(&k.0, &key.0)) {
                Some((_, old)) if id == HostFn::ProxyReplaceHeaderMapValue => *old = value,
                _ => pairs.push((key, value)),
            }
            Ok(())
        }
        HostFn::ProxyRemoveHeaderMapValue => {
            let key = c.read(arg(a, 1), arg(a, 2))?;
            map_of(c, arg(a, 0), Access::Write)?.retain(|(k, _)| !same_name(&k.0, &key));
            Ok(())
        }
        HostFn::ProxyContinueStream => continue_stream(c, arg(a, 0)),
        HostFn::ProxyCloseStream => {
            if arg(a, 0) > abi::stream::UPSTREAM {
                return Err(status::BAD_ARGUMENT.into());
            }
            let stream = c.host().stream().ok_or(Stop::Status(status::NOT_FOUND))?;
            stream.closed = true;
            Ok(())
        }
        HostFn::ProxyGetStatus => {
            // A failed callout's status: env onHttpCallFailure, onGrpcClose.
            let delivery = c.host().delivery.as_ref();
            let failed = delivery.filter(|d| d.failed).map(|d| d.grpc);
            let (code, message): (u32, &[u8]) = match failed {
                Some(false) => (status::BROKEN_CONNECTION, b"reset"),
                Some(true) => (GRPC_UNAVAILABLE, b"unavailable"),
                None => (0, b""),
            };
            c.write_u32(arg(a, 0), code)?;
            c.give(message, arg(a, 1), arg(a, 2))
        }
        HostFn::ProxySendLocalResponse => send_local_response(c, a),
        HostFn::ProxyHttpCall => http_call(c, a),
        HostFn::ProxyGrpcCall | HostFn::ProxyGrpcStream => grpc_call(c, id, a),
        HostFn::ProxyGrpcSend | HostFn::ProxyGrpcCancel | HostFn::ProxyGrpcClose => {
            if id == HostFn::ProxyGrpcSend {
                c.read(arg(a, 1), arg(a, 2))?;
            }
            let known = c
                .host()
                .callouts
                .iter()
                .any(|call| call.id == arg(a, 0) && call.kind.starts_with("grpc"));
            match known {
                true => Ok(()),
                false => Err(status::NOT_FOUND.into()),
            }
        }
        HostFn::ProxySetSharedData => set_shared_data(c, a),
        HostFn::ProxyGetSharedData => {
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
        HostFn::ProxyRegisterSharedQueue => register_shared_queue(c, a),
        HostFn::ProxyResolveSharedQueue => {
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
        HostFn::ProxyEnqueueSharedQueue => {
            let (id, value) = (arg(a, 0), Bytes(c.read(arg(a, 1), arg(a, 2))?));
            let rules = c.rules();
            let host = c.host();
            let Some((queue, _)) = host.queues.iter_mut().find(|(q, _)| q.id == id) else {
                return Err(unknown_queue(rules.queues));
            };
            queue.items.push(value);
            if rules.queues == Queues::Envoy {
                host.queue_ready.push_back(id);
            }
            Ok(())
        }
        HostFn::ProxyDequeueSharedQueue => {
            let id = arg(a, 0);
            let rules = c.rules();
            let Some((queue, _)) = c.host().queues.iter_mut().find(|(q, _)| q.id == id) else {
                return Err(unknown_queue(rules.queues));
            };
            if queue.items.is_empty() {
                return Err(status::EMPTY.into());
            }
            let item = queue.items.remove(0);
            c.give(&item.0, arg(a, 1), arg(a, 2))
        }
        HostFn::ProxyDefineMetric => define_metric(c, a),
        HostFn::ProxyRecordMetric | HostFn::ProxyIncrementMetric => update_metric(c, id, a),
        HostFn::ProxyGetMetric => {
            let rules = c.rules().metrics;
            let m = metric_of(c, arg(a, 0))?;
            if m.kind == metric::HISTOGRAM {
                return Err(misused_metric(rules));
            }
            let value = m.value;
            c.write_u64(arg(a, 1), value)
        }
        HostFn::ProxyGetProperty => get_property(c, a),
        HostFn::ProxySetProperty => set_property(c, a),
        HostFn::ProxyCallForeignFunction => {
            c.read(arg(a, 0), arg(a, 1))?;
            c.read(arg(a, 2), arg(a, 3))?;
            Err(status::NOT_FOUND.into())
        }
        HostFn::FdWrite => fd_write(c, a),
        HostFn::ClockTimeGet => {
            let time = match arg(a, 0) {
                0 => c.host().clock(false),
                1 => c.host().clock(true),
                _ => return Err(errno::NOTSUP.into()),
            };
            c.write_u64(arg(a, 2), time)
        }
        HostFn::RandomGet => {
            let (ptr, len) = (arg(a, 0), arg(a, 1));
            if len > 65536 {
                return Err(errno::INVAL.into());
            }
            let bytes = c.host().rng.bytes(len as usize);
            c.write(ptr, &bytes)
        }
        HostFn::EnvironSizesGet => {
            let strings = c.host().environment_strings();
            let size: usize = strings.iter().map(Vec::len).sum();
            c.write_u32(arg(a, 0), strings.len() as u32)?;
            c.write_u32(arg(a, 1), size as u32)
        }
        HostFn::EnvironGet => {
            let (pointers, mut at) = (arg(a, 0), arg(a, 1));
            for (i, string) in c.host().environment_strings().into_iter().enumerate() {
                c.write_u32(pointers.wrapping_add(i as u32 * 4), at)?;
                c.write(at, &string)?;
                at = at.wrapping_add(string.len() as u32);
            }
            Ok(())
        }
        HostFn::ArgsSizesGet => {
            c.write_u32(arg(a, 0), 0)?;
            c.write_u32(arg(a, 1), 0)
        }
        HostFn::ArgsGet => Ok(()),
        // Envoy logs the exit and returns to the filter (cpp exports.cc:1290-1295).
        HostFn::ProcExit => Ok(()),
        HostFn::SchedYield => match c.rules().wasi {
            Wasi::Envoy => Ok(()),
            Wasi::Nginx => Err(errno::NOTSUP.into()),
        },
        HostFn::PollOneoff => match c.rules().wasi {
            Wasi::Envoy => c.write_u32(arg(a, 3), 0),
            Wasi::Nginx => Err(errno::NOTSUP.into()),
        },
        HostFn::FdFdstatSetFlags => match c.rules().wasi {
            Wasi::Envoy => Err(errno::NOSYS.into()),
            Wasi::Nginx => Err(errno::BADF.into()),
        },
    }
}

/// Header names compare without case on both hosts (Envoy lowercases every name).
fn same_name(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Pseudo-headers nginx synthesizes and will not let a filter set.
fn read_only(name: &Bytes) -> bool {
    name.0 == b":scheme" || name.0 == b":authority"
}

fn log<G: Guest>(c: &mut Call<'_, G>, a: &[Value]) -> Outcome<G::Trap> {
    let (level, message) = (arg(a, 0), c.read(arg(a, 1), arg(a, 2))?);
    if level > abi::LOG_LEVEL_MAX {
        return Err(status::BAD_ARGUMENT.into());
    }
    let level = match c.rules().trace_logs_as_debug && level == 0 {
        true => 1,
        false => level,
    };
    c.host().logs.push((level, Bytes(message)));
    Ok(())
}

fn set_tick_period<G: Guest>(c: &mut Call<'_, G>, period: u32) -> Outcome<G::Trap> {
    let rules = c.rules();
    let host = c.host();
    if rules.tick == Tick::OnceFromRoot {
        if host.effective_context != abi::ROOT_CONTEXT {
            return Err(refuse("can only set tick_period in root context"));
        }
        if period != 0 && host.tick_period_ms != 0 {
            return Err(refuse("tick_period already set"));
        }
    }
    host.tick_period_ms = period;
    Ok(())
}

fn set_effective_context<G: Guest>(c: &mut Call<'_, G>, context: u32) -> Outcome<G::Trap> {
    if !c.rules().checks_effective_context {
        return Ok(());
    }
    let host = c.host();
    let known = context == abi::ROOT_CONTEXT
        || (context > abi::ROOT_CONTEXT
            && ((context - abi::ROOT_CONTEXT - 1) as usize) < host.streams.len());
    if !known {
        return Err(status::BAD_ARGUMENT.into());
    }
    host.effective_context = context;
    Ok(())
}

/// What a host function does with a buffer or map.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Reads it whole.
    Read,
    /// Looks a value up in it.
    Lookup,
    Write,
}

/// A buffer, if the host lets the filter have it now.
fn buffer_of<'c, G: Guest>(
    c: &'c mut Call<'_, G>,
    buffer_type: u32,
    access: Access,
) -> Result<&'c mut Vec<u8>, Stop<G::Trap>> {
    let rules = c.rules();
    let phase = c.host().phase;
    let writing = access == Access::Write;
    let configuration = matches!(
        buffer_type,
        buffer::VM_CONFIGURATION | buffer::PLUGIN_CONFIGURATION
    );
    let response = matches!(
        buffer_type,
        buffer::HTTP_CALL_RESPONSE_BODY | buffer::GRPC_CALL_MESSAGE
    );
    if configuration || response {
        if writing {
            return Err(status::BAD_ARGUMENT.into());
        }
    }
    // Which phases may touch the buffer: Envoy lets the plugin configuration be read only
    // while configuring (env getBuffer); ngx_wasm_module each body only in its own phases.
    let allowed = match (rules.buffers, buffer_type) {
        (Buffers::Envoy, buffer::PLUGIN_CONFIGURATION) => phase == Phase::Configure,
        (Buffers::Nginx, buffer::HTTP_REQUEST_BODY) if writing => phase == Phase::RequestBody,
        (Buffers::Nginx, buffer::HTTP_REQUEST_BODY) => {
            matches!(
                phase,
                Phase::RequestHeaders | Phase::RequestBody | Phase::Log
            )
        }
        (Buffers::Nginx, buffer::HTTP_RESPONSE_BODY) => phase == Phase::ResponseBody,
        (Buffers::Nginx, buffer::HTTP_CALL_RESPONSE_BODY | buffer::GRPC_CALL_MESSAGE) => {
            matches!(phase, Phase::CalloutResponse | Phase::Log)
        }
        _ => true,
    };
    if !allowed {
        return Err(match rules.buffers {
            Buffers::Envoy => status::NOT_FOUND.into(),
            Buffers::Nginx => refuse("buffer not available in this phase"),
        });
    }
    let host = c.host();
    match buffer_type {
        buffer::HTTP_REQUEST_BODY => host.stream().map(|s| &mut s.request_body),
        buffer::HTTP_RESPONSE_BODY => host.stream().map(|s| &mut s.response_body),
        // Each callout kind's response only in its own callbacks.
        buffer::HTTP_CALL_RESPONSE_BODY | buffer::GRPC_CALL_MESSAGE => {
            let grpc = buffer_type == buffer::GRPC_CALL_MESSAGE;
            host.delivery
                .as_mut()
                .filter(|d| d.grpc == grpc)
                .map(|d| &mut d.response.body.0)
        }
        buffer::VM_CONFIGURATION => Some(&mut host.vm_configuration.0),
        buffer::PLUGIN_CONFIGURATION => Some(&mut host.plugin_configuration.0),
        buffer::DOWNSTREAM_DATA | buffer::UPSTREAM_DATA | buffer::FOREIGN_FUNCTION_ARGUMENTS => {
            None
        }
        _ => return Err(status::BAD_ARGUMENT.into()),
    }
    .ok_or(Stop::Status(status::NOT_FOUND))
}

/// The HTTP callout response being delivered, if one is.
fn http_delivery(host: &mut Host) -> Option<&mut crate::host::Delivery> {
    host.delivery.as_mut().filter(|d| !d.grpc)
}

fn get_buffer_bytes<G: Guest>(c: &mut Call<'_, G>, a: &[Value]) -> Outcome<G::Trap> {
    let (start, max) = (arg(a, 1) as usize, arg(a, 2) as usize);
    let rules = c.rules();
    let buffer = buffer_of(c, arg(a, 0), Access::Read)?;
    let data = match rules.buffers {
        Buffers::Envoy => {
            let start = start.min(buffer.len());
            buffer[start..start + max.min(buffer.len() - start)].to_vec()
        }
        Buffers::Nginx if max == 0 => return Ok(()),
        Buffers::Nginx => buffer[..max.min(buffer.len())].to_vec(),
    };
    c.give(&data, arg(a, 3), arg(a, 4))
}

fn set_buffer_bytes<G: Guest>(c: &mut Call<'_, G>, a: &[Value]) -> Outcome<G::Trap> {
    let (start, size) = (arg(a, 1) as usize, arg(a, 2) as usize);
    let data = c.read(arg(a, 3), arg(a, 4))?;
    let rules = c.rules();
    let buffer = buffer_of(c, arg(a, 0), Access::Write)?;
    match rules.buffers {
        // Envoy's `Buffer::copyFrom`.
        Buffers::Envoy if start == 0 => {
            buffer.drain(..size.min(buffer.len()));
            buffer.splice(0..0, data);
        }
        Buffers::Envoy if start >= buffer.len() => buffer.extend(data),
        Buffers::Envoy => return Err(status::BAD_ARGUMENT.into()),
        // ngx_wasm_module's chain rewrite (ngx_wasm_util.c:231-306).
        Buffers::Nginx if start == 0 && size == 0 => {
            buffer.splice(0..0, data);
        }
        Buffers::Nginx => {
            buffer.truncate(start);
            let taken = if size == 0 {
                data.len()
            } else {
                size.min(data.len())
            };
            buffer.extend_from_slice(&data[..taken]);
        }
    }
    Ok(())
}

/// The four stream maps' slots in `StreamState::open_maps`.
fn stream_map_slot(map_type: u32) -> Option<usize> {
    match map_type {
        map::HTTP_REQUEST_HEADERS => Some(0),
        map::HTTP_REQUEST_TRAILERS => Some(1),
        map::HTTP_RESPONSE_HEADERS => Some(2),
        map::HTTP_RESPONSE_TRAILERS => Some(3),
        _ => None,
    }
}

/// Whether the stream map `slot` is usable for `access` now; `Err` for how the host refuses.
fn map_allowed<G: Guest>(
    c: &mut Call<'_, G>,
    slot: usize,
    access: Access,
) -> Result<(), Stop<G::Trap>> {
    let rules = c.rules();
    let phase = c.host().phase;
    let Some(stream) = c.host().stream() else {
        return Err(status::NOT_FOUND.into());
    };
    match rules.header_maps {
        HeaderMaps::UntilContinued if phase == Phase::Log => match access {
            Access::Write => Err(status::BAD_ARGUMENT.into()),
            _ => Ok(()),
        },
        HeaderMaps::UntilContinued if !stream.open_maps[slot] => Err(status::BAD_ARGUMENT.into()),
        HeaderMaps::UntilContinued => Ok(()),
        // Trailer maps are not implemented there (ngx proxy_wasm_maps.c:135-142).
        HeaderMaps::WritableUntilResponse if slot % 2 == 1 => Err(match access {
            Access::Lookup => status::NOT_FOUND.into(),
            _ => status::BAD_ARGUMENT.into(),
        }),
        HeaderMaps::WritableUntilResponse if access != Access::Write => Ok(()),
        HeaderMaps::WritableUntilResponse if slot == 0 && stream.response_started => Err(refuse(
            "can only set request headers before response is produced",
        )),
        HeaderMaps::WritableUntilResponse if slot == 2 && phase.past_response_headers() => Err(
            refuse("can only set response headers before \"on_response_body\""),
        ),
        HeaderMaps::WritableUntilResponse => Ok(()),
    }
}

/// A header map, if the host lets the filter have it now.
fn map_of<'c, G: Guest>(
    c: &'c mut Call<'_, G>,
    map_type: u32,
    access: Access,
) -> Result<&'c mut Pairs, Stop<G::Trap>> {
    if let Some(slot) = stream_map_slot(map_type) {
        map_allowed(c, slot, access)?;
    }
    let host = c.host();
    match map_type {
        map::HTTP_REQUEST_HEADERS => host.stream().map(|s| &mut s.request_headers),
        map::HTTP_REQUEST_TRAILERS => host.stream().map(|s| &mut s.request_trailers),
        map::HTTP_RESPONSE_HEADERS => host.stream().map(|s| &mut s.response_headers),
        map::HTTP_RESPONSE_TRAILERS => host.stream().map(|s| &mut s.response_trailers),
        map::HTTP_CALL_RESPONSE_HEADERS => http_delivery(host).map(|d| &mut d.response.headers),
        map::HTTP_CALL_RESPONSE_TRAILERS => http_delivery(host).map(|d| &mut d.response.trailers),
        map::GRPC_RECEIVE_INITIAL_METADATA | map::GRPC_RECEIVE_TRAILING_METADATA => None,
        _ => return Err(status::BAD_ARGUMENT.into()),
    }
    .ok_or(Stop::Status(status::NOT_FOUND))
}

fn get_header_map_pairs<G: Guest>(c: &mut Call<'_, G>, a: &[Value]) -> Outcome<G::Trap> {
    let rules = c.rules();
    let pairs = match map_of(c, arg(a, 0), Access::Read) {
        Ok(pairs) => pairs.clone(),
        // A map Envoy no longer holds reads as empty (env getHeaderMapPairs).
        Err(Stop::Status(status::BAD_ARGUMENT))
            if rules.header_maps == HeaderMaps::UntilContinued
                && stream_map_slot(arg(a, 0)).is_some() =>
        {
            Vec::new()
        }
        Err(stop) => return Err(stop),
    };
    let mut pairs = match rules.pseudo_headers {
        PseudoHeaders::Entries => pairs,
        PseudoHeaders::Synthesized => {
            let (pseudo, rest): (Pairs, Pairs) =
                pairs.into_iter().partition(|(k, _)| k.0.starts_with(b":"));
            pseudo.into_iter().chain(rest).collect()
        }
    };
    if let Some(most) = rules.max_pairs_out {
        pairs.truncate(most);
    }
    let data = match pairs.is_empty() && rules.empty_map_is_null {
        true => Vec::new(),
        false => maps::serialize(&pairs),
    };
    c.give(&data, arg(a, 1), arg(a, 2))
}

/// A serialized map from the filter; Envoy reads one it cannot parse, or one over its limits
/// (1024 pairs, 1 MiB), as empty (cpp pairs_util.cc:122-150, limits.h).
fn read_map<G: Guest>(c: &mut Call<'_, G>, ptr: u32, len: u32) -> Result<Pairs, Stop<G::Trap>> {
    let data = c.read(ptr, len)?;
    let rule = c.rules().malformed_map;
    match (maps::deserialize(&data), rule) {
        (Some(pairs), MalformedMap::Empty) if pairs.len() > 1024 || data.len() > 1 << 20 => {
            Ok(Vec::new())
        }
        (Some(pairs), _) => Ok(pairs),
        (None, MalformedMap::Empty) => Ok(Vec::new()),
        (None, MalformedMap::BadArgument) => Err(status::BAD_ARGUMENT.into()),
    }
}

fn continue_stream<G: Guest>(c: &mut Call<'_, G>, stream_type: u32) -> Outcome<G::Trap> {
    let rule = c.rules().continue_stream;
    match (rule, stream_type) {
        (Continue::EachSide, abi::stream::DOWNSTREAM) => return Ok(()),
        (Continue::EachSide, abi::stream::UPSTREAM) => return Err(status::UNIMPLEMENTED.into()),
        (Continue::EachSide, t) if t > abi::stream::UPSTREAM => {
            return Err(status::BAD_ARGUMENT.into());
        }
        (Continue::Request, t) if t > abi::stream::HTTP_RESPONSE => {
            return Err(status::INTERNAL_FAILURE.into());
        }
        _ => {}
    }
    let Some(stream) = c.host().stream() else {
        return Err(status::NOT_FOUND.into());
    };
    let side = match rule {
        Continue::EachSide => stream_type as usize,
        Continue::Request => 0,
    };
    stream.continued[side] = true;
    // Continuing hands the side's maps on (env continueStream).
    stream.open_maps[2 * side] = false;
    stream.open_maps[2 * side + 1] = false;
    Ok(())
}

fn send_local_response<G: Guest>(c: &mut Call<'_, G>, a: &[Value]) -> Outcome<G::Trap> {
    let code = arg(a, 0);
    let details = Bytes(c.read(arg(a, 1), arg(a, 2))?);
    let mut body = Bytes(c.read(arg(a, 3), arg(a, 4))?);
    let headers = read_map(c, arg(a, 5), arg(a, 6))?;
    let headers = c.host().arriving(&headers);
    let rule = c.rules().local_response;
    let phase = c.host().phase;
    // In a root context there is no stream to answer: OK, and nothing happens (env
    // sendLocalResponse).
    let Some(stream) = c.host().stream() else {
        return Ok(());
    };
    if rule == LocalRule::BeforeResponse {
        if phase.past_response_headers() {
            return Err(refuse("response already sent"));
        }
        if stream.local_response.is_some() {
            return Err(refuse("local response already stashed"));
        }
        if !(100..=999).contains(&code) {
            return Err(status::BAD_ARGUMENT.into());
        }
        if !body.is_empty() {
            body.0.push(b'\n');
        }
    }
    stream.local_response = Some(LocalResponse {
        status: code,
        details,
        body,
        headers,
        grpc_status: arg(a, 7) as i32,
    });
    Ok(())
}

fn http_call<G: Guest>(c: &mut Call<'_, G>, a: &[Value]) -> Outcome<G::Trap> {
    let upstream = Bytes(c.read(arg(a, 0), arg(a, 1))?);
    let headers = read_map(c, arg(a, 2), arg(a, 3))?;
    let body = Bytes(c.read(arg(a, 4), arg(a, 5))?);
    read_map(c, arg(a, 6), arg(a, 7))?;
    let timeout = arg(a, 8);
    let mut headers = c.host().arriving(&headers);
    let has = |headers: &Pairs, name: &str| headers.iter().any(|(k, _)| k.0 == name.as_bytes());
    let rule = c.rules().http_call;
    let phase = c.host().phase;
    let token = match rule {
        HttpCall::Envoy => {
            let complete = ["method", "path", "authority"]
                .iter()
                .all(|name| has(&headers, &format!(":{name}")));
            if upstream.is_empty() || !complete || (timeout as i32) < 0 {
                return Err(status::BAD_ARGUMENT.into());
            }
            // HTTP tokens are multiples of 4 (cpp wasm.h).
            4 * (c.host().http_calls + 1)
        }
        HttpCall::Nginx => {
            let allowed = matches!(
                phase,
                Phase::RequestHeaders | Phase::RequestBody | Phase::Tick | Phase::CalloutResponse
            );
            if !allowed {
                return Err(refuse("dispatch failed: bad step"));
            }
            for name in [":method", ":path"] {
                if !has(&headers, name) {
                    return Err(refuse(format!("dispatch failed: no {name}")));
                }
            }
            headers.retain(|(k, _)| !same_name(&k.0, b"host") && !same_name(&k.0, b"connection"));
            if !has(&headers, ":authority") {
                headers.push((Bytes::from(":authority"), upstream.clone()));
            }
            if let Some(stream) = c.host().stream() {
                stream.dispatched = true;
            }
            c.host().http_calls
        }
    };
    let host = c.host();
    host.http_calls += 1;
    host.callouts.push(Callout {
        id: token,
        kind: "http".to_string(),
        upstream,
        headers,
        body,
        timeout_ms: timeout,
    });
    let context = host.effective_context;
    host.pending_callouts.push_back(PendingCallout {
        token,
        context,
        grpc: false,
    });
    c.write_u32(arg(a, 9), token)
}

fn grpc_call<G: Guest>(c: &mut Call<'_, G>, id: HostFn, a: &[Value]) -> Outcome<G::Trap> {
    let upstream = Bytes(c.read(arg(a, 0), arg(a, 1))?);
    let service = c.read(arg(a, 2), arg(a, 3))?;
    let method = c.read(arg(a, 4), arg(a, 5))?;
    let metadata = read_map(c, arg(a, 6), arg(a, 7))?;
    let (body, timeout, token_p) = match id {
        HostFn::ProxyGrpcCall => (Bytes(c.read(arg(a, 8), arg(a, 9))?), arg(a, 10), arg(a, 11)),
        _ => (Bytes::default(), 0, arg(a, 8)),
    };
    if upstream.is_empty() {
        return Err(status::BAD_ARGUMENT.into());
    }
    let mut headers = c.host().arriving(&metadata);
    headers.push((
        Bytes::from(":path"),
        Bytes([b"/", &service[..], b"/", &method[..]].concat()),
    ));
    let host = c.host();
    // gRPC tokens are odd, apart from HTTP's (their exact values are not modelled).
    let token = 2 * host.grpc_calls + 1;
    host.grpc_calls += 1;
    // Unary calls get their response like HTTP calls; streams are not answered.
    if id == HostFn::ProxyGrpcCall {
        let context = host.effective_context;
        host.pending_callouts.push_back(PendingCallout {
            token,
            context,
            grpc: true,
        });
    }
    host.callouts.push(Callout {
        id: token,
        kind: id.name().trim_start_matches("proxy_").replace('_', "-"),
        upstream,
        headers,
        body,
        timeout_ms: timeout,
    });
    c.write_u32(token_p, token)
}

fn set_shared_data<G: Guest>(c: &mut Call<'_, G>, a: &[Value]) -> Outcome<G::Trap> {
    let key = Bytes(c.read(arg(a, 0), arg(a, 1))?);
    let value = Bytes(c.read(arg(a, 2), arg(a, 3))?);
    let (value_ptr, cas) = (arg(a, 2), arg(a, 4));
    let rule = c.rules().shared_data;
    let host = c.host();
    let current = host.shared_data.get(&key).map(|(_, cas)| *cas);
    match rule {
        SharedData::Envoy => {
            if current.is_some_and(|current| cas != 0 && cas != current) {
                return Err(status::CAS_MISMATCH.into());
            }
            // One counter for all keys, never 0 (0 means "no CAS").
            host.cas = host.cas.checked_add(1).unwrap_or(1);
            host.shared_data.insert(key, (value, host.cas));
        }
        SharedData::Nginx => {
            let current = current.unwrap_or(0);
            if cas != current {
                return Err(status::CAS_MISMATCH.into());
            }
            if value_ptr == 0 {
                host.shared_data.remove(&key);
            } else {
                host.shared_data
                    .insert(key, (value, current.wrapping_add(1)));
            }
        }
    }
    Ok(())
}

fn register_shared_queue<G: Guest>(c: &mut Call<'_, G>, a: &[Value]) -> Outcome<G::Trap> {
    let name = Bytes(c.read(arg(a, 0), arg(a, 1))?);
    let first_id = match c.rules().queues {
        Queues::Envoy => 1,
        Queues::Nginx => 0,
    };
    let host = c.host();
    let owner = host.effective_context;
    let id = match host.queues.iter_mut().find(|(q, _)| q.name == name) {
        Some((queue, registrant)) => {
            *registrant = owner;
            queue.id
        }
        None => {
            let id = host.queues.len() as u32 + first_id;
            let items = Vec::new();
            host.queues.push((Queue { id, name, items }, owner));
            id
        }
    };
    c.write_u32(arg(a, 2), id)
}

fn unknown_queue<T>(rule: Queues) -> Stop<T> {
    match rule {
        Queues::Envoy => Stop::Status(status::NOT_FOUND),
        Queues::Nginx => refuse("could not find queue"),
    }
}

fn misused_metric<T>(rule: Metrics) -> Stop<T> {
    match rule {
        Metrics::Envoy => Stop::Status(status::BAD_ARGUMENT),
        Metrics::Nginx => refuse("metric operation not supported for its type"),
    }
}

fn define_metric<G: Guest>(c: &mut Call<'_, G>, a: &[Value]) -> Outcome<G::Trap> {
    let (kind, name) = (arg(a, 0), Bytes(c.read(arg(a, 1), arg(a, 2))?));
    let rule = c.rules().metrics;
    if kind > metric::HISTOGRAM {
        return Err(misused_metric(rule));
    }
    let host = c.host();
    let existing = host
        .metrics
        .iter()
        .find(|m| m.name == name && m.kind == kind);
    let id = match existing {
        Some(m) => m.id,
        None => {
            let id = match rule {
                // The type in the low two bits (cpp wasm.h, kMetricIdIncrement).
                Metrics::Envoy => {
                    let same_kind = host.metrics.iter().filter(|m| m.kind == kind).count();
                    kind + 4 * (same_kind as u32 + 1)
                }
                Metrics::Nginx => host.metrics.len() as u32 + 1,
            };
            let value = 0;
            host.metrics.push(Metric {
                id,
                kind,
                name,
                value,
            });
            id
        }
    };
    c.write_u32(arg(a, 3), id)
}

fn metric_of<'c, G: Guest>(
    c: &'c mut Call<'_, G>,
    id: u32,
) -> Result<&'c mut Metric, Stop<G::Trap>> {
    let rule = c.rules().metrics;
    match c.host().metrics.iter_mut().find(|m| m.id == id) {
        Some(metric) => Ok(metric),
        None => Err(match rule {
            Metrics::Envoy => Stop::Status(status::NOT_FOUND),
            Metrics::Nginx => refuse("metric not found"),
        }),
    }
}

fn update_metric<G: Guest>(c: &mut Call<'_, G>, id: HostFn, a: &[Value]) -> Outcome<G::Trap> {
    let value = arg64(a, 1);
    let rule = c.rules().metrics;
    let m = metric_of(c, arg(a, 0))?;
    let record = id == HostFn::ProxyRecordMetric;
    match (rule, record, m.kind) {
        (_, true, metric::GAUGE | metric::HISTOGRAM) => m.value = value as u64,
        (Metrics::Envoy, true, _) => m.value = m.value.wrapping_add(value as u64),
        (Metrics::Envoy, false, metric::COUNTER) if value > 0 => {
            m.value = m.value.wrapping_add(value as u64)
        }
        (Metrics::Envoy, false, metric::GAUGE) => m.value = m.value.wrapping_add_signed(value),
        (Metrics::Nginx, false, metric::COUNTER) => m.value = m.value.wrapping_add_signed(value),
        _ => return Err(misused_metric(rule)),
    }
    Ok(())
}

/// Properties Envoy keeps per request, absent from a root context (env getProperty).
const REQUEST_PROPERTIES: &[&[u8]] = &[
    b"request",
    b"response",
    b"source",
    b"destination",
    b"connection",
    b"upstream",
];

/// Envoy's properties that ngx_wasm_module does not have (ngx proxy_wasm_properties.c).
fn envoy_only(path: &[u8]) -> bool {
    path == b"plugin_vm_id"
        || path.starts_with(b"node")
        || path.starts_with(b"cluster_")
        || path.starts_with(b"route_")
        || path.starts_with(b"listener_")
}

/// NUL separators read as dots (ngx proxy_wasm_properties.c:1085-1114).
fn dotted(path: &[u8]) -> Vec<u8> {
    path.iter()
        .map(|&b| if b == 0 { b'.' } else { b })
        .collect()
}

/// A property's value as the host encodes it.
fn encode(value: &Property, rule: Properties) -> Vec<u8> {
    let seconds = |nanos: u64| format!("{}.{:03}", nanos / 1_000_000_000, nanos / 1_000_000 % 1000);
    match (value, rule) {
        (Property::Bytes(bytes), _) => bytes.0.clone(),
        (Property::Int { int }, Properties::Envoy) => int.to_le_bytes().to_vec(),
        (Property::Int { int }, Properties::Nginx) => int.to_string().into_bytes(),
        (Property::Bool { bool }, Properties::Envoy) => vec![u8::from(*bool)],
        (Property::Bool { bool }, Properties::Nginx) => bool.to_string().into_bytes(),
        (
            Property::Time { time_nanos: nanos }
            | Property::Duration {
                duration_nanos: nanos,
            },
            Properties::Envoy,
        ) => (*nanos as i64).to_le_bytes().to_vec(),
        (
            Property::Time { time_nanos: nanos }
            | Property::Duration {
                duration_nanos: nanos,
            },
            Properties::Nginx,
        ) => seconds(*nanos).into_bytes(),
    }
}

fn get_property<G: Guest>(c: &mut Call<'_, G>, a: &[Value]) -> Outcome<G::Trap> {
    let path = c.read(arg(a, 0), arg(a, 1))?;
    let rule = c.rules().properties;
    let in_stream = c.host().stream().is_some();
    let host = c.host();
    let value = match rule {
        Properties::Envoy => {
            let first = path.split(|&b| b == 0).next().unwrap_or_default();
            if !in_stream && REQUEST_PROPERTIES.contains(&first) {
                return Err(status::NOT_FOUND.into());
            }
            // The plugin's name, root id and VM id are always set, if only to "" (env
            // getProperty: PLUGIN_NAME, PLUGIN_ROOT_ID, PLUGIN_VM_ID).
            let plugin = [&b"plugin_name"[..], b"plugin_root_id", b"plugin_vm_id"];
            lookup(host, &path, rule, <[u8]>::to_vec)
                .or_else(|| plugin.contains(&&path[..]).then(Vec::new))
        }
        Properties::Nginx => {
            let path = dotted(&path);
            if !in_stream && path.contains(&b'.') {
                return Err(status::INTERNAL_FAILURE.into());
            }
            if envoy_only(&path) {
                return Err(status::NOT_FOUND.into());
            }
            if path == b"plugin_root_id" {
                Some(abi::ROOT_CONTEXT.to_string().into_bytes())
            } else {
                lookup(host, &path, rule, dotted)
            }
        }
    };
    let value = value.ok_or(Stop::Status(status::NOT_FOUND))?;
    c.give(&value, arg(a, 2), arg(a, 3))
}

/// The value at `path`: the last one the filter set, else the scenario's, whose paths are
/// compared after `normalize`.
fn lookup(
    host: &Host,
    path: &[u8],
    rule: Properties,
    normalize: fn(&[u8]) -> Vec<u8>,
) -> Option<Vec<u8>> {
    match host.properties_set.iter().rev().find(|(k, _)| k.0 == path) {
        Some((_, value)) => Some(value.0.clone()),
        None => host
            .properties
            .iter()
            .find(|(k, _)| normalize(&k.0) == path)
            .map(|(_, v)| encode(v, rule)),
    }
}

fn set_property<G: Guest>(c: &mut Call<'_, G>, a: &[Value]) -> Outcome<G::Trap> {
    let path = c.read(arg(a, 0), arg(a, 1))?;
    let value = Bytes(c.read(arg(a, 2), arg(a, 3))?);
    let rule = c.rules().properties;
    let in_stream = c.host().stream().is_some();
    let path = match rule {
        // Filter state of the stream (env setProperty).
        Properties::Envoy if !in_stream => return Err(status::NOT_FOUND.into()),
        Properties::Envoy => path,
        Properties::Nginx => {
            let path = dotted(&path);
            if !(path.starts_with(b"ngx.") || path.starts_with(b"wasmx.")) {
                return Err(status::NOT_FOUND.into());
            }
            path
        }
    };
    c.host().properties_set.push((Bytes(path), value));
    Ok(())
}

fn fd_write<G: Guest>(c: &mut Call<'_, G>, a: &[Value]) -> Outcome<G::Trap> {
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
