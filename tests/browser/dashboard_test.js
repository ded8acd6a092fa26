// The dashboard in a real browser: Debian's Chromium (headless, driven by playwright-core) opens
// `greekwire serve`'s page and the test reads the page's test hooks (data-testid elements and
// their data-* attributes, docs/DASHBOARD.md), not pixels:
//   no console errors; connected; index prices; the book's change_id advances within 2 s; the
//   chain fills (rows with IVs); the smile has points and a drawn curve; the surface heatmap
//   and the term structure drew; the chain and the picker switch the book's instrument;
//   a book change lost on the way is noticed (prev_change_id) and the book resubscribed;
//   then the server is killed: the page shows "reconnecting"; the server comes back on the same
//   port: the page reconnects and its book updates again.
// Screenshots (PNG) go to ARTIFACT_DIR and their paths are printed.
// Usage: node dashboard_test.js GREEKWIRE WEB_ROOT ARTIFACT_DIR
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');

const CHROMIUM = '/usr/bin/chromium';
const [binary, webRoot, artifactDir] = process.argv.slice(2);
if (!binary || !webRoot || !artifactDir) {
  console.error('usage: dashboard_test.js GREEKWIRE WEB_ROOT ARTIFACT_DIR');
  process.exit(2);
}
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
if (!fs.existsSync(path.join(webRoot, 'index.html'))) {
  console.log(`SKIP: ${webRoot}/index.html is missing (make build builds the dashboard)`);
  process.exit(77);
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-dashboard-'));

// `greekwire serve` on `port` (0: any); resolves with the child and its port once it listens.
function startServer(port) {
  const child = spawn(
    binary,
    ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--web-root', webRoot],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const match = /^listening on ws:\/\/127\.0\.0\.1:(\d+)\//.exec(line);
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.on('exit', (code) => reject(new Error(`greekwire serve exited early with ${code}`)));
  });
}

async function restartOnSamePort(port) {
  // The old listener is gone with the process; retry briefly in case the port lingers.
  for (let attempt = 0; ; attempt++) {
    try {
      return await startServer(port);
    } catch (e) {
      if (attempt >= 10) throw e;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

function stopServer(server, signal) {
  const exited = new Promise((resolve) => server.child.on('exit', (code, sig) => resolve(code ?? sig)));
  server.child.kill(signal);
  return exited;
}

let passes = 0;
let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (ok) passes++;
  else failures++;
  return ok;
}

// Waits until `predicate(page)` (run in the page) is truthy; returns its value, or null.
async function waitFor(page, predicate, arg, timeoutMs) {
  try {
    const handle = await page.waitForFunction(predicate, arg, { timeout: timeoutMs, polling: 50 });
    return await handle.jsonValue();
  } catch (e) {
    return null;
  }
}

const hook = (id, name) => `document.querySelector('[data-testid="${id}"]')?.dataset.${name}`;
const read = (page, id, name) => page.evaluate(hook(id, name));

// The book's change_id moves on (a change applied after the one seen first) within `ms`.
async function bookAdvances(page, ms) {
  const first = await waitFor(page, () => document.querySelector('[data-testid="book"]').dataset.changeId || null, null, 10_000);
  if (!first) return { first: null, next: null };
  const next = await waitFor(
    page,
    (seen) => {
      const id = document.querySelector('[data-testid="book"]').dataset.changeId;
      return id && id !== seen ? id : null;
    },
    first,
    ms,
  );
  return { first, next };
}

async function lostChangeRecovers(browser, url) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  let changes = 0;
  let dropped = null;
  await page.routeWebSocket(/\/ws\/api\/v2$/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((message) => server.send(message));
    server.onMessage((message) => {
      if (dropped === null && typeof message === 'string' && message.includes('"type":"change"')) {
        const { params } = JSON.parse(message);
        if (params?.channel === 'book.BTC-PERPETUAL.100ms' && ++changes === 3) {
          dropped = params.data.change_id;
          return; // never delivered
        }
      }
      ws.send(message);
    });
  });
  try {
    await page.goto(url);
    const recovered = await waitFor(
      page,
      () => {
        const d = document.querySelector('[data-testid="book"]').dataset;
        return Number(d.gaps) >= 1 && Number(d.snapshots) >= 2 && d.awaiting === 'false'
          ? { gaps: Number(d.gaps), snapshots: Number(d.snapshots), changeId: Number(d.changeId) }
          : null;
      },
      null,
      10_000,
    );
    return { dropped, recovered };
  } finally {
    await page.close();
  }
}

