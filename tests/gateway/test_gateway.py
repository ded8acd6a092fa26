#!/usr/bin/python3
"""`greekwire serve` against Python websockets, urllib and python3-msgpack (independent peers).

- public methods over WebSocket and their HTTP twins (GET with a query, POST with a body) give
  the same results; result shapes follow Deribit's (field names, types);
- error semantics: non-JSON text -> 11050 without id and the socket stays open; unknown method
  -> -32601 with the id echoed exactly (string and integer ids); missing/invalid params ->
  -32602 naming the parameter; raw channels without auth -> 13778; invalid channels left out;
- book.{instrument}.100ms: snapshot then changes whose prev_change_id chains, every message's
  checksum verified by recomputing it from the reconstructed book (docs/PROTOCOL.md), and the
  reconstructed book agrees with public/get_order_book;
- ticker, trades and index channels flow; grouped book views respect depth;
- the msgpack subprotocol: binary frames that decode to the same trees as the JSON ones;
- heartbeats: test_request arrives after set_heartbeat, an unanswered one closes with 4000;
- HTTP: /healthz, /metrics (Prometheus), 404 for unknown API paths, the 101 only at /ws/api/v2;
- SIGTERM -> exit 0 and a clean stderr (sanitizers).

Usage: test_gateway.py PATH_TO_GREEKWIRE
"""

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import harness  # noqa: E402

websockets = harness.require_module("websockets")
msgpack = harness.require_module("msgpack")

TIMEOUT = 60


class Serve:
    """`greekwire serve --listen 127.0.0.1:0` as a context manager, with its own data dir; keeps
    the banner's lines (up to the demo account's, on a first start) in `banner`."""

    def __init__(self, *options, listen="127.0.0.1:0", data_dir=None):
        self.options = [str(o) for o in options]
        self.listen = listen
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="gw-serve-")

    def __enter__(self):
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [harness.greekwire_binary(), "serve", "--listen", self.listen, "--data-dir",
             self.data_dir, *self.options],
            stdout=subprocess.PIPE, stderr=self.stderr, env=harness.child_env(),
            preexec_fn=harness.die_with_parent, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on ws://"):
            self.proc.kill()
            raise AssertionError(f"unexpected first line {line!r}: {self.stderr_text()}")
        self.port = int(line.rsplit(":", 1)[1].split("/")[0])
        self.banner = [line]
        self.demo = None
        for _ in range(8):  # the banner: the demo account's credentials on first start
            text = self.proc.stdout.readline()
            self.banner.append(text.strip())
            if "demo account created" in text:
                words = text.split()
                self.demo = (words[words.index("client_id") + 1],
                             words[words.index("client_secret") + 1])
                break
        threading.Thread(target=lambda: self.proc.stdout.read(), daemon=True).start()
        self.ws = f"ws://127.0.0.1:{self.port}/ws/api/v2"
        self.http = f"http://127.0.0.1:{self.port}"
        return self

    def stderr_text(self):
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(20)
        err = self.stderr_text()
        assert rc == 0, f"exit code {rc}: {err[-3000:]}"
        assert not harness.sanitizer_report(err), err[-6000:]

    def __exit__(self, exc_type, *_):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if exc_type is not None:
            print(self.stderr_text()[-4000:], file=sys.stderr)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT))


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def http_post(url, body):
    request = urllib.request.Request(url, data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def basic_authorization(credentials):
    """The Authorization header of HTTP Basic for (client_id, client_secret)."""
    token = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()
    return f"Basic {token}"


def http_json(url, body=None, headers=None):
    """GET `url` (or POST the JSON text `body`); returns (status, parsed JSON), errors too."""
    headers = dict(headers or {})
    if body:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=body.encode() if body else None,
                                     method="POST" if body else "GET", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def run_checks_on_serve(checks, *options):
    """Runs `checks`, (name, function of the server) pairs, against one `greekwire serve
    OPTIONS` with its demo account, then stops it: SIGTERM -> exit 0, clean stderr."""
    harness.greekwire_binary()
    with Serve(*options) as server:
        assert server.demo, "serve did not print the demo account's credentials"
        return harness.run_checks(
            [(name, lambda check=check: check(server)) for name, check in checks] +
            [("SIGTERM -> exit 0, clean stderr", server.stop)])


class Client:
    """A JSON-RPC client over one WebSocket: requests by id, notifications queued."""

    def __init__(self, ws, binary=False):
        self.ws, self.binary, self.next_id = ws, binary, 1
        self.notifications = asyncio.Queue()
        self.responses = {}
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        async for raw in self.ws:
            message = msgpack.unpackb(raw) if isinstance(raw, bytes) else json.loads(raw)
            if "id" in message:
                self.responses[json.dumps(message["id"])].set_result(message)
            elif message.get("method") in ("subscription", "heartbeat"):
                await self.notifications.put(message)
            else:
                self.responses.setdefault("null", asyncio.get_event_loop().create_future())
                self.responses["null"].set_result(message)

    async def call(self, method, params=None, request_id=None):
        if request_id is None:
            request_id = self.next_id
            self.next_id += 1
        future = asyncio.get_event_loop().create_future()
        self.responses[json.dumps(request_id)] = future
        await self.ws.send(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method,
                                       "params": params or {}}))
        return await asyncio.wait_for(future, 10)

    async def raw(self, text):
        future = asyncio.get_event_loop().create_future()
        self.responses["null"] = future
        await self.ws.send(text)
        return await asyncio.wait_for(future, 10)

    async def notification(self, timeout=10):
        return await asyncio.wait_for(self.notifications.get(), timeout)


