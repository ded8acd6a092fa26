'use strict';
// TLS and mutual TLS against Node's TLS stack (OpenSSL inside Node, driven by the ws library):
// - ws client -> `greekwire echo --tls-cert ...`: sizes, deflate on and off, every
//   window-bits / no-context-takeover offer ws can make, a client certificate the server
//   requires, and refusal without one;
// - `greekwire echo --connect wss://` -> ws server over https.createServer: CA verification,
//   a client certificate Node checks (requestCert + rejectUnauthorized), hostname mismatch.
// The PKI comes from tests/tls/make_certs.sh (openssl CLI).
// Usage: NODE_PATH=/usr/share/nodejs node test_tls_node.js PATH_TO_GREEKWIRE

const assert = require('assert');
const crypto = require('crypto');
const { execFileSync } = require('child_process');
const fs = require('fs');
const https = require('https');
const os = require('os');
const path = require('path');
const h = require('./harness');

const WebSocket = h.requireWs();

const PKI = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-tls-node-'));
execFileSync('bash', [path.join(__dirname, '..', 'tls', 'make_certs.sh'), PKI],
             { stdio: 'ignore' });
const pem = (name) => path.join(PKI, name);
const read = (name) => fs.readFileSync(pem(name));

function connect(url, options = {}) {
  return h.withTimeout(new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { maxPayload: 64 << 20, ca: read('ca.pem'), ...options });
    const queue = new h.MessageQueue(ws);
    ws.on('open', () => resolve({ ws, queue }));
    ws.on('error', reject);
  }), 10000, `connect ${url}`);
}

async function echo(conn, message) {
  conn.ws.send(message);
  const reply = await conn.queue.next();
  const got = reply.isBinary ? reply.data : reply.data.toString();
  assert.deepStrictEqual(got, message);
}

async function close(conn) {
  const closed = new Promise((resolve) => conn.ws.on('close', (code) => resolve(code)));
  conn.ws.close(1000);
  assert.strictEqual(await closed, 1000);
}

async function sizes(url, options) {
  const conn = await connect(url, options);
  for (const size of [0, 1, 16384, 16385, 200000, 3 << 20]) {
    await echo(conn, crypto.randomBytes(size));
  }
  await echo(conn, 'héllo ✓ 𝄞');
  await close(conn);
}

// Every permessage-deflate offer ws can make, over TLS; the echo must survive each.
async function deflateOffers(url) {
  const payload = JSON.stringify({ channel: 'book.BTC-PERPETUAL.raw',
                                   bids: Array.from({ length: 200 }, (_, i) => [50000 + i, 10]) });
  let count = 0;
  for (const serverNoContextTakeover of [false, true]) {
    for (const clientNoContextTakeover of [false, true]) {
      for (const serverMaxWindowBits of [undefined, 9, 12, 15]) {
        for (const clientMaxWindowBits of [undefined, 9, 12, 15]) {
          const perMessageDeflate = { threshold: 0, serverNoContextTakeover,
                                      clientNoContextTakeover, serverMaxWindowBits,
                                      clientMaxWindowBits };
          const conn = await connect(url, { perMessageDeflate });
          assert.match(conn.ws.extensions, /^permessage-deflate/);
          for (let i = 0; i < 3; ++i) await echo(conn, payload);
          await close(conn);
          ++count;
        }
      }
    }
  }
  assert.strictEqual(count, 64);
}

async function refusedWithoutCertificate(url) {
  await assert.rejects(async () => {
    const conn = await connect(url);
    await echo(conn, 'x');  // TLS 1.3: the refusal may arrive after 'open'
  });
}

// A wss:// ws server on https.createServer; resolves to { server, port, peers }.
function nodeServer(tlsOptions) {
  return new Promise((resolve) => {
    const peers = [];
    const server = https.createServer(tlsOptions);
    const wss = new WebSocket.Server({ server });
    wss.on('connection', (ws, req) => {
      peers.push(req.socket.getPeerCertificate());
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      ws.send('hello from node');
      setTimeout(() => ws.close(1000), 200);
    });
    server.listen(0, h.HOST, () => resolve({ server, wss, port: server.address().port, peers }));
  });
}

async function ourClient(tlsOptions, clientOptions, expectCode, host = 'localhost') {
  const { server, wss, port, peers } = await nodeServer(tlsOptions);
  try {
    const result = await h.runClient(`wss://${host}:${port}/`, clientOptions, 30000);
    assert.strictEqual(result.code, expectCode, `${result.stdout} ${result.stderr}`);
    return { result, peers };
  } finally {
    wss.close();
    server.close();
  }
}

async function main() {
  const plain = await new h.Greekwire('--tls-cert', pem('server.pem'), '--tls-key',
                                      pem('server.key')).start();
  const deflate = await new h.Greekwire('--deflate', '--tls-cert', pem('server.pem'),
                                        '--tls-key', pem('server.key')).start();
  const mtls = await new h.Greekwire('--tls-cert', pem('server.pem'), '--tls-key',
                                     pem('server.key'), '--tls-client-ca', pem('ca.pem'),
                                     '--tls-client-cert', 'required').start();
  const url = (s) => `wss://localhost:${s.port}/`;
  const serverTls = { cert: read('server.pem'), key: read('server.key') };
  try {
    return await h.runChecks([
      ['ws client over wss: sizes 0..3 MB', () => sizes(url(plain))],
      ['ws client over wss with deflate: sizes',
       () => sizes(url(deflate), { perMessageDeflate: { threshold: 0 } })],
      ['ws client over wss: 64 deflate offers', () => deflateOffers(url(deflate))],
      ['ws client with a client certificate (required)',
       () => sizes(url(mtls), { cert: read('client.pem'), key: read('client.key') })],
      ['ws client without a certificate (required) is refused',
       () => refusedWithoutCertificate(url(mtls))],
      ['greekwire client -> ws over https, verified by --tls-ca',
       () => ourClient(serverTls, ['--tls-ca', pem('ca.pem')], 0)],
      ['greekwire client with a client certificate Node requires', async () => {
        const { peers } = await ourClient(
          { ...serverTls, ca: read('ca.pem'), requestCert: true, rejectUnauthorized: true },
          ['--tls-ca', pem('ca.pem'), '--tls-cert', pem('client.pem'), '--tls-key',
           pem('client.key')], 0);
        assert.strictEqual(peers.length, 1);
        assert.strictEqual(peers[0].subject.CN, 'alice');
      }],
      ['greekwire client refuses a hostname mismatch', async () => {
        const { result } = await ourClient({ cert: read('other.pem'), key: read('other.key') },
                                           ['--tls-ca', pem('ca.pem')], 2);
        assert.match(result.stderr, /hostname mismatch/);
      }],
      ['SIGTERM -> exit 0, clean stderr',
       async () => { for (const s of [plain, deflate, mtls]) await s.stop(); }],
    ], 120000);
  } finally {
    for (const s of [plain, deflate, mtls]) s.kill();
    fs.rmSync(PKI, { recursive: true, force: true });
  }
}

h.runMain(main);
