#!/usr/bin/python3
"""The authorization matrix of `greekwire serve`, end to end, with Python websockets, urllib and
the standard library's hmac (independent peers).

Each way in is refused with Deribit's code and nothing leaks: no credentials, a wrong secret, a
stale signature timestamp, a replayed nonce, an expired token, a token revoked by logout, a key
revoked with `greekwire keys revoke` (while the server runs), a scope too narrow for the method,
another account's order id, another account's private channel; and the HTTP twins' Basic and
deri-hmac-sha256 schemes with a wrong secret or a replayed nonce.

Usage: test_auth_matrix.py PATH_TO_GREEKWIRE
"""

import asyncio
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_gateway as gw  # noqa: E402
from test_gateway import Client, Serve, harness, new_account, run, websockets  # noqa: E402

UNAUTHORIZED = 13009
INVALID_CREDENTIALS = 13004
SCOPE_EXCEEDED = 13403
ORDER_NOT_FOUND = 10004


def signature_params(client_id, secret, ts=None, nonce=None, data=""):
    ts = int(time.time() * 1000) if ts is None else ts
    nonce = os.urandom(8).hex() if nonce is None else nonce
    signature = hmac.new(secret.encode(), f"{ts}\n{nonce}\n{data}".encode(),
                         hashlib.sha256).hexdigest()
    return {"grant_type": "client_signature", "client_id": client_id, "timestamp": ts,
            "nonce": nonce, "data": data, "signature": signature}


def credentials(client_id, secret, scope=None):
    params = {"grant_type": "client_credentials", "client_id": client_id,
              "client_secret": secret}
    if scope:
        params["scope"] = scope
    return params


def error_code(reply):
    assert "error" in reply and "result" not in reply, reply
    return reply["error"]["code"]


async def far_bid(client):
    book = (await client.call("public/get_order_book",
                              {"instrument_name": "BTC-PERPETUAL", "depth": 1}))["result"]
    return book["best_bid_price"] - 5000


def signatures_and_tokens(server):
    """Grants that must fail, and tokens that stop working."""
    alice = new_account(server, "alice")

    async def go():
        async with websockets.connect(server.ws) as ws:
            c = Client(ws)
            assert error_code(await c.call("private/get_positions",
                                           {"currency": "BTC"})) == UNAUTHORIZED
            assert error_code(await c.call("public/auth",
                                           credentials(alice[0], "wrong"))) == INVALID_CREDENTIALS
            assert error_code(await c.call("public/auth", credentials("nobody", alice[1]))) \
                == INVALID_CREDENTIALS
            stale = signature_params(*alice, ts=int(time.time() * 1000) - 120_000)
            assert error_code(await c.call("public/auth", stale)) == INVALID_CREDENTIALS
            bad_signature = signature_params(alice[0], "not-the-secret")
            assert error_code(await c.call("public/auth", bad_signature)) == INVALID_CREDENTIALS
            once = signature_params(*alice)
            assert "result" in await c.call("public/auth", once)
            assert error_code(await c.call("public/auth", once)) == INVALID_CREDENTIALS

        async with websockets.connect(server.ws) as ws:
            c = Client(ws)
            # expires:1 -> a one-second token, refused once it has expired.
            granted = (await c.call("public/auth",
                                    credentials(*alice, scope="expires:1")))["result"]
            assert granted["expires_in"] <= 1, granted
            ok = await c.call("private/get_positions", {"currency": "BTC",
                                                        "access_token": granted["access_token"]})
            assert "result" in ok, ok
            await asyncio.sleep(2.2)
            expired = await c.call("private/get_positions",
                                   {"currency": "BTC", "access_token": granted["access_token"]})
            assert error_code(expired) == UNAUTHORIZED
            refreshed = await c.call("public/auth", {"grant_type": "refresh_token",
                                                     "refresh_token": "not-a-token"})
            assert error_code(refreshed) == UNAUTHORIZED

        async with websockets.connect(server.ws) as ws1, websockets.connect(server.ws) as ws2:
            c1, c2 = Client(ws1), Client(ws2)
            # A session-scoped token works on any connection (a connection-scoped one, the
            # default, only on its own).
            granted = (await c1.call("public/auth",
                                     credentials(*alice, scope="session:matrix")))["result"]
            token, refresh = granted["access_token"], granted["refresh_token"]
            elsewhere = await c2.call("private/get_positions",
                                      {"currency": "BTC", "access_token": token})
            assert "result" in elsewhere, elsewhere
            # logout revokes the session's tokens (and closes the socket, as Deribit does).
            assert (await c1.call("private/logout", {}))["result"] == "ok"
            await asyncio.wait_for(ws1.wait_closed(), 5)
            assert ws1.close_code == 1000, ws1.close_code
            revoked = await c2.call("private/get_positions",
                                    {"currency": "BTC", "access_token": token})
            assert error_code(revoked) == UNAUTHORIZED
            assert error_code(await c2.call("public/auth", {"grant_type": "refresh_token",
                                                           "refresh_token": refresh})) \
                == UNAUTHORIZED
    run(go())