def digits(value):
    text = repr(float(value))
    return 0 if text.endswith(".0") else len(text.split(".")[1])


def book_checksum(bids, asks, price_digits, amount_digits):
    parts = []
    for i in range(max(len(bids[:10]), len(asks[:10]))):
        for side in (bids, asks):
            if i < len(side[:10]):
                price, amount = side[i]
                parts += [f"{price:.{price_digits}f}", f"{amount:.{amount_digits}f}"]
    return zlib.crc32(":".join(parts).encode("ascii"))


def instrument_digits(instrument):
    ticks = [instrument["tick_size"]] + [s["tick_size"] for s in instrument["tick_size_steps"]]
    return max(digits(t) for t in ticks), digits(instrument["min_trade_amount"])


# --- checks ----------------------------------------------------------------------------------

def public_methods(server):
    async def go():
        async with websockets.connect(server.ws) as ws:
            c = Client(ws)
            test = await c.call("public/test")
            assert "version" in test["result"], test
            for field in ("usIn", "usOut", "usDiff"):
                assert isinstance(test[field], int), test
            now = (await c.call("public/get_time"))["result"]
            assert abs(now - time.time() * 1000) < 60_000, now
            status = (await c.call("public/status"))["result"]
            assert status["locked"] == "false", status
            currencies = (await c.call("public/get_currencies"))["result"]
            assert [x["currency"] for x in currencies] == ["BTC", "ETH"], currencies
            for currency in ("BTC", "ETH"):
                futures = (await c.call("public/get_instruments",
                                        {"currency": currency, "kind": "future"}))["result"]
                names = [f["instrument_name"] for f in futures]
                assert f"{currency}-PERPETUAL" in names and len(names) >= 3, names
                options = (await c.call("public/get_instruments",
                                        {"currency": currency, "kind": "option"}))["result"]
                expiries = {o["expiration_timestamp"] for o in options}
                assert len(options) >= 100 and len(expiries) >= 6, (len(options), len(expiries))
                for o in options[:20]:
                    assert o["kind"] == "option" and o["option_type"] in ("call", "put"), o
                    assert o["expiration_timestamp"] % 86_400_000 == 8 * 3_600_000, o
                    assert o["instrument_name"].endswith("-C" if o["option_type"] == "call"
                                                         else "-P"), o
            one = (await c.call("public/get_instrument",
                                {"instrument_name": "BTC-PERPETUAL"}))["result"]
            assert one["instrument_name"] == "BTC-PERPETUAL" and one["settlement_period"] == \
                "perpetual", one
            index = (await c.call("public/get_index_price", {"index_name": "btc_usd"}))["result"]
            assert index["index_price"] > 1000, index
            book = (await c.call("public/get_order_book",
                                 {"instrument_name": "BTC-PERPETUAL", "depth": 5}))["result"]
            assert 0 < len(book["bids"]) <= 5 and 0 < len(book["asks"]) <= 5, book
            assert book["bids"][0][0] < book["asks"][0][0], book
            assert book["best_bid_price"] == book["bids"][0][0], book
            ticker = (await c.call("public/ticker", {"instrument_name": options[0]
                                                     ["instrument_name"]}))["result"]
            for field in ("mark_price", "mark_iv", "greeks", "underlying_price", "index_price",
                          "best_bid_price", "best_ask_price", "open_interest", "stats"):
                assert field in ticker, (field, ticker)
            for greek in ("delta", "gamma", "vega", "theta", "rho"):
                assert greek in ticker["greeks"], ticker
    run(go())


