#!/usr/bin/python3
"""The SDK's examples (examples/) against `greekwire serve`: their output and exit codes.

- every example: --help prints the usage (exit 0); missing arguments, an unknown flag, a bad
  number or a URL that is not ws:// or wss:// print the usage on stderr (exit 2);
- top_of_book: --count lines of best bid/ask, the first a snapshot, change ids increasing and
  bid < ask; an unknown instrument and a raw book without --auth exit 1 saying why, with --auth
  the raw book flows; across a server restart it prints the book's resync and resynced events
  and goes on; SIGTERM -> exit 0;
- option_chain: the table holds exactly the expiry's strikes (public/get_instruments over HTTP),
  each with both sides filled from the ticker channels (call delta in [0, 1], put delta in
  [-1, 0], the two a unit apart, IV, gamma, vega positive); a wrong expiry exits 1 listing the
  real ones;
- order_roundtrip: placed, read back, cancelled, gone, "ok" and exit 0 on the perpetual and on an
  option, and afterwards the account has no open orders (HTTP, Basic auth); wrong credentials
  exit 1 with 13004.

Usage: test_examples.py PATH_TO_GREEKWIRE TOP_OF_BOOK OPTION_CHAIN ORDER_ROUNDTRIP
"""

import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import harness  # noqa: E402
from test_gateway import Serve, basic_authorization, http_json, new_account  # noqa: E402
from test_sdk_cli import ServeOn  # noqa: E402

EXAMPLES = {}  # name -> path, from the command line


