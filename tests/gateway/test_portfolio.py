#!/usr/bin/python3
"""The account's Greeks against a running `greekwire serve`: private/get_account_summary and
user.portfolio.{currency} agree with private/get_positions.

- an account subscribed to user.portfolio.btc (Deribit's lower-case spelling) buys a call and
  the perpetual and sells an option of the closest expiry; the notification after the call's
  fill carries non-zero option Greeks (options_delta, gamma, vega > 0, theta < 0) and its
  per-index maps say the same;
- get_positions and get_account_summary sent back to back: options_delta, options_gamma,
  options_vega and options_theta are the sums of the option rows' Greeks, options_value the
  option rows' size x mark_price, delta_total the rows' deltas less options_value (Deribit's
  net transaction delta of options), projected_delta_total the same without the rows of the
  closest expiry, and delta_total_map / options_*_map hold the totals under "btc_usd";
- the last user.portfolio notification and the HTTP twin say what the summary says;
- the ETH summary of the same account is all zeros with empty maps.

The server runs at --speed 0.001 (a simulated millisecond per second): the index, the surface
and the marks do not move during the test, so answers a few milliseconds apart describe the
same market and are compared within 1e-9 (only the time to expiry moves, by parts in 1e8).

Usage: test_portfolio.py PATH_TO_GREEKWIRE
"""

import asyncio
import json
import os
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import harness  # noqa: E402
from test_gateway import (Client, basic_authorization, new_account, run,  # noqa: E402
                          run_checks_on_serve, signed_auth)
from test_risk import pick_call  # noqa: E402

websockets = harness.require_module("websockets")

GREEKS = ("options_delta", "options_gamma", "options_vega", "options_theta")


def close(a, b, rel=1e-9, floor=1e-15):
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), floor)


def expected_totals(positions, closest_expiry, expiries):
    """What a client sums from get_positions' rows (Deribit's definitions)."""
    options = [p for p in positions if p["kind"] == "option" and p["size"] != 0]
    value = sum(p["size"] * p["mark_price"] for p in options)
    delta_total = sum(p["delta"] for p in positions) - value
    expiring = [p for p in positions if expiries[p["instrument_name"]] == closest_expiry]
    expiring_delta = sum(p["delta"] - (p["size"] * p["mark_price"] if p["kind"] == "option" else 0)
                         for p in expiring)
    return {
        "options_delta": sum(p["delta"] for p in options),
        "options_gamma": sum(p["gamma"] for p in options),
        "options_vega": sum(p["vega"] for p in options),
        "options_theta": sum(p["theta"] for p in options),
        "options_value": value,
        "delta_total": delta_total,
        "projected_delta_total": delta_total - expiring_delta,
    }


def check_maps(data, index="btc_usd"):
    assert data["delta_total_map"] == {index: data["delta_total"]}, data
    for name in ("options_gamma", "options_vega", "options_theta"):
        assert data[f"{name}_map"] == {index: data[name]}, (name, data)


async def wait_for_the_first_tick(client):
    """The simulated clock starts moving (and the first tickers set the marks) once a
    simulated millisecond has passed: about a second of wall time at --speed 0.001."""
    first = None
    for _ in range(100):
        ticker = (await client.call("public/ticker",
                                    {"instrument_name": "BTC-PERPETUAL"}))["result"]
        if first is None:
            first = ticker["timestamp"]
        elif ticker["timestamp"] > first:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the simulated clock does not move")


async def option_of_closest_expiry(client, instruments, closest):
    """An option of the closest expiry near the money with a bid for 1."""
    index = (await client.call("public/get_index_price", {"index_name": "btc_usd"}))["result"]
    options = [i for i in instruments
               if i["kind"] == "option" and i["expiration_timestamp"] == closest]
    options.sort(key=lambda o: abs(o["strike"] - index["index_price"]))
    for option in options[:10]:
        book = (await client.call("public/get_order_book",
                                  {"instrument_name": option["instrument_name"], "depth": 1}))
        if book["result"]["best_bid_amount"] >= 1:
            return option["instrument_name"]
    raise AssertionError("no option of the closest expiry with a bid")


async def greek_notification(client):
    """The first user.portfolio.btc notification with option Greeks (the fill's)."""
    while True:
        note = await client.notification(timeout=10)
        if note.get("method") != "subscription":
            continue
        assert note["params"]["channel"] == "user.portfolio.btc", note
        data = note["params"]["data"]
        if data["options_delta"] != 0:
            return data