def revoked_key(server):
    """`greekwire keys revoke` while the server runs: the key and its tokens stop working."""
    carol = new_account(server, "carol")

    async def go():
        async with websockets.connect(server.ws) as ws:
            c = Client(ws)
            token = (await c.call("public/auth", credentials(*carol)))["result"]["access_token"]
            proc = subprocess.run([harness.greekwire_binary(), "keys", "revoke", carol[0],
                                   "--data-dir", server.data_dir], capture_output=True,
                                  text=True, timeout=30, env=harness.child_env())
            assert proc.returncode == 0, proc.stderr
            assert error_code(await c.call("public/auth", credentials(*carol))) \
                == INVALID_CREDENTIALS
            # Tokens issued before the revocation die with the key (checked on use or at the
            # next sweep, which runs every 10 s).
            deadline = time.monotonic() + 15
            while True:
                reply = await c.call("private/get_positions",
                                     {"currency": "BTC", "access_token": token})
                if "error" in reply:
                    assert reply["error"]["code"] == UNAUTHORIZED, reply
                    break
                assert time.monotonic() < deadline, "a revoked key's token still works"
                await asyncio.sleep(0.5)
    run(go())


def scopes_and_ownership(server):
    """A read-only token cannot trade; nobody sees or touches another account's orders."""
    dave, erin = new_account(server, "dave"), new_account(server, "erin")

    async def go():
        async with websockets.connect(server.ws) as dws, websockets.connect(server.ws) as ews:
            d, e = Client(dws), Client(ews)
            read_only = (await d.call("public/auth",
                                      credentials(*dave, scope="trade:read")))["result"]
            assert "trade:read_write" not in read_only["scope"], read_only
            price = await far_bid(d)
            order = {"instrument_name": "BTC-PERPETUAL", "amount": 10, "price": price}
            assert error_code(await d.call("private/buy", order)) == SCOPE_EXCEEDED
            assert "result" in await d.call("private/get_positions", {"currency": "BTC"})

            # A fresh connection with full scope places an order; erin, on her own account,
            # can neither read, edit nor cancel it, and her private channel stays silent.
            async with websockets.connect(server.ws) as dws2:
                d2 = Client(dws2)
                assert "result" in await d2.call("public/auth", credentials(*dave))
                await e.call("public/auth", credentials(*erin))
                subscribed = await e.call("private/subscribe",
                                          {"channels": ["user.orders.any.any.raw",
                                                        "user.trades.any.any.raw"]})
                assert len(subscribed["result"]) == 2, subscribed
                placed = (await d2.call("private/buy", {**order, "label": "dave"}))["result"]
                order_id = placed["order"]["order_id"]
                for method, params in (
                        ("private/get_order_state", {"order_id": order_id}),
                        ("private/cancel", {"order_id": order_id}),
                        ("private/edit", {"order_id": order_id, "amount": 20,
                                          "price": price})):
                    assert error_code(await e.call(method, params)) == ORDER_NOT_FOUND, method
                cancelled = await e.call("private/cancel_all_by_instrument",
                                         {"instrument_name": "BTC-PERPETUAL"})
                assert cancelled["result"] == 0, cancelled
                state = await d2.call("private/get_order_state", {"order_id": order_id})
                assert state["result"]["order_state"] == "open", state
                try:
                    leaked = await e.notification(timeout=1.0)
                    raise AssertionError(f"erin received dave's notification: {leaked}")
                except asyncio.TimeoutError:
                    pass
                assert "result" in await d2.call("private/cancel", {"order_id": order_id})
    run(go())


