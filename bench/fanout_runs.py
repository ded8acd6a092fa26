#!/usr/bin/python3
"""Fan-out benchmark runs: `greekwire serve` pinned to one CPU, `greekwire bench fanout` to
another, a fresh server (and data directory, and API key) per run, medians over the rounds.

Each process runs in its own session (setsid), so that the kernel's autogroup scheduling gives
server and load generator a share each rather than one between them on a shared machine.

Usage: bench/fanout_runs.py [--build-dir build/release] [--connections 1000,10000]
           [--speed 1] [--duration 10] [--rounds 3] [--channels 'book.{i}.raw,ticker.{i}.raw']
           [--instruments 50] [--encoding json] [--server-cpu 0] [--client-cpu 1]
           [--out results.jsonl] [--serve-binary PATH] [-- extra bench fanout options]
--speed takes one value per connection count too (--speed 1,0.1).
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

KEYS = ["deliveries_per_second", "bytes_per_second", "p50_ms", "p99_ms", "p999_ms", "max_ms",
        "server_kib_per_connection", "server_cpu", "client_cpu", "dropped", "resyncs"]


def one_run(args, binary, connections, speed, extra):
    data = tempfile.mkdtemp(prefix="gw-fanout-")
    server = subprocess.Popen(
        ["taskset", "-c", str(args.server_cpu), args.serve_binary or binary, "serve",
         "--listen", "127.0.0.1:0",
         "--data-dir", data, "--speed", str(speed), "--max-connections-per-ip", "1000000"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        line = server.stdout.readline().strip()
        if not line.startswith("listening on ws://"):
            raise RuntimeError(f"serve did not start: {line!r}")
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        keys = json.loads(subprocess.run(
            [binary, "keys", "add", "--account", "bench", "--json", "--data-dir", data],
            capture_output=True, text=True, check=True).stdout)
        bench = subprocess.run(
            ["taskset", "-c", str(args.client_cpu), binary, "bench", "fanout",
             f"ws://127.0.0.1:{port}/ws/api/v2", "--connections", str(connections),
             "--channels", args.channels, "--instruments", str(args.instruments),
             "--duration", str(args.duration), "--encoding", args.encoding,
             "--auth", f"{keys['client_id']}:{keys['client_secret']}",
             "--server-pid", str(server.pid), "--json", *extra],
            capture_output=True, text=True, start_new_session=True)
        if bench.returncode != 0 or not bench.stdout.strip():
            raise RuntimeError(f"bench fanout failed: {bench.stderr[-2000:]}")
        return json.loads(bench.stdout.strip().splitlines()[-1])
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(data, ignore_errors=True)


def main():
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build-dir", default="build/release")
    p.add_argument("--connections", default="1000,10000")
    p.add_argument("--speed", default="1")
    p.add_argument("--duration", type=float, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--channels", default="book.{i}.raw,ticker.{i}.raw")
    p.add_argument("--instruments", type=int, default=50)
    p.add_argument("--encoding", default="json")
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--client-cpu", type=int, default=1)
    p.add_argument("--out", help="append every run's JSON here")
    p.add_argument("--serve-binary", help="another greekwire to serve (A/B against a build)")
    args = p.parse_args(argv)
    binary = os.path.join(args.build_dir, "greekwire")
    counts = [int(c) for c in args.connections.split(",")]
    speeds = args.speed.split(",")
    speeds = speeds * len(counts) if len(speeds) == 1 else speeds
    results = {c: [] for c in counts}
    for round_ in range(1, args.rounds + 1):
        for connections, speed in zip(counts, speeds):
            r = one_run(args, binary, connections, speed, extra)
            r["speed"] = speed
            results[connections].append(r)
            if args.out:
                with open(args.out, "a") as f:
                    f.write(json.dumps(r) + "\n")
            print(f"round {round_}, {connections} connections, speed {speed}: " +
                  ", ".join(f"{k} {r[k]:.6g}" for k in KEYS), flush=True)
    for connections, runs in results.items():
        medians = {k: statistics.median(r[k] for r in runs) for k in KEYS}
        print(f"median of {len(runs)}, {connections} connections: " +
              ", ".join(f"{k} {v:.6g}" for k, v in medians.items()))


if __name__ == "__main__":
    main()
