#!/usr/bin/python3
"""Scale-out over NATS JetStream (docs/SCALE-OUT.md): one nats-server, one
`greekwire serve --role venue` and two `greekwire serve --role edge` (A and B), all on loopback,
against Python websockets (an independent peer):

- identical chains: book.BTC-PERPETUAL.raw on edge A, on edge B and on the venue itself; each
  stream's prev_change_id chain and every checksum verified on the rebuilt book, and the three
  agree message for message (change_id, checksum, levels) where they overlap;
- the venue's surfaces and chains: volsurface.ETH.raw, chain.ETH.blocks and .transfers on edge
  B equal the venue's own, message for message;
- a cross-edge fill: the demo account rests a post-only sell through edge A, a second account
  (`greekwire keys` on the venue's data dir) takes it with an IOC buy through edge B; both see
  the shared trade, the seller's order is filled, and each owner's user.trades.any.any.raw on
  the other edge (the seller's in MessagePack) carries its side of the fill;
- cancel-on-disconnect through an edge: tests/gateway/test_cancel_on_disconnect.py's checks
  with every connection on edge A (the edge reports each close to the venue);
- edge restart: A killed (SIGKILL): the order of A's connection with cancel-on-disconnect is
  cancelled once the venue stops hearing A; a subscriber of B keeps an unbroken chain; A
  restarted on the same port serves a snapshot and a valid chain again;
- NATS restart (SIGTERM, ~2 s down, same -sd and port): B's subscriber either continues its
  chain or gets a "resync": true snapshot, never a silent gap; an order through B while NATS is
  down is answered 13028 within the venue timeout; afterwards orders go through again and the
  orders acknowledged before the outage are still there;
- credentials at an edge's handshake (Basic): the venue checks them; raw channels and private
  methods work at once; wrong ones close the connection with 1008;
- a client certificate at an edge (TLS, mutual): the venue checks the certificate the edge
  verified; unknown -> 1008, registered with `greekwire keys add-cert` -> that account's;
- an unreachable venue (SIGSTOP): a private request through an edge is answered 13028 within
  --venue-timeout + 2 s;
- SIGTERM -> exit 0 and a clean stderr for the venue and both edges.

Skipped (77) without /usr/sbin/nats-server (Debian's nats-server).

Usage: test_scale_out.py PATH_TO_GREEKWIRE
"""

import asyncio
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "gateway"))
import test_cancel_on_disconnect as tcod  # noqa: E402
import test_gateway as tg  # noqa: E402
import test_queries as tq  # noqa: E402
from test_gateway import Client, Serve, instrument_digits  # noqa: E402
from test_relay import Follower, Restarted, collect, subscribe  # noqa: E402

harness = tg.harness
websockets = tg.websockets

NATS_SERVER = "/usr/sbin/nats-server"
VENUE_TIMEOUT = 2  # --venue-timeout of the edges, seconds
PERP = "BTC-PERPETUAL"
CHANNEL = f"book.{PERP}.raw"
START_TIMEOUT = 60  # a process that printed nothing by then is killed
# Surfaces every simulated second and ETH blocks every ~0.4 simulated seconds, so that the
# surfaces-and-chains check sees several at --speed 0.15.
VENUE_CONFIG = """
[venue]
surface_interval_ms = 1000
chain_speedup = 30.0
"""


def run(coro, seconds=90):
    return asyncio.run(asyncio.wait_for(coro, seconds))


def started(server, seconds=START_TIMEOUT):
    """server.__enter__() (Serve, Restarted), with the process killed if it has not printed its
    first line within `seconds` (the readline then ends and the start fails)."""
    def watchdog():
        proc = getattr(server, "proc", None)
        if proc is not None and not hasattr(server, "port") and proc.poll() is None:
            print(f"no listening line within {seconds}s: killed", file=sys.stderr)
            proc.kill()
    timer = threading.Timer(seconds, watchdog)
    timer.start()
    try:
        return server.__enter__()
    finally:
        timer.cancel()


