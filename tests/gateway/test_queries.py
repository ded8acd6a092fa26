#!/usr/bin/python3
"""The query methods of `greekwire serve` against Python websockets and urllib:

- private/get_open_orders_by_instrument and _by_currency: the caller's resting orders only, with
  the kind and type filters, equal to get_order_state's objects;
- private/get_user_trades_by_instrument: Alice and Bob trade against each other (Alice's post-only
  sell inside the spread, Bob's IOC buy at its price) and against the simulated market; each sees
  the shared fill from its own side (liquidity, direction, order id, label) and never the other's
  fills; paging by count, start_seq / end_seq and sorting, with has_more;
- public/get_last_trades_by_instrument: the same trades, consecutive trade_seqs, the same paging;
- private/get_position: equal to its row in get_positions, sized by the user trades; an option
  position's Greeks; a flat position where there is none;
- public/get_book_summary_by_currency: every listed instrument with Deribit's fields per kind,
  real 24-hour statistics that agree with public/ticker, the kind filter;
- errors: no auth 13009; missing, mistyped or unknown instrument and currency, bad count /
  sorting / seqs / kind / type -32602 naming the parameter, and the socket survives;
- the HTTP twins (GET query, POST body, Basic credentials) answer what the WebSocket does.

Usage: test_queries.py PATH_TO_GREEKWIRE
"""

import asyncio
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import harness  # noqa: E402
from test_gateway import (Client, Serve, basic_authorization, client_credentials_auth,  # noqa: E402
                          http_json, new_account, run, websockets)

PERP = "BTC-PERPETUAL"
FUTURE_TRADE_KEYS = {"trade_seq", "trade_id", "timestamp", "tick_direction", "price",
                     "mark_price", "instrument_name", "index_price", "direction", "contracts",
                     "amount"}
USER_TRADE_KEYS = FUTURE_TRADE_KEYS | {"state", "reduce_only", "profit_loss", "post_only",
                                       "order_type", "order_id", "matching_id", "liquidity",
                                       "label", "fee_currency", "fee", "api", "mmp",
                                       "risk_reducing"}
SUMMARY_KEYS = {"volume_usd", "volume", "quote_currency", "price_change", "open_interest",
                "mid_price", "mark_price", "low", "last", "instrument_name", "high",
                "estimated_delivery_price", "creation_timestamp", "bid_price", "base_currency",
                "ask_price"}
FUTURE_SUMMARY_KEYS = SUMMARY_KEYS | {"volume_notional"}
PERPETUAL_SUMMARY_KEYS = FUTURE_SUMMARY_KEYS | {"funding_8h", "current_funding"}
OPTION_SUMMARY_KEYS = SUMMARY_KEYS | {"underlying_price", "underlying_index", "mark_iv",
                                      "interest_rate"}
POSITION_KEYS = {"total_profit_loss", "size_currency", "size", "settlement_price",
                 "realized_profit_loss", "open_orders_margin", "mark_price",
                 "maintenance_margin", "kind", "instrument_name", "initial_margin",
                 "index_price", "floating_profit_loss", "direction", "delta", "average_price"}


def http(server, path, body=None, credentials=None):
    """GET (or POST `body`) an API path; returns (status, parsed JSON)."""
    return http_json(f"{server.http}/api/v2/{path}", body,
                     {"Authorization": basic_authorization(credentials)} if credentials else None)


async def login(ws, credentials, client=None):
    client = client or Client(ws)
    await client_credentials_auth(client, credentials)
    return client


async def result(client, method, params=None):
    reply = await client.call(method, params or {})
    assert "result" in reply, (method, params, reply)
    return reply["result"]


def assert_param_error(reply, param):
    assert reply.get("error", {}).get("code") == -32602, reply
    assert reply["error"]["data"]["param"] == param, reply


# --- checks ----------------------------------------------------------------------------------

