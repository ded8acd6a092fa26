#!/usr/bin/python3
"""Relay mode: `greekwire serve --upstream` with a second greekwire serve as the upstream.

A is the simulator; B relays it (`--upstream ws://A --subscribe ...`). On B, through Python
websockets (an independent peer):
- get_instruments lists A's BTC instruments with the same specifications;
- book.BTC-PERPETUAL.raw carries A's change_id chain, message for message (same levels, same
  checksum, recomputed by B), every checksum valid; get_order_book equals the reconstructed book
  at its change_id;
- tickers, trades and the index carry A's values;
- volsurface.BTC.100ms publishes a surface fitted to the option tickers (ATM vols near the
  options' mark IVs);
- private/buy is refused with 13021;
- A killed and restarted on the same port: each book subscriber on B gets a snapshot with
  "resync": true and a valid chain after it, nothing in between that breaks the chain; B's
  /metrics counts one lost period and one reconnect.

Usage: test_relay.py PATH_TO_GREEKWIRE
"""

import asyncio
import heapq
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_gateway as tg  # noqa: E402
from test_gateway import Client, Serve, book_checksum, instrument_digits, run  # noqa: E402

harness = tg.harness
websockets = tg.websockets

PATTERNS = ["book.BTC-PERPETUAL.raw", "book.BTC-*.100ms", "ticker.BTC-*.100ms",
            "trades.BTC-PERPETUAL.raw", "deribit_price_index.*"]


class Restarted(Serve):
    """`greekwire serve` again on a data directory that exists: its banner has no demo account
    line to wait for, so only the first line is read."""

    def __enter__(self):
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [harness.greekwire_binary(), "serve", "--listen", self.listen, "--data-dir",
             self.data_dir, *self.options],
            stdout=subprocess.PIPE, stderr=self.stderr, env=harness.child_env(),
            preexec_fn=harness.die_with_parent, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith(("listening on ws://", "listening on wss://")), \
            (line, self.stderr_text())
        threading.Thread(target=lambda: self.proc.stdout.read(), daemon=True).start()
        self.port = int(line.rsplit(":", 1)[1].split("/")[0])
        tls = line.startswith("listening on wss://")
        self.ws = f"{'wss' if tls else 'ws'}://127.0.0.1:{self.port}/ws/api/v2"
        self.http = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        return self


class Follower:
    """One book rebuilt from book.* messages: checks the chain and every checksum (over the top
    10, found without sorting the whole book), and keeps the full book at the change_ids asked
    for."""

    def __init__(self, digits, keep=()):
        self.digits, self.keep = digits, set(keep)
        self.bids, self.asks = {}, {}
        self.change_id = None
        self.at = {}  # change_id -> (bids, asks), best first
        self.messages = 0

    def apply(self, data):
        if data["type"] == "snapshot":
            self.bids = {p: a for _, p, a in data["bids"]}
            self.asks = {p: a for _, p, a in data["asks"]}
        else:
            assert self.change_id is not None, "a change before the snapshot"
            assert data["prev_change_id"] == self.change_id, ("chain broken", self.change_id, data)
            for side, levels in ((self.bids, data["bids"]), (self.asks, data["asks"])):
                for action, price, amount in levels:
                    assert (action == "new") == (price not in side), (action, price, data)
                    if action == "delete":
                        del side[price]
                    else:
                        side[price] = amount
        self.change_id = data["change_id"]
        top_bids = heapq.nlargest(10, self.bids.items())
        top_asks = heapq.nsmallest(10, self.asks.items())
        assert data["checksum"] == book_checksum(top_bids, top_asks, *self.digits), ("checksum", data)
        if self.change_id in self.keep:
            self.at[self.change_id] = self.levels()
        self.messages += 1

    def levels(self):
        return (sorted(self.bids.items(), reverse=True), sorted(self.asks.items()))


async def authed(url, credentials):
    # A close handshake behind a busy stream may take long: not what these checks are about.
    ws = await websockets.connect(url, max_size=None, close_timeout=1)
    client = Client(ws)
    reply = await tg.signed_auth(client, *credentials)
    assert "result" in reply, reply
    return ws, client


async def subscribe(client, channels):
    reply = await client.call("private/subscribe", {"channels": channels})
    assert sorted(reply.get("result", [])) == sorted(channels), reply