def http_twins(server):
    async def ws_results():
        async with websockets.connect(server.ws) as ws:
            c = Client(ws)
            return [(await c.call(m, p))["result"] for m, p in (
                ("public/get_instruments", {"currency": "ETH", "kind": "future"}),
                ("public/get_instrument", {"instrument_name": "ETH-PERPETUAL"}),
                ("public/get_currencies", {}))]
    over_ws = run(ws_results())
    status, body = http_get(f"{server.http}/api/v2/public/get_instruments?currency=ETH&kind=future")
    assert status == 200, (status, body)
    assert json.loads(body)["result"] == over_ws[0]
    status, body = http_get(f"{server.http}/api/v2/public/get_instrument?"
                            "instrument_name=ETH-PERPETUAL")
    assert status == 200 and json.loads(body)["result"] == over_ws[1], body
    status, body = http_post(f"{server.http}/api/v2/public/get_currencies",
                             json.dumps({"jsonrpc": "2.0", "id": 7,
                                         "method": "public/get_currencies"}))
    reply = json.loads(body)
    assert status == 200 and reply["id"] == 7 and reply["result"] == over_ws[2], body
    status, body = http_get(f"{server.http}/api/v2/public/nope")
    assert status == 400 and json.loads(body)["error"]["code"] == -32601, (status, body)
    status, body = http_get(f"{server.http}/api/v2/public/get_instruments")
    error = json.loads(body)["error"]
    assert status == 400 and error["code"] == -32602 and error["data"]["param"] == "currency", body
    status, _ = http_get(f"{server.http}/api/v2/other/x")
    assert status == 404, status


def error_semantics(server):
    async def go():
        async with websockets.connect(server.ws) as ws:
            c = Client(ws)
            bad = await c.raw("this is not json")
            assert "id" not in bad and bad["error"]["code"] == 11050, bad
            assert bad["error"]["data"] == "invalid json", bad
            unknown = await c.call("public/nope", request_id="abc")
            assert unknown["id"] == "abc" and unknown["error"]["code"] == -32601, unknown
            unknown = await c.call("public/nope", request_id=2**40)
            assert unknown["id"] == 2**40, unknown
            missing = await c.call("public/get_order_book", {})
            assert missing["error"]["code"] == -32602, missing
            assert missing["error"]["data"]["param"] == "instrument_name", missing
            wrong = await c.call("public/get_order_book", {"instrument_name": 5})
            assert wrong["error"]["code"] == -32602, wrong
            raw = await c.call("public/subscribe", {"channels": ["book.BTC-PERPETUAL.raw"]})
            assert raw["error"]["code"] == 13778, raw
            mixed = await c.call("public/subscribe", {"channels": [
                "book.NOPE.100ms", "nonsense", "ticker.BTC-PERPETUAL.100ms",
                "user.orders.any.any.raw"]})
            assert mixed["result"] == ["ticker.BTC-PERPETUAL.100ms"], mixed
            again = await c.call("public/subscribe", {"channels": ["ticker.BTC-PERPETUAL.100ms"]})
            assert again["result"] == ["ticker.BTC-PERPETUAL.100ms"], again
            gone = await c.call("public/unsubscribe", {"channels": ["ticker.BTC-PERPETUAL.100ms",
                                                                   "never.subscribed"]})
            assert gone["result"] == ["ticker.BTC-PERPETUAL.100ms"], gone
            # The socket survived all of it.
            assert "version" in (await c.call("public/test"))["result"]
    run(go())


