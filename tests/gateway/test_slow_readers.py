#!/usr/bin/python3
"""Slow readers: 50 normal and 5 stalled subscribers of `greekwire serve` with small send-buffer
caps (--send-buffer-cap, --send-buffer-hard-cap, --slow-subscriber-timeout).

One normal reader takes the raw books of 40 busy instruments, the others 100ms books. After a
baseline phase, the stalled ones connect with a tiny SO_RCVBUF (and MSS), subscribe to the same
raw books and do not read; three read again after a few seconds, one never reads, one floods
requests without reading. Asserted:

- the server's memory stays bounded: its RSS stays under a bound computed from the caps, while
  the stalled connections are offered several times that (the flood's answers alone);
- the 50 normal readers keep receiving, every book chain intact and every checksum verified,
  and their latency (the notification's `usIn` to receipt) does not jump while the stalled ones
  back up (compared with a baseline phase, generous thresholds);
- the three that read again find their changes up to the point where they lagged, then a
  snapshot flagged "resync": true starting a new chain, which holds (checksums verified);
- the one that never reads is closed with 1008 after the timeout, the flooder with 1008 once its
  send buffer passes the hard cap, each with a reason;
- /metrics counts the drops, the resyncs and the two slow closes.

Usage: test_slow_readers.py PATH_TO_GREEKWIRE
"""

import asyncio
import base64
import json
import os
import socket
import struct
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Freed memory in ASan's quarantine would count as the server's: keep it small.
os.environ["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "detect_leaks=1") + \
    ":quarantine_size_mb=4"
from test_gateway import (Serve, book_checksum, harness, instrument_digits,  # noqa: E402
                          new_account, websockets)

CAP = 128 * 1024
HARD_CAP = 512 * 1024
SLOW_TIMEOUT_S = 10
SPEED = 1
NORMAL_READERS = 50
RESUMERS = 3
# public/get_instruments (~300 KB each) in one write: a server without caps would queue them
# all (tens of MB), the gateway closes the flooder past the hard cap and ignores the rest.
FLOOD_REQUESTS = 90
BASELINE_S = 4
# After the stalled readers subscribed: their backlog builds up (the latency of the normal
# readers is compared from then on), the resumers read again, the flooder floods.
BACKING_UP_AFTER_S = 1
STALL_BEFORE_RESUME_S = 3.5
FLOOD_AFTER_S = 4
KEPT = 10
BUSY_INSTRUMENTS = 40


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] if values else 0.0


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def metrics(server):
    with urllib.request.urlopen(server.http + "/metrics", timeout=10) as r:
        text = r.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return {"dropped": values["greekwire_dropped_notifications_total"],
            "resyncs": values["greekwire_book_resyncs_total"],
            "slow_closes": values["greekwire_slow_closes_total"]}


class Books:
    """Book channels rebuilt from their messages: every change must chain from the last message
    (a resync snapshot starts a new chain), and every checksum must match the rebuilt book."""

    def __init__(self, digits):
        self.digits = digits  # instrument -> (price digits, amount digits)
        self.books, self.last = {}, {}
        self.messages = self.snapshots = self.resyncs = self.messages_after_resync = 0

    def apply(self, data):
        name = data["instrument_name"]
        self.messages += 1
        self.messages_after_resync += self.resyncs > 0
        if data["type"] == "snapshot":
            assert name not in self.last or data.get("resync") is True, \
                f"second snapshot of {name} without the resync flag: {data}"
            self.snapshots += 1
            self.resyncs += data.get("resync") is True
            self.books[name] = ({p: a for _, p, a in data["bids"]},
                                {p: a for _, p, a in data["asks"]})
        else:
            assert name in self.last, f"a change of {name} before its snapshot"
            assert data["prev_change_id"] == self.last[name], \
                f"{name}: broken chain, prev_change_id {data['prev_change_id']} after " \
                f"{self.last[name]}"
            for side, levels in zip(self.books[name], (data["bids"], data["asks"])):
                for action, price, amount in levels:
                    assert (action == "new") == (price not in side), (name, action, price)
                    if action == "delete":
                        del side[price]
                    else:
                        side[price] = amount
        self.last[name] = data["change_id"]
        bids = sorted(self.books[name][0].items(), reverse=True)
        asks = sorted(self.books[name][1].items())
        want = book_checksum(bids, asks, *self.digits[name])
        assert data["checksum"] == want, (name, data["checksum"], want)


