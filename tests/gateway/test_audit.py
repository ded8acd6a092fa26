#!/usr/bin/python3
"""The audit log of `greekwire serve` (DATA_DIR/audit.log, JSON lines) records order actions:

- private/buy, edit, cancel, cancel_all over WebSocket and over HTTP: one line each with the
  account, client_id, client IP, the JSON-RPC id as sent, what was asked and the outcome (the
  order id and state, or the cancelled count);
- refused actions: the Deribit error code (and the parameter for -32602), with the account when
  the caller had authenticated and without it when not;
- cancel-on-disconnect: an "order.cancel_on_disconnect" line with the count;
- authentication keeps being audited; no token or secret reaches the file.

Usage: test_audit.py PATH_TO_GREEKWIRE
"""

import asyncio
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_gateway import Client, Serve, harness, run, websockets  # noqa: E402

INSTRUMENT = "BTC-PERPETUAL"


def audit_lines(server):
    path = os.path.join(server.data_dir, "audit.log")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def wait_for(server, predicate, what, timeout=10):
    """The first audit record matching predicate (the log is written off the request path)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [r for r in audit_lines(server) if predicate(r)]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no audit record for {what}: {audit_lines(server)[-10:]}")


def by_request(event, request_id):
    return lambda r: r.get("event") == event and r.get("request_id") == json.dumps(request_id)


def websocket_actions(server):
    async def go():
        async with websockets.connect(server.ws) as ws:
            c = Client(ws)
            refused = await c.call("private/buy", {"instrument_name": INSTRUMENT, "amount": 10,
                                                   "price": 1000}, request_id="anonymous-1")
            assert refused["error"]["code"] == 13009, refused
            await c.call("public/auth", {"grant_type": "client_credentials",
                                         "client_id": server.demo[0],
                                         "client_secret": server.demo[1]})
            book = (await c.call("public/get_order_book",
                                 {"instrument_name": INSTRUMENT, "depth": 1}))["result"]
            price = book["best_bid_price"] - 5000
            placed = await c.call("private/buy", {"instrument_name": INSTRUMENT, "amount": 20,
                                                  "price": price, "label": "audited"},
                                  request_id=101)
            order_id = placed["result"]["order"]["order_id"]
            edited = await c.call("private/edit", {"order_id": order_id, "amount": 30,
                                                   "price": price - 10}, request_id=102)
            assert edited["result"]["order"]["amount"] == 30, edited
            cancelled = await c.call("private/cancel", {"order_id": order_id}, request_id=103)
            assert cancelled["result"]["order_state"] == "cancelled", cancelled
            bad_tick = await c.call("private/sell", {"instrument_name": INSTRUMENT, "amount": 10,
                                                     "price": price + 0.25}, request_id=104)
            assert bad_tick["error"]["code"] == 10043, bad_tick
            missing = await c.call("private/cancel", {}, request_id=105)
            assert missing["error"]["code"] == -32602, missing
            await c.call("private/buy", {"instrument_name": INSTRUMENT, "amount": 10,
                                         "price": price}, request_id=106)
            count = await c.call("private/cancel_all_by_instrument",
                                 {"instrument_name": INSTRUMENT}, request_id=107)
            assert count["result"] >= 1, count
            return order_id, count["result"]
    order_id, count = run(go())

    buy = wait_for(server, by_request("order.buy", 101), "private/buy 101")
    assert buy["account"] == "demo" and buy["client_id"] == server.demo[0], buy
    assert buy["ip"] == "127.0.0.1", buy
    assert buy["details"]["outcome"] == "ok" and buy["details"]["order_id"] == order_id, buy
    assert buy["details"]["order_state"] == "open", buy
    assert buy["details"]["instrument_name"] == INSTRUMENT, buy
    assert buy["details"]["amount"] == "20" and buy["details"]["label"] == "audited", buy
    edit = wait_for(server, by_request("order.edit", 102), "private/edit 102")
    assert edit["details"]["order_id"] == order_id and edit["details"]["amount"] == "30", edit
    cancel = wait_for(server, by_request("order.cancel", 103), "private/cancel 103")
    assert cancel["details"]["order_state"] == "cancelled", cancel
    tick = wait_for(server, by_request("order.sell", 104), "private/sell 104")
    assert tick["details"]["outcome"] == "error", tick
    assert tick["details"]["error_code"] == "10043", tick
    assert tick["details"]["error"] == "price_wrong_tick", tick
    param = wait_for(server, by_request("order.cancel", 105), "private/cancel 105")
    assert param["details"]["error_code"] == "-32602", param
    assert param["details"]["param"] == "order_id", param
    everything = wait_for(server, by_request("order.cancel_all_by_instrument", 107), "107")
    assert everything["details"]["cancelled"] == str(count), everything
    anonymous = wait_for(server, by_request("order.buy", "anonymous-1"), "anonymous buy")
    assert anonymous["details"]["error_code"] == "13009" and "account" not in anonymous, anonymous


def http_actions(server):
    basic = base64.b64encode(f"{server.demo[0]}:{server.demo[1]}".encode()).decode()
    body = json.dumps({"jsonrpc": "2.0", "id": 555, "method": "private/buy",
                       "params": {"instrument_name": INSTRUMENT, "amount": 10,
                                  "type": "market"}}).encode()
    request = urllib.request.Request(f"{server.http}/api/v2/private/buy", data=body,
                                     method="POST",
                                     headers={"Authorization": f"Basic {basic}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as r:
        result = json.loads(r.read())["result"]
    assert result["order"]["order_state"] == "filled", result
    record = wait_for(server, by_request("order.buy", 555), "HTTP private/buy 555")
    assert record["account"] == "demo" and record["ip"] == "127.0.0.1", record
    assert record["details"]["order_id"] == result["order"]["order_id"], record
    assert record["details"]["order_state"] == "filled", record
    assert record["details"]["type"] == "market", record


def cancel_on_disconnect(server):
    async def go():
        ws = await websockets.connect(server.ws)
        c = Client(ws)
        await c.call("public/auth", {"grant_type": "client_credentials",
                                     "client_id": server.demo[0],
                                     "client_secret": server.demo[1]})
        await c.call("private/enable_cancel_on_disconnect")
        book = (await c.call("public/get_order_book",
                             {"instrument_name": INSTRUMENT, "depth": 1}))["result"]
        await c.call("private/buy", {"instrument_name": INSTRUMENT, "amount": 10,
                                     "price": book["best_bid_price"] - 5000})
        await ws.close()
    run(go())
    record = wait_for(server, lambda r: r.get("event") == "order.cancel_on_disconnect",
                      "cancel-on-disconnect")
    assert record["account"] == "demo" and record["ip"] == "127.0.0.1", record
    assert record["details"]["outcome"] == "ok" and record["details"]["cancelled"] == "1", record


def no_secrets_and_auth_kept(server):
    server.stop()  # the writer drains its queue before the process exits
    text = open(os.path.join(server.data_dir, "audit.log")).read()
    assert server.demo[1] not in text, "a client secret reached the audit log"
    records = audit_lines(server)
    assert any(r["event"] == "auth.success" for r in records), records[:5]
    assert sum(r["event"].startswith("order.") for r in records) >= 9, records


def main():
    harness.greekwire_binary()
    with Serve() as server:
        assert server.demo, "serve did not print the demo account's credentials"
        return harness.run_checks([
            ("WebSocket order actions: outcome, order id, errors, caller",
             lambda: websocket_actions(server)),
            ("HTTP order actions", lambda: http_actions(server)),
            ("cancel-on-disconnect is audited", lambda: cancel_on_disconnect(server)),
            ("SIGTERM: complete file, no secrets, auth still audited",
             lambda: no_secrets_and_auth_kept(server)),
        ])


if __name__ == "__main__":
    sys.exit(main())
