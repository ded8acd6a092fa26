#!/usr/bin/python3
"""The `protobuf` subprotocol of `greekwire serve`, decoded by python3-protobuf (an independent
decoder) from classes that protoc generates at test time out of proto/greekwire.proto.

Each binary frame is an Envelope; google.protobuf.json_format turns it into a dict, and the JSON
mapping of greekwire.proto's header (json_array messages are arrays, choice members take their
oneof's name, `_text` alternatives their field's, null and [] are absent) turns that into the
tree a JSON client gets. Two connections, one JSON and one protobuf, must then see the same
trees, field by field:

- every public and private method's result and the errors (same request on both connections;
  a market-dependent result is retried until both land between the same two events): queries
  (open orders, trade pages, book summaries, a position, the risk matrix with and without its
  breakdown), cancel-on-disconnect's settings, forked and exchanged tokens, and the account
  summary's per-index maps (map<string, double>, printed by json_format as the same object);
- every channel kind: the JSON connection subscribes first, so every protobuf notification but a
  subscriber's own snapshot has an identical JSON twin (book, grouped book, ticker, trades,
  index, mark prices, volsurface, chain blocks, user orders (raw and list), user trades,
  portfolio);
- heartbeats arrive as envelopes; a binary request is answered with 11050 and the socket stays
  open; /metrics counts protobuf messages; SIGTERM exits 0 with a clean stderr.

Usage: test_protobuf.py PATH_TO_GREEKWIRE (environment: GW_PROTOC, GW_PROTOBUF_INCLUDE)
"""

import asyncio
import importlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))
import harness  # noqa: E402
from test_gateway import Serve, http_get, new_account, run, signed_auth  # noqa: E402
from test_tokens import account_id  # noqa: E402

websockets = harness.require_module("websockets")
harness.require_module("google.protobuf")
from google.protobuf import json_format  # noqa: E402
from google.protobuf.descriptor import FieldDescriptor  # noqa: E402

PROTO = os.path.normpath(os.path.join(HERE, "..", "..", "proto", "greekwire.proto"))
INT64_TYPES = {FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT64,
               FieldDescriptor.TYPE_SINT64, FieldDescriptor.TYPE_FIXED64,
               FieldDescriptor.TYPE_SFIXED64}
FLOAT_TYPES = {FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT}
TIMING = ("usIn", "usOut", "usDiff")
pb = None  # greekwire_pb2, compiled by main()


def compile_schema():
    protoc = os.environ.get("GW_PROTOC") or shutil.which("protoc")
    if not protoc:
        print("SKIP: protoc is not installed (protobuf-compiler)")
        sys.exit(harness.SKIP)
    include = os.environ.get("GW_PROTOBUF_INCLUDE", "/usr/include")
    out = tempfile.mkdtemp(prefix="gw-protobuf-")
    subprocess.run([protoc, f"--python_out={out}", f"-I{os.path.dirname(PROTO)}",
                    f"-I{include}", PROTO], check=True)
    sys.path.insert(0, out)
    return importlib.import_module("greekwire_pb2")


# --- greekwire.proto's JSON mapping, backwards ---------------------------------------------------

def real_oneof(field):
    """The field's oneof, unless it is proto3 `optional`'s synthetic one."""
    oneof = field.containing_oneof
    if oneof is None or (len(oneof.fields) == 1 and oneof.name == "_" + field.name):
        return None
    return oneof


def is_alternative(field):
    oneof = real_oneof(field)
    base = field.name[:-5]
    return (oneof is not None and field.name.endswith("_text")
            and any(f.name == base for f in oneof.fields))


def is_choice(oneof):
    return (oneof is not None and oneof.name not in oneof.containing_type.fields_by_name
            and not any(is_alternative(f) for f in oneof.fields))


def key_of(field):
    oneof = real_oneof(field)
    if is_choice(oneof):
        return oneof.name
    return field.name[:-5] if is_alternative(field) else field.name


def is_map(field):
    return (field.type == FieldDescriptor.TYPE_MESSAGE
            and field.message_type.GetOptions().map_entry)


def scalar(value, field):
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return from_dict(value, field.message_type)
    if field.type in INT64_TYPES:
        return int(value)  # json_format writes 64-bit integers as strings
    if field.type in FLOAT_TYPES:
        return None if value == "NaN" else float(value)
    if field.name.endswith("_json") and is_choice(real_oneof(field)):
        return json.loads(value)
    return value