class NormalReader:
    """A websockets client reading (and checking) the books it subscribes to."""

    def __init__(self, server, channels, digits, clock, authorization=None):
        self.server, self.channels, self.clock = server, channels, clock
        self.headers = {"Authorization": authorization} if authorization else {}
        self.books = Books(digits)
        self.latency_ms = {}  # phase -> [ms]
        self.received = {}    # phase -> count
        self.error = None

    async def start(self):
        self.ws = await websockets.connect(self.server.ws, max_size=None,
                                           extra_headers=self.headers)
        await self.ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "public/subscribe",
                                       "params": {"channels": self.channels}}))
        answer = json.loads(await self.ws.recv())
        assert sorted(answer["result"]) == sorted(self.channels), answer
        self.task = asyncio.ensure_future(self.read())

    async def read(self):
        try:
            async for raw in self.ws:
                now_us = time.time() * 1e6
                message = json.loads(raw)
                params = message["params"]
                phase = self.clock.phase
                self.latency_ms.setdefault(phase, []).append((now_us - params["usIn"]) / 1000)
                self.received[phase] = self.received.get(phase, 0) + 1
                self.books.apply(params["data"])
        except websockets.ConnectionClosed:
            pass
        except Exception as e:  # noqa: BLE001 - reported by the checks
            self.error = e

    async def stop(self):
        await self.ws.close()
        await self.task


