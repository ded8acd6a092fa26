// A real browser as the WebSocket client: Debian's Chromium (driven by playwright-core) opens
// `new WebSocket(...)` to `greekwire echo` and round-trips text (multi-byte), binary and a
// 100 kB message, then closes cleanly. Usage: node echo_browser_test.js /path/to/greekwire
'use strict';
const { spawn } = require('child_process');
const http = require('http');
const readline = require('readline');
const fs = require('fs');

const CHROMIUM = '/usr/bin/chromium';
let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch (e) {
  console.log('SKIP: playwright-core is not installed (cd tests/browser && npm ci)');
  process.exit(77);
}
if (!fs.existsSync(CHROMIUM)) {
  console.log(`SKIP: ${CHROMIUM} is missing (scripts/bootstrap.sh installs it)`);
  process.exit(77);
}

function startEcho(binary) {
  const child = spawn(binary, ['echo', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', line => {
      const match = /^listening on (ws:\/\/\S+)$/.exec(line);
      if (match) resolve({ child, url: match[1] });
    });
    child.on('exit', code => reject(new Error(`greekwire exited early with ${code}`)));
  });
}

// The page must come from a loopback origin: Chromium blocks pages from public origins (and
// about:blank) from reaching loopback addresses (Local Network Access).
function startPageServer() {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>greekwire echo test</title>');
  });
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// Runs in the page.
function roundTrip(url) {
  return new Promise(resolve => {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    const got = [];
    ws.onopen = () => {
      ws.send('hello κόσμε 🚀');
      ws.send(new Uint8Array([0, 1, 2, 250, 255]).buffer);
      ws.send('x'.repeat(100000));
    };
    ws.onmessage = e => {
      got.push(typeof e.data === 'string' ? e.data : Array.from(new Uint8Array(e.data)));
      if (got.length === 3) ws.close(1000, 'done');
    };
    ws.onclose = e => resolve({ got, code: e.code, clean: e.wasClean });
    ws.onerror = () => resolve({ error: 'websocket error', got });
  });
}

async function main() {
  const binary = process.argv[2];
  if (!binary) throw new Error('usage: echo_browser_test.js GREEKWIRE');
  const echo = await startEcho(binary);
  const pages = await startPageServer();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  let failures = 0;
  let passes = 0;
  const check = (ok, what) => {
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
    if (ok) passes++; else failures++;
  };
  try {
    const page = await browser.newPage();
    const consoleErrors = [];
    page.on('console', m => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    await page.goto(`http://127.0.0.1:${pages.address().port}/`);
    const result = await page.evaluate(roundTrip, echo.url);
    check(!result.error, `connected to ${echo.url}`);
    check(result.got[0] === 'hello κόσμε 🚀', 'multi-byte text echoed');
    check(JSON.stringify(result.got[1]) === '[0,1,2,250,255]', 'binary echoed');
    check(typeof result.got[2] === 'string' && result.got[2].length === 100000, '100 kB text echoed');
    check(result.code === 1000 && result.clean, `clean close 1000 (got ${result.code}, clean=${result.clean})`);
    check(consoleErrors.length === 0, `no console errors ${consoleErrors.join('; ')}`);
  } finally {
    await browser.close();
    pages.close();
    const exited = new Promise(resolve => echo.child.on('exit', code => resolve(code)));
    echo.child.kill('SIGTERM');
    check((await exited) === 0, 'server exits 0 on SIGTERM');
  }
  console.log(`${passes} passed, ${failures} failed`);
  process.exit(failures === 0 ? 0 : 1);
}

main().catch(e => { console.error(e); process.exit(1); });