def errors(server, alice):
    async def go():
        async with websockets.connect(server.ws) as ws:
            c = Client(ws)
            for method, params in (
                    ("private/get_open_orders_by_instrument", {"instrument_name": PERP}),
                    ("private/get_open_orders_by_currency", {"currency": "BTC"}),
                    ("private/get_user_trades_by_instrument", {"instrument_name": PERP}),
                    ("private/get_position", {"instrument_name": PERP})):
                refused = await c.call(method, params)
                assert refused.get("error", {}).get("code") == 13009, (method, refused)
            await login(ws, alice, c)
            by_instrument = ("private/get_open_orders_by_instrument",
                             "private/get_user_trades_by_instrument", "private/get_position",
                             "public/get_last_trades_by_instrument")
            for method in by_instrument:
                missing = await c.call(method, {})
                assert_param_error(missing, "instrument_name")
                assert missing["error"]["data"]["reason"] == "missing", missing
                for wrong in (5, "BTC-NOPE", "btc-perpetual"):
                    assert_param_error(await c.call(method, {"instrument_name": wrong}),
                                       "instrument_name")
            for method in ("private/get_open_orders_by_currency",
                           "public/get_book_summary_by_currency"):
                assert_param_error(await c.call(method, {}), "currency")
                assert_param_error(await c.call(method, {"currency": "XRP"}), "currency")
                assert_param_error(await c.call(method, {"currency": "BTC", "kind": "bogus"}),
                                   "kind")
            for method in ("private/get_open_orders_by_instrument",
                           "private/get_open_orders_by_currency"):
                assert_param_error(await c.call(method, {"instrument_name": PERP,
                                                         "currency": "BTC", "type": "bogus"}),
                                   "type")
            for method in ("public/get_last_trades_by_instrument",
                           "private/get_user_trades_by_instrument"):
                for bad, param in (({"count": 0}, "count"), ({"count": 1001}, "count"),
                                   ({"count": "ten"}, "count"), ({"sorting": "up"}, "sorting"),
                                   ({"start_seq": -1}, "start_seq"), ({"end_seq": "x"}, "end_seq"),
                                   ({"include_old": "yes"}, "include_old")):
                    assert_param_error(await c.call(method, {"instrument_name": PERP, **bad}),
                                       param)
            # The socket survived all of it.
            assert "version" in await result(c, "public/test")
        status, body = http(server, "public/get_last_trades_by_instrument?instrument_name=NOPE")
        assert status == 400, (status, body)
        assert_param_error(body, "instrument_name")
        status, body = http(server, "private/get_position?instrument_name=" + PERP)
        assert status == 400 and body["error"]["code"] == 13009, (status, body)
    run(go())


def open_orders(server, alice, bob):
    async def go():
        async with websockets.connect(server.ws) as a_ws, websockets.connect(server.ws) as b_ws:
            a, b = await login(a_ws, alice), await login(b_ws, bob)
            perp_book = await result(a, "public/get_order_book", {"instrument_name": PERP,
                                                                  "depth": 1})
            eth_book = await result(a, "public/get_order_book",
                                    {"instrument_name": "ETH-PERPETUAL", "depth": 1})
            options = await result(a, "public/get_book_summary_by_currency",
                                   {"currency": "BTC", "kind": "option"})
            option = next(o for o in options if (o["bid_price"] or 0) >= 0.01)
            placed = {}
            for name, price, amount in (
                    (PERP, perp_book["best_bid_price"] - 5000, 20),
                    ("ETH-PERPETUAL", round(eth_book["best_bid_price"] - 500, 2), 5),
                    (option["instrument_name"], 0.0001, 0.1)):
                order = (await result(a, "private/buy", {"instrument_name": name,
                                                         "amount": amount, "price": price,
                                                         "label": "q-" + name}))["order"]
                assert order["order_state"] == "open", order
                placed[name] = order["order_id"]

            def ids(orders):
                return sorted(o["order_id"] for o in orders)

            mine = await result(a, "private/get_open_orders_by_instrument",
                                {"instrument_name": PERP})
            assert ids(mine) == [placed[PERP]], mine
            state = await result(a, "private/get_order_state", {"order_id": placed[PERP]})
            assert mine[0] == state, (mine, state)
            assert mine[0]["label"] == "q-" + PERP and mine[0]["amount"] == 20, mine
            btc = sorted([placed[PERP], placed[option["instrument_name"]]])
            for params, want in (({"currency": "BTC"}, btc),
                                 ({"currency": "BTC", "kind": "any", "type": "all"}, btc),
                                 ({"currency": "BTC", "type": "limit"}, btc),
                                 ({"currency": "BTC", "kind": "future"}, [placed[PERP]]),
                                 ({"currency": "BTC", "kind": "option"},
                                  [placed[option["instrument_name"]]]),
                                 ({"currency": "BTC", "kind": "spot"}, []),
                                 ({"currency": "BTC", "type": "stop_all"}, []),
                                 ({"currency": "ETH"}, [placed["ETH-PERPETUAL"]])):
                got = await result(a, "private/get_open_orders_by_currency", params)
                assert ids(got) == want, (params, got)
            assert await result(a, "private/get_open_orders_by_instrument",
                                {"instrument_name": PERP, "type": "take_limit"}) == []
            # Bob sees none of them, whatever he asks.
            for method, params in (
                    ("private/get_open_orders_by_currency", {"currency": "BTC"}),
                    ("private/get_open_orders_by_currency", {"currency": "ETH"}),
                    ("private/get_open_orders_by_instrument", {"instrument_name": PERP})):
                assert await result(b, method, params) == [], (method, params)
            # The HTTP twins (GET query, POST body) answer what the WebSocket does.
            status, body = http(server, "private/get_open_orders_by_currency?currency=BTC",
                                credentials=alice)
            ws_answer = await result(a, "private/get_open_orders_by_currency", {"currency": "BTC"})
            assert status == 200 and body["result"] == ws_answer, (status, body, ws_answer)
            status, body = http(server, "private/get_open_orders_by_instrument",
                                json.dumps({"jsonrpc": "2.0", "id": 3,
                                            "method": "private/get_open_orders_by_instrument",
                                            "params": {"instrument_name": PERP}}), bob)
            assert status == 200 and body["id"] == 3 and body["result"] == [], body
            assert await result(a, "private/cancel_all") == 3
            assert await result(a, "private/get_open_orders_by_currency", {"currency": "BTC"}) == []
    run(go())