def book_integrity(server):
    async def go():
        async with websockets.connect(server.ws, max_size=None) as ws:
            c = Client(ws)
            instruments = (await c.call("public/get_instruments", {"currency": "BTC"}))["result"]
            by_name = {i["instrument_name"]: i for i in instruments}
            names = ["BTC-PERPETUAL"] + [i["instrument_name"] for i in instruments
                                         if i["kind"] == "option"][:3]
            channels = [f"book.{n}.100ms" for n in names]
            result = await c.call("public/subscribe", {"channels": channels})
            assert sorted(result["result"]) == sorted(channels), result
            books, last, checked = {}, {}, 0
            deadline = time.monotonic() + 6
            while time.monotonic() < deadline:
                data = (await c.notification())["params"]["data"]
                name = data["instrument_name"]
                if data["type"] == "snapshot":
                    assert name not in last, f"second snapshot for {name}"
                    books[name] = ({p: a for _, p, a in data["bids"]},
                                   {p: a for _, p, a in data["asks"]})
                else:
                    assert last.get(name) == data["prev_change_id"], (name, last.get(name), data)
                    for side, levels in zip(books[name], (data["bids"], data["asks"])):
                        for action, price, amount in levels:
                            assert (action == "new") == (price not in side), (action, price)
                            if action == "delete":
                                assert amount == 0
                                del side[price]
                            else:
                                side[price] = amount
                last[name] = data["change_id"]
                bids = sorted(books[name][0].items(), reverse=True)
                asks = sorted(books[name][1].items())
                if bids and asks:
                    assert bids[0][0] < asks[0][0], f"crossed book {name}"
                want = book_checksum(bids, asks, *instrument_digits(by_name[name]))
                assert data["checksum"] == want, (name, data["checksum"], want)
                checked += 1
            assert checked >= 10 and len(last) == len(names), (checked, last)
            # The reconstruction agrees with a fresh query of the book, level by level (the
            # query is answered between two events; compare when no change is in flight).
            book = (await c.call("public/get_order_book",
                                 {"instrument_name": "BTC-PERPETUAL", "depth": 1000}))["result"]
            assert book["checksum"] == book_checksum(
                book["bids"], book["asks"], *instrument_digits(by_name["BTC-PERPETUAL"])), book
    run(go())


def live_channels(server):
    async def go():
        async with websockets.connect(server.ws) as ws:
            c = Client(ws)
            channels = ["ticker.BTC-PERPETUAL.100ms", "trades.future.BTC.100ms",
                        "deribit_price_index.btc_usd", "book.BTC-PERPETUAL.none.10.100ms",
                        "book.ETH-PERPETUAL.5.1.100ms"]
            result = await c.call("public/subscribe", {"channels": channels})
            assert sorted(result["result"]) == sorted(channels), result
            seen = {}
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline and len(seen) < len(channels):
                message = await c.notification()
                seen.setdefault(message["params"]["channel"], message["params"]["data"])
            assert set(seen) == set(channels), sorted(seen)
            assert seen["deribit_price_index.btc_usd"]["index_name"] == "btc_usd"
            trades = seen["trades.future.BTC.100ms"]
            assert isinstance(trades, list) and trades[0]["direction"] in ("buy", "sell"), trades
            assert trades[0]["trade_id"].startswith("BTC-"), trades
            grouped = seen["book.BTC-PERPETUAL.none.10.100ms"]
            assert len(grouped["bids"]) <= 10 and len(grouped["bids"][0]) == 2, grouped
            top = seen["book.ETH-PERPETUAL.5.1.100ms"]
            assert len(top["bids"]) <= 1 and len(top["asks"]) <= 1, top
            for price, _ in top["bids"] + top["asks"]:
                assert abs(price / 5 - round(price / 5)) < 1e-9, top
    run(go())


def msgpack_encoding(server):
    async def go():
        async with websockets.connect(server.ws) as plain, \
                websockets.connect(server.ws, subprotocols=["msgpack"]) as packed:
            assert packed.subprotocol == "msgpack", packed.subprotocol
            a, b = Client(plain), Client(packed, binary=True)
            params = {"currency": "BTC", "kind": "future"}
            ja = (await a.call("public/get_instruments", params))["result"]
            mb = (await b.call("public/get_instruments", params))["result"]
            assert ja == mb, "msgpack tree differs from JSON"
            channel = "deribit_price_index.eth_usd"
            await b.call("public/subscribe", {"channels": [channel]})
            note = await b.notification()
            assert note["params"]["channel"] == channel and note["params"]["data"]["price"] > 0
    run(go())


def heartbeats(server):
    async def answering():
        async with websockets.connect(server.ws) as ws:
            c = Client(ws)
            assert (await c.call("public/set_heartbeat", {"interval": 10}))["result"] == "ok"
            message = await c.notification(timeout=15)
            assert message["method"] == "heartbeat", message
            assert message["params"]["type"] == "test_request", message
            await c.call("public/test")
            too_short = await c.call("public/set_heartbeat", {"interval": 5})
            assert too_short["error"]["code"] == -32602, too_short

    async def silent():
        async with websockets.connect(server.ws) as ws:
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "public/set_heartbeat",
                                      "params": {"interval": 10}}))
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), 30)
            except websockets.exceptions.ConnectionClosed as e:
                assert e.rcvd is not None and e.rcvd.code == 4000, e
                return
            raise AssertionError("not closed")

    async def both():
        await asyncio.gather(answering(), silent())
    run(both())


