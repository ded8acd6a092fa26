'use strict';
// permessage-deflate (RFC 7692): Node ws <-> greekwire, both roles.
// - ws client -> `greekwire echo --deflate`: every offer ws can make (serverNoContextTakeover x
//   clientNoContextTakeover x serverMaxWindowBits x clientMaxWindowBits), the server's answer,
//   and the echo of a mixed script (threshold 0: ws compresses every message);
// - the same offers to a greekwire without --deflate are declined and messages still flow;
// - --deflate-window-bits / --deflate-no-context-takeover on the server;
// - a compressed message that inflates past --max-message -> 1009;
// - `greekwire echo --connect --deflate` against ws servers with perMessageDeflate -> exit 0.
// Usage: NODE_PATH=/usr/share/nodejs node test_deflate_node.js PATH_TO_GREEKWIRE

const assert = require('assert');
const crypto = require('crypto');
const h = require('./harness');

const WebSocket = h.requireWs();

const MAX_MESSAGE = 4000000;
const SMALL_MAX = 100000;
const UNICODE = 'héllo wörld ✓ 𝄞 日本語 🎉 Ελληνικά \u0000 \ufeff \u{10ffff}';

function randomText(size) {
  return crypto.randomBytes(size).toString('base64').slice(0, size);
}

function json1k() {
  const rows = Array.from({ length: 9 }, (_, i) => ({
    id: i, symbol: `SYM${i % 7}`, bid: 100 + i * 0.25, ask: 100.5 + i * 0.25, venue: 'XNAS',
    flags: ['firm', 'lit'],
  }));
  return JSON.stringify({ type: 'book', seq: 123456, rows });
}

const SIMILAR = Array.from({ length: 100 }, (_, i) => JSON.stringify({
  type: 'trade', id: i, symbol: 'ACME', price: 100 + i * 0.25, size: 100 * ((i % 5) + 1),
  side: i % 2 ? 'buy' : 'sell',
}));
const BIN_1M = Buffer.concat([crypto.randomBytes(512 * 1024),
                              Buffer.alloc(512 * 1024, Buffer.from([...Array(256).keys()]))]);

function echoScript() {
  return [json1k(), BIN_1M, UNICODE, UNICODE.repeat(30), '', Buffer.alloc(0), '0123456789',
          Buffer.from('0123456789')];
}

function describe(m) {
  return `${Buffer.isBuffer(m) ? 'binary' : 'text'} of ${Buffer.byteLength(m)}`;
}

function checkEcho({ data, isBinary }, expected, label) {
  const binary = Buffer.isBuffer(expected);
  const same = isBinary === binary &&
               (binary ? data.equals(expected) : data.toString('utf8') === expected);
  if (!same) {
    throw new Error(`${label}: echo ${isBinary ? 'binary' : 'text'} of ${data.length} bytes, ` +
                    `expected ${describe(expected)}`);
  }
}

// 'permessage-deflate; a; b=1' -> 'permessage-deflate|a|b=1' with the parameters sorted.
function normalize(header) {
  if (header === undefined) return undefined;
  assert.ok(!header.includes(','), `answer lists several extensions: ${header}`);
  const [name, ...params] = header.split(';').map((p) => p.trim().replace(/\s+/g, ''));
  return [name, ...params.sort()].join('|');
}

function expectedAnswer([snct, cnct, smwb], { serverBits = 15, serverNct = false } = {}) {
  const params = [];
  if (snct || serverNct) params.push('server_no_context_takeover');
  if (cnct) params.push('client_no_context_takeover');
  if (smwb) params.push(`server_max_window_bits=${Math.min(smwb, serverBits)}`);
  return ['permessage-deflate', ...params.sort()].join('|');
}

function offerLabel([snct, cnct, smwb, cmwb]) {
  return `snct=${+snct} cnct=${+cnct} smwb=${smwb} cmwb=${cmwb === true ? 'novalue' : cmwb}`;
}

// offer = [serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits,
//          clientMaxWindowBits (null: not offered, true: no value, or a number)]
function connect(url, offer) {
  const [snct, cnct, smwb, cmwb] = offer;
  const perMessageDeflate = {
    serverNoContextTakeover: snct || undefined,
    clientNoContextTakeover: cnct || undefined,
    serverMaxWindowBits: smwb || undefined,
    clientMaxWindowBits: cmwb === null ? false : cmwb,
    threshold: 0,
  };
  return h.withTimeout(new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate, maxPayload: 64 << 20 });
    const queue = new h.MessageQueue(ws);
    let answer;
    let offered;
    ws.on('upgrade', (res) => {
      answer = res.headers['sec-websocket-extensions'];
      offered = res.req && res.req.getHeader('sec-websocket-extensions');
    });
    ws.on('open', () => resolve({ ws, queue, answer, offered }));
    ws.on('error', reject);
  }), 10000, `connect ${url} (${offerLabel(offer)})`);
}