async def cross(a, b):
    """Alice rests a post-only sell inside the spread and Bob takes it with an IOC buy at its
    price, retried when another order got in between. Returns Alice's order id that Bob filled,
    Bob's buy that filled it, and every order id each of them placed on the way."""
    alice_orders, bob_orders = set(), set()
    for _ in range(10):
        book = await result(a, "public/get_order_book", {"instrument_name": PERP, "depth": 1})
        if book["best_ask_price"] - book["best_bid_price"] < 1.0:
            await asyncio.sleep(0.3)
            continue
        sell = (await result(a, "private/sell", {
            "instrument_name": PERP, "amount": 10, "price": book["best_ask_price"] - 0.5,
            "post_only": True, "label": "alice-maker"}))["order"]
        buy = await result(b, "private/buy", {
            "instrument_name": PERP, "amount": 10, "price": sell["price"],
            "time_in_force": "immediate_or_cancel", "label": "bob-taker"})
        alice_orders.add(sell["order_id"])
        bob_orders.add(buy["order"]["order_id"])
        await a.call("private/cancel", {"order_id": sell["order_id"]})  # if it is still open
        mine = await result(a, "private/get_user_trades_by_instrument",
                            {"instrument_name": PERP, "count": 20})
        if {t["trade_id"] for t in buy["trades"]} & {t["trade_id"] for t in mine["trades"]
                                                     if t["order_id"] == sell["order_id"]}:
            return sell["order_id"], buy, alice_orders, bob_orders
        await asyncio.sleep(0.3)
    raise AssertionError("Bob never filled Alice's order")


