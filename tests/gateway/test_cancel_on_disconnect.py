#!/usr/bin/python3
"""Cancel-on-disconnect in `greekwire serve` (Deribit's private/enable_cancel_on_disconnect,
private/disable_cancel_on_disconnect, private/get_cancel_on_disconnect):

- connection scope: A enables it, rests orders, its TCP connection drops; B (same account,
  subscribed to user.orders.any.any.raw) sees exactly A's orders cancelled with cancel_reason
  "cancel_on_disconnect", while B's own order stays open;
- disabled again (or never enabled), a connection's orders survive its clean close;
- account scope: the account's other connections follow it (get says so), until disabled;
- private/logout before the close keeps the orders (Deribit's graceful logout);
- bad scope -> -32602 naming `scope`; connection scope over HTTP -> 10030; account scope over
  HTTP works.

Usage: test_cancel_on_disconnect.py PATH_TO_GREEKWIRE
"""

import asyncio
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_gateway as tg  # noqa: E402
from test_gateway import (Client, basic_authorization, http_get, http_json,  # noqa: E402
                          logged_in, run, run_checks_on_serve, websockets)

INSTRUMENT = "BTC-PERPETUAL"


async def far_bid(client):
    book = (await client.call("public/get_order_book",
                              {"instrument_name": INSTRUMENT, "depth": 1}))["result"]
    return book["best_bid_price"] - 5000  # never fills


async def rest_order(client, label):
    placed = await client.call("private/buy", {"instrument_name": INSTRUMENT, "amount": 10,
                                               "price": await far_bid(client), "label": label})
    order = placed["result"]["order"]
    assert order["order_state"] == "open", placed
    return order["order_id"]


async def order_state(client, order_id):
    """The order's state ("open", "cancelled", ...), or None when the venue does not know it."""
    reply = await client.call("private/get_order_state", {"order_id": order_id})
    return reply["result"]["order_state"] if "result" in reply else None


async def cancelled_by_disconnect(watcher, order_ids, timeout=10):
    """Waits for user.orders notifications cancelling every id in order_ids."""
    pending = set(order_ids)
    deadline = asyncio.get_event_loop().time() + timeout
    while pending:
        left = deadline - asyncio.get_event_loop().time()
        note = await watcher.notification(max(left, 0.01))
        data = note["params"]["data"]
        if data.get("order_id") not in pending or data["order_state"] == "open":
            continue  # other orders, and the notifications of their placing
        assert data["order_state"] == "cancelled", data
        assert data["cancel_reason"] == "cancel_on_disconnect", data
        pending.discard(data["order_id"])


def connection_scope(server):
    async def go():
        b_ws, b = await logged_in(server, server.demo)
        subscribed = await b.call("private/subscribe", {"channels": ["user.orders.any.any.raw"]})
        assert subscribed["result"] == ["user.orders.any.any.raw"], subscribed
        a_ws, a = await logged_in(server, server.demo)
        assert (await a.call("private/get_cancel_on_disconnect"))["result"] == {
            "scope": "connection", "enabled": False}
        assert (await a.call("private/enable_cancel_on_disconnect"))["result"] == "ok"
        assert (await a.call("private/get_cancel_on_disconnect",
                             {"scope": "connection"}))["result"] == {
            "scope": "connection", "enabled": True}
        # Enabling it on A is A's business: B and the account are unchanged.
        assert (await b.call("private/get_cancel_on_disconnect"))["result"]["enabled"] is False
        assert (await a.call("private/get_cancel_on_disconnect",
                             {"scope": "account"}))["result"] == {
            "scope": "account", "enabled": False}
        mine = [await rest_order(a, "cod-1"), await rest_order(a, "cod-2")]
        kept = await rest_order(b, "b-keeps")
        a.reader.cancel()
        a_ws.transport.abort()  # the network drops: no close frame
        await cancelled_by_disconnect(b, mine)
        assert await order_state(b, kept) == "open"
        assert all([await order_state(b, i) == "cancelled" for i in mine])
        await b.call("private/cancel", {"order_id": kept})
        await b_ws.close()
    run(go())


