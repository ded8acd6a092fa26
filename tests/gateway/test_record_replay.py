#!/usr/bin/python3
"""`greekwire record` and `greekwire serve --replay` (docs/GATEWAY.md, "Record and replay").

- record: against a simulated `serve`, five channels (a raw book, tickers of the perpetual and
  of an option, trades, the index) for 5 s; the file, read here straight from the byte layout
  docs/PROTOCOL.md documents ("Recordings"), has the header (magic, version 1, json, start time,
  URL, channels), the instrument lists first, then notifications of the channels, receive times
  that never go backwards;
- replay: `serve --replay r1 --replay-delay 2` recorded again during the delay gives the same
  notifications (channel and data; usIn aside) in the same order, and once the recording has
  ended the server says so and keeps serving its final state (the book at the last change_id);
- the CLI: record with a bad URL (2), a refused one (3, no file left behind), without -o (2);
  SIGINT ends it with exit 0 and a whole file; SIGKILL leaves a file that misses at most about
  the last second (the writer flushes every second);
  serve --replay with a missing file, a file that is not a recording, a corrupt record (2, with
  the reason and offset); a truncated recording still replays.

Usage: test_record_replay.py PATH_TO_GREEKWIRE
"""

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import harness  # noqa: E402
from test_gateway import Serve, http_get  # noqa: E402

MAGIC = b"GWREC\r\n\x1a"
KINDS = {0: "other", 1: "notification", 2: "response"}