def trades_and_positions(server, alice, bob):
    async def go():
        async with websockets.connect(server.ws) as a_ws, websockets.connect(server.ws) as b_ws:
            a, b = await login(a_ws, alice), await login(b_ws, bob)
            alice_sell, bob_buy, alice_orders, bob_orders = await cross(a, b)
            # Alice also takes from the simulated market, three times.
            for _ in range(3):
                taken = await result(a, "private/buy", {"instrument_name": PERP, "amount": 10,
                                                        "type": "market", "label": "alice-mkt"})
                alice_orders.add(taken["order"]["order_id"])
                assert taken["trades"], taken

            page = await result(a, "private/get_user_trades_by_instrument",
                                {"instrument_name": PERP, "count": 1000})
            assert page["has_more"] is False, page
            trades = page["trades"]
            assert len(trades) >= 4, trades
            seqs = [t["trade_seq"] for t in trades]
            assert seqs == sorted(seqs, reverse=True), seqs  # the latest first
            for t in trades:
                # `label` only when the order has one (Deribit's rule).
                assert set(t) | {"label"} == USER_TRADE_KEYS, sorted(t)
                assert t["instrument_name"] == PERP and t["fee_currency"] == "BTC", t
            # Alice's fills are her orders' only, and the shared one is hers as the maker.
            assert {t["order_id"] for t in trades} <= alice_orders, (trades, alice_orders)
            shared = {t["trade_id"] for t in bob_buy["trades"]}
            as_maker = [t for t in trades if t["trade_id"] in shared]
            assert as_maker and all(t["liquidity"] == "M" and t["direction"] == "sell" and
                                    t["order_id"] == alice_sell and
                                    t["label"] == "alice-maker" and t["post_only"]
                                    for t in as_maker), as_maker
            market_fills = [t for t in trades if t["label"] == "alice-mkt"]
            assert len(market_fills) >= 3 and all(
                t["liquidity"] == "T" and t["direction"] == "buy" and
                t["order_type"] == "market" for t in market_fills), market_fills
            bob_page = await result(b, "private/get_user_trades_by_instrument",
                                    {"instrument_name": PERP, "count": 1000})
            bob_trades = bob_page["trades"]
            assert {t["order_id"] for t in bob_trades} <= bob_orders, bob_trades
            assert shared <= {t["trade_id"] for t in bob_trades}, (bob_trades, shared)
            assert not {t["trade_id"] for t in bob_trades if t["order_id"] in alice_orders}
            assert all(t["liquidity"] == "T" and t["direction"] == "buy" and
                       t["label"] == "bob-taker" for t in bob_trades), bob_trades
            assert not {t["trade_id"] for t in market_fills} & \
                {t["trade_id"] for t in bob_trades}
            assert (await result(b, "private/get_user_trades_by_instrument",
                                 {"instrument_name": "ETH-PERPETUAL"}))["trades"] == []

            # Paging over Alice's (non-consecutive) trade_seqs.
            async def user_page(**params):
                return await result(a, "private/get_user_trades_by_instrument",
                                    {"instrument_name": PERP, **params})
            newest = await user_page(count=2)
            assert [t["trade_seq"] for t in newest["trades"]] == seqs[:2], newest
            assert newest["has_more"] is True
            assert len((await user_page())["trades"]) == min(10, len(seqs))  # count: 10
            oldest = await user_page(start_seq=seqs[-1], count=2)
            assert [t["trade_seq"] for t in oldest["trades"]] == seqs[-1:-3:-1], oldest
            assert oldest["has_more"] is True
            upto = await user_page(end_seq=seqs[2], count=2, sorting="desc")
            assert [t["trade_seq"] for t in upto["trades"]] == seqs[2:4], upto
            window = await user_page(start_seq=seqs[3], end_seq=seqs[1], count=10,
                                     sorting="asc")
            assert [t["trade_seq"] for t in window["trades"]] == seqs[3:0:-1], window
            assert window["has_more"] is False
            assert (await user_page(start_seq=seqs[0] + 1))["trades"] == []

            # The public record of the same trades: consecutive seqs, the same paging.
            first = seqs[-1]
            public = await result(a, "public/get_last_trades_by_instrument",
                                  {"instrument_name": PERP, "start_seq": first, "count": 1000,
                                   "sorting": "asc"})
            all_seqs = [t["trade_seq"] for t in public["trades"]]
            assert all_seqs == list(range(first, first + len(all_seqs))), all_seqs
            by_id = {t["trade_id"]: t for t in public["trades"]}
            for t in trades:
                p = by_id[t["trade_id"]]
                assert set(p) == FUTURE_TRADE_KEYS, sorted(p)
                for key in ("trade_seq", "timestamp", "price", "amount", "index_price",
                            "mark_price", "tick_direction", "contracts"):
                    assert p[key] == t[key], (key, p, t)
            for t in as_maker:
                assert by_id[t["trade_id"]]["direction"] == "buy"  # the taker's, Bob's
            last = await result(a, "public/get_last_trades_by_instrument",
                                {"instrument_name": PERP, "count": 3})
            last_seqs = [t["trade_seq"] for t in last["trades"]]
            assert len(last_seqs) == 3 and last_seqs == sorted(last_seqs, reverse=True), last
            assert last["has_more"] is True and last_seqs[0] >= all_seqs[-1], last
            fwd = await result(a, "public/get_last_trades_by_instrument",
                               {"instrument_name": PERP, "start_seq": first, "count": 3})
            assert [t["trade_seq"] for t in fwd["trades"]] == [first, first + 1, first + 2]
            assert fwd["has_more"] is True
            back = await result(a, "public/get_last_trades_by_instrument",
                                {"instrument_name": PERP, "end_seq": first + 2, "count": 2,
                                 "include_old": True})
            assert [t["trade_seq"] for t in back["trades"]] == [first + 2, first + 1], back
            both = await result(a, "public/get_last_trades_by_instrument",
                                {"instrument_name": PERP, "start_seq": first,
                                 "end_seq": first + 1, "count": 5, "sorting": "desc"})
            assert [t["trade_seq"] for t in both["trades"]] == [first + 1, first], both
            assert both["has_more"] is False

            # HTTP twins of fixed ranges.
            query = f"instrument_name={PERP}&start_seq={first}&end_seq={first + 3}&count=10"
            status, body = http(server, "public/get_last_trades_by_instrument?" + query)
            ws_answer = await result(a, "public/get_last_trades_by_instrument",
                                     {"instrument_name": PERP, "start_seq": first,
                                      "end_seq": first + 3, "count": 10})
            assert status == 200 and body["result"] == ws_answer, (body, ws_answer)
            status, body = http(server, "private/get_user_trades_by_instrument?" + query,
                                credentials=alice)
            ws_answer = await user_page(start_seq=first, end_seq=first + 3, count=10)
            assert status == 200 and body["result"] == ws_answer, (body, ws_answer)

            # Positions: get_position is get_positions' row, sized by the user trades.
            position = await result(a, "private/get_position", {"instrument_name": PERP})
            assert set(position) == POSITION_KEYS | {"leverage", "estimated_liquidation_price"}
            rows = await result(a, "private/get_positions", {"currency": "BTC"})
            row = next(r for r in rows if r["instrument_name"] == PERP)
            assert set(row) == set(position), (row, position)
            for key in ("size", "average_price", "realized_profit_loss", "kind", "direction",
                        "leverage"):
                assert row[key] == position[key], (key, row, position)
            def net(fills):
                return sum(t["amount"] if t["direction"] == "buy" else -t["amount"]
                           for t in fills)
            assert position["size"] == net(trades), (position, trades)
            assert position["direction"] == ("buy" if net(trades) > 0 else
                                             "sell" if net(trades) < 0 else "zero"), position
            assert position["mark_price"] > 0 and position["index_price"] > 0, position
            assert position["initial_margin"] > 0 and position["size_currency"] > 0, position
            bob_position = await result(b, "private/get_position", {"instrument_name": PERP})
            assert bob_position["size"] == net(bob_trades) >= 10, (bob_position, bob_trades)
            assert bob_position["direction"] == "buy", bob_position
            flat = await result(b, "private/get_position", {"instrument_name": "ETH-PERPETUAL"})
            assert flat["size"] == 0 and flat["direction"] == "zero", flat
            assert flat["average_price"] == 0 and flat["floating_profit_loss"] == 0, flat
            assert flat["mark_price"] > 0, flat

            # An option position carries Greeks: size x the ticker's.
            options = await result(a, "public/get_book_summary_by_currency",
                                   {"currency": "BTC", "kind": "option"})
            option = next(o for o in options if o["ask_price"] and 0.01 < o["ask_price"] < 0.2
                          and o["instrument_name"].endswith("-C"))
            name = option["instrument_name"]
            bought = await result(a, "private/buy", {"instrument_name": name, "amount": 0.5,
                                                     "type": "market"})
            assert bought["order"]["order_state"] == "filled", bought
            held = await result(a, "private/get_position", {"instrument_name": name})
            ticker = await result(a, "public/ticker", {"instrument_name": name})
            assert held["kind"] == "option" and held["size"] == 0.5, held
            assert set(held) == POSITION_KEYS | {"vega", "theta", "gamma",
                                                 "floating_profit_loss_usd", "average_price_usd"}
            assert held["vega"] > 0 and held["gamma"] > 0 and held["theta"] < 0, held
            assert abs(held["delta"] - 0.5 * ticker["greeks"]["delta"]) < 0.05, (held, ticker)
            fills = (await result(a, "private/get_user_trades_by_instrument",
                                  {"instrument_name": name}))["trades"]
            assert fills and all("iv" in t and t["iv"] > 0 for t in fills), fills
            option_trades = (await result(a, "public/get_last_trades_by_instrument",
                                          {"instrument_name": name, "count": 100}))["trades"]
            assert {t["trade_id"] for t in fills} <= {t["trade_id"] for t in option_trades}
            assert all(set(t) == FUTURE_TRADE_KEYS | {"iv"} for t in option_trades)
    run(go())


