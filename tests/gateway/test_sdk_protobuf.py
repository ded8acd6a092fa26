#!/usr/bin/python3
"""The SDK's command-line tools over the `protobuf` subprotocol, against `greekwire serve`:

- call: results print the same JSON as over the JSON subprotocol, member for member, integers
  as integers and reals as reals (less null members, [] and {}, which protobuf does not carry);
  a private method with --auth; the server's errors exit 1 with the code and its meaning;
- tail --encoding protobuf: notifications of every channel as JSON lines (a book's first is its
  snapshot), and
  tail --book: the top of book with every checksum verified, none mismatched;
- bench fanout --encoding protobuf: every connection subscribed, deliveries stamped (usIn read
  from the end of each protobuf message), each book's snapshot counted.

Usage: test_sdk_protobuf.py PATH_TO_GREEKWIRE
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import harness  # noqa: E402
from test_gateway import Serve, new_account  # noqa: E402


def greekwire(*args, timeout=60):
    proc = subprocess.run([harness.greekwire_binary(), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=harness.child_env())
    assert not harness.sanitizer_report(proc.stderr), proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


def without_empty_members(value):
    """What protobuf carries of a JSON tree: no null, [] or {} members."""
    if isinstance(value, dict):
        members = {k: without_empty_members(v) for k, v in value.items()}
        return {k: v for k, v in members.items() if v is not None and v != [] and v != {}}
    if isinstance(value, list):
        return [without_empty_members(v) for v in value]
    return value


def typed(value):
    """The tree as text, members in order, 10 and 10.0 apart (as the SDK prints them)."""
    return json.dumps(value)


def call_twice(server, method, params="{}", *auth):
    rc, plain, err = greekwire("call", server.ws, method, params, *auth)
    assert rc == 0, (method, err)
    rc, packed, err = greekwire("call", server.ws, method, params, *auth, "--encoding", "protobuf")
    assert rc == 0, (method, err)
    return json.loads(plain), json.loads(packed)


def call_results(server):
    for method, params in [
            ("public/get_instrument", '{"instrument_name":"BTC-PERPETUAL"}'),
            ("public/get_instruments", '{"currency":"ETH","kind":"future"}'),
            ("public/get_currencies", "{}"),
            ("public/test", "{}"),
            ("public/subscribe", '{"channels":["ticker.BTC-PERPETUAL.100ms","nope"]}')]:
        plain, packed = call_twice(server, method, params)
        assert typed(packed) == typed(without_empty_members(plain)), (method, plain, packed)
    rc, out, err = greekwire("call", server.ws, "public/get_time", "--encoding", "protobuf")
    assert rc == 0 and isinstance(json.loads(out), int), (rc, out, err)


def call_private_and_errors(server):
    client_id, secret = new_account(server, "sdkproto")
    auth = ("--auth", f"{client_id}:{secret}")
    plain, packed = call_twice(server, "private/get_account_summary", '{"currency":"BTC"}', *auth)
    for volatile in ("equity", "margin_balance", "total_pl", "session_upl", "balance"):
        plain.pop(volatile, None)  # untouched here, but a mark may move between the two calls
        packed.pop(volatile, None)
    assert typed(packed) == typed(without_empty_members(plain)), (plain, packed)
    rc, out, err = greekwire("call", server.ws, "public/nope", "--encoding", "protobuf")
    assert rc == 1 and out == "", (rc, out)
    assert "public/nope: -32601 Method not found (no such method)" in err, err
    rc, _, err = greekwire("call", server.ws, "private/get_positions", '{"currency":"BTC"}',
                           "--auth", f"{client_id}:wrong", "--encoding", "protobuf")
    assert rc == 1 and "13004 invalid_credentials" in err, (rc, err)
    rc, _, err = greekwire("call", server.ws, "public/get_order_book", '{"instrument_name":7}',
                           "--encoding", "protobuf")
    assert rc == 1 and "-32602" in err, (rc, err)


def tail_lines(server):
    channels = ["ticker.BTC-PERPETUAL.100ms", "book.BTC-PERPETUAL.100ms",
                "deribit_price_index.btc_usd"]
    rc, out, err = greekwire("tail", server.ws, *channels, "--duration", 3,
                             "--encoding", "protobuf")
    assert rc == 0, (rc, err)
    lines = [json.loads(line) for line in out.splitlines()]
    assert all(set(line) == {"channel", "data"} for line in lines), lines
    assert {line["channel"] for line in lines} == set(channels), lines  # tickers: every second
    books = [line["data"] for line in lines if line["channel"].startswith("book.")]
    assert books and books[0]["type"] == "snapshot", books
    assert all(isinstance(b["change_id"], int) and isinstance(b["timestamp"], int)
               for b in books), books
    tickers = [line["data"] for line in lines if line["channel"].startswith("ticker.")]
    assert tickers and isinstance(tickers[0]["mark_price"], float), tickers


def tail_books(server):
    channels = ["book.BTC-PERPETUAL.100ms", "book.ETH-PERPETUAL.100ms"]
    rc, out, err = greekwire("tail", server.ws, *channels, "--book", "--count", 20, "--stats",
                             "--encoding", "protobuf")
    assert rc == 0, (rc, err)
    tops = [json.loads(line) for line in out.splitlines()]
    assert len(tops) == 20 and {t["channel"] for t in tops} == set(channels), tops
    for top in tops:
        if top["best_bid"] and top["best_ask"]:
            assert top["best_bid"][0] < top["best_ask"][0], top
    stats = json.loads(err.strip().splitlines()[-1])
    assert stats["book_updates"] >= 20 and stats.get("decode_errors", 0) == 0, stats
    assert stats["checksums_verified"] > 0 and stats["checksum_mismatches"] == 0, stats
    assert stats["resyncs"] == 0, stats


def bench_fanout(server):
    connections, instruments = 8, 3
    rc, out, err = greekwire("bench", "fanout", server.ws, "--connections", connections,
                             "--instruments", instruments, "--channels",
                             "book.{i}.100ms,ticker.{i}.100ms", "--duration", 2, "--warmup", 0.5,
                             "--encoding", "protobuf", "--json")
    assert rc == 0, (rc, out, err)
    report = json.loads(out.strip().splitlines()[-1])
    assert report["encoding"] == "protobuf", report
    assert report["subscribed"] == connections and report["failed"] == 0, report
    assert report["channels_per_connection"] == 2 * instruments, report
    assert report["deliveries"] > 0 and report["unstamped"] == 0, report
    assert 0 < report["p50_ms"] < 10_000, report  # a stamp misread would be years off
    assert report["snapshots"] == connections * instruments, report
    assert report["resync_snapshots"] == 0, report


def main():
    harness.greekwire_binary()
    with Serve() as server:
        return harness.run_checks([
            ("call --encoding protobuf: the JSON results, typed alike",
             lambda: call_results(server)),
            ("call --encoding protobuf: private with --auth; errors exit 1 with the code",
             lambda: call_private_and_errors(server)),
            ("tail --encoding protobuf: JSON lines, the book's snapshot first",
             lambda: tail_lines(server)),
            ("tail --book --encoding protobuf: checksums verified", lambda: tail_books(server)),
            ("bench fanout --encoding protobuf: subscribed, stamped, snapshots counted",
             lambda: bench_fanout(server)),
        ])


if __name__ == "__main__":
    sys.exit(main())
