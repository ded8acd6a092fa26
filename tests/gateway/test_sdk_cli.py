#!/usr/bin/python3
"""`greekwire call` and `greekwire tail` (the C++ SDK's command-line tools) against
`greekwire serve`: their output and their exit codes.

- call: the result pretty-printed (exit 0), JSON and msgpack alike; usage errors exit 2 (bad URL,
  params that are not a JSON object); connection failures exit 3 with a clear message (refused,
  404 instead of 101 with the body, a TLS certificate from an unknown CA, named); the server's
  errors exit 1 with the code and its meaning (wrong credentials, unknown method); a private
  method with --auth works; wss:// with a trusted CA works;
- tail: notifications as JSON lines, --count, SIGINT -> exit 0; --book prints the top of book,
  and when the server is killed and restarted on the same port it reconnects and prints each
  book's resync and recovery; --book without a book channel exits 2, a refused URL 3.

Usage: test_sdk_cli.py PATH_TO_GREEKWIRE
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import harness  # noqa: E402
from test_gateway import Serve, new_account  # noqa: E402


def greekwire(*args, timeout=30):
    proc = subprocess.run([harness.greekwire_binary(), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=harness.child_env())
    assert not harness.sanitizer_report(proc.stderr), proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


class ServeOn(Serve):
    """Serve on a given port and data directory (for a restart in place)."""

    def __init__(self, port, data_dir):
        super().__init__()
        self.fixed_port, self.data_dir = port, data_dir

    def __enter__(self):
        self.stderr = open(os.devnull, "wb")
        self.proc = subprocess.Popen(
            [harness.greekwire_binary(), "serve", "--listen", f"127.0.0.1:{self.fixed_port}",
             "--data-dir", self.data_dir], stdout=subprocess.PIPE, stderr=self.stderr,
            env=harness.child_env(), preexec_fn=harness.die_with_parent, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("listening on ws://"), line
        threading.Thread(target=lambda: self.proc.stdout.read(), daemon=True).start()
        self.port = self.fixed_port
        self.ws = f"ws://127.0.0.1:{self.port}/ws/api/v2"
        return self


# --- call --------------------------------------------------------------------------------------

def call_results(server):
    rc, out, err = greekwire("call", server.ws, "public/get_time")
    assert rc == 0, err
    assert abs(json.loads(out) - time.time() * 1000) < 60_000, out
    params = '{"instrument_name":"BTC-PERPETUAL"}'
    rc, out, err = greekwire("call", server.ws, "public/get_instrument", params)
    assert rc == 0, err
    assert out.count("\n") > 10 and '\n  "tick_size": 0.5' in out, out  # pretty-printed
    instrument = json.loads(out)
    assert instrument["instrument_name"] == "BTC-PERPETUAL", instrument
    rc, packed, err = greekwire("call", server.ws, "public/get_instrument", params,
                                "--encoding", "msgpack")
    assert rc == 0 and json.loads(packed) == instrument, (err, packed)


def call_usage_errors(server):
    rc, _, err = greekwire("call", "http://127.0.0.1:1/ws", "public/test")
    assert rc == 2 and "bad URL 'http://127.0.0.1:1/ws'" in err, (rc, err)
    rc, _, err = greekwire("call", server.ws, "public/test", "[1, 2]")
    assert rc == 2 and "params must be a JSON object" in err, (rc, err)
    rc, _, err = greekwire("call", server.ws, "public/test", "--auth", "no-colon")
    assert rc == 2 and "CLIENT_ID:CLIENT_SECRET" in err, (rc, err)


def call_connection_failures(server):
    port = harness.free_port()
    rc, out, err = greekwire("call", f"ws://127.0.0.1:{port}/ws/api/v2", "public/test")
    assert rc == 3 and out == "", (rc, out)
    assert f"cannot connect to 127.0.0.1:{port}: Connection refused" in err, err
    rc, _, err = greekwire("call", f"ws://127.0.0.1:{server.port}/elsewhere", "public/test")
    assert rc == 3, (rc, err)
    assert "HTTP 404 Not Found instead of 101" in err, err
    assert "the WebSocket API is at /ws/api/v2" in err, err  # the body


def call_over_tls():
    """wss://: trusted (exit 0) and refused with the certificate named (exit 3)."""
    pki = tempfile.mkdtemp(prefix="gw-sdk-pki-")
    subprocess.run(["bash", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tls",
                                         "make_certs.sh"), pki],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    data_dir = tempfile.mkdtemp(prefix="gw-sdk-tls-")
    proc = subprocess.Popen(
        [harness.greekwire_binary(), "serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir,
         "--tls-cert", f"{pki}/server.pem", "--tls-key", f"{pki}/server.key"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=harness.child_env(),
        preexec_fn=harness.die_with_parent, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on wss://"), line
        url = line.split()[2]
        threading.Thread(target=lambda: proc.stdout.read(), daemon=True).start()
        rc, out, err = greekwire("call", url, "public/test", "--tls-ca", f"{pki}/ca.pem")
        assert rc == 0 and "version" in json.loads(out), (rc, err)
        rc, _, err = greekwire("call", url, "public/test", "--tls-ca", f"{pki}/rogue-ca.pem")
        assert rc == 3, (rc, err)
        assert "certificate verify failed" in err, err
        assert "server certificate CN=localhost, issued by CN=greekwire test CA" in err, err
    finally:
        proc.kill()
        proc.wait()


def call_server_errors(server):
    client_id, secret = new_account(server, "cli")
    rc, out, err = greekwire("call", server.ws, "private/get_positions", '{"currency":"BTC"}',
                             "--auth", f"{client_id}:wrong")
    assert rc == 1 and out == "", (rc, out)
    assert "authentication failed: 13004 invalid_credentials" in err, err
    assert "wrong client_id or client_secret" in err, err  # what the code means
    rc, _, err = greekwire("call", server.ws, "public/nope")
    assert rc == 1 and "public/nope: -32601 Method not found (no such method)" in err, (rc, err)
    rc, _, err = greekwire("call", server.ws, "private/get_positions", '{"currency":"BTC"}')
    assert rc == 1 and "13009" in err, (rc, err)  # no auth
    rc, out, err = greekwire("call", server.ws, "private/get_positions", '{"currency":"BTC"}',
                             "--auth", f"{client_id}:{secret}")
    assert rc == 0 and isinstance(json.loads(out), list), (rc, err)


# --- tail --------------------------------------------------------------------------------------

def tail_lines(server):
    channels = ["ticker.BTC-PERPETUAL.100ms", "book.BTC-PERPETUAL.100ms"]
    rc, out, err = greekwire("tail", server.ws, *channels, "--count", 6, "--encoding", "msgpack")
    assert rc == 0, (rc, err)
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 6, out
    assert all(set(line) == {"channel", "data"} for line in lines), lines
    assert {line["channel"] for line in lines} <= set(channels), lines
    books = [line["data"] for line in lines if line["channel"].startswith("book.")]
    assert books and books[0]["type"] == "snapshot", books


def tail_interrupted(server):
    proc = subprocess.Popen([harness.greekwire_binary(), "tail", server.ws,
                             "deribit_price_index.btc_usd"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=harness.child_env())
    first = json.loads(proc.stdout.readline())
    assert first["channel"] == "deribit_price_index.btc_usd" and first["data"]["price"] > 0, first
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, (proc.returncode, err)
    assert not harness.sanitizer_report(err), err


def tail_usage_and_failures(server):
    rc, _, err = greekwire("tail", server.ws, "ticker.BTC-PERPETUAL.100ms", "--book")
    assert rc == 2 and "--book needs a book" in err, (rc, err)
    port = harness.free_port()
    rc, _, err = greekwire("tail", f"ws://127.0.0.1:{port}/ws/api/v2", "book.BTC-PERPETUAL.100ms")
    assert rc == 3 and "Connection refused" in err, (rc, err)
    rc, _, err = greekwire("tail", server.ws, "book.BTC-PERPETUAL.raw")
    assert rc == 1 and "13778" in err, (rc, err)  # raw needs auth


def tail_book_across_a_restart(server):
    """Kills and restarts its own server: run last."""
    client_id, secret = new_account(server, "tail")
    channels = ["book.BTC-PERPETUAL.raw", "book.ETH-PERPETUAL.100ms"]
    proc = subprocess.Popen([harness.greekwire_binary(), "tail", server.ws, *channels, "--book",
                             "--auth", f"{client_id}:{secret}", "--stats"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=harness.child_env())
    lines = []

    def read_until(predicate, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, f"tail ended: {proc.stderr.read()}"
            lines.append(json.loads(line))
            if predicate(lines[-1]):
                return
        raise AssertionError(f"not seen within {seconds} s: {lines[-5:]}")

    try:
        for channel in channels:
            read_until(lambda line, c=channel: line.get("channel") == c and "best_bid" in line, 15)
        top = lines[-1]
        assert top["best_bid"][0] < top["best_ask"][0], top
        assert top["bid_levels"] > 0 and top["ask_levels"] > 0, top
        port, data_dir = server.port, server.data_dir
        server.proc.kill()
        server.proc.wait()
        with ServeOn(port, data_dir):
            for channel in channels:
                read_until(lambda line, c=channel: line.get("event") == "resynced"
                           and line["channel"] == c, 30)
            read_until(lambda line: line.get("channel") == channels[0] and "best_bid" in line, 15)
            events = [line for line in lines if "event" in line]
            for channel in channels:
                assert {"event": "resync", "channel": channel, "reason": "reconnect"} in events, \
                    events
                assert {"event": "resynced", "channel": channel, "reason": "reconnect"} in events, \
                    events
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, (proc.returncode, err)
        assert "disconnected" in err and "reconnecting" in err, err
        stats = json.loads(err.strip().splitlines()[-1])
        assert stats["reconnects"] == 1 and stats["resyncs"] == 2, stats
        assert stats["checksums_verified"] > 0 and stats["checksum_mismatches"] == 0, stats
    finally:
        if proc.poll() is None:
            proc.kill()


def main():
    harness.greekwire_binary()
    with Serve() as server:
        return harness.run_checks([
            ("call: results pretty-printed, JSON and msgpack", lambda: call_results(server)),
            ("call: usage errors exit 2", lambda: call_usage_errors(server)),
            ("call: refused and 404 (with the body) exit 3",
             lambda: call_connection_failures(server)),
            ("call: auth error and unknown method exit 1 with code and meaning",
             lambda: call_server_errors(server)),
            ("call over wss://: trusted, and refused naming the certificate", call_over_tls),
            ("tail: JSON lines, --count", lambda: tail_lines(server)),
            ("tail: SIGINT -> exit 0", lambda: tail_interrupted(server)),
            ("tail: usage 2, refused 3, raw without auth 1",
             lambda: tail_usage_and_failures(server)),
            ("tail --book: top of book; server restart -> resync reported",
             lambda: tail_book_across_a_restart(server)),
        ])


if __name__ == "__main__":
    sys.exit(main())