class NatsServer:
    """nats-server -a 127.0.0.1 -p PORT -js -sd STORE, its output appended to a log file."""

    def __init__(self, port, store, log):
        self.port, self.store, self.log = port, store, log
        self.proc = None

    @property
    def url(self):
        return f"nats://127.0.0.1:{self.port}"

    def log_text(self, since=0):
        try:
            with open(self.log, "rb") as f:
                f.seek(since)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def start(self, timeout=20):
        since = os.path.getsize(self.log) if os.path.exists(self.log) else 0
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", self.store],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                preexec_fn=harness.die_with_parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"nats-server exited with {self.proc.returncode}:\n"
                                     f"{self.log_text(since)[-3000:]}")
            if "Server is ready" in self.log_text(since) and self.accepts():
                return
            time.sleep(0.05)
        raise AssertionError(f"nats-server not ready within {timeout}s:\n"
                             f"{self.log_text(since)[-3000:]}")

    def accepts(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self, timeout=15):
        """SIGTERM and wait; its exit code (whatever it is) is returned."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"nats-server still running {timeout}s after SIGTERM")

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def store_parent():
    """Where JetStream's files go: a tmpfs when one has room for the stream's 1 GiB limit (on a
    busy disk, nats-server's file writes can stall the venue's connection for seconds, and with
    it the venue's answers), else the temp dir."""
    try:
        if shutil.disk_usage("/dev/shm").free >= 2 << 30 and os.access("/dev/shm", os.W_OK):
            return "/dev/shm"
    except OSError:
        pass
    return None


class Deployment:
    """nats-server, the venue and edges A and B; every process it started is in `processes`."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="gw-scale-")
        self.store = tempfile.mkdtemp(prefix="gw-scale-jetstream-", dir=store_parent())
        self.nats = NatsServer(harness.free_port(), self.store,
                               os.path.join(self.tmp, "nats-server.log"))
        self.venue = self.a = self.b = self.c = None  # C: TLS, started by its check
        self.processes = []  # (name, Serve) in start order

    def start(self):
        self.nats.start()
        # At 0.15 of real time the market publishes ~1,000 stream messages a second: what an
        # edge built with the sanitizers follows with room to spare even on a loaded 2-core
        # machine (~3,700 a second when idle; a Release edge takes 6,700 a second, at speed 1,
        # with a fifth of a core).
        config = os.path.join(self.tmp, "venue.toml")
        with open(config, "w") as f:
            f.write(VENUE_CONFIG)
        self.venue = Serve("--role", "venue", "--nats", self.nats.url, "--seed", "11",
                           "--speed", "0.15", "--config", config,
                           data_dir=tempfile.mkdtemp(prefix="venue-", dir=self.tmp))
        self.processes.append(("venue", self.venue))
        started(self.venue)
        assert self.venue.demo, f"the venue printed no demo account: {self.venue.banner}"
        self.demo = self.venue.demo
        # A second account, in the venue's store (the accounts are the venue's).
        self.bob = tg.new_account(self.venue, "bob")
        self.a = self.edge("edge A")
        self.b = self.edge("edge B")
        status, body = tg.http_json(f"{self.venue.http}/api/v2/public/get_instrument?"
                                    f"instrument_name={PERP}")
        assert status == 200, (status, body)
        self.digits = instrument_digits(body["result"])
        self.tick = body["result"]["tick_size"]

    def edge(self, name, port=0, data_dir=None, options=()):
        server = Restarted("--role", "edge", "--nats", self.nats.url,
                           "--venue-timeout", str(VENUE_TIMEOUT), *options,
                           listen=f"127.0.0.1:{port}",
                           data_dir=data_dir or tempfile.mkdtemp(prefix="edge-", dir=self.tmp))
        self.processes.append((name, server))
        start = time.monotonic()
        started(server)
        print(f"  {name} listening on port {server.port} after {time.monotonic() - start:.1f}s")
        return server

    def restart_a(self):
        self.a = self.edge("edge A (restarted)", self.a.port, self.a.data_dir)

    def print_logs(self):
        for name, server in self.processes:
            if getattr(server, "stderr", None) is not None:
                text = server.stderr_text()
                if text:  # from the first sanitizer report if any, else the end
                    print(f"--- {name} stderr ---\n{harness.excerpt(text)}", file=sys.stderr)
        lines = self.nats.log_text().splitlines()
        notable = [line for line in lines if any(level in line for level in
                                                 ("[WRN]", "[ERR]", "[FTL]", "Shutdown"))]
        print("--- nats-server log: warnings, errors, shutdowns (last 40), then its end ---\n" +
              "\n".join(notable[-40:] + ["..."] + lines[-8:]), file=sys.stderr)

    def stop_all(self):
        """SIGTERM to the edges, then the venue: each exits 0 with a clean stderr; then
        nats-server (its exit code is its own business)."""
        problems = []
        for name, server in [("edge A", self.a), ("edge B", self.b), ("edge C", self.c),
                             ("venue", self.venue)]:
            if server is None:
                continue
            try:
                server.stop()
            except subprocess.TimeoutExpired:
                problems.append(f"{name}: still running 20 s after SIGTERM")
            except Exception as e:  # go on stopping the others
                problems.append(f"{name}: {e}")
        rc = self.nats.stop()
        size = sum(os.path.getsize(os.path.join(d, f))
                   for d, _, files in os.walk(self.store) for f in files)
        print(f"  nats-server exit code {rc}; JetStream store {size / 2**20:.0f} MiB in "
              f"{self.store}")
        assert not problems, problems

    def print_metrics(self):
        """The scale-out counters of every process still running (what a failure needs)."""
        for name, server in self.processes:
            proc = getattr(server, "proc", None)
            if proc is None or proc.poll() is not None or not hasattr(server, "http"):
                continue
            try:
                proc.send_signal(signal.SIGCONT)
                status, text = tg.http_get(f"{server.http}/metrics")
            except Exception as e:
                print(f"--- {name}: no /metrics ({e})", file=sys.stderr)
                continue
            wanted = [line for line in text.splitlines()
                      if line.startswith(("greekwire_edge_", "greekwire_venue_nats",
                                          "greekwire_venue_stream", "greekwire_venue_forward",
                                          "greekwire_venue_book_snapshots"))]
            print(f"--- {name} /metrics ({status}) ---\n" + "\n".join(wanted), file=sys.stderr)

    def cleanup(self, failed):
        if failed:
            self.print_metrics()
        for _, server in self.processes:
            proc = getattr(server, "proc", None)
            if proc is not None and proc.poll() is None:
                try:
                    proc.send_signal(signal.SIGCONT)  # the venue may be stopped
                    proc.kill()
                    proc.wait(10)
                except Exception as e:
                    print(f"cleanup: {e}", file=sys.stderr)
        self.nats.kill()
        if failed:
            self.print_logs()
        shutil.rmtree(self.tmp, ignore_errors=True)
        shutil.rmtree(self.store, ignore_errors=True)


# --- helpers ---------------------------------------------------------------------------------

async def connect(server, credentials):
    """A WebSocket to `server` and its Client, authenticated with client_credentials."""
    ws = await asyncio.wait_for(websockets.connect(server.ws, max_size=None, close_timeout=1), 10)
    client = Client(ws)
    await tg.client_credentials_auth(client, credentials)
    return ws, client


async def close_all(sockets):
    for ws in sockets:
        try:
            await asyncio.wait_for(ws.close(), 5)
        except Exception:
            pass


async def call_within(client, method, params, seconds):
    """(reply, elapsed seconds); fails when no reply comes within `seconds`."""
    start = time.monotonic()
    try:
        reply = await asyncio.wait_for(client.call(method, params), seconds)
    except asyncio.TimeoutError:
        raise AssertionError(f"{method}: no answer within {seconds}s") from None
    return reply, time.monotonic() - start


class Watch:
    """One client's book.BTC-PERPETUAL.raw, every message through a Follower (the chain, the
    levels, every checksum); a snapshot after the first must carry "resync": true."""

    def __init__(self, name, client, digits):
        self.name, self.client = name, client
        self.follower = Follower(digits)
        self.resyncs = []  # message counts at which a resync snapshot arrived
        self.first = self.last = None

    @property
    def messages(self):
        return self.follower.messages

    async def drain(self, seconds):
        got = {}
        await collect(self.client, seconds, got)
        for data in got.get(CHANNEL, []):
            self.take(data)
        if self.client.reader.done():
            raise AssertionError(f"{self.name}: the connection closed after {self.messages} "
                                 f"messages (last change_id {self.last})")

    async def drain_until(self, count, seconds):
        """Drains until `count` messages in all, or `seconds` passed: the market's pace varies
        (a third of real time here, and sanitizer builds on a loaded machine)."""
        deadline = time.monotonic() + seconds
        while self.messages < count and time.monotonic() < deadline:
            await self.drain(0.5)

    def take(self, data):
        n = self.messages
        if data["type"] == "snapshot" and n > 0:
            assert data.get("resync") is True, (f"{self.name}: a snapshot without resync after "
                                                f"{n} messages (last change_id {self.last})",
                                                data)
            self.resyncs.append(n)
        try:
            self.follower.apply(data)
        except AssertionError as e:
            raise AssertionError(f"{self.name}: message {n + 1} (previous change_id "
                                 f"{self.last}): {e}") from None
        if self.first is None:
            self.first = data["change_id"]
        self.last = data["change_id"]


def check_stream(name, messages, digits):
    """A whole subscription's messages: snapshot first, chain and checksums."""
    assert len(messages) >= 10, f"{name}: only {len(messages)} messages of {CHANNEL}"
    assert messages[0]["type"] == "snapshot", (name, messages[0])
    follower = Follower(digits)
    for i, data in enumerate(messages):
        if i > 0 and data["type"] == "snapshot":
            assert data.get("resync") is True, (f"{name}: message {i} is a snapshot without "
                                                "resync", data)
        try:
            follower.apply(data)
        except AssertionError as e:
            raise AssertionError(f"{name}: message {i}: {e}") from None


