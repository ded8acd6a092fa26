#!/usr/bin/python3
"""Scale-out figures (docs/BENCHMARKS.md, "Scale-out"): one nats-server, one venue and two edges
on this machine, all started here on loopback.

latency   One client subscribes to the same raw book channels on the venue itself (the
          single-process path) and on an edge (venue -> NATS -> edge -> client). Every book
          change carries the venue's change_id, and the venue's copy carries `usIn`, the
          microsecond its publisher took the venue event: single-process latency is
          receipt - usIn on the venue connection, scale-out latency is receipt - usIn of the
          same change_id received from the edge. Same clock, same client, same event.
fanout    `greekwire bench fanout` against both edges at once (N subscribers each), then against
          the venue alone with 2N: deliveries per second, summed.

Usage: scale_bench.py GREEKWIRE [--seconds S] [--instruments K] [--subscribers N] [--json]
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import websockets


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd, log):
    return subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT)


def wait_for(path, pattern, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path):
            m = re.search(pattern, open(path).read())
            if m:
                return m
        time.sleep(0.1)
    raise SystemExit(f"{path}: no {pattern!r} within {timeout} s:\n{open(path).read()}")


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def connect(url, credentials, channels):
    ws = await websockets.connect(url, max_size=None)
    await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "public/auth", "params": {
        "grant_type": "client_credentials", "client_id": credentials[0],
        "client_secret": credentials[1]}}))
    await ws.send(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "public/subscribe",
                              "params": {"channels": channels}}))
    return ws


async def collect(ws, seconds, out, warmup=2.0):
    """Book changes received after `warmup` seconds (the snapshots' burst is not measured)."""
    start = time.monotonic()
    deadline = start + warmup + seconds
    while time.monotonic() < deadline:
        try:
            text = await asyncio.wait_for(ws.recv(), deadline - time.monotonic())
        except asyncio.TimeoutError:
            break
        received_us = time.time_ns() // 1000
        m = json.loads(text)
        if m.get("method") != "subscription":
            continue
        p = m["params"]
        d = p["data"]
        if d.get("type") == "change" and time.monotonic() - start >= warmup:
            out[(d["instrument_name"], d["change_id"])] = (received_us, p.get("usIn"))


async def latency(venue_url, edge_url, credentials, channels, seconds):
    direct, edge = {}, {}
    a = await connect(venue_url, credentials, channels)
    b = await connect(edge_url, credentials, channels)
    await asyncio.gather(collect(a, seconds, direct), collect(b, seconds, edge))
    await a.close()
    await b.close()
    print(f"received {len(direct)} changes from the venue, {len(edge)} from the edge",
          file=sys.stderr)
    single = [rx - us_in for rx, us_in in direct.values()]
    scaled = [edge[k][0] - direct[k][1] for k in edge if k in direct]
    return single, scaled


def fanout(greekwire, url, subscribers, credentials, seconds, instruments):
    # The 100 ms channels of book, ticker and trades: no credentials needed.
    cmd = [greekwire, "bench", "fanout", url, "--connections", str(subscribers),
           "--instruments", str(instruments), "--duration", str(seconds), "--warmup", "2",
           "--channels", "book.{i}.100ms,ticker.{i}.100ms,trades.{i}.100ms", "--json"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("greekwire")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--instruments", type=int, default=20)
    ap.add_argument("--subscribers", type=int, default=250)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    gw = os.path.abspath(args.greekwire)
    tmp = tempfile.mkdtemp(prefix="gw-scale-bench-")
    nats_port, venue_port = free_port(), free_port()
    edge_ports = [free_port(), free_port()]
    nats_url = f"nats://127.0.0.1:{nats_port}"
    procs = []
    try:
        procs.append(start(["nats-server", "-a", "127.0.0.1", "-p", str(nats_port), "-js", "-sd",
                            f"{tmp}/js"], f"{tmp}/nats.log"))
        wait_for(f"{tmp}/nats.log", "Server is ready")
        procs.append(start([gw, "serve", "--role", "venue", "--nats", nats_url, "--listen",
                            f"127.0.0.1:{venue_port}", "--data-dir", f"{tmp}/venue",
                            "--max-connections-per-ip", "100000"],
                           f"{tmp}/venue.log"))
        creds = wait_for(f"{tmp}/venue.log", r"client_id (\S+) client_secret (\S+)").groups()
        for i, port in enumerate(edge_ports):
            procs.append(start([gw, "serve", "--role", "edge", "--nats", nats_url, "--listen",
                                f"127.0.0.1:{port}", "--data-dir", f"{tmp}/edge{i}",
                                "--max-connections-per-ip", "100000"],
                               f"{tmp}/edge{i}.log"))
            wait_for(f"{tmp}/edge{i}.log", "listening on")
        time.sleep(2)
        venue_url = f"ws://127.0.0.1:{venue_port}/ws/api/v2"
        edge_urls = [f"ws://127.0.0.1:{p}/ws/api/v2" for p in edge_ports]
        names = [i["instrument_name"] for i in json.load(__import__("urllib.request").request.urlopen(
            f"http://127.0.0.1:{venue_port}/api/v2/public/get_instruments?currency=BTC"))["result"]]
        names = [n for n in names if not n.endswith(("-C", "-P"))] + \
                [n for n in names if n.endswith(("-C", "-P"))]
        channels = [f"book.{n}.raw" for n in names[:args.instruments]]
        single, scaled = asyncio.run(latency(venue_url, edge_urls[0], creds, channels,
                                             args.seconds))
        result = {"changes_matched": len(scaled)}
        for name, values in (("single_process", single), ("scale_out", scaled)):
            result[name] = {"n": len(values), "p50_us": percentile(values, 0.5),
                            "p99_us": percentile(values, 0.99),
                            "mean_us": round(statistics.fmean(values))}
        result["p50_ratio"] = round(result["scale_out"]["p50_us"] /
                                    max(1, result["single_process"]["p50_us"]), 2)
        # Deliveries per second: both edges at once, then the venue alone with as many.
        runs = [fanout(gw, u, args.subscribers, creds, args.seconds, args.instruments)
                for u in edge_urls]
        edges = [json.loads(r.communicate()[0]) for r in runs]
        alone = json.loads(fanout(gw, venue_url, 2 * args.subscribers, creds, args.seconds,
                                  args.instruments).communicate()[0])
        result["fanout"] = {"subscribers_per_edge": args.subscribers, "edges": edges,
                            "venue_alone": alone}
        if args.json:
            print(json.dumps(result))
        else:
            print(json.dumps(result, indent=2))
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
