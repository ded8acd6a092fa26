#!/usr/bin/python3
"""private/get_settlement_history_by_instrument and _by_currency against `greekwire serve`
whose simulated clock starts 80 s before a Friday 08:00 UTC, when the weekly futures expire:

- the demo account buys BTC and ETH futures of that expiry (IOC at the ask); once they expired,
  each currency's history holds one "delivery" of its future, with the position bought, the
  delivery price as mark_price, the expiry's timestamp; by instrument (an expired name) the same
  record; newest first; count 1 pages with a continuation token that ends with null;
- type settlement / bankruptcy select nothing; bad count, type, continuation, instrument names and
  currencies are -32602 naming the parameter; without credentials 13009;
- another account (bob) has no settlements.

Usage: test_settlements.py PATH_TO_GREEKWIRE
"""

import asyncio
import datetime
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_gateway as tg  # noqa: E402
import test_queries as tq  # noqa: E402
from test_gateway import Client, logged_in, run, websockets  # noqa: E402

LEAD_S = 80  # simulated seconds from the start to the expiry (20 s at --speed 4)


def next_friday_expiry_ms():
    """The next Friday 08:00 UTC at least a minute away (the weekly futures' expiry)."""
    now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1)
    day = now.replace(hour=8, minute=0, second=0, microsecond=0)
    while day.weekday() != 4 or day <= now:
        day += datetime.timedelta(days=1)
    return int(day.timestamp() * 1000)


EXPIRY_MS = next_friday_expiry_ms()


async def future_of_expiry(client, currency):
    instruments = await tq.result(client, "public/get_instruments",
                                  {"currency": currency, "kind": "future"})
    names = [i["instrument_name"] for i in instruments
             if i["expiration_timestamp"] == EXPIRY_MS]
    assert names, (currency, EXPIRY_MS, [i["instrument_name"] for i in instruments])
    return names[0]


async def buy_at_ask(client, name):
    """Buys up to 100 USD of the future at its best ask (IOC), again until something fills (the
    market makers requote); returns the amount filled."""
    for _ in range(20):
        book = await tq.result(client, "public/get_order_book",
                               {"instrument_name": name, "depth": 1})
        if book.get("best_ask_price"):
            placed = await tq.result(client, "private/buy", {
                "instrument_name": name, "amount": 100, "price": book["best_ask_price"],
                "time_in_force": "immediate_or_cancel"})
            if placed["order"]["filled_amount"] > 0:
                return placed["order"]["filled_amount"]
        await asyncio.sleep(0.2)
    raise AssertionError(f"could not buy {name}")


def settlements_after_expiry(server):
    async def go():
        ws, c = await logged_in(server, server.demo)
        try:
            futures = {cur: await future_of_expiry(c, cur) for cur in ("BTC", "ETH")}
            bought = {cur: await buy_at_ask(c, name) for cur, name in futures.items()}
            # Before the expiry: nothing delivered.
            early = await tq.result(c, "private/get_settlement_history_by_currency",
                                    {"currency": "BTC"})
            assert early == {"settlements": [], "continuation": None}, early
            # Wait for the expiry (simulated time runs at --speed 4).
            deadline = time.monotonic() + 60
            while True:
                got = await tq.result(c, "private/get_settlement_history_by_currency",
                                      {"currency": "BTC"})
                if got["settlements"] or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)
            assert len(got["settlements"]) == 1, got
            record = got["settlements"][0]
            assert record["type"] == "delivery", record
            assert record["instrument_name"] == futures["BTC"], record
            assert record["position"] == bought["BTC"], (record, bought)
            assert record["timestamp"] >= EXPIRY_MS, record
            assert record["mark_price"] == record["index_price"] > 0, record
            for key in ("profit_loss", "session_profit_loss"):
                assert isinstance(record[key], float), record
            assert got["continuation"] is None, got
            by_name = await tq.result(c, "private/get_settlement_history_by_instrument",
                                      {"instrument_name": futures["BTC"]})
            assert by_name == got, (by_name, got)
            eth = await tq.result(c, "private/get_settlement_history_by_currency",
                                  {"currency": "ETH", "type": "delivery"})
            assert [r["instrument_name"] for r in eth["settlements"]] == [futures["ETH"]], eth
            # Paging: one per page; the token leads to the next and the last says null.
            for currency in ("BTC", "ETH"):
                page = await tq.result(c, "private/get_settlement_history_by_currency",
                                       {"currency": currency, "count": 1})
                assert len(page["settlements"]) == 1 and page["continuation"] is None, page
            for kind in ("settlement", "bankruptcy"):
                none = await tq.result(c, "private/get_settlement_history_by_currency",
                                       {"currency": "BTC", "type": kind})
                assert none == {"settlements": [], "continuation": None}, none
            before = await tq.result(c, "private/get_settlement_history_by_currency",
                                     {"currency": "BTC",
                                      "search_start_timestamp": EXPIRY_MS - 1})
            assert before["settlements"] == [], before
            print(f"  {futures['BTC']}: {record['position']} delivered at "
                  f"{record['mark_price']}, profit_loss {record['profit_loss']:.6f}")
        finally:
            await ws.close()
    run(go())


def errors_and_other_accounts(server):
    async def go():
        ws, c = await logged_in(server, server.demo)
        try:
            method = "private/get_settlement_history_by_currency"
            for params, param in (({"currency": "BTC", "count": 0}, "count"),
                                  ({"currency": "BTC", "count": 1001}, "count"),
                                  ({"currency": "BTC", "type": "everything"}, "type"),
                                  ({"currency": "BTC", "continuation": "x1"}, "continuation"),
                                  ({"currency": "BTC", "search_start_timestamp": -1},
                                   "search_start_timestamp")):
                tq.assert_param_error(await c.call(method, params), param)
            reply = await c.call(method, {"currency": "DOGE"})
            assert reply.get("error", {}).get("code") == -32602, reply
            reply = await c.call("private/get_settlement_history_by_instrument",
                                 {"instrument_name": "BTC-1JAN99"})
            tq.assert_param_error(reply, "instrument_name")
            async with websockets.connect(server.ws) as anonymous_ws:
                reply = await Client(anonymous_ws).call(method, {"currency": "BTC"})
                assert reply["error"]["code"] == 13009, reply
        finally:
            await ws.close()
        bob = tg.new_account(server, "bob")
        ws, c = await logged_in(server, bob)
        try:
            mine = await tq.result(c, "private/get_settlement_history_by_currency",
                                   {"currency": "BTC"})
            assert mine == {"settlements": [], "continuation": None}, mine
        finally:
            await ws.close()
    run(go())


def main():
    config = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    config.write(f"[venue]\nstart_ms = {EXPIRY_MS - LEAD_S * 1000}\n")
    config.close()
    return tg.run_checks_on_serve([
        ("deliveries at expiry: by currency, by instrument, paging, filters",
         settlements_after_expiry),
        ("errors, anonymous, another account", errors_and_other_accounts),
    ], "--config", config.name, "--speed", "4")


if __name__ == "__main__":
    tg.TIMEOUT = 90
    sys.exit(main())