def book_summaries(server):
    async def go():
        async with websockets.connect(server.ws) as ws:
            c = Client(ws)
            for currency in ("BTC", "ETH"):
                listed = {i["instrument_name"]: i for i in await result(
                    c, "public/get_instruments", {"currency": currency})}
                rows = await result(c, "public/get_book_summary_by_currency",
                                    {"currency": currency})
                assert {r["instrument_name"] for r in rows} == set(listed), currency
                for r in rows:
                    i = listed[r["instrument_name"]]
                    want = (OPTION_SUMMARY_KEYS if i["kind"] == "option" else
                            PERPETUAL_SUMMARY_KEYS if i["settlement_period"] == "perpetual"
                            else FUTURE_SUMMARY_KEYS)
                    assert set(r) == want, (sorted(r), r["instrument_name"])
                    assert r["base_currency"] == currency, r
                    if r["bid_price"] is not None and r["ask_price"] is not None:
                        assert r["bid_price"] < r["ask_price"], r
                        assert r["mid_price"] == (r["bid_price"] + r["ask_price"]) / 2, r
                    if r["volume"] == 0:
                        assert r["high"] is None and r["low"] is None, r
                        assert r["price_change"] is None, r
                    else:
                        assert r["low"] <= r["last"] <= r["high"], r
                        assert r["volume_usd"] > 0, r
                for kind in ("future", "option"):
                    only = await result(c, "public/get_book_summary_by_currency",
                                        {"currency": currency, "kind": kind})
                    names = {n for n, i in listed.items() if i["kind"] == kind}
                    assert {r["instrument_name"] for r in only} == names, (currency, kind)
                assert await result(c, "public/get_book_summary_by_currency",
                                    {"currency": currency, "kind": "spot"}) == []
            # The perpetual trades all the time: real 24-hour statistics, as the ticker's.
            for _ in range(5):
                rows = await result(c, "public/get_book_summary_by_currency",
                                    {"currency": "BTC", "kind": "future"})
                perp = next(r for r in rows if r["instrument_name"] == PERP)
                ticker = await result(c, "public/ticker", {"instrument_name": PERP})
                if perp["volume_usd"] == ticker["stats"]["volume_usd"]:
                    break
                await asyncio.sleep(0.2)
            assert perp["volume_usd"] > 0 and perp["high"] >= perp["low"] > 0, perp
            assert perp["volume_notional"] == perp["volume_usd"], perp
            for key in ("volume_usd", "high", "low", "price_change"):
                assert perp[key] == ticker["stats"][key], (key, perp, ticker)
            assert perp["last"] == ticker["last_price"], (perp, ticker)
            assert isinstance(perp["current_funding"], float), perp
            latest = await result(c, "public/get_last_trades_by_instrument",
                                  {"instrument_name": PERP, "count": 50})
            assert perp["last"] in {t["price"] for t in latest["trades"]}, (perp, latest)
            status, body = http(server, "public/get_book_summary_by_currency?currency=ETH&"
                                "kind=option")
            ws_rows = await result(c, "public/get_book_summary_by_currency",
                                   {"currency": "ETH", "kind": "option"})
            assert status == 200, (status, body)
            assert [r["instrument_name"] for r in body["result"]] == \
                [r["instrument_name"] for r in ws_rows]
            assert [set(r) for r in body["result"]] == [set(r) for r in ws_rows]
    run(go())


def main():
    harness.greekwire_binary()
    with Serve() as server:
        assert server.demo, "serve did not print the demo account's credentials"
        alice = server.demo
        bob = new_account(server, "bob")
        return harness.run_checks([
            ("errors: 13009 without auth, -32602 for bad params, the socket survives",
             lambda: errors(server, alice)),
            ("open orders: own only, kind and type filters, HTTP twins",
             lambda: open_orders(server, alice, bob)),
            ("user trades, last trades, positions: two accounts and the market",
             lambda: trades_and_positions(server, alice, bob)),
            ("book summaries: fields per kind, 24 h statistics, kind filter",
             lambda: book_summaries(server)),
            ("SIGTERM -> exit 0, clean stderr", server.stop),
        ])


if __name__ == "__main__":
    sys.exit(main())