def compare_streams(name_x, xs, name_y, ys):
    """Where two subscriptions of the same book overlap, the same change_ids with the same
    checksums (and the same levels and prev_change_id for changes)."""
    lo = max(xs[0]["change_id"], ys[0]["change_id"])
    hi = min(xs[-1]["change_id"], ys[-1]["change_id"])
    assert lo < hi, f"{name_x} ({xs[0]['change_id']}..{xs[-1]['change_id']}) and {name_y} " \
                    f"({ys[0]['change_id']}..{ys[-1]['change_id']}) do not overlap"
    ids_x = [d["change_id"] for d in xs if lo <= d["change_id"] <= hi]
    ids_y = [d["change_id"] for d in ys if lo <= d["change_id"] <= hi]
    resynced = any(d.get("resync") for d in xs + ys)
    if not resynced and ids_x != ids_y:
        only_x = sorted(set(ids_x) - set(ids_y))[:10]
        only_y = sorted(set(ids_y) - set(ids_x))[:10]
        raise AssertionError(f"change_ids differ in {lo}..{hi}: only on {name_x} {only_x}, "
                             f"only on {name_y} {only_y}")
    by_x = {d["change_id"]: d for d in xs}
    by_y = {d["change_id"]: d for d in ys}
    common = sorted(set(ids_x) & set(ids_y))
    assert len(common) >= 10, f"{name_x} and {name_y}: {len(common)} common change_ids"
    for change_id in common:
        x, y = by_x[change_id], by_y[change_id]
        assert x["checksum"] == y["checksum"], (f"change_id {change_id}: checksum {x['checksum']}"
                                                f" on {name_x}, {y['checksum']} on {name_y}")
        if x["type"] == y["type"] == "change":
            for key in ("prev_change_id", "bids", "asks"):
                assert x[key] == y[key], (f"change_id {change_id}: {key} differs",
                                          name_x, x, name_y, y)
    return len(common)