async def latest_notification(client, data):
    """Drains the queued notifications; the last one's data (or `data`)."""
    while not client.notifications.empty():
        note = client.notifications.get_nowait()
        if note.get("method") == "subscription":
            data = note["params"]["data"]
    return data


def portfolio_greeks(server):
    alice = new_account(server, "greeks-alice")

    async def go():
        async with websockets.connect(server.ws) as ws:
            client = Client(ws)
            granted = await signed_auth(client, *alice)
            assert "access_token" in granted["result"], granted
            subscribed = await client.call("private/subscribe",
                                           {"channels": ["user.portfolio.btc"]})
            assert subscribed["result"] == ["user.portfolio.btc"], subscribed
            await wait_for_the_first_tick(client)

            instruments = []
            for kind in ("future", "option"):
                instruments += (await client.call("public/get_instruments",
                                                  {"currency": "BTC", "kind": kind}))["result"]
            expiries = {i["instrument_name"]: i["expiration_timestamp"] for i in instruments}
            closest = min(i["expiration_timestamp"] for i in instruments
                          if i["settlement_period"] != "perpetual")

            call = await pick_call(client)
            bought = await client.call("private/buy", {"instrument_name": call, "amount": 1,
                                                       "type": "market"})
            assert bought["result"]["order"]["filled_amount"] == 1, bought
            note = await greek_notification(client)
            assert note["options_delta"] > 0 and note["options_gamma"] > 0, note
            assert note["options_vega"] > 0 and note["options_theta"] < 0, note
            assert note["options_value"] > 0, note
            assert close(note["delta_total"], note["options_delta"] - note["options_value"]), note
            check_maps(note)

            perp = await client.call("private/buy", {"instrument_name": "BTC-PERPETUAL",
                                                     "amount": 2000, "type": "market"})
            assert perp["result"]["order"]["filled_amount"] == 2000, perp
            first = await option_of_closest_expiry(client, instruments, closest)
            sold = await client.call("private/sell", {"instrument_name": first, "amount": 1,
                                                      "type": "market"})
            assert sold["result"]["order"]["filled_amount"] == 1, sold

            # Back to back, so that the venue answers both at (almost) one instant.
            asked = [asyncio.ensure_future(client.call(method, {"currency": "BTC"}))
                     for method in ("private/get_positions", "private/get_account_summary")]
            positions, summary = [(await a)["result"] for a in asked]
            open_rows = [p for p in positions if p["size"] != 0]
            assert {p["instrument_name"] for p in open_rows} == {call, first, "BTC-PERPETUAL"}, \
                positions
            expected = expected_totals(positions, closest, expiries)
            for name, value in expected.items():
                assert close(summary[name], value), (name, summary[name], value, summary)
            assert summary["delta_total"] != summary["options_delta"], summary  # the future too
            # The short option of the closest expiry is left out of the projection.
            assert not close(summary["projected_delta_total"], summary["delta_total"]), summary
            check_maps(summary)
            for name in GREEKS:
                assert summary[name] != 0, (name, summary)

            # The perpetual's fill was notified with the same figures.
            await asyncio.sleep(0.3)
            last = await latest_notification(client, note)
            for name in (*GREEKS, "options_value", "delta_total", "projected_delta_total"):
                assert close(last[name], summary[name]), (name, last, summary)

            # The HTTP twin (Basic credentials) answers the same.
            request = urllib.request.Request(
                f"{server.http}/api/v2/private/get_account_summary?currency=BTC",
                headers={"Authorization": basic_authorization(alice)})
            with urllib.request.urlopen(request, timeout=10) as r:
                twin = json.loads(r.read().decode())["result"]
            for name in (*GREEKS, "delta_total", "projected_delta_total"):
                assert close(twin[name], summary[name]), (name, twin, summary)

            # Nothing held in ETH: zeros and empty maps.
            eth = (await client.call("private/get_account_summary",
                                     {"currency": "ETH"}))["result"]
            for name in (*GREEKS, "options_value", "delta_total", "projected_delta_total"):
                assert eth[name] == 0, (name, eth)
            for name in ("delta_total_map", "options_gamma_map", "options_vega_map",
                         "options_theta_map"):
                assert eth[name] == {}, (name, eth)

    run(go())


def main():
    return run_checks_on_serve([
        ("get_account_summary and user.portfolio Greeks equal get_positions' sums",
         portfolio_greeks),
    ], "--speed", "0.001")


if __name__ == "__main__":
    sys.exit(main())
