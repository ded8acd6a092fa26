'use strict';
// greekwire client (`echo --connect`) <-> Node ws server (WebSocket.Server).
// Usage: NODE_PATH=/usr/share/nodejs node test_node_server.js PATH_TO_GREEKWIRE

const assert = require('assert');
const crypto = require('crypto');
const http = require('http');
const h = require('./harness');

const WebSocket = h.requireWs();

const CLIENT_MAX = ['--max-message', 17000000];
const SIZES = [0, 125, 126, 65536, 1 << 20, 16 << 20];
const ANSWER_200 = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok';
const ANSWER_WRONG_ACCEPT = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n' +
                            'Connection: Upgrade\r\n' +
                            'Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

function randomText(size) {
  return crypto.randomBytes(size).toString('base64').slice(0, size);
}

// [frames to send, expected echo] pairs; a message sent in several frames lists them all.
function echoScript() {
  const messages = [];
  for (const n of SIZES) messages.push([randomText(n)], [crypto.randomBytes(n)]);
  messages.push(['héllo wörld ✓ 𝄞 日本語 🎉']);
  messages.push(['frag', '', 'mented ✓']);
  messages.push([crypto.randomBytes(70000), Buffer.alloc(0), crypto.randomBytes(3)]);
  const joined = (frames) => (Buffer.isBuffer(frames[0]) ? Buffer.concat(frames) : frames.join(''));
  return messages.map((frames) => [frames, joined(frames)]);
}

function listen(options = {}) {
  return new Promise((resolve, reject) => {
    const wss = new WebSocket.Server({ host: h.HOST, port: 0, maxPayload: 64 << 20, ...options });
    wss.on('listening', () => resolve(wss));
    wss.on('error', reject);
  });
}

function closeServer(wss) {
  for (const client of wss.clients) client.terminate();
  return new Promise((resolve) => wss.close(() => resolve()));
}

// One connection that plays `script`, pings, sends `pipelined` messages, then closes with
// `closeCode`. Resolves to what the test asserts on.
function playScript(wss, { script = [], closeCode = 1000, pipelined = 0 }) {
  return new Promise((resolve) => {
    wss.once('connection', async (ws, req) => {
      const seen = {
        errors: [],
        finished: false,
        protocolHeader: req.headers['sec-websocket-protocol'],
        protocol: ws.protocol,
        url: req.url,
      };
      const queue = new h.MessageQueue(ws);
      try {
        await play(ws, queue, script, pipelined);
        seen.finished = true;
      } catch (e) {
        seen.errors.push(e.message);
      }
      ws.close(closeCode, 'done');
      resolve(seen);
    });
  });
}

async function play(ws, queue, script, pipelined) {
  for (const [i, [frames, expected]] of script.entries()) {
    const binary = Buffer.isBuffer(expected);
    frames.forEach((f, k) => ws.send(f, { binary, fin: k === frames.length - 1 }));
    checkEcho(await queue.next(), expected, `message ${i}`);
  }
  const pong = new Promise((resolve) => ws.once('pong', resolve));
  ws.ping(Buffer.from('are you there'));
  await h.withTimeout(pong, 5000, 'pong');
  const messages = Array.from({ length: pipelined }, (_, i) => `pipelined ${i}`);
  for (const m of messages) ws.send(m);
  for (const m of messages) checkEcho(await queue.next(), m, m);
}

function checkEcho({ data, isBinary }, expected, label) {
  const binary = Buffer.isBuffer(expected);
  const same = isBinary === binary &&
               (binary ? data.equals(expected) : data.toString('utf8') === expected);
  if (!same) {
    throw new Error(`${label}: echo ${isBinary ? 'binary' : 'text'} of ${data.length} bytes, ` +
                    `expected ${binary ? 'binary' : 'text'} of ${Buffer.byteLength(expected)}`);
  }
}

function assertClient({ code, stdout }, wantCode, wantLine) {
  assert.strictEqual(code, wantCode, `greekwire client exit code ${code}, expected ${wantCode}; ` +
                                     `stdout ${JSON.stringify(stdout)}`);
  if (wantLine) {
    assert.ok(stdout.split('\n').some((l) => l.startsWith(wantLine)),
              `stdout ${JSON.stringify(stdout)} lacks a line starting '${wantLine}'`);
  }
}

async function runAgainst(play, path = '/') {
  const wss = await listen();
  try {
    const seen = playScript(wss, play);
    const result = await h.runClient(`ws://${h.HOST}:${wss.address().port}${path}`, CLIENT_MAX);
    const clientSaid = `client exit code ${result.code}, stdout ${JSON.stringify(result.stdout)}`;
    return {
      result,
      seen: await h.withTimeout(seen, 5000, `server script (${clientSaid})`),
    };
  } finally {
    await closeServer(wss);
  }
}

async function echoThenClose1000() {
  const play = { script: echoScript(), closeCode: 1000, pipelined: 200 };
  const { result, seen } = await runAgainst(play, '/node?x=1');
  assert.deepStrictEqual(seen.errors, []);
  assert.ok(seen.finished, "the server's script did not run to the end");
  assert.strictEqual(seen.url, '/node?x=1');
  assert.strictEqual(seen.protocolHeader, undefined, 'client sent Sec-WebSocket-Protocol unasked');
  assert.strictEqual(seen.protocol, '', 'a subprotocol was negotiated');
  assertClient(result, 0, 'closed 1000');
}

async function close4001() {
  const { result, seen } = await runAgainst({ script: [[['one'], 'one']], closeCode: 4001 });
  assert.deepStrictEqual(seen.errors, []);
  assertClient(result, 1, 'closed 4001');
}

async function nobodyListening() {
  assertClient(await h.runClient(`ws://${h.HOST}:${await h.freePort()}/`, [], 30000), 2);
}

// An HTTP server that answers the upgrade request with `response`; the client must exit 2.
async function rawUpgradeAnswer(response) {
  const server = http.createServer((req, res) => res.end('ok'));
  server.on('upgrade', (req, socket) => socket.end(response));
  await new Promise((resolve) => server.listen(0, h.HOST, resolve));
  try {
    assertClient(await h.runClient(`ws://${h.HOST}:${server.address().port}/`, [], 30000), 2);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

async function main() {
  return h.runChecks([
    ['echo up to 16 MiB, fragments, ping, pipelined; close 1000 -> exit 0', echoThenClose1000],
    ['close 4001 -> exit 1', close4001],
    ['nobody listening -> exit 2', nobodyListening],
    ['200 instead of 101 -> exit 2', () => rawUpgradeAnswer(ANSWER_200)],
    ['wrong Sec-WebSocket-Accept -> exit 2', () => rawUpgradeAnswer(ANSWER_WRONG_ACCEPT)],
  ], 40000);
}

h.greekwireBinary(); // fail early on a bad argument
h.runMain(main);