def greekwire(*args, timeout=60):
    proc = subprocess.run([harness.greekwire_binary(), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=harness.child_env())
    assert not harness.sanitizer_report(proc.stderr), proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


# --- the documented format ---------------------------------------------------------------------

def varint(data, at):
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def read_recording(path, allow_truncated=False):
    """(header dict, [(offset, time_us, kind, binary, bytes)]) from the documented layout."""
    data = open(path, "rb").read()
    assert data[:8] == MAGIC, data[:8]
    version, encoding, reserved, start_us = struct.unpack_from("<HBBq", data, 8)
    at = 20
    size, at = varint(data, at)
    url = data[at:at + size].decode()
    at += size
    count, at = varint(data, at)
    channels = []
    for _ in range(count):
        size, at = varint(data, at)
        channels.append(data[at:at + size].decode())
        at += size
    header = {"version": version, "encoding": encoding, "reserved": reserved,
              "start_us": start_us, "url": url, "channels": channels}
    records, time_us = [], start_us
    while at < len(data):
        offset = at
        try:
            delta, at = varint(data, at)
            flags = data[at]
            size, at = varint(data, at + 1)
        except IndexError:
            at = len(data) + 1
        if at + size > len(data):
            assert allow_truncated, f"the record at {offset} runs past the end of the file"
            break
        assert flags & 0xF8 == 0, (offset, flags)
        time_us += delta
        records.append((offset, time_us, KINDS[(flags >> 1) & 3], bool(flags & 1),
                        data[at:at + size]))
        at += size
    return header, records


def notifications(records):
    """(channel, data) of each notification, in order; greekwire's usIn left out."""
    out = []
    for _, _, kind, _, frame in records:
        if kind != "notification":
            continue
        message = json.loads(frame)
        assert message["method"] == "subscription", message
        out.append((message["params"]["channel"], message["params"]["data"]))
    return out


# --- the checks --------------------------------------------------------------------------------

def some_option(server):
    status, body = http_get(f"{server.http}/api/v2/public/get_instruments?currency=BTC"
                            "&kind=option")
    assert status == 200, body
    rows = json.loads(body)["result"]
    # The nearest expiry's strike closest to the index: its ticker moves with the index.
    status, body = http_get(f"{server.http}/api/v2/public/get_index_price?index_name=btc_usd")
    index = json.loads(body)["result"]["index_price"]
    nearest = min(r["expiration_timestamp"] for r in rows)
    calls = [r for r in rows if r["expiration_timestamp"] == nearest and r["option_type"] == "call"]
    return min(calls, key=lambda r: abs(r["strike"] - index))["instrument_name"]


def record(url, channels, path, auth, *extra):
    rc, _, err = greekwire("record", url, *channels, "-o", path, "--auth", f"{auth[0]}:{auth[1]}",
                           *extra)
    assert rc == 0, err
    assert "notifications" in err and f"{path}:" in err, err  # the summary
    return err


def check_recording(path, url, channels):
    header, records = read_recording(path)
    assert header["version"] == 1 and header["encoding"] == 0 and header["reserved"] == 0, header
    assert header["url"] == url and header["channels"] == channels, header
    assert abs(header["start_us"] / 1e6 - time.time()) < 120, header
    times = [r[1] for r in records]
    assert times == sorted(times) and times[0] >= header["start_us"], "times go backwards"
    # The instrument lists come before any notification.
    first_notification = next(i for i, r in enumerate(records) if r[2] == "notification")
    listings = [json.loads(r[4]) for r in records[:first_notification] if r[2] == "response"]
    rows = [row for m in listings if isinstance(m.get("result"), list) for row in m["result"]]
    assert any(row.get("instrument_name") == "BTC-PERPETUAL" for row in rows), "no listing"
    seen = {channel for channel, _ in notifications(records)}
    for channel in channels:
        if not channel.startswith("trades."):  # a quiet 5 s may have no trade
            assert channel in seen, (channel, seen)
    return records


def record_and_replay(tmp, state):
    with Serve() as a:
        option = some_option(a)
        channels = ["book.BTC-PERPETUAL.raw", "ticker.BTC-PERPETUAL.raw",
                    "trades.BTC-PERPETUAL.raw", "deribit_price_index.btc_usd",
                    f"ticker.{option}.raw"]
        r1 = os.path.join(tmp, "r1.gwrec")
        record(a.ws, channels, r1, a.demo, "--duration", 5)
        first = check_recording(r1, a.ws, channels)
        state["r1"] = r1
        a.stop()
    expected = notifications(first)
    assert len(expected) > 20, len(expected)

    with Serve("--replay", r1, "--replay-delay", 2) as b:
        assert any("replay of" in line for line in b.banner), b.banner
        r2 = os.path.join(tmp, "r2.gwrec")
        record(b.ws, channels, r2, b.demo, "--count", len(expected), "--duration", 30)
        second = check_recording(r2, b.ws, channels)
        got = notifications(second)
        assert len(got) == len(expected), (len(got), len(expected))
        for i, (want, have) in enumerate(zip(expected, got)):
            assert want == have, f"notification {i} differs:\n{want}\n{have}"
        # The end of the recording is logged, and its final state stays.
        deadline = time.time() + 10
        while "the recording ended" not in b.stderr_text():
            assert time.time() < deadline, b.stderr_text()[-2000:]
            time.sleep(0.1)
        books = [data for channel, data in expected if channel.startswith("book.")]
        status, body = http_get(f"{b.http}/api/v2/public/get_order_book"
                                "?instrument_name=BTC-PERPETUAL&depth=5")
        assert status == 200, body
        assert json.loads(body)["result"]["change_id"] == books[-1]["change_id"], body
        b.stop()


def record_usage_errors(tmp):
    out = os.path.join(tmp, "bad.gwrec")
    rc, _, err = greekwire("record", "http://nowhere", "book.BTC-PERPETUAL.raw", "-o", out)
    assert rc == 2 and "bad URL" in err, (rc, err)
    assert not os.path.exists(out), "a failed recorder left its file"
    rc, _, err = greekwire("record", "ws://127.0.0.1:1/ws/api/v2", "book.BTC-PERPETUAL.raw",
                           "-o", out)
    assert rc == 3 and "refused" in err, (rc, err)
    assert not os.path.exists(out), "a failed recorder left its file"
    rc, _, err = greekwire("record", "ws://127.0.0.1:1/ws/api/v2", "book.BTC-PERPETUAL.raw")
    assert rc == 2 and "--output is required" in err, (rc, err)
    rc, _, err = greekwire("record", "ws://127.0.0.1:1/ws/api/v2", "user.orders.*", "-o", out)
    assert rc == 2 and "user.orders.*" in err, (rc, err)


def start_recorder(server, path, channels):
    """A `greekwire record` in the background, once it is recording."""
    err = open(path + ".stderr", "w+")
    proc = subprocess.Popen([harness.greekwire_binary(), "record", server.ws, *channels, "-o", path,
                             "--auth", f"{server.demo[0]}:{server.demo[1]}"],
                            stdout=subprocess.DEVNULL, stderr=err, env=harness.child_env(),
                            preexec_fn=harness.die_with_parent)
    deadline = time.time() + 20
    while True:
        err.seek(0)
        if "recording 2 channels" in err.read():
            return proc, err
        assert proc.poll() is None and time.time() < deadline, open(path + ".stderr").read()
        time.sleep(0.05)


def record_stops_cleanly_or_loses_at_most_a_second(tmp):
    channels = ["book.BTC-PERPETUAL.raw", "deribit_price_index.btc_usd"]
    with Serve() as server:
        # SIGINT: exit 0, a whole file, the summary.
        clean = os.path.join(tmp, "interrupted.gwrec")
        proc, err = start_recorder(server, clean, channels)
        time.sleep(1.5)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
        err.seek(0)
        summary = err.read()
        assert not harness.sanitizer_report(summary), summary
        assert f"{clean}: {os.path.getsize(clean)} bytes" in summary, summary
        _, records = read_recording(clean)
        assert notifications(records), "nothing recorded"
        # SIGKILL after 4 s: the writer's buffer holds more than that of these channels, so
        # what is on disk is there because it flushes every second.
        killed = os.path.join(tmp, "killed.gwrec")
        proc, _ = start_recorder(server, killed, channels)
        time.sleep(4)
        proc.kill()
        killed_at = time.time()
        proc.wait(20)
        _, records = read_recording(killed, allow_truncated=True)
        last = max(t for _, t, kind, _, _ in records if kind == "notification")
        assert killed_at - last / 1e6 < 2.5, f"the last {killed_at - last / 1e6:.1f} s were lost"
        server.stop()


def serve_refuses(tmp, path, reason):
    rc, _, err = greekwire("serve", "--listen", "127.0.0.1:0", "--data-dir",
                           os.path.join(tmp, "data-refused"), "--replay", path)
    assert rc == 2 and reason in err, (rc, err)


def replay_bad_files(tmp, r1):
    serve_refuses(tmp, os.path.join(tmp, "missing.gwrec"), "cannot open")
    not_one = os.path.join(tmp, "not-one.gwrec")
    with open(not_one, "wb") as f:
        f.write(b'{"jsonrpc":"2.0"}\n' * 4)
    serve_refuses(tmp, not_one, "not a greekwire recording")
    # A reserved flag bit in the third record.
    _, records = read_recording(r1)
    data = bytearray(open(r1, "rb").read())
    offset = records[2][0]
    _, flags_at = varint(data, offset)
    data[flags_at] |= 0x80
    corrupt = os.path.join(tmp, "corrupt.gwrec")
    open(corrupt, "wb").write(data)
    serve_refuses(tmp, corrupt, f"corrupt record at offset {offset}")
    # A recorder killed mid-write: the last record is cut short; the rest replays.
    truncated = os.path.join(tmp, "truncated.gwrec")
    shutil.copy(r1, truncated)
    with open(truncated, "r+b") as f:
        f.truncate(os.path.getsize(r1) - 3)
    with Serve("--replay", truncated, "--speed", 0) as c:
        deadline = time.time() + 10
        while "the recording ended" not in c.stderr_text():
            assert time.time() < deadline, c.stderr_text()[-2000:]
            time.sleep(0.1)
        assert f"offset {records[-1][0]}" in c.stderr_text(), c.stderr_text()[-2000:]
        c.stop()


def main():
    harness.greekwire_binary()
    tmp = tempfile.mkdtemp(prefix="gw-record-")
    state = {}

    def bad_files():
        assert "r1" in state, "needs the recording of the first check"
        replay_bad_files(tmp, state["r1"])

    try:
        return harness.run_checks([
            ("record, replay, record again: the same notifications in the same order",
             lambda: record_and_replay(tmp, state)),
            ("record: bad URL 2, refused 3 (no file left), no -o 2, bad pattern 2",
             lambda: record_usage_errors(tmp)),
            ("record: SIGINT closes the file; SIGKILL loses at most about a second",
             lambda: record_stops_cleanly_or_loses_at_most_a_second(tmp)),
            ("serve --replay: missing, foreign, corrupt files exit 2; truncated replays",
             bad_files),
        ])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