def new_account(server, name):
    proc = subprocess.run([harness.greekwire_binary(), "keys", "add", "--account", name, "--json",
                           "--data-dir", server.data_dir], capture_output=True, text=True,
                          timeout=30, env=harness.child_env())
    assert proc.returncode == 0, proc.stderr
    keys = json.loads(proc.stdout)
    return keys["client_id"], keys["client_secret"]


async def client_credentials_auth(client, credentials):
    """public/auth with grant_type client_credentials: (client_id, client_secret) must be
    granted; returns the grant."""
    granted = await client.call("public/auth", {"grant_type": "client_credentials",
                                                "client_id": credentials[0],
                                                "client_secret": credentials[1]})
    assert "result" in granted, granted
    return granted["result"]


async def logged_in(server, credentials):
    """A new WebSocket to `server` and its Client, authenticated with client_credentials."""
    ws = await websockets.connect(server.ws)
    client = Client(ws)
    await client_credentials_auth(client, credentials)
    return ws, client


async def signed_auth(client, client_id, secret):
    import hashlib
    import hmac
    ts = int(time.time() * 1000)
    nonce = os.urandom(8).hex()
    signature = hmac.new(secret.encode(), f"{ts}\n{nonce}\n".encode(), hashlib.sha256).hexdigest()
    return await client.call("public/auth", {"grant_type": "client_signature",
                                             "client_id": client_id, "timestamp": ts,
                                             "nonce": nonce, "data": "", "signature": signature})


def trading(server):
    assert server.demo, "serve did not print the demo account's credentials"
    bob = new_account(server, "bob")

    async def go():
        async with websockets.connect(server.ws) as a_ws, websockets.connect(server.ws) as b_ws:
            alice, bob_client = Client(a_ws), Client(b_ws)
            refused = await alice.call("private/get_positions", {"currency": "BTC"})
            assert refused["error"]["code"] == 13009, refused
            wrong = await alice.call("public/auth", {"grant_type": "client_credentials",
                                                     "client_id": server.demo[0],
                                                     "client_secret": "wrong"})
            assert wrong["error"]["code"] == 13004, wrong
            granted = await signed_auth(alice, *server.demo)
            assert "trade:read_write" in granted["result"]["scope"], granted
            assert granted["result"]["token_type"] == "bearer", granted
            token = (await bob_client.call("public/auth", {
                "grant_type": "client_credentials", "client_id": bob[0],
                "client_secret": bob[1]}))["result"]["access_token"]
            subscribed = await alice.call("private/subscribe",
                                          {"channels": ["user.orders.BTC-PERPETUAL.raw"]})
            assert subscribed["result"] == ["user.orders.BTC-PERPETUAL.raw"], subscribed
            book = (await alice.call("public/get_order_book",
                                     {"instrument_name": "BTC-PERPETUAL", "depth": 1}))["result"]
            far = book["best_bid_price"] - 5000
            placed = await alice.call("private/buy", {"instrument_name": "BTC-PERPETUAL",
                                                      "amount": 20, "price": far,
                                                      "label": "mine"})
            order = placed["result"]["order"]
            assert order["order_state"] == "open" and order["label"] == "mine", placed
            note = await alice.notification()
            assert note["params"]["channel"] == "user.orders.BTC-PERPETUAL.raw", note
            assert note["params"]["data"]["order_id"] == order["order_id"], note
            # Bob can neither see nor cancel Alice's order.
            hidden = await bob_client.call("private/get_order_state",
                                           {"order_id": order["order_id"],
                                            "access_token": token})
            assert hidden["error"]["code"] == 10004, hidden
            denied = await bob_client.call("private/cancel", {"order_id": order["order_id"]})
            assert "error" in denied, denied
            mine = await alice.call("private/get_order_state", {"order_id": order["order_id"]})
            assert mine["result"]["order_state"] == "open", mine
            bad_tick = await alice.call("private/buy", {"instrument_name": "BTC-PERPETUAL",
                                                        "amount": 20, "price": far + 0.25})
            assert bad_tick["error"]["code"] == 10043, bad_tick
            bad_amount = await alice.call("private/buy", {"instrument_name": "BTC-PERPETUAL",
                                                          "amount": 15, "price": far})
            assert bad_amount["error"]["code"] == 10021, bad_amount
            cancelled = await alice.call("private/cancel", {"order_id": order["order_id"]})
            assert cancelled["result"]["order_state"] == "cancelled", cancelled
            taken = await alice.call("private/buy", {"instrument_name": "BTC-PERPETUAL",
                                                     "amount": 10, "type": "market"})
            assert taken["result"]["order"]["order_state"] == "filled", taken
            assert taken["result"]["trades"][0]["liquidity"] == "T", taken
            positions = (await alice.call("private/get_positions",
                                          {"currency": "BTC"}))["result"]
            perp = [p for p in positions if p["instrument_name"] == "BTC-PERPETUAL"]
            assert perp and perp[0]["size"] == 10, positions
            summary = (await alice.call("private/get_account_summary",
                                        {"currency": "BTC"}))["result"]
            assert summary["currency"] == "BTC" and 9 < summary["equity"] <= 10.01, summary
            bob_positions = (await bob_client.call("private/get_positions",
                                                   {"currency": "BTC"}))["result"]
            assert all(p["size"] == 0 for p in bob_positions), bob_positions
    run(go())


