#!/usr/bin/python3
"""public/fork_token and public/exchange_token in `greekwire serve`, over WebSocket and HTTP:

- fork_token turns a session-scoped refresh token into a new named session (scope
  "session:NAME ..."), shaped like Deribit's result; its access token works on another
  connection and over HTTP (Authorization: bearer), and the source session keeps working;
- exchange_token for the session's own account (its id as `greekwire keys list --json` shows
  it) issues a new token, narrowed by `scope`; another account is 13021 forbidden;
- errors: a connection-scoped token cannot be forked (13009), unknown refresh tokens are 13009,
  missing or mistyped parameters are -32602 naming the parameter; the connection survives.

Usage: test_tokens.py PATH_TO_GREEKWIRE
"""

import json
import os
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_gateway import (Client, harness, http_get, http_json, new_account, run,  # noqa: E402
                          run_checks_on_serve, websockets)

TOKEN_FIELDS = {"access_token", "expires_in", "refresh_token", "scope", "token_type"}


def account_id(server, name):
    proc = subprocess.run([harness.greekwire_binary(), "keys", "list", "--json", "--data-dir",
                           server.data_dir], capture_output=True, text=True, timeout=30,
                          env=harness.child_env())
    assert proc.returncode == 0, proc.stderr
    return next(a["id"] for a in json.loads(proc.stdout)["accounts"] if a["account"] == name)


def http_private(server, method, token, **query):
    url = f"{server.http}/api/v2/private/{method}?{urllib.parse.urlencode(query)}"
    return http_json(url, headers={"Authorization": f"bearer {token}"})


def check_grant(result, scope_prefix):
    assert set(result) == TOKEN_FIELDS, result
    assert result["token_type"] == "bearer" and result["expires_in"] > 0, result
    assert result["scope"].startswith(scope_prefix), result
    assert result["access_token"] and result["refresh_token"], result


def fork_token(server):
    async def go():
        async with websockets.connect(server.ws) as ws_a, websockets.connect(server.ws) as ws_b:
            a, b = Client(ws_a), Client(ws_b)
            base = (await a.call("public/auth", {
                "grant_type": "client_credentials", "client_id": server.demo[0],
                "client_secret": server.demo[1], "scope": "session:main trade:read"}))["result"]
            forked = await b.call("public/fork_token", {"refresh_token": base["refresh_token"],
                                                        "session_name": "bot2"})
            check_grant(forked["result"], "session:bot2 ")
            assert "trade:read " in forked["result"]["scope"] + " ", forked
            token = forked["result"]["access_token"]
            assert token != base["access_token"]
            # The fork works on B (which never authenticated) and over HTTP; the source too.
            summary = await b.call("private/get_account_summary",
                                   {"currency": "BTC", "access_token": token})
            assert summary["result"]["currency"] == "BTC", summary
            status, body = http_private(server, "get_positions", token, currency="BTC")
            assert status == 200 and isinstance(body["result"], list), (status, body)
            # trade:read only: the fork cannot trade either.
            refused = await b.call("private/buy", {"instrument_name": "BTC-PERPETUAL",
                                                   "amount": 10, "type": "market",
                                                   "access_token": token})
            assert refused["error"]["code"] == 13403, refused
            assert "result" in await a.call("private/get_positions", {"currency": "BTC"})
            # Over HTTP as well, from the fork's refresh token.
            query = urllib.parse.urlencode({"refresh_token": forked["result"]["refresh_token"],
                                            "session_name": "bot3"})
            status, text = http_get(f"{server.http}/api/v2/public/fork_token?{query}")
            assert status == 200, text
            check_grant(json.loads(text)["result"], "session:bot3 ")

            connection = (await b.call("public/auth", {
                "grant_type": "client_credentials", "client_id": server.demo[0],
                "client_secret": server.demo[1]}))["result"]
            refused = await b.call("public/fork_token", {
                "refresh_token": connection["refresh_token"], "session_name": "x"})
            assert refused["error"]["code"] == 13009, refused
            unknown = await b.call("public/fork_token", {"refresh_token": "1.nonsense",
                                                         "session_name": "x"})
            assert unknown["error"]["code"] == 13009, unknown
            missing = await b.call("public/fork_token", {"refresh_token": base["refresh_token"]})
            assert missing["error"]["code"] == -32602, missing
            assert missing["error"]["data"]["param"] == "session_name", missing
            mistyped = await b.call("public/fork_token", {"refresh_token": 5,
                                                          "session_name": "x"})
            assert mistyped["error"]["data"]["param"] == "refresh_token", mistyped
            assert "result" in await b.call("public/test")
    run(go())


def exchange_token(server):
    demo_id = account_id(server, "demo")
    other = new_account(server, "carol")
    other_id = account_id(server, "carol")
    assert other and other_id != demo_id

    async def go():
        async with websockets.connect(server.ws) as ws:
            c = Client(ws)
            base = (await c.call("public/auth", {
                "grant_type": "client_credentials", "client_id": server.demo[0],
                "client_secret": server.demo[1], "scope": "session:desk"}))["result"]
            exchanged = await c.call("public/exchange_token", {
                "refresh_token": base["refresh_token"], "subject_id": demo_id,
                "scope": "session:reader account:read trade:read"})
            check_grant(exchanged["result"], "session:reader ")
            scope = exchanged["result"]["scope"].split()
            assert "trade:read" in scope and "account:read" in scope, exchanged
            token = exchanged["result"]["access_token"]
            status, body = http_private(server, "get_account_summary", token, currency="ETH")
            assert status == 200 and body["result"]["currency"] == "ETH", (status, body)
            forbidden = await c.call("public/exchange_token", {
                "refresh_token": base["refresh_token"], "subject_id": other_id})
            assert forbidden["error"]["code"] == 13021, forbidden
            missing = await c.call("public/exchange_token",
                                   {"refresh_token": base["refresh_token"]})
            assert missing["error"]["code"] == -32602, missing
            assert missing["error"]["data"]["param"] == "subject_id", missing
            fraction = await c.call("public/exchange_token", {
                "refresh_token": base["refresh_token"], "subject_id": 1.5})
            assert fraction["error"]["data"]["param"] == "subject_id", fraction
            unknown = await c.call("public/exchange_token", {"refresh_token": "1.nonsense",
                                                             "subject_id": demo_id})
            assert unknown["error"]["code"] == 13009, unknown
            widened = await c.call("public/exchange_token", {
                "refresh_token": exchanged["result"]["refresh_token"], "subject_id": demo_id,
                "scope": "trade:read_write"})
            assert widened["error"]["code"] == 13403, widened
            assert "result" in await c.call("public/test")
    run(go())


def main():
    return run_checks_on_serve([
        ("fork_token: a new named session, usable anywhere; errors", fork_token),
        ("exchange_token: own account only, narrowed by scope; errors", exchange_token),
    ])


if __name__ == "__main__":
    sys.exit(main())
