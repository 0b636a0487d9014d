// wasmdiff's V8 worker, run by node: reads jobs from stdin and answers on stdout, in frames
// (a little-endian u32 length, then the bytes). A job is a JSON frame, then the module's bytes:
//   {"validate": true}                      -> {"stage": "accepted"} or {"stage": "rejected", ...}
//   {"calls": [names]}                      -> {"stage": "ran", "calls": [...]}
// Every call is to an export without arguments whose results are integers (the harness adapts
// the module so): results come back as decimal strings, errors as {name, message}.
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

for (;;) {
  const job = JSON.parse(readFrame().toString());
  const bytes = readFrame();
  let module;
  reach(COMPILE);
  try {
    module = new WebAssembly.Module(bytes);
  } catch (e) {
    writeFrame({ stage: 'rejected', error: failure(e) });
    continue;
  }
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