async function main() {
  fs.mkdirSync(artifactDir, { recursive: true });
  let server = await startServer(0);
  const url = `http://127.0.0.1:${server.port}/`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const consoleErrors = [];
  const pageErrors = [];
  let outage = false; // while the server is down, the browser logs failed WebSocket attempts
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      if (outage && /WebSocket connection to .* failed/.test(m.text())) return;
      consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    const failedRequests = [];
    page.on('requestfailed', (r) => {
      if (!r.url().startsWith('ws')) failedRequests.push(r.url());
    });

    const response = await page.goto(url);
    check(response.status() === 200, `GET / -> ${response.status()}`);
    check(/text\/html/.test(response.headers()['content-type'] || ''), 'index.html is text/html');

    const connected = await waitFor(page, () => document.querySelector('[data-testid="conn-state"]').dataset.state === 'connected', null, 10_000);
    check(connected === true, 'the page connects (conn-state: connected)');

    const btc = await waitFor(page, () => Number(document.querySelector('[data-testid="index-btc"]').dataset.price) || null, null, 5_000);
    const eth = await waitFor(page, () => Number(document.querySelector('[data-testid="index-eth"]').dataset.price) || null, null, 5_000);
    check(btc > 0 && eth > 0, `index prices shown (BTC ${btc}, ETH ${eth})`);

    const instrument = await read(page, 'book', 'instrument');
    check(instrument === 'BTC-PERPETUAL', `the book starts on the perpetual (${instrument})`);
    const advance = await bookAdvances(page, 2_000);
    check(advance.next !== null, `the book's change_id advances within 2 s (${advance.first} -> ${advance.next})`);
    const levels = await page.evaluate(() => {
      const d = document.querySelector('[data-testid="book"]').dataset;
      return { bids: Number(d.bids), asks: Number(d.asks), gaps: Number(d.gaps) };
    });
    check(levels.bids > 0 && levels.asks > 0, `the ladder has both sides (${levels.bids} bids, ${levels.asks} asks)`);
    const ladderText = await page.locator('#ladder-bids tr').first().innerText();
    check(/\d/.test(ladderText), `the best bid row shows numbers (${ladderText.replace(/\s+/g, ' ')})`);

    const chain = await waitFor(
      page,
      () => {
        const d = document.querySelector('[data-testid="chain"]').dataset;
        const rows = Number(d.rows);
        const withIv = Number(d.rowsWithIv);
        return rows > 0 && withIv * 2 >= rows ? { rows, withIv, expiry: d.expiry } : null;
      },
      null,
      8_000,
    );
    check(chain !== null, `the chain fills: ${chain ? `${chain.withIv}/${chain.rows} strikes with IVs (${chain.expiry})` : 'no'}`);
    const ivCell = await page.locator('#chain-rows tr td.ivc').nth(2).innerText().catch(() => '');
    check(/^\d+\.\d$/.test(ivCell.trim()), `a chain IV cell reads like a vol (${ivCell.trim()})`);

    const surface = await waitFor(
      page,
      () => {
        const c = document.querySelector('[data-testid="surface"]');
        if (c.dataset.drawn !== 'true') return null;
        // Some painted pixels in the middle of the heatmap.
        const px = c.getContext('2d').getImageData(Math.floor(c.width / 2), Math.floor(c.height / 4), 1, 1).data;
        return { cells: Number(c.dataset.cells), rows: Number(c.dataset.rows), cols: Number(c.dataset.cols), alpha: px[3] };
      },
      null,
      // The venue publishes its surface every 10 s (venue.surface_interval_ms) and a new
      // subscriber waits for the next one; a loaded sanitizer build can take longer.
      30_000,
    );
    check(surface !== null && surface.cells === surface.rows * surface.cols && surface.cells > 0 && surface.alpha > 0,
      `the surface heatmap drew (${JSON.stringify(surface)})`);
    const smile = await waitFor(
      page,
      () => {
        const d = document.querySelector('[data-testid="smile"]').dataset;
        return Number(d.points) >= 3 && d.curve === 'true' ? { points: Number(d.points), curve: Number(d.curvePoints) } : null;
      },
      null,
      5_000,
    );
    const smileHooks = smile ?? (await page.evaluate(() => ({ ...document.querySelector('[data-testid="smile"]').dataset })));
    check(smile !== null, `the smile has mark-IV points and a drawn SVI curve (${JSON.stringify(smileHooks)})`);

    const term = Number(await read(page, 'term', 'points'));
    check(term >= 2 && surface && term <= surface.rows, `the ATM term structure has a point per expiry (${term})`);
    const depth = await read(page, 'depth-chart', 'drawn');
    check(depth === 'true', 'the depth chart drew');
    const latency = await waitFor(page, () => document.querySelector('[data-testid="latency"]').dataset.ms || null, null, 5_000);
    check(Number(latency) > 0, `round-trip latency shown (${latency} ms)`);

    const shot = path.join(artifactDir, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot: ${shot}`);

    // A click on a chain row's call shows that option's book; the picker goes back to the perpetual.
    const callCell = page.locator('#chain-rows tr.atm td').nth(6);
    await callCell.click();
    const option = await waitFor(page, () => {
      const d = document.querySelector('[data-testid="book"]').dataset;
      return /-C$/.test(d.instrument) && d.changeId ? d.instrument : null;
    }, null, 5_000);
    check(option !== null, `a click in the chain shows that option's book (${option})`);
    const picked = await page.locator('#pick-kind').inputValue();
    check(picked === 'option', `the picker follows (kind ${picked})`);
    await page.selectOption('#pick-kind', 'perpetual');
    const back = await waitFor(page, () => {
      const d = document.querySelector('[data-testid="book"]').dataset;
      return d.instrument === 'BTC-PERPETUAL' && d.changeId ? d.changeId : null;
    }, null, 5_000);
    check(back !== null, 'the picker switches the book back to BTC-PERPETUAL');
    check(consoleErrors.length === 0 && pageErrors.length === 0 && failedRequests.length === 0,
      `no console errors, page errors or failed requests ${[...consoleErrors, ...pageErrors, ...failedRequests].join('; ')}`);

    // A lost book change (dropped on its way to a second page): the page sees the broken
    // prev_change_id chain, resubscribes and rebuilds the book from a new snapshot.
    const gap = await lostChangeRecovers(browser, url);
    check(gap.dropped !== null && gap.recovered !== null,
      `a lost book change is noticed and resubscribed (dropped ${gap.dropped}, then ${JSON.stringify(gap.recovered)})`);

    // The server goes away: the page says so.
    outage = true;
    const port = server.port;
    await stopServer(server, 'SIGKILL');
    const reconnecting = await waitFor(page, () => document.querySelector('[data-testid="conn-state"]').dataset.state === 'reconnecting', null, 5_000);
    check(reconnecting === true, 'after the server is killed the page shows "reconnecting"');
    const notice = await page.locator('[data-testid="notice"]').isVisible();
    check(notice, 'and a visible banner says the data is stale');
    const down = path.join(artifactDir, 'dashboard-reconnecting.png');
    await page.screenshot({ path: down });
    console.log(`screenshot: ${down}`);

    // It comes back on the same port: the page recovers by itself.
    server = await restartOnSamePort(port);
    const recovered = await waitFor(page, () => document.querySelector('[data-testid="conn-state"]').dataset.state === 'connected', null, 15_000);
    outage = false;
    check(recovered === true, `after the restart on port ${port} the page is connected again`);
    const snapshots = Number(await read(page, 'book', 'snapshots'));
    // A restarted server (under the sanitizers, on a busy machine) may take a few seconds to
    // move its book: what matters is that the page follows it.
    const again = await bookAdvances(page, 10_000);
    check(again.next !== null, `and its book updates again (${again.first} -> ${again.next}, ${snapshots} snapshots)`);
    const chainAgain = await waitFor(page, () => Number(document.querySelector('[data-testid="chain"]').dataset.rowsWithIv) > 0, null, 5_000);
    check(chainAgain === true, 'and the chain still has IVs');
    check(consoleErrors.length === 0 && pageErrors.length === 0,
      `no console errors after recovering ${[...consoleErrors, ...pageErrors].join('; ')}`);
  } finally {
    await browser.close();
    if (server.child.exitCode === null && server.child.signalCode === null) {
      check((await stopServer(server, 'SIGTERM')) === 0, 'server exits 0 on SIGTERM');
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(`${passes} passed, ${failures} failed`);
  process.exit(failures === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
