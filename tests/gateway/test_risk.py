#!/usr/bin/python3
"""private/get_risk_matrix (greekwire's extension) against a running `greekwire serve`.

- an account that holds nothing gets the default grid (5 vol shifts x 9 moves) of zeros;
- an account buys an option and the perpetual: over WebSocket the grid has the centre cell at
  exactly 0, a long call and a long future gain with the underlying and the call with vol, the
  perpetual's own row is the inverse-future formula at its mark, the per-position rows add up
  to the totals, and the Greeks match the sum of private/get_positions' (delta, gamma, vega,
  theta; a few ms apart on a live market, so within a small tolerance);
- custom grids set the shape; the HTTP twins (Basic credentials; GET with the defaults, POST
  with a JSON body and grids) answer the same shapes and Greeks;
- bad grids and flags get -32602 naming the parameter (missing, wrong format, out of range) and
  the connection survives; a token without account:read gets 13403.

Usage: test_risk.py PATH_TO_GREEKWIRE
"""

import asyncio
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import harness  # noqa: E402
from test_gateway import (Client, basic_authorization, http_json, new_account, run,  # noqa: E402
                          run_checks_on_serve, signed_auth)

websockets = harness.require_module("websockets")

DEFAULT_MOVES = [-0.2, -0.15, -0.1, -0.05, 0, 0.05, 0.1, 0.15, 0.2]
DEFAULT_SHIFTS = [-10, -5, 0, 5, 10]


def http(url, body=None, credentials=None):
    return http_json(url, body, {"Authorization": basic_authorization(credentials)}
                     if credentials else None)


def check_shape(result, moves, shifts, currency="BTC"):
    assert result["currency"] == currency, result
    assert result["underlying_moves"] == moves, result
    assert result["vol_shifts"] == shifts, result
    assert len(result["pnl"]) == len(shifts), result
    assert all(len(row) == len(moves) for row in result["pnl"]), result
    assert result["index_price"] > 0 and result["timestamp"] > 0, result
    assert set(result["greeks"]) == {"delta", "gamma", "vega", "theta"}, result


def close(a, b, rel, floor):
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), floor)


async def pick_call(client):
    """A BTC call near the money, at least two days out, with an ask."""
    index = (await client.call("public/get_index_price", {"index_name": "btc_usd"}))["result"]
    options = (await client.call("public/get_instruments",
                                 {"currency": "BTC", "kind": "option"}))["result"]
    horizon = time.time() * 1000
    calls = [o for o in options if o["option_type"] == "call"
             and o["expiration_timestamp"] > horizon + 2 * 86_400_000]
    calls.sort(key=lambda o: (abs(o["strike"] - index["index_price"]), o["expiration_timestamp"]))
    for option in calls[:10]:
        book = (await client.call("public/get_order_book",
                                  {"instrument_name": option["instrument_name"], "depth": 1}))
        if book["result"]["best_ask_amount"] >= 1:
            return option["instrument_name"]
    raise AssertionError("no near-the-money call with an ask")