class StalledReader:
    """A raw WebSocket client with a tiny receive buffer, subscribed to busy raw books, which
    does not read until told to; then it checks the kept channels' books (skipping the rest
    cheaply) and records the server's close frame."""

    def __init__(self, server, authorization, digits, kept):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Before connecting: a small window, and a small MSS so that the server's kernel does
        # not size its send buffer for loopback's 64 KiB segments (megabytes): the gateway's
        # caps, not the kernel, then hold what the reader does not take.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1024)
        self.sock.connect(("127.0.0.1", server.port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = harness.upgrade_request(server.port, key, "/ws/api/v2",
                                          extra=[f"Authorization: {authorization}"])
        self.sock.sendall(("\r\n".join(request) + "\r\n\r\n").encode())
        self.buf = bytearray()
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            assert chunk, "connection closed during the handshake"
            self.buf += chunk
        head, _, rest = bytes(self.buf).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        self.buf = bytearray(rest)
        self.sock.setblocking(False)
        self.books = Books(digits)
        # The start of a kept channel's notifications: only those are parsed and checked.
        self.kept = tuple(f'{{"jsonrpc":"2.0","method":"subscription","params":{{"channel":'
                          f'"{c}"'.encode() for c in kept)
        self.close = None  # (code, reason) once the server's close frame is read
        self.error = None
        self.answers = []
        self.reading = False
        self.task = None

    def send(self, payload):
        self.send_all([payload])

    def send_all(self, payloads):
        data = b"".join(harness.frame(harness.OP_TEXT, json.dumps(p).encode()) for p in payloads)
        self.sock.setblocking(True)
        self.sock.sendall(data)
        self.sock.setblocking(False)

    def frames(self):
        """The complete frames in the buffer, removed from it."""
        pos, out = 0, []
        while len(self.buf) - pos >= 2:
            b0, b1 = self.buf[pos], self.buf[pos + 1]
            n, at = b1 & 0x7F, pos + 2
            if n == 126:
                if len(self.buf) - at < 2:
                    break
                n, at = struct.unpack_from("!H", self.buf, at)[0], at + 2
            elif n == 127:
                if len(self.buf) - at < 8:
                    break
                n, at = struct.unpack_from("!Q", self.buf, at)[0], at + 8
            if len(self.buf) - at < n:
                break
            out.append((b0 & 0x0F, bytes(self.buf[at:at + n])))
            pos = at + n
        del self.buf[:pos]
        return out

    def start(self):
        self.reading = True
        self.task = asyncio.ensure_future(self.read())

    def stop(self):
        self.reading = False  # the next read is not issued: the backlog builds up at the server

    async def read(self):
        loop = asyncio.get_event_loop()
        try:
            while self.close is None and self.reading:
                try:
                    chunk = await asyncio.wait_for(loop.sock_recv(self.sock, 1 << 20), 0.2)
                except asyncio.TimeoutError:
                    continue
                if not chunk:
                    raise AssertionError("TCP closed without a close frame")
                self.buf += chunk
                for opcode, payload in self.frames():
                    self.on_frame(opcode, payload)
        except Exception as e:  # noqa: BLE001 - reported by the checks
            self.error = e

    def on_frame(self, opcode, payload):
        if opcode == harness.OP_CLOSE:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            self.close = (code, payload[2:].decode())
        elif payload.startswith(self.kept):
            self.books.apply(json.loads(payload)["params"]["data"])
        elif not payload.startswith(b'{"jsonrpc":"2.0","method":"subscription"'):
            self.answers.append(json.loads(payload))


class Clock:
    phase = "warmup"


def run_scenario(server, result):
    digits, futures, options = {}, [], []
    for currency in ("BTC", "ETH"):
        status, body = http_json(server, f"/api/v2/public/get_instruments?currency={currency}")
        index = http_json(server, "/api/v2/public/get_index_price?index_name="
                          f"{currency.lower()}_usd")[1]["result"]["index_price"]
        for row in body["result"]:
            digits[row["instrument_name"]] = instrument_digits(row)
            if row["kind"] == "future":
                futures.append(row["instrument_name"])
            else:  # the busiest options: near the money, short expiries
                options.append((row["expiration_timestamp"], abs(row["strike"] / index - 1),
                                row["instrument_name"]))
    options = [name for _, _, name in sorted(options, key=lambda o: (o[0] // 86_400_000, o[1]))]
    busy = futures + options[:BUSY_INSTRUMENTS - len(futures)]
    result["answer_bytes"] = len(json.dumps(body))  # public/get_instruments, ETH: the flood's
    client_id, secret = new_account(server, "slow")
    authorization = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()

    async def go():
        clock = Clock()
        # The stalled ones will take the raw books of 40 busy instruments. One normal reader
        # takes them from the start (so the gateway encodes the same stream in every phase: the
        # baseline differs only in that nobody is slow yet); the others, 100ms books.
        books = [f"book.{n}.raw" for n in busy]
        kept = [f"book.{n}.raw" for n in futures[:KEPT]]
        normal = [NormalReader(server, books, digits, clock, authorization)]
        normal += [NormalReader(server, [f"book.{futures[(i + k) % len(futures)]}.100ms"
                                         for k in range(2)], digits, clock)
                   for i in range(1, NORMAL_READERS)]
        await asyncio.gather(*(r.start() for r in normal))
        await asyncio.sleep(2)  # everyone has its snapshots
        clock.phase = "baseline"
        await asyncio.sleep(BASELINE_S)
        result["rss_base_kib"] = rss_kib(server.proc.pid)
        result["metrics_before"] = await asyncio.to_thread(metrics, server)

        # Fresh connections that never read: their kernel buffers stay small (a connection that
        # has been reading fast grows them to megabytes, which would hide the gateway's caps).
        stalled = [StalledReader(server, authorization, digits, kept)
                   for _ in range(RESUMERS + 2)]
        resumers, hog, flooder = stalled[:RESUMERS], stalled[RESUMERS], stalled[RESUMERS + 1]
        for s in stalled:
            s.send({"jsonrpc": "2.0", "id": 1, "method": "public/subscribe",
                    "params": {"channels": books}})
        hog.send({"jsonrpc": "2.0", "id": 2, "method": "public/subscribe",
                  "params": {"channels": [f"ticker.{n}.raw" for n in busy]}})
        clock.phase = "stopping"
        stall_start = time.monotonic()
        rss_max, closing, flooded, resumed = result["rss_base_kib"], [], False, False
        while time.monotonic() - stall_start < SLOW_TIMEOUT_S + 12:
            await asyncio.sleep(0.25)
            rss_max = max(rss_max, rss_kib(server.proc.pid))
            slow_closes = (await asyncio.to_thread(metrics, server))["slow_closes"] - \
                result["metrics_before"]["slow_closes"]
            elapsed = time.monotonic() - stall_start
            if clock.phase == "stopping" and elapsed >= BACKING_UP_AFTER_S:
                clock.phase = "stall"
            if not flooded and elapsed >= FLOOD_AFTER_S:
                # One write, so that the gateway reads the requests at once (it stops reading a
                # connection whose send buffer is over the cap): answers are not dropped, so
                # they pass the hard cap.
                flooded = True
                flooder.send_all([{"jsonrpc": "2.0", "id": 100 + i,
                                   "method": "public/get_instruments",
                                   "params": {"currency": "ETH"}} for i in range(FLOOD_REQUESTS)])
            if not resumed and elapsed >= STALL_BEFORE_RESUME_S:
                # Read again, keeping the checked channels only (so that even a slow Python
                # reader catches up): their changes up to the drops, then a resync snapshot.
                resumed = True
                clock.phase = "resumed"
                for s in resumers:
                    s.send({"jsonrpc": "2.0", "id": 3, "method": "public/unsubscribe",
                            "params": {"channels": [c for c in books if c not in kept]}})
                    s.start()
            # The flooder is closed first (hard cap), the hog after the timeout: each then reads
            # its backlog and the close frame before the server's close timeout (5 s) ends TCP.
            for target, ready in ((flooder, flooded and slow_closes >= 1),
                                  (hog, slow_closes >= 2 and elapsed >= SLOW_TIMEOUT_S)):
                if ready and target not in closing:
                    closing.append(target)
                    target.start()
            if hog.close is not None and flooder.close is not None:
                break
        clock.phase = "after"
        await asyncio.sleep(3)
        rss_max = max(rss_max, rss_kib(server.proc.pid))
        for s in stalled:
            s.stop()
        await asyncio.gather(*(s.task for s in stalled if s.task is not None))
        result["rss_max_kib"] = rss_max
        result["metrics_after"] = await asyncio.to_thread(metrics, server)
        for r in normal:
            await r.stop()
        result.update(normal=normal, resumers=resumers, hog=hog, flooder=flooder)
    asyncio.run(asyncio.wait_for(go(), 90))


def http_json(server, path):
    with urllib.request.urlopen(server.http + path, timeout=10) as r:
        return r.status, json.loads(r.read())


# --- checks ----------------------------------------------------------------------------------

def memory_bounded(result):
    # Each stalled connection holds at most the hard cap plus one message (an answer, for the
    # flooder); 12 MiB for the allocator's slack (it keeps freed memory, ASan more so).
    bound_kib = result["rss_base_kib"] + (
        (RESUMERS + 2) * HARD_CAP + result["answer_bytes"] + 12 * 1024 * 1024) // 1024
    print(f"    RSS {result['rss_base_kib']} KiB before the stall, at most "
          f"{result['rss_max_kib']} KiB during it; bound {bound_kib} KiB")
    assert result["rss_max_kib"] <= bound_kib, (result["rss_max_kib"], bound_kib)


def normal_readers_unaffected(result):
    base, stall = [], []
    for r in result["normal"]:
        assert r.error is None, f"normal reader: {r.error!r}"
        assert r.books.resyncs == 0, "a normal reader was resynced"
        for phase in ("baseline", "stall", "resumed", "after"):
            if phase != "after":
                assert r.received.get(phase, 0) > 0, (phase, r.received)
        base += r.latency_ms.get("baseline", [])
        stall += r.latency_ms.get("stall", [])
    print(f"    latency p50/p90: baseline {percentile(base, 0.5):.1f}/{percentile(base, 0.9):.1f}"
          f" ms, while the stalled ones back up {percentile(stall, 0.5):.1f}/"
          f"{percentile(stall, 0.9):.1f} ms ({len(base)} and {len(stall)} messages)")
    assert percentile(stall, 0.5) <= 5 * percentile(base, 0.5) + 50, "p50 jumped"
    assert percentile(stall, 0.9) <= 5 * percentile(base, 0.9) + 100, "p90 jumped"


def resumers_resynced(result):
    for s in result["resumers"]:
        assert s.error is None, f"resumed reader: {s.error!r}"
        assert s.close is None, f"a resumed reader was closed: {s.close}"
        assert s.books.resyncs >= 1, f"no resync snapshot ({s.books.messages} messages)"
        after = s.books.messages_after_resync
        assert after > s.books.resyncs, "no change after the resync snapshots"
        print(f"    {s.books.messages} messages, {s.books.resyncs} resync snapshots then {after} "
              f"messages; chains and checksums verified")


def stalled_closed(result):
    hog, flooder = result["hog"], result["flooder"]
    for who, reader, reason in (("never reading", hog, "not reading"),
                                ("flooding", flooder, "send buffer limit")):
        assert reader.error is None, f"{who}: {reader.error!r}"
        assert reader.close is not None, f"{who}: not closed"
        code, text = reader.close
        assert code == 1008 and reason in text, (who, reader.close)
        print(f"    {who}: closed {code} {text!r}")
    assert any(a.get("id", 0) >= 100 for a in flooder.answers), "the flood was not answered"


def metrics_count(result):
    before, after = result["metrics_before"], result["metrics_after"]
    delta = {k: after[k] - before[k] for k in before}
    print(f"    /metrics during the stall: {delta}")
    assert delta["dropped"] > 0, delta
    assert delta["resyncs"] >= RESUMERS, delta
    assert delta["slow_closes"] == 2, delta


def main():
    harness.greekwire_binary()
    result = {}
    with Serve("--speed", SPEED, "--send-buffer-cap", CAP, "--send-buffer-hard-cap", HARD_CAP,
               "--slow-subscriber-timeout", SLOW_TIMEOUT_S,
               "--max-connections-per-ip", 100) as server:
        status = harness.run_checks([
            ("50 normal and 5 stalled subscribers", lambda: run_scenario(server, result)),
            ("server memory bounded by the caps", lambda: memory_bounded(result)),
            ("normal readers: chains, checksums, latency kept",
             lambda: normal_readers_unaffected(result)),
            ("stalled readers that read again: flagged resync snapshot, new chain",
             lambda: resumers_resynced(result)),
            ("never reading / past the hard cap: closed 1008 with a reason",
             lambda: stalled_closed(result)),
            ("/metrics: drops, resyncs, slow closes", lambda: metrics_count(result)),
            ("SIGTERM -> exit 0, clean stderr", server.stop),
        ])
    return status


if __name__ == "__main__":
    sys.exit(main())
