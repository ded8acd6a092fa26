'use strict';
// Node ws client <-> greekwire echo server.
// Usage: NODE_PATH=/usr/share/nodejs node test_node_client.js PATH_TO_GREEKWIRE

const assert = require('assert');
const crypto = require('crypto');
const h = require('./harness');

const WebSocket = h.requireWs();

const MAX_MESSAGE = 17000000;
const SIZES = [0, 125, 126, 65536, 1 << 20, 16 << 20];

function randomText(size) {
  return crypto.randomBytes(size).toString('base64').slice(0, size);
}

function connect(url) {
  return h.withTimeout(new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { maxPayload: 64 << 20 });
    const queue = new h.MessageQueue(ws);
    ws.on('open', () => resolve({ ws, queue }));
    ws.on('error', reject);
  }), 10000, `connect ${url}`);
}

function closeNormally({ ws }) {
  return new Promise((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    ws.close(1000, 'bye');
  });
}

function assertEcho(message, expected, label) {
  const { data, isBinary } = message;
  const binary = Buffer.isBuffer(expected);
  assert.strictEqual(isBinary, binary, `${label}: echo is ${isBinary ? 'binary' : 'text'}`);
  const ok = binary ? data.equals(expected) : data.toString('utf8') === expected;
  assert.ok(ok, `${label}: echo differs (${data.length} bytes vs ${Buffer.byteLength(expected)})`);
}

async function roundtrip(conn, message, label) {
  conn.ws.send(message, { binary: Buffer.isBuffer(message) });
  assertEcho(await conn.queue.next(), message, label);
}

async function echoSizes(url, make) {
  const conn = await connect(url);
  for (const size of SIZES) await roundtrip(conn, make(size), `size ${size}`);
  await closeNormally(conn);
}

function sendFragments(conn, parts, binary) {
  parts.forEach((part, i) => conn.ws.send(part, { binary, fin: i === parts.length - 1 }));
}

async function echoFragmented(url) {
  const conn = await connect(url);
  const text = ['frag', '', 'mented ', 'wörld ✓'];
  sendFragments(conn, text, false);
  assertEcho(await conn.queue.next(), text.join(''), 'text fragments');
  const binary = [crypto.randomBytes(10), Buffer.alloc(0), crypto.randomBytes(70000)];
  sendFragments(conn, binary, true);
  assertEcho(await conn.queue.next(), Buffer.concat(binary), 'binary fragments');
  await closeNormally(conn);
}

async function echoPipelined(url, count = 1000) {
  const conn = await connect(url);
  const messages = Array.from({ length: count },
                              (_, i) => (i % 2 ? `message ${i} ✓` : Buffer.from(`binary ${i}`)));
  for (const m of messages) conn.ws.send(m, { binary: Buffer.isBuffer(m) });
  for (let i = 0; i < count; i++) assertEcho(await conn.queue.next(), messages[i], `message ${i}`);
  await closeNormally(conn);
}

async function pingPong(url) {
  const conn = await connect(url);
  for (const payload of [Buffer.alloc(0), Buffer.from('probe'), crypto.randomBytes(125)]) {
    const pong = new Promise((resolve) => conn.ws.once('pong', resolve));
    conn.ws.ping(payload);
    const got = await h.withTimeout(pong, 5000, 'pong');
    assert.ok(got.equals(payload),
              `pong payload differs (${got.length} vs ${payload.length} bytes)`);
  }
  await roundtrip(conn, 'still open', 'after pings');
  await closeNormally(conn);
}

async function close1000(url) {
  const conn = await connect(url);
  await roundtrip(conn, 'before close', 'before close');
  const { code, reason } = await closeNormally(conn);
  console.log(`     server close frame: code ${code} reason ${JSON.stringify(reason)}`);
  assert.strictEqual(code, 1000, `client saw close code ${code}`);
}

const server = new h.Greekwire('--max-message', MAX_MESSAGE);

async function main() {
  await server.start();
  const url = `${server.url}/echo`;
  return h.runChecks([
    ['text sizes 0..16 MiB', () => echoSizes(url, randomText)],
    ['binary sizes 0..16 MiB', () => echoSizes(url, (n) => crypto.randomBytes(n))],
    ['fragmented messages', () => echoFragmented(url)],
    ['1000 pipelined messages', () => echoPipelined(url)],
    ['ping/pong', () => pingPong(url)],
    ['close 1000', () => close1000(url)],
    ['SIGTERM -> exit 0, clean stderr', () => server.stop()],
  ]);
}

h.runMain(main);