def from_dict(value, descriptor):
    """A json_format dict of `descriptor` as the JSON encoding's tree."""
    if descriptor.GetOptions().Extensions[pb.json_array]:
        out = []
        for field in descriptor.fields:
            if field.label == FieldDescriptor.LABEL_REPEATED:
                out.extend(scalar(v, field) for v in value.get(field.name, []))
            else:
                out.append(scalar(value[field.name], field) if field.name in value else None)
        return out
    out = {}
    for field in descriptor.fields:
        if field.name not in value:
            continue
        if is_map(field):  # json_format prints a map as the JSON object it stands for
            value_field = field.message_type.fields_by_name["value"]
            out[field.name] = {k: scalar(v, value_field) for k, v in value[field.name].items()}
        elif field.label == FieldDescriptor.LABEL_REPEATED:
            out[key_of(field)] = [scalar(v, field) for v in value[field.name]]
        else:
            out[key_of(field)] = scalar(value[field.name], field)
    return out


def decode(raw):
    if isinstance(raw, str):
        raise AssertionError(f"a text frame on the protobuf connection: {raw[:200]}")
    envelope = pb.Envelope()
    envelope.ParseFromString(raw)
    # Every result and notification has a typed member: the JSON-text fallbacks mean the schema
    # lags behind the gateway (a release build falls back instead of aborting).
    untyped = envelope.WhichOneof("result") == "result_json" or (
        envelope.HasField("params") and envelope.params.WhichOneof("data") == "data_json")
    assert not untyped, f"an untyped message: {envelope}"
    tree = json_format.MessageToDict(envelope, preserving_proto_field_name=True)
    return from_dict(tree, pb.Envelope.DESCRIPTOR)


