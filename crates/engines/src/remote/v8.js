// wasmdiff's V8 worker, run by node: reads jobs from stdin and answers on stdout, in frames
// (a little-endian u32 length, then the bytes). A job is a JSON frame, then the module's bytes:
//   {"validate": true}                      -> {"stage": "accepted"} or {"stage": "rejected", ...}
//   {"calls": [names]}                      -> {"stage": "ran", "calls": [...]}
//   {"proxy": [[module, name, [params], [results]]], "start": name?}
//                                           -> a proxy-wasm session, below
// Every call is to an export without arguments whose results are integers (the harness adapts
// the module so): results come back as decimal strings, errors as {name, message}.
//
// A proxy-wasm session instantiates a filter whose imports are the host functions listed, each
// a synchronous call back to the host in Rust: node writes {"kind": "host", "host": index,
// "args": [text], "memory": bytes} and then serves the host's requests until it returns:
//   {"op": "read", "ptr", "len"}            -> a frame of those bytes of the exported memory
//   {"op": "write", "ptr"}, then the bytes  -> (no answer)
//   {"op": "call", "name", "args": [[type, text]]}
//                                           -> {"kind": "returned", "results": [text]} or
//                                              {"kind": "threw", "error"} or {"kind": "missing"},
//                                              with "memory"; host calls may come first
//   {"op": "return", "results": [text]}     -> the host function returns
//   {"op": "trap", "message"}               -> it throws a HostStop
//   {"op": "rethrow"}                       -> it throws what the last nested call threw
// The session begins with {"kind": "rejected" | "instantiation-failed", "error"} or
// {"kind": "instantiated", "exports": [function names], "memory"}, takes "call"s, and ends
// with {"op": "end"}. The start function comes as an export named by "start" (the host must
// reach the memory from its host calls, and a JavaScript instance exists only after its
// start function has run), called right after instantiation.
// Where a job has got to is written to the progress word on WASMDIFF_PROGRESS_FD (a stage
// tag in the top byte, an index below it, as `progress.rs` encodes them), for the supervisor
// to read should node die.
'use strict';
const fs = require('fs');

const progressFd = process.env.WASMDIFF_PROGRESS_FD === undefined ? null : Number(process.env.WASMDIFF_PROGRESS_FD);
const COMPILE = 1n, INSTANTIATE = 2n, CALL = 3n;
const word = Buffer.alloc(8);
function reach(stage, index = 0) {
  if (progressFd === null) return;
  word.writeBigUInt64LE((stage << 56n) | BigInt(index), 0);
  fs.writeSync(progressFd, word, 0, 8, 0);
}

function readExactly(length) {
  const buffer = Buffer.alloc(length);
  let offset = 0;
  while (offset < length) {
    let read;
    try {
      read = fs.readSync(0, buffer, offset, length - offset, null);
    } catch (e) {
      if (e.code === 'EAGAIN') continue;
      throw e;
    }
    if (read === 0) process.exit(0);
    offset += read;
  }
  return buffer;
}

function readFrame() {
  return readExactly(readExactly(4).readUInt32LE(0));
}

function writeFrame(answer) {
  const body = Buffer.from(JSON.stringify(answer));
  const frame = Buffer.alloc(4 + body.length);
  frame.writeUInt32LE(body.length, 0);
  body.copy(frame, 4);
  let offset = 0;
  while (offset < frame.length) offset += fs.writeSync(1, frame, offset);
}

function failure(e) {
  const name = e && e.constructor ? e.constructor.name : typeof e;
  return { name, message: String(e && e.message !== undefined ? e.message : e) };
}

function call(instance, name) {
  try {
    const result = instance.exports[name]();
    const results = result === undefined ? [] : Array.isArray(result) ? result : [result];
    return { results: results.map(String) };
  } catch (e) {
    return { error: failure(e) };
  }
}

function writeBytes(bytes) {
  const frame = Buffer.alloc(4 + bytes.length);
  frame.writeUInt32LE(bytes.length, 0);
  frame.set(bytes, 4);
  let offset = 0;
  while (offset < frame.length) offset += fs.writeSync(1, frame, offset);
}

class HostStop extends Error {}

function wasmValue(type, text) {
  return type === 'i64' ? BigInt(text) : Number(text);
}

function texts(result) {
  const results = result === undefined ? [] : Array.isArray(result) ? result : [result];
  return results.map(String);
}

