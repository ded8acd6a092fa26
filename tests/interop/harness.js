'use strict';
// Shared helpers for the Node interop tests (the counterpart of harness.py): start the
// greekwire echo server and stop it checking its exit code and stderr, run the greekwire
// client, queue received messages, and run named checks.
//
// Every test script takes the greekwire binary as its first argument (or $GREEKWIRE).

const { spawn } = require('child_process');
const net = require('net');

const SKIP = 77; // ctest SKIP_RETURN_CODE
const HOST = '127.0.0.1';
// Every greekwire process started here is killed when this process exits, however it exits.
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

const SANITIZER_MARKERS = ['ERROR: AddressSanitizer', 'LeakSanitizer', 'runtime error:'];
const READY = /^listening on (wss?):\/\/[^\s]+:(\d+)\/?$/;

function greekwireBinary() {
  const path = process.argv[2] || process.env.GREEKWIRE;
  if (!path) {
    console.error(`usage: node ${process.argv[1]} PATH_TO_GREEKWIRE`);
    process.exit(2);
  }
  return path;
}

function requireWs() {
  try {
    return require('ws');
  } catch (e) {
    console.log("SKIP: the Node module 'ws' is not installed " +
                `(Debian node-ws, NODE_PATH=/usr/share/nodejs): ${e.message}`);
    process.exit(SKIP);
  }
}

function childEnv() {
  return { ASAN_OPTIONS: 'detect_leaks=1', UBSAN_OPTIONS: 'print_stacktrace=1', ...process.env };
}

function sanitizerReport(text) {
  return SANITIZER_MARKERS.find((m) => text.includes(m));
}

// The part of a stderr worth printing: from the first sanitizer report if any, else the end.
function excerpt(text, limit = 6000) {
  const marker = sanitizerReport(text);
  if (!marker) return text.slice(-limit);
  const start = text.lastIndexOf('\n', Math.max(0, text.indexOf(marker) - 80)) + 1;
  return text.slice(start, start + limit);
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// `greekwire echo --listen 127.0.0.1:0 ...options`; resolves once the ready line is read.
class Greekwire {
  constructor(...options) {
    this.options = options.map(String);
    this.stderr = '';
  }

  get url() {
    return `${this.scheme}://${HOST}:${this.port}`;
  }

  async start(readyTimeoutMs = 30000) {
    const argv = ['echo', '--listen', `${HOST}:0`, ...this.options];
    this.proc = track(spawn(greekwireBinary(), argv,
                            { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => resolve({ code, signal }));
    });
    try {
      this.port = await withTimeout(this.readyLine(), readyTimeoutMs, 'greekwire ready line');
    } catch (e) {
      this.kill();
      this.printStderr();
      throw e;
    }
    return this;
  }

  readyLine() {
    return new Promise((resolve, reject) => {
      let out = '';
      const onData = (d) => {
        out += d;
        const nl = out.indexOf('\n');
        if (nl < 0) return;
        this.proc.stdout.off('data', onData);
        this.proc.stdout.resume(); // keep draining whatever follows
        const match = READY.exec(out.slice(0, nl).trim());
        if (match) {
          this.scheme = match[1];
          resolve(Number(match[2]));
        }
        else reject(new Error(`unexpected first stdout line: ${JSON.stringify(out.slice(0, nl))}`));
      };
      this.proc.stdout.on('data', onData);
      this.proc.on('error', reject);
      this.exited.then(({ code }) => {
        reject(new Error(`greekwire exited before ready (code ${code})`));
      });
    });
  }

  // SIGTERM, then asserts exit code 0 and a clean stderr.
  async stop(timeoutMs = 15000) {
    if (this.running()) this.proc.kill('SIGTERM');
    let result;
    try {
      result = await withTimeout(this.exited, timeoutMs, 'greekwire exit after SIGTERM');
    } catch (e) {
      this.kill();
      throw e;
    }
    const marker = sanitizerReport(this.stderr);
    if (result.code !== 0 || marker) {
      this.printStderr();
      throw new Error(`greekwire server exit code ${result.code} signal ${result.signal}` +
                      (marker ? `, stderr contains '${marker}'` : ''));
    }
  }

  running() {
    return this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  kill() {
    if (this.running()) this.proc.kill('SIGKILL');
  }

  printStderr() {
    if (this.stderr) console.error(`--- greekwire server stderr ---\n${excerpt(this.stderr)}\n---`);
  }
}

// Runs `greekwire echo --connect URL ...options`; resolves to { code, stdout, stderr }.
function runClient(url, options = [], timeoutMs = 60000) {
  const proc = track(spawn(greekwireBinary(), ['echo', '--connect', url, ...options.map(String)],
                           { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => { stdout += d; });
  proc.stderr.on('data', (d) => { stderr += d; });
  const done = new Promise((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      const marker = sanitizerReport(stderr);
      if (!marker) resolve({ code, signal, stdout, stderr });
      else {
        reject(new Error(`greekwire client (exit code ${code}) stderr contains '${marker}':\n` +
                         excerpt(stderr)));
      }
    });
  });
  return withTimeout(done, timeoutMs, 'greekwire client').catch((e) => {
    proc.kill('SIGKILL');
    throw new Error(`${e.message}; stdout ${JSON.stringify(stdout)}`);
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Collects a WebSocket's messages so that none is missed between awaits.
class MessageQueue {
  constructor(ws) {
    this.messages = [];
    this.waiters = [];
    ws.on('message', (data, isBinary) => this.push({ data, isBinary }));
    ws.on('close', (code) => {
      this.fail(new Error(`connection closed (${code}) while waiting for a message`));
    });
  }

  push(message) {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(message);
    else this.messages.push(message);
  }

  fail(error) {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    this.error = error;
  }

  next(timeoutMs = 20000) {
    if (this.messages.length) return Promise.resolve(this.messages.shift());
    if (this.error) return Promise.reject(this.error);
    return withTimeout(new Promise((resolve, reject) => this.waiters.push({ resolve, reject })),
                       timeoutMs, 'waiting for a message');
  }
}

function seconds(since) {
  return ((Date.now() - since) / 1000).toFixed(1);
}

// Runs [name, async function] pairs in order; resolves to the exit status.
async function runChecks(checks, timeoutMs = 30000) {
  const failed = [];
  for (const [name, check] of checks) {
    const start = Date.now();
    try {
      await withTimeout(Promise.resolve().then(check), timeoutMs, name);
      console.log(`ok   ${name} (${seconds(start)}s)`);
    } catch (e) {
      failed.push(name);
      console.log(`FAIL ${name} (${seconds(start)}s)\n${e && e.stack ? e.stack : e}`);
    }
  }
  console.log(`${checks.length - failed.length}/${checks.length} checks passed` +
              (failed.length ? `; failed: ${failed.join(', ')}` : ''));
  return failed.length ? 1 : 0;
}

// Runs main() and exits with the status it resolves to (1 if it throws).
function runMain(main) {
  main().then((status) => process.exit(status), (e) => {
    console.log(`FAIL ${e && e.stack ? e.stack : e}`);
    process.exit(1);
  });
}

module.exports = {
  SKIP, HOST, Greekwire, MessageQueue, freePort, greekwireBinary, requireWs, runChecks, runClient,
  runMain, sanitizerReport, withTimeout,
};