def canon(value):
    """What both encodings must agree on: null, [] and {} members are absent (an empty map is
    an absent one on the wire), NaN is null, 21.0 is 21 (JSON prints integral doubles without
    the point)."""
    if isinstance(value, dict):
        members = {k: canon(v) for k, v in value.items()}
        return {k: v for k, v in members.items() if v is not None and v != [] and v != {}}
    if isinstance(value, list):
        return [canon(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) else int(value) if value.is_integer() else value
    return value


def text(value):
    return json.dumps(canon(value), sort_keys=True)


def difference(a, b, path="$"):
    """The first difference between two canonical trees, or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}.{k}: only in {'JSON' if k in a else 'protobuf'}"
            d = difference(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} elements in JSON, {len(b)} in protobuf"
        for i, (x, y) in enumerate(zip(a, b)):
            d = difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if json.dumps(a) == json.dumps(b) else f"{path}: {a!r} != {b!r}"


def without_timing(message):
    message = dict(message)
    for key in TIMING:
        if key in message:
            assert isinstance(message.pop(key), int), (key, message)
    return message


# --- clients ---------------------------------------------------------------------------------------

class Client:
    """JSON-RPC over one WebSocket: responses by id, notifications logged and queued."""

    def __init__(self, ws, decoder=json.loads):
        self.ws, self.decoder, self.next_id = ws, decoder, 1
        self.notifications = asyncio.Queue()
        self.log = []  # every notification, in order
        self.responses = {}
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        try:
            async for raw in self.ws:
                message = self.decoder(raw)
                if "id" in message:
                    self.responses.pop(str(message["id"])).set_result(message)
                elif message.get("method") in ("subscription", "heartbeat"):
                    self.log.append(message)
                    await self.notifications.put(message)
                else:
                    self.responses.pop("null").set_result(message)
        except websockets.exceptions.ConnectionClosed:
            pass
        except Exception as e:  # a frame that does not decode fails every pending call
            for future in self.responses.values():
                if not future.done():
                    future.set_exception(e)
            raise

    async def call(self, method, params=None, request_id=None):
        if request_id is None:
            request_id = self.next_id
            self.next_id += 1
        future = asyncio.get_event_loop().create_future()
        self.responses[str(request_id)] = future
        await self.ws.send(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method,
                                       "params": params or {}}))
        return await asyncio.wait_for(future, 10)

    async def raw(self, frame):
        future = asyncio.get_event_loop().create_future()
        self.responses["null"] = future
        await self.ws.send(frame)
        return await asyncio.wait_for(future, 10)


async def connect_pair(server):
    plain = await websockets.connect(server.ws, max_size=None)
    packed = await websockets.connect(server.ws, max_size=None, subprotocols=["protobuf"])
    assert packed.subprotocol == "protobuf", packed.subprotocol
    return (plain, packed), Client(plain), Client(packed, decode)


async def same_answer(a, b, method, params=None, attempts=1, ignore=()):
    """Calls `method` on both connections at once (the same id) until both answers agree."""
    d = None
    for attempt in range(attempts):
        request_id = 1000 + attempt
        ja, pb_ = await asyncio.gather(a.call(method, params, request_id),
                                       b.call(method, params, request_id))
        ja, pb_ = without_timing(ja), without_timing(pb_)
        for key in ignore:  # members that differ by design (tokens): present and of one type
            for message in (ja, pb_):
                value = message.get("result", {}).get(key)
                assert isinstance(value, str) and value, (method, key, message)
                message["result"][key] = "*"
        d = difference(canon(ja), canon(pb_))
        if d is None:
            return ja, pb_
        await asyncio.sleep(0.01)
    raise AssertionError(f"{method} {params}: {d}")


# --- checks ------------------------------------------------------------------------------------

def public_methods(server):
    async def go():
        sockets, a, b = await connect_pair(server)
        try:
            instruments = (await a.call("public/get_instruments", {"currency": "BTC"}))["result"]
            option = next(i["instrument_name"] for i in instruments if i["kind"] == "option")
            ok, error = "result", "error"
            for method, params, attempts, outcome in (
                    ("public/test", {}, 1, ok),
                    ("public/hello", {"client_name": "t", "client_version": "1"}, 1, ok),
                    ("public/get_time", {}, 50, ok),
                    ("public/status", {}, 1, ok),
                    ("public/get_currencies", {}, 1, ok),
                    ("public/get_instruments", {"currency": "BTC"}, 1, ok),
                    ("public/get_instruments", {"currency": "ETH", "kind": "option",
                                                "expired": False}, 1, ok),
                    ("public/get_instruments", {"currency": "any", "kind": "spot"}, 1, ok),
                    ("public/get_instrument", {"instrument_name": option}, 1, ok),
                    ("public/get_index_price", {"index_name": "eth_usd"}, 50, ok),
                    ("public/ticker", {"instrument_name": option}, 50, ok),
                    ("public/ticker", {"instrument_name": "BTC-PERPETUAL"}, 50, ok),
                    ("public/get_order_book", {"instrument_name": "ETH-PERPETUAL",
                                               "depth": 5}, 50, ok),
                    ("public/get_order_book", {"instrument_name": option}, 50, ok),
                    ("public/subscribe", {"channels": ["deribit_price_index.eth_usd",
                                                       "nonsense"]}, 1, ok),
                    ("public/unsubscribe", {"channels": ["deribit_price_index.eth_usd"]}, 1, ok),
                    ("public/unsubscribe_all", {}, 1, ok),
                    ("public/set_heartbeat", {"interval": 60}, 1, ok),
                    ("public/disable_heartbeat", {}, 1, ok),
                    ("public/get_last_trades_by_instrument", {"instrument_name": "BTC-PERPETUAL",
                                                              "count": 5}, 50, ok),
                    ("public/get_last_trades_by_instrument", {"instrument_name": option}, 50, ok),
                    ("public/get_book_summary_by_currency", {"currency": "ETH",
                                                             "kind": "future"}, 50, ok),
                    ("public/get_book_summary_by_currency", {"currency": "BTC",
                                                             "kind": "option"}, 50, ok),
                    # unknown method, parameters, raw channels without auth, no auth
                    ("public/nope", {}, 1, error),
                    ("public/get_order_book", {"instrument_name": 5}, 1, error),
                    ("public/get_instrument", {"instrument_name": "NOPE-1"}, 1, error),
                    ("public/set_heartbeat", {"interval": 1}, 1, error),
                    ("public/subscribe", {"channels": ["book.BTC-PERPETUAL.raw"]}, 1, error),
                    ("public/get_book_summary_by_currency", {"currency": "XRP"}, 1, error),
                    ("public/get_last_trades_by_instrument", {"instrument_name": "NOPE-1"}, 1,
                     error),
                    ("public/fork_token", {"refresh_token": "1.nonsense", "session_name": "x"}, 1,
                     error),
                    ("public/exchange_token", {"refresh_token": "1.nonsense"}, 1, error),
                    ("private/get_risk_matrix", {"currency": "BTC"}, 1, error),
                    ("private/get_cancel_on_disconnect", {}, 1, error),
                    ("private/get_positions", {"currency": "BTC"}, 1, error)):
                ja, _ = await same_answer(a, b, method, params, attempts)
                assert outcome in ja, (method, params, ja)
            # Ids: a string, and an integer beyond int64 (its decimal text in id_text).
            for request_id in ("abc-1", 2**64 - 1, -5):
                ja = without_timing(await a.call("public/test", {}, request_id))
                pa = without_timing(await b.call("public/test", {}, request_id))
                assert pa["id"] == (str(request_id) if request_id == 2**64 - 1 else request_id), pa
                pa["id"] = ja["id"]
                assert text(ja) == text(pa), (ja, pa)
            # Not JSON: 11050 without an id; a binary frame: 11050 too; the socket stays open.
            ja, pa = await a.raw("not json"), await b.raw("not json")
            assert text(without_timing(ja)) == text(without_timing(pa)), (ja, pa)
            binary = await b.raw(b"\x0a\x03\x32\x2e\x30")
            assert binary["error"]["code"] == 11050, binary
            assert binary["error"]["data"] == "requests are JSON text messages", binary
            assert (await b.call("public/test"))["result"]["version"]
        finally:
            for ws in sockets:
                await ws.close()
    run(go())


def private_methods(server):
    client_id, secret = new_account(server, "proto-trader")

    async def go():
        sockets, a, b = await connect_pair(server)
        try:
            await signed_auth(a, client_id, secret)
            await same_answer(a, b, "public/auth", {
                "grant_type": "client_credentials", "client_id": client_id,
                "client_secret": secret, "state": "s-1"},
                ignore=("access_token", "refresh_token"))
            channels = ["user.orders.BTC-PERPETUAL.raw", "user.orders.any.any.100ms",
                        "user.trades.BTC-PERPETUAL.raw", "user.portfolio.BTC"]
            await same_answer(a, b, "private/subscribe", {"channels": channels})
            for method, params, outcome in (
                    ("private/cancel_all", {}, "result"),
                    ("private/cancel_all_by_currency", {"currency": "BTC"}, "result"),
                    ("private/cancel_all_by_instrument", {"instrument_name": "BTC-PERPETUAL"},
                     "result"),
                    ("private/get_order_state", {"order_id": "BTC-x"}, "error"),
                    ("private/get_order_state", {"order_id": "BTC-1"}, "error"),
                    ("private/buy", {"instrument_name": "BTC-PERPETUAL", "amount": 15,
                                     "price": 1000}, "error")):
                ja, _ = await same_answer(a, b, method, params)
                assert outcome in ja, (method, params, ja)

            async def state(order_id):
                return without_timing(await a.call("private/get_order_state",
                                                   {"order_id": order_id}))["result"]

            async def notified_order(order_id, order_state):
                for _ in range(500):
                    for n in a.log:
                        data = n["params"]["data"]
                        if (n["params"]["channel"] == "user.orders.BTC-PERPETUAL.raw"
                                and data["order_id"] == order_id
                                and data["order_state"] == order_state):
                            return data
                    await asyncio.sleep(0.02)
                raise AssertionError(f"no {order_state} notification of {order_id}")

            def same_order(json_order, proto_order):
                d = difference(canon(json_order), canon(proto_order))
                assert d is None, (d, json_order, proto_order)

            book = (await a.call("public/get_order_book", {"instrument_name": "BTC-PERPETUAL",
                                                           "depth": 1}))["result"]
            far = book["best_bid_price"] - 5000
            placed = (await b.call("private/buy", {"instrument_name": "BTC-PERPETUAL",
                                                   "amount": 20, "price": far,
                                                   "label": "pb"}))["result"]
            order_id = placed["order"]["order_id"]
            same_order(await state(order_id), placed["order"])
            await same_answer(a, b, "private/get_order_state", {"order_id": order_id})
            edited = (await b.call("private/edit", {"order_id": order_id, "amount": 30,
                                                    "price": far - 0.5}))["result"]
            same_order(await state(order_id), edited["order"])
            # Closed orders are no longer queried: the JSON side's user.orders notification.
            cancelled = (await b.call("private/cancel", {"order_id": order_id}))["result"]
            same_order(await notified_order(order_id, "cancelled"), cancelled)
            # A market order: its order as the JSON side sees it, its fills as user.trades.
            sold = (await b.call("private/sell", {"instrument_name": "BTC-PERPETUAL",
                                                  "amount": 10, "type": "market"}))["result"]
            assert sold["trades"], sold
            same_order(await notified_order(sold["order"]["order_id"], "filled"), sold["order"])
            notified = {t["trade_id"]: t for n in a.log
                        if n["params"]["channel"] == "user.trades.BTC-PERPETUAL.raw"
                        for t in n["params"]["data"]}
            for trade in sold["trades"]:
                same_order(notified[trade["trade_id"]], trade)
            await b.call("private/buy", {"instrument_name": "BTC-PERPETUAL", "amount": 10,
                                         "price": far, "label": "resting"})
            await b.call("private/sell", {"instrument_name": "BTC-PERPETUAL", "amount": 20,
                                          "price": book["best_ask_price"] + 5000})
            await query_methods(a, b)
            counted = await b.call("private/cancel_all_by_instrument",
                                   {"instrument_name": "BTC-PERPETUAL"})
            assert counted["result"] == 2, counted
            for method in ("private/get_positions", "private/get_account_summary"):
                await same_answer(a, b, method, {"currency": "BTC"}, attempts=50)
                await same_answer(a, b, method, {"currency": "ETH"}, attempts=50)
            await same_answer(a, b, "private/get_positions", {"currency": "BTC",
                                                              "kind": "option"}, attempts=50)
            await asyncio.sleep(0.3)  # the last notifications
            assert_twins(a.log, b.log, snapshots=False)
            kinds = {n["params"]["channel"] for n in b.log}
            assert kinds == set(channels), kinds
            await session_methods(a, b, client_id, secret, account_id(server, "proto-trader"))
            await same_answer(a, b, "private/unsubscribe", {"channels": channels[:1]})
            await same_answer(a, b, "private/unsubscribe_all")
            await same_answer(a, b, "private/logout")
        finally:
            for ws in sockets:
                await ws.close()
    run(go())


async def query_methods(a, b):
    """The account's queries, with two resting orders, a fill and an option position."""
    options = (await a.call("public/get_instruments", {"currency": "BTC",
                                                       "kind": "option"}))["result"]
    option = options[len(options) // 2]["instrument_name"]
    bought = await b.call("private/buy", {"instrument_name": option, "amount": 1,
                                          "type": "market"})
    assert bought["result"]["trades"], bought
    for method, params, outcome in (
            ("private/get_open_orders_by_instrument", {"instrument_name": "BTC-PERPETUAL"},
             "result"),
            ("private/get_open_orders_by_instrument", {"instrument_name": option}, "result"),
            ("private/get_open_orders_by_currency", {"currency": "BTC"}, "result"),
            ("private/get_open_orders_by_currency", {"currency": "BTC", "type": "limit"},
             "result"),
            ("private/get_open_orders_by_currency", {"currency": "BTC", "kind": "nope"}, "error"),
            ("private/get_user_trades_by_instrument", {"instrument_name": "BTC-PERPETUAL",
                                                       "count": 3}, "result"),
            ("private/get_user_trades_by_instrument", {"instrument_name": option}, "result"),
            ("private/get_user_trades_by_instrument", {"instrument_name": "NOPE-1"}, "error")):
        ja, _ = await same_answer(a, b, method, params)
        assert outcome in ja, (method, params, ja)
    orders = (await b.call("private/get_open_orders_by_currency", {"currency": "BTC"}))["result"]
    assert sorted(o["direction"] for o in orders) == ["buy", "sell"], orders
    fills = (await b.call("private/get_user_trades_by_instrument",
                          {"instrument_name": option}))["result"]["trades"]
    assert fills and all("underlying_price" in t for t in fills), fills
    # Market-dependent: retried until both land between the same two ticks.
    for method, params in (
            ("private/get_position", {"instrument_name": "BTC-PERPETUAL"}),
            ("private/get_position", {"instrument_name": option}),
            ("private/get_risk_matrix", {"currency": "BTC"}),
            ("private/get_risk_matrix", {"currency": "BTC", "per_position": True,
                                         "underlying_moves": [-0.1, 0, 0.1],
                                         "vol_shifts": [0, 5]}),
            ("private/get_account_summary", {"currency": "BTC"})):
        ja, _ = await same_answer(a, b, method, params, attempts=50)
        assert "result" in ja, (method, params, ja)
    summary = (await b.call("private/get_account_summary", {"currency": "BTC"}))["result"]
    for key in ("delta_total_map", "options_vega_map", "options_gamma_map", "options_theta_map"):
        assert list(summary[key]) == ["btc_usd"], (key, summary)
    matrix = (await b.call("private/get_risk_matrix", {"currency": "BTC",
                                                       "per_position": True}))["result"]
    assert {p["kind"] for p in matrix["positions"]} == {"future", "option"}, matrix


async def session_methods(a, b, client_id, secret, subject_id):
    """Cancel-on-disconnect's settings (each connection its own) and new tokens."""
    for method, params, outcome in (
            ("private/get_cancel_on_disconnect", {}, "result"),
            ("private/enable_cancel_on_disconnect", {}, "result"),
            ("private/get_cancel_on_disconnect", {"scope": "connection"}, "result"),
            ("private/disable_cancel_on_disconnect", {"scope": "connection"}, "result"),
            ("private/get_cancel_on_disconnect", {"scope": "account"}, "result"),
            ("private/enable_cancel_on_disconnect", {"scope": "nope"}, "error")):
        ja, _ = await same_answer(a, b, method, params)
        assert outcome in ja, (method, params, ja)
    enabled = await b.call("private/enable_cancel_on_disconnect")
    assert enabled["result"] == "ok", enabled
    setting = await b.call("private/get_cancel_on_disconnect")
    assert setting["result"] == {"scope": "connection", "enabled": True}, setting
    await b.call("private/disable_cancel_on_disconnect")
    base = (await a.call("public/auth", {
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
        "scope": "session:proto trade:read_write"}))["result"]
    tokens = ("access_token", "refresh_token")
    await same_answer(a, b, "public/fork_token", {"refresh_token": base["refresh_token"],
                                                  "session_name": "forked"}, ignore=tokens)
    await same_answer(a, b, "public/exchange_token", {
        "refresh_token": base["refresh_token"], "subject_id": subject_id,
        "scope": "session:swapped account:read"}, ignore=tokens)
    ja, _ = await same_answer(a, b, "public/fork_token", {"refresh_token": base["refresh_token"]})
    assert ja["error"]["data"]["param"] == "session_name", ja


def assert_twins(json_log, proto_log, snapshots=True):
    """Every protobuf notification equals one the JSON connection got on the same channel, but
    each book and volsurface channel's first (the protobuf subscriber's own snapshot, or the
    last surface as of its subscription); returns the channels with a twin."""
    seen = {}
    for n in json_log:
        seen.setdefault(n["params"]["channel"], set()).add(text(n))
    first, twinned = set(), set()
    for n in proto_log:
        channel = n["params"]["channel"]
        starts_with_snapshot = channel.startswith("book.") or channel.startswith("volsurface.")
        if snapshots and starts_with_snapshot and channel not in first:
            first.add(channel)
            data = n["params"]["data"]
            if "type" in data and channel.startswith("book."):  # the grouped view has no type
                assert data["type"] == "snapshot", n
                for level in data["bids"] + data["asks"]:
                    assert level[0] == "new" and len(level) == 3, level
            continue
        assert text(n) in seen.get(channel, ()), f"no JSON twin on {channel}: {text(n)[:600]}"
        twinned.add(channel)
    return twinned


def channels(server):
    async def go():
        sockets, a, b = await connect_pair(server)
        try:
            assert server.demo
            for client in (a, b):
                await signed_auth(client, *server.demo)
            instruments = (await a.call("public/get_instruments", {"currency": "BTC",
                                                                   "kind": "option"}))["result"]
            option = instruments[len(instruments) // 2]["instrument_name"]
            wanted = [
                "book.BTC-PERPETUAL.100ms", "book.BTC-PERPETUAL.raw", f"book.{option}.100ms",
                "book.ETH-PERPETUAL.none.10.100ms", "book.BTC-PERPETUAL.5.1.100ms",
                "ticker.BTC-PERPETUAL.100ms", f"ticker.{option}.raw", "ticker.ETH-PERPETUAL.raw",
                "trades.future.BTC.100ms", "trades.BTC-PERPETUAL.raw",
                "trades.option.any.100ms", "deribit_price_index.btc_usd",
                "markprice.options.btc_usd", "volsurface.BTC.100ms", "chain.ETH.blocks",
                "chain.ETH.transfers"]
            result = (await a.call("public/subscribe", {"channels": wanted}))["result"]
            assert sorted(result) == sorted(wanted), result
            result = (await b.call("public/subscribe", {"channels": wanted}))["result"]
            assert sorted(result) == sorted(wanted), result
            assert (await b.call("public/set_heartbeat", {"interval": 10}))["result"] == "ok"
            heartbeat_due = time.monotonic() + 10
            # Trades of options and large transfers are too rare to wait for; the rest must
            # have sent something beyond a snapshot (a sanitized venue may run slower than
            # --speed, hence the wait until then, up to 40 s).
            required = set(wanted) - {"trades.option.any.100ms", "chain.ETH.transfers"}
            started, answered = time.monotonic(), 0
            while time.monotonic() < started + 40:
                await asyncio.sleep(0.5)
                requests = sum(n["method"] == "heartbeat" for n in b.log)
                if requests > answered:  # keep the connection: answer test_request
                    answered = requests
                    await b.call("public/test")
                counts = {}
                for n in b.log:
                    channel = n["params"].get("channel")
                    counts[channel] = counts.get(channel, 0) + 1
                if time.monotonic() > started + 6 and all(counts.get(c, 0) >= 2 for c in required):
                    break
            # The protobuf side stops first: every broadcast it got, the JSON side got too, and
            # each side has read all it was sent once its unsubscribe is answered.
            await b.call("public/unsubscribe_all")
            await a.call("public/unsubscribe_all")
            while time.monotonic() < heartbeat_due + 10 and not any(
                    n["method"] == "heartbeat" for n in b.log):
                await asyncio.sleep(0.2)
            heartbeats = [n for n in b.log if n["method"] == "heartbeat"]
            assert heartbeats and heartbeats[0]["params"] == {"type": "test_request"}, heartbeats
            await b.call("public/test")
            notes = [n for n in b.log if n["method"] == "subscription"]
            twinned = assert_twins([n for n in a.log if n["method"] == "subscription"], notes)
            assert required <= twinned, sorted(required - twinned)
            # The snapshot chains to the protobuf connection's own changes.
            book = [n["params"]["data"] for n in notes
                    if n["params"]["channel"] == "book.BTC-PERPETUAL.100ms"]
            for previous, data in zip(book, book[1:]):
                assert data["prev_change_id"] == previous["change_id"], (previous, data)
        finally:
            for ws in sockets:
                await ws.close()
    run(go())


def metrics(server):
    status, body = http_get(f"{server.http}/metrics")
    assert status == 200, status
    line = next(x for x in body.splitlines()
                if x.startswith('greekwire_messages_out_total{encoding="protobuf"}'))
    assert int(line.split()[-1]) > 100, line
    status, body = http_get(f"{server.http}/api/v2/public/test")
    assert status == 200 and json.loads(body)["result"]["version"], body  # HTTP stays JSON


def main():
    global pb
    harness.greekwire_binary()
    pb = compile_schema()
    with Serve("--speed", 10) as server:
        return harness.run_checks([
            ("public methods and errors: the same trees in JSON and protobuf",
             lambda: public_methods(server)),
            ("every channel kind: each protobuf notification has its JSON twin; heartbeats",
             lambda: channels(server)),
            ("auth, order entry, account and risk queries, cancel-on-disconnect, tokens, user.*"
             " channels", lambda: private_methods(server)),
            ("/metrics counts protobuf messages; HTTP stays JSON", lambda: metrics(server)),
            ("SIGTERM -> exit 0, clean stderr", server.stop),
        ])


if __name__ == "__main__":
    sys.exit(main())