def example(name, *args, timeout=30):
    proc = subprocess.run([EXAMPLES[name], *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=harness.child_env())
    assert not harness.sanitizer_report(proc.stderr), harness.excerpt(proc.stderr)
    return proc.returncode, proc.stdout, proc.stderr


def usage_errors(server):
    wrong = {
        "top_of_book": [[], [server.ws], [server.ws, "BTC-PERPETUAL", "--count", "x"],
                        [server.ws, "BTC-PERPETUAL", "--depth", "3"],
                        ["http://127.0.0.1/ws", "BTC-PERPETUAL"]],
        "option_chain": [[server.ws, "BTC"], [server.ws, "BTC", "4DEC26", "--interval", "0"],
                         ["ws://127.0.0.1:99999/ws/api/v2", "BTC", "4DEC26"]],
        "order_roundtrip": [[server.ws], [server.ws, "--auth", "no-colon"],
                            [server.ws, "--auth", "a:b", "--amount", "-1"],
                            ["ws://host#frag", "--auth", "a:b"]],
    }
    for name, cases in wrong.items():
        rc, out, _ = example(name, "--help")
        assert rc == 0 and out.startswith(f"usage: {name} "), (name, rc, out)
        for args in cases:
            rc, out, err = example(name, *args)
            assert rc == 2 and out == "" and f"usage: {name} " in err, (name, args, rc, err)
    _, _, err = example("top_of_book", "http://127.0.0.1/ws", "BTC-PERPETUAL")
    assert "bad URL 'http://127.0.0.1/ws': scheme must be ws or wss" in err, err


TOP = re.compile(r"^(\S+) (snapshot|change) (\d+) bid (\S+) @ (\S+) ask (\S+) @ (\S+) "
                 r"spread (\S+) levels (\d+)/(\d+)$")


def parse_top(line):
    match = TOP.match(line)
    assert match, line
    name, kind, change_id, bid_amount, bid, ask_amount, ask, spread, bids, asks = match.groups()
    return {"instrument": name, "kind": kind, "change_id": int(change_id), "bid": float(bid),
            "ask": float(ask), "bid_amount": float(bid_amount), "ask_amount": float(ask_amount),
            "spread": float(spread), "levels": (int(bids), int(asks))}


def check_tops(lines, instrument):
    tops = [parse_top(line) for line in lines]
    assert tops[0]["kind"] == "snapshot" and all(t["kind"] == "change" for t in tops[1:]), lines
    for top in tops:
        assert top["instrument"] == instrument, top
        assert 0 < top["bid"] < top["ask"] and top["bid_amount"] > 0 < top["ask_amount"], top
        assert abs(top["spread"] - (top["ask"] - top["bid"])) < 1e-9, top
        assert top["levels"][0] > 0 and top["levels"][1] > 0, top
    ids = [t["change_id"] for t in tops]
    assert ids == sorted(set(ids)), ids


def top_of_book(server):
    rc, out, err = example("top_of_book", server.ws, "BTC-PERPETUAL", "--count", 5)
    assert rc == 0, (rc, err)
    lines = out.splitlines()
    assert len(lines) == 5, out
    check_tops(lines, "BTC-PERPETUAL")

    rc, out, err = example("top_of_book", server.ws, "BTC-NOPE", "--count", 1)
    assert rc == 1 and out == "", (rc, out)
    assert "the server did not subscribe book.BTC-NOPE.100ms" in err, err
    rc, _, err = example("top_of_book", server.ws, "ETH-PERPETUAL", "--interval", "raw")
    assert rc == 1 and "13778" in err, (rc, err)  # raw books need authentication
    client_id, secret = new_account(server, "raw-reader")
    rc, out, err = example("top_of_book", server.ws, "ETH-PERPETUAL", "--interval", "raw",
                           "--count", 3, "--auth", f"{client_id}:{secret}")
    assert rc == 0, (rc, err)
    check_tops(out.splitlines(), "ETH-PERPETUAL")


def chain_of(server, currency):
    """{expiry: {strike: (call, put)}} from public/get_instruments over HTTP."""
    status, body = http_json(f"{server.http}/api/v2/public/get_instruments?currency={currency}"
                             "&kind=option")
    assert status == 200, body
    chains = {}
    for row in body["result"]:
        expiry = row["instrument_name"].split("-")[1]
        pair = chains.setdefault(expiry, {}).setdefault(row["strike"], [None, None])
        pair[row["option_type"] == "put"] = row["instrument_name"]
    return chains


def parse_table(text):
    """The last table of option_chain's output: {strike: (call cells, put cells)}."""
    tables = [t for t in text.split("\n\n") if t.strip()]
    assert tables, text
    lines = tables[-1].splitlines()
    rows = {}
    for line in lines[3:]:
        strike, call, put = (part.split() for part in line.split("|"))
        assert len(strike) == 1 and len(call) == 6 and len(put) == 6, line
        rows[float(strike[0])] = ([float(x) for x in call], [float(x) for x in put])
    return lines[0], rows


def option_chain(server):
    chains = chain_of(server, "BTC")
    expiry = max(chains, key=lambda e: len(chains[e]))  # the widest chain
    rc, out, err = example("option_chain", server.ws, "btc", expiry.lower(), "--refreshes", 2,
                           "--interval", 1.5)
    assert rc == 0, (rc, err)
    assert len([t for t in out.split("\n\n") if t.strip()]) == 2, out
    title, rows = parse_table(out)
    assert title.startswith(f"BTC {expiry}  underlying ") and \
        f"{len(chains[expiry])} strikes" in title, title
    assert sorted(rows) == sorted(chains[expiry]), (sorted(rows), sorted(chains[expiry]))
    for strike, (call, put) in rows.items():
        c_mark, c_iv, c_delta, c_gamma, c_vega, _ = call
        p_mark, p_iv, p_delta, p_gamma, p_vega, _ = put
        assert 0 <= c_delta <= 1 and -1 <= p_delta <= 0, (strike, call, put)
        assert abs(c_delta - p_delta - 1) < 0.02, (strike, call, put)
        assert c_iv > 0 and p_iv > 0 and c_gamma > 0 and p_gamma > 0, (strike, call, put)
        assert c_vega > 0 and p_vega > 0 and c_mark >= 0 and p_mark >= 0, (strike, call, put)

    rc, out, err = example("option_chain", server.ws, "BTC", "1JAN99")
    assert rc == 1 and out == "", (rc, out)
    assert "no BTC options expire on 1JAN99; listed:" in err, err
    assert all(e in err.split("listed:")[1].split() for e in chains), (err, list(chains))


def order_roundtrip(server):
    credentials = new_account(server, "example-trader")
    auth = f"{credentials[0]}:{credentials[1]}"
    options = chain_of(server, "BTC")
    option = next(iter(next(iter(options.values())).values()))[0]
    for instrument in ("BTC-PERPETUAL", option):
        rc, out, err = example("order_roundtrip", server.ws, "--auth", auth, "--instrument",
                               instrument)
        assert rc == 0, (rc, out, err)
        lines = out.splitlines()
        steps = [line.split(":")[0] for line in lines]
        assert steps == ["connected to ws", "market", "placed", "read back", "cancelled", "gone",
                         "ok"], out
        order_ids = {re.search(r"order (\S+)", line).group(1) for line in lines[2:6]}
        assert len(order_ids) == 1, lines
        assert f"order {order_ids.pop()} open: buy " in lines[2], lines
        assert " cancelled: buy " in lines[4] and "post_only" in lines[4], lines
        assert f" {instrument} @ " in lines[2], lines
    status, body = http_json(f"{server.http}/api/v2/private/get_open_orders_by_currency"
                             "?currency=BTC", headers={"Authorization":
                                                       basic_authorization(credentials)})
    assert status == 200 and body["result"] == [], body

    rc, out, err = example("order_roundtrip", server.ws, "--auth", f"{credentials[0]}:wrong")
    assert rc == 1 and "13004 invalid_credentials" in err, (rc, out, err)
    assert "placed" not in out, out


def top_of_book_across_a_restart(server):
    """Kills and restarts its own server: run last."""
    proc = subprocess.Popen([EXAMPLES["top_of_book"], server.ws, "BTC-PERPETUAL"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=harness.child_env())
    lines = []

    def read_until(predicate, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, f"top_of_book ended: {proc.stderr.read()}"
            lines.append(line.rstrip("\n"))
            if predicate(lines[-1]):
                return
        raise AssertionError(f"not seen within {seconds} s: {lines[-5:]}")

    try:
        read_until(lambda line: line.startswith("BTC-PERPETUAL change "), 15)
        port, data_dir = server.port, server.data_dir
        server.proc.kill()
        server.proc.wait()
        with ServeOn(port, data_dir):
            channel = "book.BTC-PERPETUAL.100ms"
            read_until(lambda line: line == f"resynced {channel}: reconnect", 30)
            read_until(lambda line: line.startswith("BTC-PERPETUAL change "), 15)
            assert f"resync {channel}: reconnect" in lines, lines
            after = lines[lines.index(f"resync {channel}: reconnect"):]
            assert any(line.startswith("BTC-PERPETUAL snapshot ") for line in after), after
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, (proc.returncode, err)
        assert not harness.sanitizer_report(err), harness.excerpt(err)
        assert "disconnected" in err and "reconnecting" in err, err
    finally:
        if proc.poll() is None:
            proc.kill()


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.strip().splitlines()[-1])
    harness.greekwire_binary()
    EXAMPLES.update(zip(("top_of_book", "option_chain", "order_roundtrip"), sys.argv[2:]))
    with Serve() as server:
        return harness.run_checks([
            ("usage errors exit 2, --help 0", lambda: usage_errors(server)),
            ("top_of_book: lines, unknown instrument, raw with and without --auth",
             lambda: top_of_book(server)),
            ("option_chain: the expiry's strikes with both sides' Greeks; wrong expiry",
             lambda: option_chain(server)),
            ("order_roundtrip: perpetual and option, nothing left open; wrong secret",
             lambda: order_roundtrip(server)),
            ("top_of_book: server restart -> resync, resynced, on again",
             lambda: top_of_book_across_a_restart(server)),
        ])


if __name__ == "__main__":
    sys.exit(main())