async def subscribed_on_each(sides, credentials, channels, conns):
    """A connection to each of `sides` ((name, server) pairs), authenticated and subscribed to
    `channels`, appended to `conns` as (ws, client) as it opens (the caller closes them)."""
    for _, server in sides:
        conns.append(await connect(server, credentials))
    for _, client in conns:
        await subscribe(client, channels)


# --- checks ----------------------------------------------------------------------------------

def identical_chains(env):
    sides = [("venue", env.venue), ("edge A", env.a), ("edge B", env.b)]

    async def go():
        conns = []
        try:
            await subscribed_on_each(sides, env.demo, [CHANNEL], conns)
            # 5 s, or longer (up to 40 s) while an edge still catches up with the venue (a
            # sanitizer build just started on a loaded machine): until every stream has 10
            # messages and each pair shares 10 change_ids.
            streams = [[] for _ in conns]
            deadline = time.monotonic() + 40
            start = time.monotonic()
            while True:
                got = [{} for _ in conns]
                await asyncio.gather(*(collect(client, 1, into)
                                       for (_, client), into in zip(conns, got)))
                for stream, into in zip(streams, got):
                    stream.extend(into.get(CHANNEL, []))
                ids = [{d["change_id"] for d in stream} for stream in streams]
                enough = all(len(stream) >= 10 for stream in streams) and all(
                    len(ids[i] & ids[j]) >= 10 for i in range(3) for j in range(i + 1, 3))
                if (enough and time.monotonic() - start >= 5) or time.monotonic() > deadline:
                    return streams
        finally:
            await close_all([ws for ws, _ in conns])

    streams = run(go())
    for (name, _), messages in zip(sides, streams):
        check_stream(name, messages, env.digits)
        print(f"  {name}: {len(messages)} messages, change_id {messages[0]['change_id']}.."
              f"{messages[-1]['change_id']}, "
              f"{sum(1 for d in messages if d.get('resync'))} resyncs")
    venue, a, b = streams
    common = [compare_streams("edge A", a, "edge B", b),
              compare_streams("edge A", a, "venue", venue),
              compare_streams("edge B", b, "venue", venue)]
    print(f"  common change_ids: A/B {common[0]}, A/venue {common[1]}, B/venue {common[2]}")