// Modules compiled lately, most recent last: a proxy-wasm campaign runs the same SDK filters
// again and again, and compiling one costs more than its whole scenario. A module is kept once
// it comes a second time (as the Rust engines keep theirs), so that one-off random modules do
// not push the filters out; the last one is kept anyway (a case under every host runs it twice).
const compiled = [];
const COMPILED_MODULES = 16;
const seen = [];
const SEEN_MODULES = 64;
let last = null;

// The compiled module, or null once `refused` has been told why it was refused.
function compile(bytes, refused) {
  reach(COMPILE);
  const at = compiled.findIndex(([cached]) => cached.equals(bytes));
  if (at >= 0) {
    const [entry] = compiled.splice(at, 1);
    compiled.push(entry);
    return entry[1];
  }
  if (last !== null && last[0].equals(bytes)) return last[1];
  let module;
  try {
    module = new WebAssembly.Module(bytes);
  } catch (e) {
    refused(failure(e));
    return null;
  }
  const again = seen.findIndex((s) => s.equals(bytes));
  if (again >= 0) {
    seen.splice(again, 1);
    if (compiled.length === COMPILED_MODULES) compiled.shift();
    compiled.push([bytes, module]);
  } else {
    if (seen.length === SEEN_MODULES) seen.shift();
    seen.push(bytes);
  }
  last = [bytes, module];
  return module;
}

function proxySession(job, bytes) {
  const module = compile(bytes, (error) => writeFrame({ kind: 'rejected', error }));
  if (module === null) return;
  let instance = null;
  // What the last nested call threw, for the host to re-raise unchanged.
  let nested;
  const memory = () => {
    const m = instance && instance.exports.memory;
    return m instanceof WebAssembly.Memory ? m.buffer : new ArrayBuffer(0);
  };
  const callExport = (op) => {
    const f = instance.exports[op.name];
    if (typeof f !== 'function') return { kind: 'missing' };
    try {
      const results = texts(f(...op.args.map(([type, text]) => wasmValue(type, text))));
      return { kind: 'returned', results, memory: memory().byteLength };
    } catch (e) {
      nested = e;
      return { kind: 'threw', error: failure(e), memory: memory().byteLength };
    }
  };
  // Serves the host's requests during one host call; its result, or the error it raises.
  const serve = (results) => {
    for (;;) {
      const op = JSON.parse(readFrame().toString());
      switch (op.op) {
        case 'read': {
          const buffer = memory();
          writeBytes(op.ptr + op.len <= buffer.byteLength ? new Uint8Array(buffer, op.ptr, op.len) : new Uint8Array(0));
          break;
        }
        case 'write': {
          const data = readFrame();
          const buffer = memory();
          if (op.ptr + data.length <= buffer.byteLength) new Uint8Array(buffer, op.ptr, data.length).set(data);
          break;
        }
        case 'call':
          writeFrame(callExport(op));
          break;
        case 'return': {
          const values = op.results.map((text, i) => wasmValue(results[i], text));
          return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
        }
        case 'trap':
          throw new HostStop(op.message);
        case 'rethrow':
          throw nested;
        default:
          throw new Error(`unexpected request ${op.op} in a host call`);
      }
    }
  };
  const imports = {};
  job.proxy.forEach(([moduleName, name, , results], index) => {
    (imports[moduleName] ??= {})[name] = (...args) => {
      writeFrame({ kind: 'host', host: index, args: args.map(String), memory: memory().byteLength });
      return serve(results);
    };
  });
  reach(INSTANTIATE);
  try {
    instance = new WebAssembly.Instance(module, imports);
    if (job.start !== undefined) instance.exports[job.start]();
  } catch (e) {
    writeFrame({ kind: 'instantiation-failed', error: failure(e) });
    return;
  }
  const exports = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
  writeFrame({ kind: 'instantiated', exports, memory: memory().byteLength });
  for (;;) {
    const op = JSON.parse(readFrame().toString());
    if (op.op === 'end') return;
    writeFrame(callExport(op));
  }
}

for (;;) {
  const job = JSON.parse(readFrame().toString());
  const bytes = readFrame();
  if (job.proxy) {
    proxySession(job, bytes);
    continue;
  }
  const module = compile(bytes, (error) => writeFrame({ stage: 'rejected', error }));
  if (module === null) continue;
  if (job.validate) {
    writeFrame({ stage: 'accepted' });
    continue;
  }
  let instance;
  reach(INSTANTIATE);
  try {
    instance = new WebAssembly.Instance(module, {});
  } catch (e) {
    writeFrame({ stage: 'instantiation-failed', error: failure(e) });
    continue;
  }
  writeFrame({
    stage: 'ran',
    calls: job.calls.map((name, index) => {
      reach(CALL, index);
      return call(instance, name);
    }),
  });
}