function closeNormally({ ws }) {
  return new Promise((resolve) => {
    ws.on('close', (code) => resolve(code));
    ws.close(1000, 'bye');
  });
}

async function playEcho(conn, label, full = true) {
  const script = full ? echoScript() : [json1k(), Buffer.alloc(5000), '', 'tiny'];
  for (const [i, m] of script.entries()) {
    conn.ws.send(m, { binary: Buffer.isBuffer(m) });
    checkEcho(await conn.queue.next(), m, `${label}: message ${i}`);
  }
  if (!full) return;
  for (const m of SIMILAR) conn.ws.send(m);
  for (const [i, m] of SIMILAR.entries()) {
    checkEcho(await conn.queue.next(), m, `${label}: similar message ${i}`);
  }
}

async function oneOffer(url, offer, wantAnswer, full = true) {
  const label = offerLabel(offer);
  const conn = await connect(url, offer);
  const got = normalize(conn.answer);
  assert.strictEqual(got, wantAnswer, `${label}: offered ${JSON.stringify(conn.offered)}, ` +
                                      `answered ${JSON.stringify(conn.answer)}`);
  assert.strictEqual(conn.ws.extensions, wantAnswer ? 'permessage-deflate' : '',
                     `${label}: ws.extensions ${JSON.stringify(conn.ws.extensions)}`);
  await playEcho(conn, label, full);
  const code = await closeNormally(conn);
  assert.strictEqual(code, 1000, `${label}: close code ${code}`);
}

const ALL_OFFERS = [];
for (const snct of [false, true]) {
  for (const cnct of [false, true]) {
    for (const smwb of [null, 8, 9, 10, 15]) {
      for (const cmwb of [null, true, 9, 15]) ALL_OFFERS.push([snct, cnct, smwb, cmwb]);
    }
  }
}

async function allOffers(url, server = {}) {
  for (const offer of ALL_OFFERS) await oneOffer(url, offer, expectedAnswer(offer, server));
}

async function declined(url) {
  for (const [i, offer] of ALL_OFFERS.entries()) {
    await oneOffer(url, offer, undefined, i % 20 === 0);
  }
}

async function serverOptions(url, server) {
  const offers = [[false, false, null, true], [false, false, 15, true], [true, false, 10, null],
                  [false, true, 8, 9], [true, true, 9, 15], [false, false, 12, 12]];
  for (const offer of offers) await oneOffer(url, offer, expectedAnswer(offer, server));
}

async function tooBig(url) {
  const conn = await connect(url, [false, false, null, true]);
  assert.strictEqual(normalize(conn.answer), 'permessage-deflate');
  const fits = 'a'.repeat(SMALL_MAX - 10);
  conn.ws.send(fits);
  checkEcho(await conn.queue.next(), fits, 'message under the limit');
  const closed = new Promise((resolve) => conn.ws.on('close', (code) => resolve(code)));
  conn.ws.send('abcdefghij'.repeat(100000)); // 1 MB, compresses to about 1 KB
  const next = conn.queue.next(10000).then((m) => `a message (${m.data.length} bytes)`,
                                           () => 'closed');
  const code = await h.withTimeout(closed, 10000, 'close after an oversized message');
  assert.strictEqual(await next, 'closed', 'the server echoed instead of closing');
  assert.strictEqual(code, 1009, `client saw close code ${code}, expected 1009`);
}

// --- greekwire as the client ---------------------------------------------------------------

function clientScript() {
  return [json1k(), '', Buffer.alloc(0), '0123456789', UNICODE, UNICODE.repeat(30),
          randomText(70000), 'z'.repeat(1 << 20), crypto.randomBytes(1 << 20), BIN_1M];
}

function listen(perMessageDeflate) {
  return new Promise((resolve, reject) => {
    const wss = new WebSocket.Server({ host: h.HOST, port: 0, maxPayload: 64 << 20,
                                       perMessageDeflate });
    wss.on('listening', () => resolve(wss));
    wss.on('error', reject);
  });
}

function closeServer(wss) {
  for (const client of wss.clients) client.terminate();
  return new Promise((resolve) => wss.close(() => resolve()));
}

function playScript(wss) {
  const seen = { errors: [], finished: false };
  wss.once('headers', (headers) => {
    const line = headers.find((l) => /^sec-websocket-extensions:/i.test(l));
    seen.answer = line && line.slice(line.indexOf(':') + 1).trim();
  });
  return new Promise((resolve) => {
    wss.once('connection', async (ws, req) => {
      seen.offer = req.headers['sec-websocket-extensions'];
      seen.extensions = ws.extensions;
      const queue = new h.MessageQueue(ws);
      try {
        for (const [i, m] of clientScript().entries()) {
          ws.send(m, { binary: Buffer.isBuffer(m) });
          checkEcho(await queue.next(), m, `message ${i}`);
        }
        for (const m of SIMILAR) ws.send(m);
        for (const [i, m] of SIMILAR.entries()) checkEcho(await queue.next(), m, `pipelined ${i}`);
        seen.finished = true;
      } catch (e) {
        seen.errors.push(e.message);
      }
      ws.close(1000, 'done');
      resolve(seen);
    });
  });
}