def limits(server):
    async def flood():
        async with websockets.connect(server.ws) as ws:
            # The non-matching pool holds 100 requests (50,000 credits at 500 each).
            for i in range(150):
                await ws.send(json.dumps({"jsonrpc": "2.0", "id": i, "method": "public/test"}))
            codes = []
            try:
                while True:
                    reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    codes.append(reply.get("error", {}).get("code"))
            except websockets.exceptions.ConnectionClosed as e:
                assert e.rcvd is not None and e.rcvd.code == 1008, e
            assert codes.count(None) >= 90 and 10028 in codes, codes

    async def too_many():
        sockets = [await websockets.connect(server.ws) for _ in range(32)]
        try:
            try:
                extra = await websockets.connect(server.ws)
                await extra.close()
                raise AssertionError("the 33rd connection was accepted")
            except websockets.exceptions.InvalidStatusCode as e:
                assert e.status_code == 429, e
        finally:
            for ws in sockets:
                await ws.close()
        await asyncio.sleep(0.2)
        async with websockets.connect(server.ws) as ws:  # slots come back
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "public/test"}))
            assert "result" in json.loads(await ws.recv())
    run(flood())
    run(too_many())


def http_endpoints(server):
    status, body = http_get(f"{server.http}/healthz")
    assert status == 200 and body.strip() == "ok", (status, body)
    status, body = http_get(f"{server.http}/metrics")
    assert status == 200, status
    for metric in ("greekwire_connections", "greekwire_requests_total",
                   'greekwire_messages_out_total{encoding="json"}', "greekwire_subscriptions",
                   "greekwire_venue_events_total", "greekwire_request_latency_seconds_bucket"):
        assert metric in body, metric
    status, body = http_get(f"{server.http}/")
    assert status == 200 and "greekwire" in body, status

    async def wrong_path():
        try:
            async with websockets.connect(f"ws://127.0.0.1:{server.port}/elsewhere"):
                pass
        except websockets.exceptions.InvalidStatusCode as e:
            assert e.status_code == 404, e
            return
        raise AssertionError("upgrade accepted outside /ws/api/v2")
    run(wrong_path())


def main():
    harness.greekwire_binary()
    with Serve() as server:
        return harness.run_checks([
            ("public methods over WebSocket", lambda: public_methods(server)),
            ("HTTP twins (GET query, POST body) equal the WebSocket results",
             lambda: http_twins(server)),
            ("errors: non-JSON, unknown method, params, raw without auth, bad channels",
             lambda: error_semantics(server)),
            ("book.*.100ms: snapshot, prev_change_id chain, every checksum",
             lambda: book_integrity(server)),
            ("ticker, trades, index and grouped book channels", lambda: live_channels(server)),
            ("msgpack subprotocol decodes to the JSON trees", lambda: msgpack_encoding(server)),
            ("auth, order entry, ownership, positions, user.orders", lambda: trading(server)),
            ("rate limit: 10028 then close; 33rd connection from one IP: 429",
             lambda: limits(server)),
            ("heartbeat: test_request, 4000 when unanswered", lambda: heartbeats(server)),
            ("/healthz, /metrics, /, upgrade only at /ws/api/v2", lambda: http_endpoints(server)),
            ("SIGTERM -> exit 0, clean stderr", server.stop),
        ])


if __name__ == "__main__":
    sys.exit(main())