async def collect(client, seconds, into):
    """Notifications for `seconds`, appended to into[channel]."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = await client.notification(timeout=left)
        except asyncio.TimeoutError:
            break
        params = message.get("params", {})
        if "channel" in params:
            into.setdefault(params["channel"], []).append(params["data"])


def instruments(server):
    return tg.http_json(f"{server.http}/api/v2/public/get_instruments?currency=BTC")[1]["result"]


def metric(server, name):
    text = tg.http_get(f"{server.http}/metrics")[1]
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


# ---- checks --------------------------------------------------------------------------------------

def same_instruments(a, b):
    on_a = {i["instrument_name"]: i for i in instruments(a)}
    on_b = {i["instrument_name"]: i for i in instruments(b)}
    assert on_a.keys() == on_b.keys(), sorted(on_a.keys() ^ on_b.keys())[:10]
    assert len(on_b) > 10, len(on_b)
    for name, row in on_a.items():
        for key, value in row.items():
            if key != "instrument_id":  # B numbers them itself
                assert on_b[name].get(key) == value, (name, key, value, on_b[name].get(key))


def books_carry_the_chain(a, b, account):
    digits = instrument_digits(next(i for i in instruments(a)
                                    if i["instrument_name"] == "BTC-PERPETUAL"))
    channel = "book.BTC-PERPETUAL.raw"

    async def go():
        ws_a, on_a = await authed(a.ws, account)
        ws_b, on_b = await authed(b.ws, b.demo)
        # A's stream starts a second before B's: it covers B's snapshot even when B (relaying)
        # lags A a little.
        got_a, got_b = {}, {}
        await subscribe(on_a, [channel])
        await collect(on_a, 1, got_a)
        await subscribe(on_b, [channel])
        await asyncio.gather(collect(on_a, 6.5, got_a), collect(on_b, 5, got_b))
        book = (await on_b.call("public/get_order_book",
                                {"instrument_name": "BTC-PERPETUAL", "depth": 1000}))["result"]
        await collect(on_b, 1, got_b)
        snapshot = got_b[channel][0]
        wanted = (snapshot["change_id"], book["change_id"])
        follow_a, follow_b = Follower(digits, wanted), Follower(digits, wanted)
        for data in got_a[channel]:
            follow_a.apply(data)
        for data in got_b[channel]:
            follow_b.apply(data)
        by_id = {d["change_id"]: d for d in got_a[channel]}
        last_a = got_a[channel][-1]["change_id"]
        changes = [d for d in got_b[channel] if d["type"] == "change" and d["change_id"] <= last_a]
        # A's messages, one for one (unless A had to resync this slow Python reader: then the
        # changes A dropped for it cannot be compared).
        a_resynced = any(d.get("resync") for d in got_a[channel])
        matched = 0
        for data in changes:
            theirs = by_id.get(data["change_id"])
            assert theirs is not None or a_resynced, ("not one of A's change_ids", data)
            if theirs is None:
                continue
            for key in ("prev_change_id", "bids", "asks", "checksum", "timestamp"):
                assert data[key] == theirs[key], (key, data, theirs)
            matched += 1
        assert matched >= 10, (matched, len(changes))
        assert snapshot["type"] == "snapshot", snapshot
        assert follow_b.at[snapshot["change_id"]] == follow_a.at[snapshot["change_id"]]
        # get_order_book on B: the book at its change_id, as rebuilt from B's stream and A's.
        at = book["change_id"]
        assert at in follow_b.at, (at, sorted(follow_b.at)[-3:])
        levels = ([tuple(l) for l in book["bids"]], [tuple(l) for l in book["asks"]])
        assert levels == follow_b.at[at] == follow_a.at[at], at
        await ws_a.close()
        await ws_b.close()
    run(go())


def tickers_trades_index_carry_values(a, b, account):
    channels = ["ticker.BTC-PERPETUAL.100ms", "trades.BTC-PERPETUAL.raw",
                "deribit_price_index.btc_usd"]

    async def go():
        ws_a, on_a = await authed(a.ws, account)
        ws_b, on_b = await authed(b.ws, b.demo)
        await subscribe(on_a, channels)
        await subscribe(on_b, channels)
        got_a, got_b = {}, {}

        def compared():
            """(matched tickers, B's trades within A's, B's index prices within A's), each
            compared with A's: B may lag A a little, so what B relays from before our
            subscription to A started (or after it ended) cannot be compared."""
            tickers_a = {t["timestamp"]: t for t in got_a.get(channels[0], [])}
            matched = [t for t in got_b.get(channels[0], []) if t["timestamp"] in tickers_a]
            for t in matched:
                assert t == tickers_a[t["timestamp"]], (t, tickers_a[t["timestamp"]])
            trades_a = {t["trade_id"]: t for batch in got_a.get(channels[1], []) for t in batch}
            trades_b = []
            if trades_a:
                first_seq = min(t["trade_seq"] for t in trades_a.values())
                last_seq = max(t["trade_seq"] for t in trades_a.values())
                trades_b = [t for batch in got_b.get(channels[1], []) for t in batch
                            if first_seq <= t["trade_seq"] <= last_seq]
            for t in trades_b:
                assert t == trades_a.get(t["trade_id"]), (t, trades_a.get(t["trade_id"]))
            index_a = {(i["timestamp"], i["price"]) for i in got_a.get(channels[2], [])}
            index_b = []
            if index_a:
                window = (min(index_a)[0], max(index_a)[0])
                index_b = [(i["timestamp"], i["price"]) for i in got_b.get(channels[2], [])
                           if window[0] <= i["timestamp"] <= window[1]]
            assert all(i in index_a for i in index_b), (index_b[:3], sorted(index_a)[:3])
            return matched, trades_b, index_b

        # 5 s at least, and on until 3 tickers, a trade and an index price were compared (the
        # market's pace varies with the machine's load): at most 30 s.
        start = time.monotonic()
        while True:
            await asyncio.gather(collect(on_a, 1, got_a), collect(on_b, 1, got_b))
            matched, trades_b, index_b = compared()
            enough = len(matched) >= 3 and trades_b and index_b
            if (enough and time.monotonic() - start >= 5) or time.monotonic() - start > 30:
                break
        assert len(matched) >= 3, (len(matched), len(got_b.get(channels[0], [])))
        assert trades_b, "no trade relayed within A's trades"
        assert index_b, "no index price relayed within A's"
        await ws_a.close()
        await ws_b.close()
    run(go())


def surface_fitted_to_option_tickers(b):
    async def go():
        ws, client = await authed(b.ws, b.demo)
        await subscribe(client, ["volsurface.BTC.100ms"])
        surface = (await client.notification(timeout=30))["params"]["data"]
        await ws.close()
        return surface
    surface = run(go())
    assert surface["model"] == "ssvi" and surface["expiries"], surface
    expiry_of = {i["instrument_name"]: i["expiration_timestamp"] for i in instruments(b)}
    summaries = tg.http_json(f"{b.http}/api/v2/public/get_book_summary_by_currency"
                             "?currency=BTC&kind=option")[1]["result"]
    checked = 0
    for e in surface["expiries"]:
        # Within a day of expiry, option prices sit on a few ticks and their IVs scatter too
        # much for one SSVI surface to pass through them (seen at 8 hours: 59 vs 79 points).
        if e["years"] < 1 / 365:
            continue
        options = [s for s in summaries if expiry_of.get(s["instrument_name"]) ==
                   e["expiration_timestamp"] and s.get("mark_iv")]
        if not options:
            continue
        strike = lambda s: float(s["instrument_name"].split("-")[2].replace("d", "."))  # noqa
        atm = min(options, key=lambda s: abs(strike(s) - e["forward"]))
        assert abs(atm["mark_iv"] - e["atm_vol"]) < 5, (e, atm)
        checked += 1
    assert checked >= 2, (checked, surface["expiries"])


def trading_refused(b):
    async def go():
        ws, client = await authed(b.ws, b.demo)
        reply = await client.call("private/buy", {"instrument_name": "BTC-PERPETUAL",
                                                  "amount": 10, "type": "market"})
        assert reply.get("error", {}).get("code") == 13021, reply
        await ws.close()
    run(go())


def serve_exit(*options, config=None):
    """Runs `greekwire serve` expected to fail at start: (exit code, stderr)."""
    data_dir = tempfile.mkdtemp(prefix="gw-relay-")
    args = [harness.greekwire_binary(), "serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir]
    if config is not None:
        path = os.path.join(data_dir, "relay.toml")
        with open(path, "w") as f:
            f.write(config)
        args += ["--config", path]
    proc = subprocess.run([*args, *options], capture_output=True, text=True, timeout=60,
                          env=harness.child_env())
    assert not harness.sanitizer_report(proc.stderr), proc.stderr[-4000:]
    return proc.returncode, proc.stderr


def startup_errors(a, account):
    refused = serve_exit("--upstream", "ws://127.0.0.1:1/ws/api/v2", "--subscribe",
                         "book.BTC-PERPETUAL.raw")
    assert refused[0] == 1 and "Connection refused" in refused[1], refused
    not_found = serve_exit("--upstream", f"ws://127.0.0.1:{a.port}/nope", "--subscribe",
                           "book.BTC-PERPETUAL.raw")
    assert not_found[0] == 1 and "404" in not_found[1], not_found
    wrong = serve_exit("--upstream", a.ws, "--upstream-auth", f"{account[0]}:wrong",
                       "--subscribe", "book.BTC-PERPETUAL.raw")
    assert wrong[0] == 1 and "authentication failed" in wrong[1] and "13004" in wrong[1], wrong
    unrelayable = serve_exit("--upstream", a.ws, "--subscribe", "volsurface.BTC.100ms")
    assert unrelayable[0] == 2 and "volsurface.BTC.100ms" in unrelayable[1], unrelayable
    alone = serve_exit("--subscribe", "book.BTC-PERPETUAL.raw")
    assert alone[0] == 2 and "--upstream" in alone[1], alone
    # The config file's [upstream]: a bad key is named with its line; a good one relays (here:
    # raw channels without credentials, refused by the upstream, is a start failure).
    bad = serve_exit(config='[upstream]\nurl = "ws://x"\nencoding = "cbor"\n')
    assert bad[0] == 2 and ":3:" in bad[1] and "upstream.encoding" in bad[1], bad
    unauthorized = serve_exit(config=f'[upstream]\nurl = "{a.ws}"\n'
                                     'subscribe = ["book.BTC-PERPETUAL.raw"]\n')
    assert unauthorized[0] == 1 and "13778" in unauthorized[1], unauthorized


def upstream_restart(a, b, account, restart):
    """Kills A, restarts it on the same port: B's book subscribers get a resync snapshot each,
    and nothing that breaks their chain in between."""
    names = ["BTC-PERPETUAL"] + [i["instrument_name"] for i in instruments(a)
                                 if i["kind"] == "option"][:1]
    digits = {i["instrument_name"]: instrument_digits(i) for i in instruments(a)}
    channels = ["book.BTC-PERPETUAL.raw", "book.BTC-PERPETUAL.100ms", f"book.{names[1]}.100ms"]

    async def go():
        ws, client = await authed(b.ws, b.demo)
        await subscribe(client, channels)
        follow = {c: Follower(digits[c.split(".")[1]]) for c in channels}
        resynced = {}

        async def drain(seconds):
            got = {}
            await collect(client, seconds, got)
            for channel, messages in got.items():
                for data in messages:
                    follow[channel].apply(data)  # chain and checksum, snapshots included
                    if data.get("resync"):
                        assert data["type"] == "snapshot", data
                        resynced.setdefault(channel, follow[channel].messages)

        await drain(2)
        assert all(f.messages >= 1 for f in follow.values()), {c: f.messages for c, f in follow.items()}
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait()
        await drain(1.5)
        assert not resynced, resynced  # nothing to resync from yet
        restart()
        deadline = time.monotonic() + 40
        # The perpetual's books change often: their chains must go on after the resync; the
        # option's may be quiet, its resync snapshot is enough.
        busy = channels[:2]

        def done():
            return set(resynced) == set(channels) and all(
                follow[c].messages >= resynced[c] + 2 for c in busy)

        while time.monotonic() < deadline and not done():
            await drain(1)
        assert done(), (resynced, {c: f.messages for c, f in follow.items()})
        await ws.close()
    run(go())
    assert metric(b, "greekwire_relay_lost_periods_total") == 1
    assert metric(b, "greekwire_relay_reconnects_total") == 1
    assert metric(b, "greekwire_relay_upstream_connected") == 1


def main():
    harness.greekwire_binary()
    with Serve() as a:
        account = tg.new_account(a, "relay")
        port, data_dir = a.port, a.data_dir
        options = ["--upstream", a.ws, "--upstream-auth", f"{account[0]}:{account[1]}",
                   "--subscribe", *PATTERNS]
        with Serve(*options) as b:
            state = {"a": a}

            def restart():
                state["a"] = Restarted(listen=f"127.0.0.1:{port}", data_dir=data_dir).__enter__()

            try:
                return harness.run_checks([
                    ("get_instruments on B: A's BTC instruments, same specifications",
                     lambda: same_instruments(a, b)),
                    ("book.BTC-PERPETUAL.raw on B: A's chain, levels and checksums; "
                     "get_order_book agrees", lambda: books_carry_the_chain(a, b, account)),
                    ("ticker, trades, index on B carry A's values",
                     lambda: tickers_trades_index_carry_values(a, b, account)),
                    ("volsurface.BTC on B: fitted to the option tickers",
                     lambda: surface_fitted_to_option_tickers(b)),
                    ("private/buy on B: 13021", lambda: trading_refused(b)),
                    ("start failures: refused, 404, bad credentials, bad patterns, config",
                     lambda: startup_errors(a, account)),
                    ("A killed and restarted: resync snapshots on B, no silent gap",
                     lambda: upstream_restart(a, b, account, restart)),
                    ("B: SIGTERM -> exit 0, clean stderr", b.stop),
                    ("A (restarted): SIGTERM -> exit 0", lambda: state["a"].stop()),
                ])
            finally:
                if state["a"] is not a:
                    state["a"].__exit__(None, None, None)


if __name__ == "__main__":
    sys.exit(main())