def disabled_keeps_orders(server):
    async def go():
        b_ws, b = await logged_in(server, server.demo)
        c_ws, c = await logged_in(server, server.demo)
        assert (await c.call("private/enable_cancel_on_disconnect"))["result"] == "ok"
        assert (await c.call("private/disable_cancel_on_disconnect"))["result"] == "ok"
        assert (await c.call("private/get_cancel_on_disconnect"))["result"]["enabled"] is False
        survivor = await rest_order(c, "survives")
        await c_ws.close()
        # Logout before the close: also kept, although enabled.
        e_ws, e = await logged_in(server, server.demo)
        assert (await e.call("private/enable_cancel_on_disconnect"))["result"] == "ok"
        after_logout = await rest_order(e, "after-logout")
        assert (await e.call("private/logout"))["result"] == "ok"
        await e_ws.close()
        await asyncio.sleep(1.0)
        for order_id in (survivor, after_logout):
            assert await order_state(b, order_id) == "open", order_id
            await b.call("private/cancel", {"order_id": order_id})
        await b_ws.close()
    run(go())


def account_scope(server):
    async def go():
        b_ws, b = await logged_in(server, server.demo)
        await b.call("private/subscribe", {"channels": ["user.orders.any.any.raw"]})
        assert (await b.call("private/enable_cancel_on_disconnect",
                             {"scope": "account"}))["result"] == "ok"
        assert (await b.call("private/get_cancel_on_disconnect",
                             {"scope": "account"}))["result"] == {"scope": "account",
                                                                  "enabled": True}
        d_ws, d = await logged_in(server, server.demo)
        assert (await d.call("private/get_cancel_on_disconnect"))["result"] == {
            "scope": "connection", "enabled": True}
        gone = await rest_order(d, "account-scope")
        await d_ws.close()  # a clean close cancels too
        await cancelled_by_disconnect(b, [gone])
        # A connection's own setting wins over the account's.
        f_ws, f = await logged_in(server, server.demo)
        assert (await f.call("private/disable_cancel_on_disconnect"))["result"] == "ok"
        stays = await rest_order(f, "own-setting")
        assert (await b.call("private/disable_cancel_on_disconnect",
                             {"scope": "account"}))["result"] == "ok"
        assert (await b.call("private/get_cancel_on_disconnect",
                             {"scope": "account"}))["result"]["enabled"] is False
        await f_ws.close()
        await asyncio.sleep(1.0)
        assert await order_state(b, stays) == "open"
        await b.call("private/cancel", {"order_id": stays})
        await b_ws.close()
    run(go())


def errors(server):
    async def go():
        ws, c = await logged_in(server, server.demo)
        bad = await c.call("private/enable_cancel_on_disconnect", {"scope": "everything"})
        assert bad["error"]["code"] == -32602 and bad["error"]["data"]["param"] == "scope", bad
        wrong_type = await c.call("private/get_cancel_on_disconnect", {"scope": 3})
        assert wrong_type["error"]["code"] == -32602, wrong_type
        async with websockets.connect(server.ws) as anonymous_ws:
            anonymous = Client(anonymous_ws)
            refused = await anonymous.call("private/enable_cancel_on_disconnect")
            assert refused["error"]["code"] == 13009, refused
        assert "result" in await c.call("public/test")  # the connection survived
        await ws.close()
    run(go())

    def get(method, **query):
        url = f"{server.http}/api/v2/private/{method}?{urllib.parse.urlencode(query)}"
        return http_json(url, headers={"Authorization": basic_authorization(server.demo)})
    status, body = get("enable_cancel_on_disconnect")
    assert status == 400 and body["error"]["code"] == 10030, (status, body)
    status, body = get("enable_cancel_on_disconnect", scope="account")
    assert status == 200 and body["result"] == "ok", (status, body)
    status, body = get("get_cancel_on_disconnect", scope="account")
    assert body["result"] == {"scope": "account", "enabled": True}, body
    status, body = get("disable_cancel_on_disconnect", scope="account")
    assert body["result"] == "ok", body
    status, body = http_get(f"{server.http}/api/v2/private/get_cancel_on_disconnect")
    assert status == 400 and json.loads(body)["error"]["code"] == 13009, body


def main():
    return run_checks_on_serve([
        ("connection scope: a dropped connection's orders, and only those, are cancelled",
         connection_scope),
        ("disabled, or logged out first: the orders stay", disabled_keeps_orders),
        ("account scope: the account's connections follow it", account_scope),
        ("errors: bad scope, anonymous, HTTP connection scope; account scope over HTTP", errors),
    ])


if __name__ == "__main__":
    tg.TIMEOUT = 60
    sys.exit(main())
