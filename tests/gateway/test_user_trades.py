#!/usr/bin/python3
"""user.trades and user.orders notifications of `greekwire serve` carry every field Deribit
sends for API orders, with the order's own values:

- Alice rests a post-only limit sell with a label at the top of BTC-PERPETUAL's book, Bob (another
  account) takes it with a labelled limit IOC buy: Alice's user.trades record is the maker's
  (liquidity M, her order id, post_only true, her label, order_type limit), Bob's the taker's
  (liquidity T, his order id and label, post_only false);
- each record has Deribit's user-trade fields (trade_seq, trade_id, timestamp, tick_direction,
  state, reduce_only, risk_reducing, profit_loss, price, post_only, order_type, order_id, mmp,
  matching_id null, mark_price, liquidity, label, instrument_name, index_price, fee_currency,
  fee, direction, contracts, api, amount) and nothing else;
- Bob's notification equals the trade in his private/buy result;
- user.orders records have Deribit's order fields.

Usage: test_user_trades.py PATH_TO_GREEKWIRE
"""

import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_gateway import logged_in, new_account, run, run_checks_on_serve  # noqa: E402

INSTRUMENT = "BTC-PERPETUAL"
TICK = 0.5
USER_TRADE_FIELDS = {
    "trade_seq", "trade_id", "timestamp", "tick_direction", "state", "risk_reducing",
    "reduce_only", "profit_loss", "price", "post_only", "order_type", "order_id", "mmp",
    "matching_id", "mark_price", "liquidity", "label", "instrument_name", "index_price",
    "fee_currency", "fee", "direction", "contracts", "api", "amount"}
ORDER_FIELDS = {
    "web", "time_in_force", "risk_reducing", "replaced", "reject_post_only", "reduce_only",
    "price", "post_only", "order_type", "order_state", "order_id", "mmp", "max_show",
    "last_update_timestamp", "label", "is_liquidation", "instrument_name", "filled_amount",
    "direction", "creation_timestamp", "contracts", "average_price", "api", "amount"}


async def login(server, credentials):
    ws, client = await logged_in(server, credentials)
    subscribed = await client.call("private/subscribe", {
        "channels": ["user.trades.any.any.raw", "user.orders.any.any.raw"]})
    assert len(subscribed["result"]) == 2, subscribed
    return ws, client


async def notifications(client, channel_prefix, order_id, timeout=10):
    """The records of channel_prefix* notifications about order_id until one arrives."""
    found, deadline = [], asyncio.get_event_loop().time() + timeout
    while not found:
        note = await client.notification(max(deadline - asyncio.get_event_loop().time(), 0.01))
        if not note["params"]["channel"].startswith(channel_prefix):
            continue
        data = note["params"]["data"]
        for record in data if isinstance(data, list) else [data]:
            if record.get("order_id") == order_id:
                found.append(record)
    return found


def check_user_trade(record, order_id, liquidity, label, post_only, direction):
    assert set(record) == USER_TRADE_FIELDS, sorted(set(record) ^ USER_TRADE_FIELDS)
    assert record["order_id"] == order_id, record
    assert record["liquidity"] == liquidity, record
    assert record["label"] == label, record
    assert record["post_only"] is post_only, record
    assert record["reduce_only"] is False and record["order_type"] == "limit", record
    assert record["direction"] == direction, record
    assert record["instrument_name"] == INSTRUMENT and record["fee_currency"] == "BTC", record
    assert record["matching_id"] is None and record["api"] is True, record
    assert record["mmp"] is False and record["risk_reducing"] is False, record
    assert record["state"] in ("open", "filled"), record
    assert record["mark_price"] > 0 and record["index_price"] > 0, record
    assert record["amount"] > 0 and record["contracts"] == record["amount"] / 10, record
    assert isinstance(record["fee"], float) and isinstance(record["profit_loss"], float), record
    assert record["trade_id"].startswith("BTC-") and record["tick_direction"] in range(4)


def maker_and_taker(server):
    bob_credentials = new_account(server, "bob")

    async def attempt(alice, bob):
        book = (await alice.call("public/get_order_book",
                                 {"instrument_name": INSTRUMENT, "depth": 1}))["result"]
        ask, bid = book["best_ask_price"], book["best_bid_price"]
        price = ask - TICK if ask - TICK > bid else ask
        sold = await alice.call("private/sell", {"instrument_name": INSTRUMENT, "amount": 100,
                                                 "price": price, "post_only": True,
                                                 "label": "alice-maker"})
        alice_order = sold["result"]["order"]
        if alice_order["order_state"] != "open" or alice_order["price"] != price:
            return None  # the book moved under us (a post-only reprice): try again
        # Everything up to that price, Alice's order included.
        bought = await bob.call("private/buy", {"instrument_name": INSTRUMENT, "amount": 200_000,
                                                "price": price, "label": "bob-taker",
                                                "time_in_force": "immediate_or_cancel"})
        return alice_order, bought["result"]

    async def go():
        a_ws, alice = await login(server, server.demo)
        b_ws, bob = await login(server, bob_credentials)
        for _ in range(10):
            result = await attempt(alice, bob)
            if result:
                break
            await asyncio.sleep(0.2)
        assert result, "could not rest a post-only order at the top of the book"
        alice_order, bought = result
        bob_id = bought["order"]["order_id"]
        assert bought["trades"], bought
        # Alice's order is filled by Bob, or by a simulated trader first: either way hers.
        alice_trades = await notifications(alice, "user.trades.", alice_order["order_id"])
        for record in alice_trades:
            check_user_trade(record, alice_order["order_id"], "M", "alice-maker", True, "sell")
        bob_trades = await notifications(bob, "user.trades.", bob_id)
        while len(bob_trades) < len(bought["trades"]):
            bob_trades += await notifications(bob, "user.trades.", bob_id)
        for record in bob_trades:
            check_user_trade(record, bob_id, "T", "bob-taker", False, "buy")
        # The notification and the private/buy result say the same of each fill.
        assert sorted(bob_trades, key=lambda t: t["trade_id"]) == \
            sorted(bought["trades"], key=lambda t: t["trade_id"]), (bob_trades, bought["trades"])
        orders = await notifications(alice, "user.orders.", alice_order["order_id"])
        for record in orders:
            assert set(record) - {"cancel_reason"} == ORDER_FIELDS, record
            assert record["label"] == "alice-maker" and record["post_only"] is True, record
        await a_ws.close()
        await b_ws.close()
    run(go())


def main():
    return run_checks_on_serve([
        ("user.trades: maker's and taker's records carry their order's fields", maker_and_taker),
    ])


if __name__ == "__main__":
    sys.exit(main())