def risk_matrix(server):
    alice = new_account(server, "risk-alice")
    reader = new_account(server, "risk-reader")

    async def go():
        async with websockets.connect(server.ws) as ws:
            client = Client(ws)
            granted = await signed_auth(client, *alice)
            assert "access_token" in granted["result"], granted

            empty = (await client.call("private/get_risk_matrix", {"currency": "BTC"}))["result"]
            check_shape(empty, DEFAULT_MOVES, DEFAULT_SHIFTS)
            assert all(cell == 0 for row in empty["pnl"] for cell in row), empty
            assert all(v == 0 for v in empty["greeks"].values()), empty

            call = await pick_call(client)
            bought = await client.call("private/buy", {"instrument_name": call, "amount": 1,
                                                       "type": "market"})
            assert bought["result"]["order"]["filled_amount"] == 1, bought
            perp = await client.call("private/buy", {"instrument_name": "BTC-PERPETUAL",
                                                     "amount": 1000, "type": "market"})
            assert perp["result"]["order"]["filled_amount"] == 1000, perp

            result = (await client.call("private/get_risk_matrix",
                                        {"currency": "BTC", "per_position": True}))["result"]
            positions = (await client.call("private/get_positions",
                                           {"currency": "BTC"}))["result"]
            check_shape(result, DEFAULT_MOVES, DEFAULT_SHIFTS)
            pnl = result["pnl"]
            centre = pnl[DEFAULT_SHIFTS.index(0)][DEFAULT_MOVES.index(0)]
            assert centre == 0.0, result
            flat = pnl[DEFAULT_SHIFTS.index(0)]
            assert all(a < b for a, b in zip(flat, flat[1:])), flat  # long: gains as it rises
            for m in range(len(DEFAULT_MOVES)):
                column = [row[m] for row in pnl]
                assert all(a < b for a, b in zip(column, column[1:])), column  # long vega

            rows = {row["instrument_name"]: row for row in result["positions"]}
            assert set(rows) == {call, "BTC-PERPETUAL"}, rows
            for s in range(len(DEFAULT_SHIFTS)):
                for m in range(len(DEFAULT_MOVES)):
                    parts = sum(row["pnl"][s][m] for row in rows.values())
                    assert close(parts, pnl[s][m], 1e-12, 1e-15), (parts, pnl[s][m])
            future = rows["BTC-PERPETUAL"]
            assert future["kind"] == "future" and future["size"] == 1000, future
            for s, row in enumerate(future["pnl"]):
                for m, move in enumerate(DEFAULT_MOVES):
                    mark = future["mark_price"]
                    expected = 1000 * (1 / mark - 1 / (mark * (1 + move)))
                    assert close(row[m], expected, 1e-12, 1e-16), (s, m, row[m], expected)
            option = rows[call]
            assert option["kind"] == "option" and option["size"] == 1, option
            assert 5 < option["mark_iv"] < 500, option
            assert option["delta"] > 0 and option["gamma"] > 0 and option["vega"] > 0, option
            assert option["theta"] < 0, option

            # The Greeks are the sum of get_positions' (same account, a moment apart).
            open_positions = [p for p in positions if p["size"] != 0]
            assert {p["instrument_name"] for p in open_positions} == set(rows), positions
            expected = {
                "delta": sum(p["delta"] for p in open_positions),
                "gamma": sum(p.get("gamma", 0) for p in open_positions),
                "vega": sum(p.get("vega", 0) for p in open_positions),
                "theta": sum(p.get("theta", 0) for p in open_positions),
            }
            for name, value in expected.items():
                assert value != 0, (name, positions)
                assert close(result["greeks"][name], value, 0.03, 1e-9), (name, result, value)
            for name in expected:
                parts = sum(row[name] for row in rows.values())
                assert close(parts, result["greeks"][name], 1e-12, 1e-15), (name, parts)

            custom = (await client.call("private/get_risk_matrix", {
                "currency": "BTC", "underlying_moves": [-0.5, 0, 3],
                "vol_shifts": [0]}))["result"]
            check_shape(custom, [-0.5, 0.0, 3.0], [0.0])
            assert custom["pnl"][0][1] == 0.0 and "positions" not in custom, custom
            eth = (await client.call("private/get_risk_matrix", {"currency": "ETH"}))["result"]
            check_shape(eth, DEFAULT_MOVES, DEFAULT_SHIFTS, "ETH")
            assert all(cell == 0 for row in eth["pnl"] for cell in row), eth

            # Bad input: -32602 naming the parameter; the connection stays.
            bad = [
                ({}, "currency", "missing"),
                ({"currency": "XRP"}, "currency", "wrong format"),
                ({"currency": "BTC", "underlying_moves": [-1]}, "underlying_moves",
                 "out of range"),
                ({"currency": "BTC", "underlying_moves": []}, "underlying_moves", "out of range"),
                ({"currency": "BTC", "underlying_moves": [0.01 * i for i in range(42)]},
                 "underlying_moves", "out of range"),
                ({"currency": "BTC", "underlying_moves": [0, "x"]}, "underlying_moves",
                 "wrong format"),
                ({"currency": "BTC", "underlying_moves": 0.1}, "underlying_moves",
                 "wrong format"),
                ({"currency": "BTC", "vol_shifts": [[5]]}, "vol_shifts", "wrong format"),
                ({"currency": "BTC", "vol_shifts": [1e6]}, "vol_shifts", "out of range"),
                ({"currency": "BTC", "per_position": "yes"}, "per_position", "wrong format"),
            ]
            for params, param, reason in bad:
                answer = await client.call("private/get_risk_matrix", params)
                error = answer.get("error", {})
                assert error.get("code") == -32602, (params, answer)
                assert error["data"] == {"reason": reason, "param": param}, (params, answer)
            still = await client.call("public/test")
            assert "result" in still, still

            # HTTP twins (Basic credentials): GET with the defaults, POST with grids; errors
            # are 400.
            base = f"{server.http}/api/v2/private/get_risk_matrix"
            status, body = http(f"{base}?currency=BTC", credentials=alice)
            assert status == 200, body
            check_shape(body["result"], DEFAULT_MOVES, DEFAULT_SHIFTS)
            for name, value in body["result"]["greeks"].items():
                assert close(value, result["greeks"][name], 0.03, 1e-9), (name, body)
            status, body = http(base, json.dumps({
                "jsonrpc": "2.0", "id": 7, "method": "private/get_risk_matrix",
                "params": {"currency": "BTC", "underlying_moves": [-0.1, 0, 0.1],
                           "vol_shifts": [-5, 0, 5]}}), credentials=alice)
            assert status == 200 and body["id"] == 7, body
            check_shape(body["result"], [-0.1, 0.0, 0.1], [-5.0, 0.0, 5.0])
            assert body["result"]["pnl"][1][1] == 0.0, body
            status, body = http(base, json.dumps({
                "jsonrpc": "2.0", "id": 8, "method": "private/get_risk_matrix",
                "params": {"currency": "BTC", "vol_shifts": [2000]}}), credentials=alice)
            assert status == 400 and body["error"]["code"] == -32602, body
            assert body["error"]["data"]["param"] == "vol_shifts", body
            status, body = http(f"{base}?currency=BTC")
            assert status == 400 and body["error"]["code"] == 13009, body

        # Scope: account:read is enough, a trade-only token is refused.
        async with websockets.connect(server.ws) as ws:
            client = Client(ws)
            narrow = await client.call("public/auth", {
                "grant_type": "client_credentials", "client_id": reader[0],
                "client_secret": reader[1], "scope": "account:none trade:read"})
            assert "result" in narrow, narrow
            refused = await client.call("private/get_risk_matrix",
                                        {"currency": "BTC",
                                         "access_token": narrow["result"]["access_token"]})
            assert refused["error"]["code"] == 13403, refused
            enough = await client.call("public/auth", {
                "grant_type": "client_credentials", "client_id": reader[0],
                "client_secret": reader[1], "scope": "account:read"})
            allowed = await client.call("private/get_risk_matrix",
                                        {"currency": "BTC",
                                         "access_token": enough["result"]["access_token"]})
            assert "result" in allowed, allowed
            assert not any(math.isnan(c) for row in allowed["result"]["pnl"] for c in row)

    run(go())


def main():
    return run_checks_on_serve([
        ("private/get_risk_matrix over WebSocket and HTTP", risk_matrix),
    ])


if __name__ == "__main__":
    sys.exit(main())