def http_schemes(server):
    """The HTTP twins' credentials: bearer, Basic, deri-hmac-sha256 — wrong ones refused."""
    frank = new_account(server, "frank")
    path = "/api/v2/private/get_account_summary?currency=BTC"

    def get(headers):
        request = urllib.request.Request(server.http + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def basic(client_id, secret):
        return {"Authorization": "Basic " +
                base64.b64encode(f"{client_id}:{secret}".encode()).decode()}

    def deri_hmac(client_id, secret, nonce=None, ts=None):
        ts = int(time.time() * 1000) if ts is None else ts
        nonce = nonce or os.urandom(8).hex()
        text = f"{ts}\n{nonce}\nGET\n{path}\n\n"
        sig = hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
        return {"Authorization":
                f"deri-hmac-sha256 id={client_id},ts={ts},sig={sig},nonce={nonce}"}

    status, body = get({})
    assert body["error"]["code"] == UNAUTHORIZED and status != 200, (status, body)
    status, body = get(basic(*frank))
    assert status == 200 and body["result"]["currency"] == "BTC", (status, body)
    status, body = get(basic(frank[0], "wrong"))
    assert body["error"]["code"] == INVALID_CREDENTIALS, (status, body)
    nonce = os.urandom(8).hex()
    status, body = get(deri_hmac(*frank, nonce=nonce))
    assert status == 200, (status, body)
    status, body = get(deri_hmac(*frank, nonce=nonce))
    assert body["error"]["code"] == INVALID_CREDENTIALS, ("replayed nonce accepted", body)
    status, body = get(deri_hmac(frank[0], "wrong"))
    assert body["error"]["code"] == INVALID_CREDENTIALS, (status, body)
    status, body = get(deri_hmac(*frank, ts=int(time.time() * 1000) - 120_000))
    assert body["error"]["code"] == INVALID_CREDENTIALS, ("stale timestamp accepted", body)
    status, body = get({"Authorization": "bearer not-a-token"})
    assert body["error"]["code"] == UNAUTHORIZED, (status, body)


def lockout(server):
    """Ten failures from one IP within a minute: even the right secret gets 10028 for a while."""
    grace = new_account(server, "grace")

    async def go():
        async with websockets.connect(server.ws) as ws:
            c = Client(ws)
            codes = [error_code(await c.call("public/auth", credentials(grace[0], "wrong")))
                     for _ in range(12)]
            assert codes[0] == INVALID_CREDENTIALS and codes[-1] == 10028, codes
            assert error_code(await c.call("public/auth", credentials(*grace))) == 10028
    run(go())


def main():
    harness.greekwire_binary()
    # Failed attempts count per client IP (ten a minute), and every check comes from
    # 127.0.0.1: the HTTP checks get a server of their own, the lockout check runs last.
    with Serve() as server, Serve() as http_server:
        return harness.run_checks([
            ("grants refused: wrong secret, stale ts, bad signature, replayed nonce",
             lambda: signatures_and_tokens(server)),
            ("a key revoked while the server runs", lambda: revoked_key(server)),
            ("scope too narrow, another account's orders and channels",
             lambda: scopes_and_ownership(server)),
            ("failed attempts lock the IP out (10028)", lambda: lockout(server)),
            ("HTTP: Basic and deri-hmac-sha256, wrong and replayed",
             lambda: http_schemes(http_server)),
            ("SIGTERM -> exit 0, clean stderr", server.stop),
            ("SIGTERM -> exit 0, clean stderr (HTTP server)", http_server.stop),
        ])


if __name__ == "__main__":
    gw.TIMEOUT = 60
    sys.exit(main())