// perMessageDeflate: the ws server's options (false: no extension); wantAnswer: its answer.
async function clientCase(perMessageDeflate, wantAnswer, clientOptions = []) {
  const wss = await listen(perMessageDeflate && { threshold: 0, ...perMessageDeflate });
  try {
    const seenP = playScript(wss);
    const result = await h.runClient(`ws://${h.HOST}:${wss.address().port}/`,
                                     ['--deflate', '--max-message', MAX_MESSAGE, ...clientOptions],
                                     40000);
    const clientSaid = `client exit code ${result.code}, stdout ${JSON.stringify(result.stdout)}`;
    const seen = await h.withTimeout(seenP, 5000, `server script (${clientSaid})`);
    assert.deepStrictEqual(seen.errors, [], clientSaid);
    assert.ok(seen.finished, `the server's script did not finish (${clientSaid})`);
    assert.ok((seen.offer || '').startsWith('permessage-deflate'),
              `client offered ${JSON.stringify(seen.offer)}`);
    assert.strictEqual(normalize(seen.answer), wantAnswer,
                       `server answered ${JSON.stringify(seen.answer)} to ${seen.offer}`);
    assert.strictEqual(seen.extensions, wantAnswer ? 'permessage-deflate' : '');
    assert.strictEqual(result.code, 0, clientSaid);
    assert.ok(result.stdout.split('\n').some((l) => l.startsWith('closed 1000')), clientSaid);
  } finally {
    await closeServer(wss);
  }
}

const servers = {
  deflate: new h.Greekwire('--deflate', '--max-message', MAX_MESSAGE),
  plain: new h.Greekwire('--max-message', MAX_MESSAGE),
  w9: new h.Greekwire('--deflate', '--deflate-window-bits', 9),
  nct: new h.Greekwire('--deflate', '--deflate-no-context-takeover'),
  both: new h.Greekwire('--deflate', '--deflate-window-bits', 9, '--deflate-no-context-takeover'),
  small: new h.Greekwire('--deflate', '--max-message', SMALL_MAX),
};

async function main() {
  for (const s of Object.values(servers)) await s.start();
  const { deflate, plain, w9, nct, both, small } = servers;
  const pmd = 'permessage-deflate';
  return h.runChecks([
    [`all ${ALL_OFFERS.length} client offers: answer + echo`, () => allOffers(deflate.url)],
    ['server without --deflate declines every offer, messages flow', () => declined(plain.url)],
    ['server --deflate-window-bits 9', () => serverOptions(w9.url, { serverBits: 9 })],
    ['server --deflate-no-context-takeover',
     () => serverOptions(nct.url, { serverNct: true })],
    ['server --deflate-window-bits 9 --deflate-no-context-takeover',
     () => serverOptions(both.url, { serverBits: 9, serverNct: true })],
    ['compressed 1 MB > --max-message 100000 -> 1009', () => tooBig(small.url)],
    ['greekwire client vs ws server, default perMessageDeflate', () => clientCase({}, pmd)],
    ['greekwire client vs serverNoContextTakeover',
     () => clientCase({ serverNoContextTakeover: true }, `${pmd}|server_no_context_takeover`)],
    ['greekwire client vs clientNoContextTakeover',
     () => clientCase({ clientNoContextTakeover: true }, `${pmd}|client_no_context_takeover`)],
    ['greekwire client vs serverMaxWindowBits 10',
     () => clientCase({ serverMaxWindowBits: 10 }, `${pmd}|server_max_window_bits=10`)],
    ['greekwire client vs clientMaxWindowBits 12',
     () => clientCase({ clientMaxWindowBits: 12 }, `${pmd}|client_max_window_bits=12`)],
    ['greekwire client vs all four',
     () => clientCase({ serverNoContextTakeover: true, clientNoContextTakeover: true,
                        serverMaxWindowBits: 10, clientMaxWindowBits: 12 },
                      `${pmd}|client_max_window_bits=12|client_no_context_takeover|` +
                      'server_max_window_bits=10|server_no_context_takeover')],
    ['greekwire client --deflate-window-bits 9 --deflate-no-context-takeover',
     () => clientCase({}, `${pmd}|client_max_window_bits=9|client_no_context_takeover`,
                      ['--deflate-window-bits', 9, '--deflate-no-context-takeover'])],
    ['greekwire client vs ws server without the extension', () => clientCase(false, undefined)],
    ['SIGTERM -> exit 0, clean stderr (all servers)', async () => {
      for (const s of Object.values(servers)) await s.stop();
    }],
  ], 40000);
}

h.greekwireBinary(); // fail early on a bad argument
h.runMain(main);