async def user_trades_of(client, trade_ids, seconds=10):
    """The user.trades.* notifications carrying any of `trade_ids`, within `seconds`."""
    found = []
    deadline = time.monotonic() + seconds
    while not found and time.monotonic() < deadline:
        try:
            m = await client.notification(timeout=max(0.1, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            break
        if m["params"]["channel"].startswith("user.trades."):
            found += [t for t in m["params"]["data"] if t["trade_id"] in trade_ids]
    return found


SURFACE, BLOCKS, TRANSFERS = "volsurface.ETH.raw", "chain.ETH.blocks", "chain.ETH.transfers"


def venue_surfaces_and_chains(env):
    """volsurface.ETH.raw and chain.ETH.* on edge B are the venue's own, to the last digit: the
    surfaces with the timestamps the venue published (B fits none of its own), the blocks and
    transfers with the same fields. (The venue runs surface_interval_ms = 1000 and ETH blocks
    30x faster than the chain's 12 s for this check, VENUE_CONFIG.)"""
    sides = [("venue", env.venue), ("edge B", env.b)]

    def keyed(got):
        return ({d["timestamp"]: d for d in got.get(SURFACE, [])},
                {d["height"]: d for d in got.get(BLOCKS, [])},
                {(d["block_height"], d["index"]): d for d in got.get(TRANSFERS, [])})

    async def go():
        conns = []
        try:
            await subscribed_on_each(sides, env.demo, [SURFACE, BLOCKS, TRANSFERS], conns)
            got = [{} for _ in conns]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                await asyncio.gather(*(collect(client, 1, into)
                                       for (_, client), into in zip(conns, got)))
                (sv, bv, _), (sb, bb, _) = keyed(got[0]), keyed(got[1])
                if len(sv.keys() & sb.keys()) >= 2 and len(bv.keys() & bb.keys()) >= 2:
                    break
            return got
        finally:
            await close_all([ws for ws, _ in conns])

    venue, edge = (keyed(got) for got in run(go()))
    for what, v, e in zip(("surfaces", "blocks", "transfers"), venue, edge):
        common = sorted(v.keys() & e.keys())
        if what != "transfers":
            assert len(common) >= 2, (f"{what}: venue {sorted(v)[:5]}, edge B {sorted(e)[:5]}: "
                                      f"{len(common)} in common")
        for key in common:
            assert v[key] == e[key], (f"{what} {key} differ", v[key], e[key])
        print(f"  {what}: {len(common)} identical on the venue and edge B")
    # B fitted no surface of its own: within the span the venue's subscriber saw, every surface
    # B sent is one the venue published.
    lo, hi = min(venue[0]), max(venue[0])
    stray = sorted(t for t in edge[0] if lo <= t <= hi and t not in venue[0])
    assert not stray, f"edge B sent surfaces the venue did not publish: {stray}"


def cross_edge_fill(env):
    async def go():
        ws_a, seller = await connect(env.a, env.demo)
        ws_b, buyer = await connect(env.b, env.bob)
        # Both owners also follow their fills on a private channel (the venue's events, relayed
        # by each edge), the seller in MessagePack on edge B, the buyer on edge A.
        ws_sw = await websockets.connect(env.b.ws, subprotocols=["msgpack"], max_size=None)
        seller_watch = Client(ws_sw)
        await tg.client_credentials_auth(seller_watch, env.demo)
        ws_bw, buyer_watch = await connect(env.a, env.bob)
        for watch in (seller_watch, buyer_watch):
            reply = await watch.call("private/subscribe",
                                     {"channels": ["user.trades.any.any.raw"]})
            assert reply.get("result") == ["user.trades.any.any.raw"], reply
        try:
            # test_queries.cross: a post-only sell inside the spread (through A), taken by an
            # IOC buy at its price (through B), retried when the market got in between; it
            # checks the seller's user trades (through A) share the buy's trade_id.
            sell_id, buy, _, _ = await tq.cross(seller, buyer)
            state = await tq.result(seller, "private/get_order_state", {"order_id": sell_id})
            assert state["order_state"] == "filled" and state["filled_amount"] == 10, state
            shared = {t["trade_id"] for t in buy["trades"]}
            mine = await tq.result(seller, "private/get_user_trades_by_instrument",
                                   {"instrument_name": PERP, "count": 50})
            as_maker = [t for t in mine["trades"] if t["trade_id"] in shared]
            assert as_maker and all(t["order_id"] == sell_id and t["liquidity"] == "M" and
                                    t["direction"] == "sell" and t["price"] == state["price"]
                                    for t in as_maker), (as_maker, state)
            theirs = await tq.result(buyer, "private/get_user_trades_by_instrument",
                                     {"instrument_name": PERP, "count": 50})
            as_taker = [t for t in theirs["trades"] if t["trade_id"] in shared]
            assert as_taker and all(t["order_id"] == buy["order"]["order_id"] and
                                    t["liquidity"] == "T" and t["direction"] == "buy"
                                    for t in as_taker), (as_taker, buy)
            seen_by_seller = await user_trades_of(seller_watch, shared)
            assert seen_by_seller and all(t["order_id"] == sell_id and t["direction"] == "sell"
                                          for t in seen_by_seller), seen_by_seller
            seen_by_buyer = await user_trades_of(buyer_watch, shared)
            assert seen_by_buyer and all(t["order_id"] == buy["order"]["order_id"] and
                                         t["direction"] == "buy" for t in seen_by_buyer), \
                seen_by_buyer
            print(f"  sell {sell_id} at {state['price']} filled by {buy['order']['order_id']}, "
                  f"trade {sorted(shared)}; user.trades seen on the other edges")
        finally:
            await close_all([ws_a, ws_b, ws_sw, ws_bw])
    run(go())


class AtEdge:
    """An edge as the single-process checks see a server: its URLs and the venue's demo
    account."""

    def __init__(self, edge, demo):
        self.ws, self.http, self.demo = edge.ws, edge.http, demo


def cancel_on_disconnect(env):
    """The single-process checks of cancel-on-disconnect (tests/gateway/
    test_cancel_on_disconnect.py), every connection on edge A: the venue learns of each close
    from the edge."""
    edge = AtEdge(env.a, env.demo)
    for check in (tcod.connection_scope, tcod.disabled_keeps_orders, tcod.account_scope,
                  tcod.errors):
        check(edge)
        print(f"  {check.__name__}: as on a single process")


def edge_restart(env):
    async def go():
        ws_b, on_b = await connect(env.b, env.demo)
        sockets = [ws_b]
        try:
            await subscribe(on_b, [CHANNEL])
            watch_b = Watch("edge B", on_b, env.digits)
            await watch_b.drain_until(5, 15)
            assert watch_b.messages >= 5, f"edge B: {watch_b.messages} messages in 15 s"
            # A connection of A with cancel-on-disconnect rests an order; A dies with it open.
            ws_cod, cod = await connect(env.a, env.demo)
            sockets.append(ws_cod)
            assert (await cod.call("private/enable_cancel_on_disconnect"))["result"] == "ok"
            doomed = await tcod.rest_order(cod, "dies-with-edge-a")
            env.a.proc.send_signal(signal.SIGKILL)
            env.a.proc.wait(10)
            killed = time.monotonic()
            cod.reader.cancel()  # its connection is gone with A
            before = watch_b.messages
            await watch_b.drain_until(before + 5, 15)
            assert watch_b.messages - before >= 5, \
                f"edge B: {watch_b.messages - before} messages in 15 s after A was killed"
            # The venue stops hearing A's heartbeats and closes its connections (5 s of silence).
            state = await tcod.order_state(on_b, doomed)
            while state == "open" and time.monotonic() - killed < 20:
                await watch_b.drain(1)
                state = await tcod.order_state(on_b, doomed)
            assert state == "cancelled", f"A's order with cancel-on-disconnect: {state} " \
                                         f"{time.monotonic() - killed:.1f}s after A was killed"
            print(f"  A's order with cancel-on-disconnect cancelled within "
                  f"{time.monotonic() - killed:.1f}s of A's death")
            # Blocks the loop until A listens again: B's messages wait in the socket meanwhile
            # and are checked by the next drain.
            env.restart_a()
            ws_a, on_a = await connect(env.a, env.demo)
            sockets.append(ws_a)
            await subscribe(on_a, [CHANNEL])
            watch_a = Watch("edge A (restarted)", on_a, env.digits)
            await asyncio.gather(watch_a.drain_until(5, 20), watch_b.drain(3))
            assert watch_a.messages >= 5, f"restarted edge A: {watch_a.messages} messages in 20 s"
            assert not watch_b.resyncs, f"edge B resynchronised at messages {watch_b.resyncs}"
            print(f"  edge B: {watch_b.messages} messages, unbroken; restarted A: "
                  f"{watch_a.messages} messages from change_id {watch_a.first}")
        finally:
            await close_all(sockets)
    run(go())


def nats_restart(env):
    async def go():
        ws, on_b = await connect(env.b, env.demo)
        try:
            await subscribe(on_b, [CHANNEL])
            watch = Watch("edge B", on_b, env.digits)
            book = await tq.result(on_b, "public/get_order_book",
                                   {"instrument_name": PERP, "depth": 1})
            far = book["best_bid_price"] - 5000

            def order(label, i=0):
                return {"instrument_name": PERP, "amount": 10, "price": far - i * env.tick,
                        "label": label}

            acked = []
            for i in range(3):
                placed = await tq.result(on_b, "private/buy", order("before-outage", i))
                assert placed["order"]["order_state"] == "open", placed
                acked.append(placed["order"]["order_id"])
            await watch.drain_until(3, 15)
            assert watch.messages >= 3, f"edge B: {watch.messages} messages before the outage"

            rc = env.nats.stop()
            down = time.monotonic()
            print(f"  nats-server stopped (exit code {rc})")
            reply, elapsed = await call_within(on_b, "private/buy", order("during-outage"),
                                               VENUE_TIMEOUT + 3)
            assert reply.get("error", {}).get("code") == 13028, \
                f"order while NATS is down answered {reply} after {elapsed:.2f}s"
            assert elapsed <= VENUE_TIMEOUT + 1, f"13028 only after {elapsed:.2f}s"
            print(f"  order while NATS is down: 13028 after {elapsed:.2f}s "
                  f"({reply['error'].get('data')})")
            await watch.drain(max(0.1, 2 - (time.monotonic() - down)))
            env.nats.start()
            print(f"  nats-server restarted after {time.monotonic() - down:.1f}s down")

            # The chain goes on, or a resync snapshot restarts it: within 30 s, 10 messages
            # after the restart and 5 after the last resync if any.
            mark = watch.messages
            back = time.monotonic()
            deadline = back + 30

            def recovered():
                return watch.messages >= mark + 10 and \
                    (not watch.resyncs or watch.messages >= watch.resyncs[-1] + 5)

            while time.monotonic() < deadline and not recovered():
                await watch.drain(1)
            assert recovered(), (f"edge B after the NATS restart: {watch.messages - mark} "
                                 f"messages, resyncs at {watch.resyncs}")
            print(f"  edge B: {watch.messages - mark} messages after the restart, "
                  f"resyncs at {watch.resyncs or 'none'} (message counts), recovered within "
                  f"{time.monotonic() - back:.0f}s")

            # Orders go through again (once the venue's and the edge's NATS clients are back).
            deadline = time.monotonic() + 20
            refusals = []
            while True:
                reply, _ = await call_within(on_b, "private/buy", order("after-outage"),
                                             VENUE_TIMEOUT + 3)
                if "result" in reply:
                    assert reply["result"]["order"]["order_state"] == "open", reply
                    acked.append(reply["result"]["order"]["order_id"])
                    break
                refusals.append(reply.get("error"))
                assert time.monotonic() < deadline, \
                    f"no order through edge B within 20 s of the NATS restart: {refusals[-5:]}"
                await asyncio.sleep(0.5)
            print(f"  an order through edge B went through {time.monotonic() - back:.1f}s "
                  f"after the restart ({len(refusals)} refused before: {refusals[-3:]})")
            for order_id in acked:
                state = await tq.result(on_b, "private/get_order_state", {"order_id": order_id})
                assert state["order_id"] == order_id and state["order_state"] == "open", state
            cancelled = await tq.result(on_b, "private/cancel_all")
            assert cancelled >= len(acked), (cancelled, acked)
            await watch.drain(0.5)
        finally:
            await close_all([ws])
    run(go(), 120)


def handshake_credentials(env):
    """Authorization at the handshake of an edge: checked by the venue; raw channels and private
    methods work at once (requests wait for the check); wrong ones close the connection 1008."""
    async def go():
        good = {"Authorization": tg.basic_authorization(env.demo)}
        async with websockets.connect(env.b.ws, extra_headers=good, max_size=None) as ws:
            client = Client(ws)
            reply = await client.call("public/subscribe", {"channels": [CHANNEL]})
            assert reply.get("result") == [CHANNEL], reply
            summary = await client.call("private/get_account_summary", {"currency": "BTC"})
            assert summary.get("result", {}).get("currency") == "BTC", summary
            first = await client.notification(timeout=10)
            assert first["params"]["data"]["type"] == "snapshot", first
        bad = {"Authorization": tg.basic_authorization((env.demo[0], "wrong-secret"))}
        async with websockets.connect(env.b.ws, extra_headers=bad) as ws:
            try:
                await asyncio.wait_for(ws.recv(), 10)
                raise AssertionError("wrong credentials: the connection stayed open")
            except websockets.ConnectionClosed as closed:
                assert closed.code == 1008 and "invalid" in closed.reason, (closed.code,
                                                                             closed.reason)
        print("  good credentials: subscribed and answered; wrong ones: closed 1008")
    run(go())


def client_certificate_at_an_edge(env):
    """Edge C serves TLS and asks for client certificates (tests/tls/make_certs.sh's CA): the
    venue checks the certificate an edge verified as it checks its own (greekwire keys
    add-cert). Unknown to the venue: the connection is closed 1008; registered to bob: private
    methods are answered as bob's, with no public/auth."""
    pki = tempfile.mkdtemp(prefix="pki-", dir=env.tmp)
    subprocess.run(["bash", os.path.join(HERE, "..", "tls", "make_certs.sh"), pki], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env.c = env.edge("edge C (TLS)", options=(
        "--tls-cert", f"{pki}/server.pem", "--tls-key", f"{pki}/server.key",
        "--tls-client-ca", f"{pki}/ca.pem", "--tls-client-cert", "required"))
    context = ssl.create_default_context(cafile=f"{pki}/ca.pem")
    context.load_cert_chain(f"{pki}/client.pem", f"{pki}/client.key")

    async def connect_with_certificate():
        ws = await websockets.connect(env.c.ws.replace("127.0.0.1", "localhost"), ssl=context)
        return ws, Client(ws)

    async def unknown():
        ws, client = await connect_with_certificate()
        client.reader.cancel()
        try:
            await asyncio.wait_for(ws.wait_closed(), 10)
        except asyncio.TimeoutError:
            raise AssertionError("an unknown certificate: not closed within 10 s") from None
        assert ws.close_code == 1008, (ws.close_code, ws.close_reason)
        return ws.close_reason

    def holdings(reply):
        assert "result" in reply, reply
        return sorted((p["instrument_name"], p["direction"], p["size"]) for p in reply["result"])

    async def registered():
        """(the certificate's positions, bob's, the demo account's): the cross-edge fill left
        bob and the demo account with opposite positions."""
        ws, client = await connect_with_certificate()
        ws_bob, bob = await connect(env.b, env.bob)
        ws_demo, demo = await connect(env.b, env.demo)
        try:
            return [holdings(await c.call("private/get_positions", {"currency": "BTC"}))
                    for c in (client, bob, demo)]
        finally:
            await close_all([ws, ws_bob, ws_demo])

    reason = run(unknown())
    proc = subprocess.run([harness.greekwire_binary(), "keys", "add-cert", "--account", "bob",
                           "--cert", f"{pki}/client.pem", "--data-dir", env.venue.data_dir],
                          capture_output=True, text=True, timeout=30, env=harness.child_env())
    assert proc.returncode == 0, proc.stderr
    mine, bobs, demos = run(registered())
    assert mine == bobs and mine != demos, (mine, bobs, demos)
    print(f"  unknown certificate: closed 1008 ({reason}); registered to bob: answered with "
          f"bob's positions {mine}")


def venue_unreachable(env):
    async def go():
        ws, client = await connect(env.a, env.demo)
        try:
            await tq.result(client, "private/get_positions", {"currency": "BTC"})
            env.venue.proc.send_signal(signal.SIGSTOP)
            try:
                reply, elapsed = await call_within(client, "private/get_positions",
                                                   {"currency": "BTC"}, VENUE_TIMEOUT + 2)
            finally:
                env.venue.proc.send_signal(signal.SIGCONT)
            assert reply.get("error", {}).get("code") == 13028, \
                f"answered {reply} after {elapsed:.2f}s with the venue stopped"
            print(f"  13028 after {elapsed:.2f}s ({reply['error'].get('data')})")
            # The venue answers again once it runs.
            deadline = time.monotonic() + 10
            while True:
                reply, _ = await call_within(client, "private/get_positions", {"currency": "BTC"},
                                             VENUE_TIMEOUT + 2)
                if "result" in reply:
                    break
                assert time.monotonic() < deadline, f"the venue is back but: {reply}"
                await asyncio.sleep(0.5)
        finally:
            await close_all([ws])
    run(go())


def main():
    harness.greekwire_binary()
    if not os.access(NATS_SERVER, os.X_OK):
        print(f"SKIP: {NATS_SERVER} is not installed (Debian's nats-server)")
        return harness.SKIP
    harness.exit_on_sigterm()
    env = Deployment()
    status = 1
    try:
        env.start()
        status = harness.run_checks([
            ("book.BTC-PERPETUAL.raw: edges A and B and the venue carry the same chain",
             lambda: identical_chains(env)),
            ("volsurface.ETH and chain.ETH.*: edge B serves the venue's own",
             lambda: venue_surfaces_and_chains(env)),
            ("a post-only sell through A filled by another account's IOC buy through B",
             lambda: cross_edge_fill(env)),
            ("cancel-on-disconnect through edge A: as on a single process",
             lambda: cancel_on_disconnect(env)),
            ("edge A killed: its cancel-on-disconnect order cancelled, B's chain unbroken; "
             "A restarted serves a valid chain",
             lambda: edge_restart(env)),
            ("NATS restarted: B continues or resyncs, 13028 while down, orders survive",
             lambda: nats_restart(env)),
            ("credentials at an edge's handshake: checked by the venue",
             lambda: handshake_credentials(env)),
            ("a client certificate at an edge: checked by the venue",
             lambda: client_certificate_at_an_edge(env)),
            ("venue stopped: a private request through an edge answers 13028 in time",
             lambda: venue_unreachable(env)),
            ("edges and venue: SIGTERM -> exit 0, clean stderr", env.stop_all),
        ])
    finally:
        env.cleanup(failed=status != 0)
    return status


if __name__ == "__main__":
    sys.exit(main())
