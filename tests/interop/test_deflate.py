#!/usr/bin/python3
"""permessage-deflate (RFC 7692): Python websockets <-> greekwire, both roles.

- websockets client -> `greekwire echo --deflate`: every offer websockets can make
  (server_no_context_takeover x client_no_context_takeover x server_max_window_bits x
  client_max_window_bits), the negotiated parameters, and the echo of a mixed script;
- the same offers to a greekwire without --deflate are declined and messages still flow;
- --deflate-window-bits / --deflate-no-context-takeover on the server;
- raw handshakes and frames: the exact answers to offers (incl. invalid ones), RSV1 on the
  wire, the threshold, window limits and context resets actually honoured;
- a compressed message that inflates past --max-message -> 1009;
- `greekwire echo --connect --deflate` against websockets servers with
  ServerPerMessageDeflateFactory -> exit 0 after a 1000 close.

Usage: test_deflate.py PATH_TO_GREEKWIRE
"""

import asyncio
import base64
import itertools
import json
import os
import struct
import sys
import zlib

import harness

websockets = harness.require_module("websockets")
from websockets.extensions.permessage_deflate import (  # noqa: E402
    ClientPerMessageDeflateFactory, PerMessageDeflate, ServerPerMessageDeflateFactory)

CHECK_TIMEOUT = 60
MAX_MESSAGE = 4_000_000
SMALL_MAX = 100_000
TAIL = b"\x00\x00\xff\xff"
UNICODE = "héllo wörld ✓ 𝄞 日本語 🎉 Ελληνικά \u0000 \ufeff \U0010ffff"


def random_text(size):
    return base64.b64encode(os.urandom(size))[:size].decode()


def json_1k():
    rows = [{"id": i, "symbol": f"SYM{i % 7}", "bid": 100 + i * 0.25, "ask": 100.5 + i * 0.25,
             "venue": "XNAS", "flags": ["firm", "lit"]} for i in range(9)]
    return json.dumps({"type": "book", "seq": 123456, "rows": rows})


SIMILAR = [json.dumps({"type": "trade", "id": i, "symbol": "ACME", "price": 100 + i * 0.25,
                       "size": 100 * (i % 5 + 1), "side": "buy" if i % 2 else "sell"})
           for i in range(100)]
BIN_1M = os.urandom(512 * 1024) + bytes(range(256)) * 2048  # half random, half repetitive


def echo_script():
    """Messages each connection sends; every one must come back identical."""
    return [json_1k(), BIN_1M, UNICODE, UNICODE * 30, "", b"", "0123456789", b"0123456789"]


# test_tls.py reruns these checks over TLS by setting the hooks below.
CONNECT_KW = {}    # extra websockets.connect() arguments (ssl=...)
SERVE_KW = {}      # extra websockets.serve() arguments (ssl=...)
SCHEME = "ws"      # of the websockets servers that the greekwire client connects to
CLIENT_OPTIONS = []  # extra `greekwire echo --connect` options (--tls-ca ...)


def connect(url, factory=None, **kw):
    extensions = [factory] if factory is not None else None
    return websockets.connect(url, max_size=None, open_timeout=10, close_timeout=5,
                              ping_interval=None, compression=None, extensions=extensions,
                              **CONNECT_KW, **kw)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, CHECK_TIMEOUT))


def show(value):
    return f"{type(value).__name__} of {len(value)}"


async def play_echo(ws, label):
    """The echo script, then 100 similar JSON messages pipelined."""
    for i, message in enumerate(echo_script()):
        await ws.send(message)
        echo = await ws.recv()
        if type(echo) is not type(message) or echo != message:
            raise AssertionError(f"{label}: message {i} ({show(message)}) came back as "
                                 f"{show(echo)}")
    for m in SIMILAR:
        await ws.send(m)
    for i, m in enumerate(SIMILAR):
        echo = await ws.recv()
        assert echo == m, f"{label}: similar message {i}: got {echo!r}"


def offer_label(snct, cnct, smwb, cmwb):
    return (f"snct={int(snct)} cnct={int(cnct)} smwb={smwb} "
            f"cmwb={'novalue' if cmwb is True else cmwb}")


def check_negotiated(ws, label, want):
    """want: None (no extension) or (remote_nct, local_nct, remote_bits, local_bits)."""
    exts = ws.extensions
    if want is None:
        assert exts == [], f"{label}: extension negotiated: {exts!r}"
        header = ws.response_headers.get("Sec-WebSocket-Extensions")
        assert header is None, f"{label}: server answered Sec-WebSocket-Extensions {header!r}"
        return
    assert len(exts) == 1 and isinstance(exts[0], PerMessageDeflate), \
        f"{label}: negotiated {exts!r} (response " \
        f"{ws.response_headers.get('Sec-WebSocket-Extensions')!r})"
    e = exts[0]
    got = (e.remote_no_context_takeover, e.local_no_context_takeover,
           e.remote_max_window_bits, e.local_max_window_bits)
    assert got == want, (f"{label}: negotiated (remote_nct, local_nct, remote_bits, "
                         f"local_bits) {got}, expected {want}; response header "
                         f"{ws.response_headers.get('Sec-WebSocket-Extensions')!r}")


def expected_params(snct, cnct, smwb, cmwb, server_bits=15, server_nct=False):
    return (snct or server_nct, cnct, min(smwb, server_bits) if smwb else 15,
            cmwb if isinstance(cmwb, int) and cmwb is not True else 15)


async def one_offer(url, offer, want, full=True):
    snct, cnct, smwb, cmwb = offer
    label = offer_label(*offer)
    factory = ClientPerMessageDeflateFactory(server_no_context_takeover=snct,
                                             client_no_context_takeover=cnct,
                                             server_max_window_bits=smwb,
                                             client_max_window_bits=cmwb)
    async with connect(url, factory) as ws:
        check_negotiated(ws, label, want)
        if full:
            await play_echo(ws, label)
        else:
            for m in (json_1k(), b"\x00" * 5000, "", "tiny"):
                await ws.send(m)
                assert await ws.recv() == m, f"{label}: echo differs"
        await ws.close(1000, "bye")
    assert ws.close_code == 1000, f"{label}: close code {ws.close_code}"


ALL_OFFERS = list(itertools.product((False, True), (False, True), (None, 8, 9, 10, 15),
                                    (None, True, 9, 15)))


async def all_offers(url, **server):
    for offer in ALL_OFFERS:
        await one_offer(url, offer, expected_params(*offer, **server))


async def declined(url):
    """greekwire without --deflate: every offer declined, messages flow uncompressed."""
    for i, offer in enumerate(ALL_OFFERS):
        await one_offer(url, offer, None, full=(i % 20 == 0))


async def server_options(url, **server):
    offers = [(False, False, None, True), (False, False, 15, True), (True, False, 10, None),
              (False, True, 8, 9), (True, True, 9, 15), (False, False, 12, 12)]
    for offer in offers:
        await one_offer(url, offer, expected_params(*offer, **server))


async def too_big(url):
    factory = ClientPerMessageDeflateFactory()
    async with connect(url, factory) as ws:
        check_negotiated(ws, "1009", (False, False, 15, 15))
        fits = "a" * (SMALL_MAX - 10)
        await ws.send(fits)
        assert await ws.recv() == fits, "message under the limit not echoed"
        await ws.send("abcdefghij" * 100_000)  # 1 MB, compresses to about 1 KB
        try:
            echo = await asyncio.wait_for(ws.recv(), 10)
        except websockets.ConnectionClosed:
            pass
        else:
            raise AssertionError(f"expected a close, got a message ({show(echo)})")
        await ws.wait_closed()
    assert ws.close_code == 1009, f"client saw close code {ws.close_code}, expected 1009"


# --- raw handshakes and frames -----------------------------------------------------------

def raw_upgrade(port, offer):
    """(connection, Sec-WebSocket-Extensions of the 101 answer or None)."""
    conn = harness.RawConnection(port)
    key = base64.b64encode(os.urandom(16)).decode()
    extra = [f"Sec-WebSocket-Extensions: {offer}"] if offer is not None else []
    try:
        response = conn.request(harness.upgrade_request(port, key, extra=extra))
        assert response.status == 101, f"offer {offer!r} answered {response.status_line!r}"
        assert response.header("sec-websocket-accept") == harness.accept_key(key)
    except Exception:
        conn.sock.close()
        raise
    return conn, response.header("sec-websocket-extensions")


def normalize(header):
    """'permessage-deflate; a; b=1' -> ('permessage-deflate', {'a', 'b=1'}); None stays."""
    if header is None:
        return None
    assert "," not in header, f"answer lists several extensions: {header!r}"
    name, *params = [p.strip().replace(" ", "") for p in header.split(";")]
    return name, frozenset(params)


def read_message(conn):
    """The next data message as (rsv1 of its first frame, opcode, wire payload)."""
    rsv1, opcode, parts = None, None, []
    while True:
        b0, b1 = conn.recv_exact(2)
        assert not b1 & 0x80, "server frame is masked"
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", conn.recv_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", conn.recv_exact(8))[0]
        payload = conn.recv_exact(n)
        op = b0 & 0x0F
        assert op != harness.OP_CLOSE, f"got close {payload[:2].hex()} instead of a message"
        if op == harness.OP_PING:
            conn.send_frame(harness.OP_PONG, payload)
            continue
        if op != harness.OP_CONT:
            rsv1, opcode = bool(b0 & 0x40), op
        else:
            assert not b0 & 0x70, "RSV bits on a continuation frame"
        parts.append(payload)
        if b0 & 0x80:
            return rsv1, opcode, b"".join(parts)


def close_raw(conn):
    conn.send_frame(harness.OP_CLOSE, harness.close_payload(1000))
    conn.expect_close(1000)
    conn.sock.close()


def compress(data, compressor):
    out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(TAIL)
    return out[:-4]


def inflate(payload, decompressor):
    return decompressor.decompress(payload + TAIL)


def negotiation_answers(port):
    base = "permessage-deflate"
    pmd = lambda *p: (base, frozenset(p))  # noqa: E731
    cases = [
        (None, None),
        (base, pmd()),
        (f"{base}; client_max_window_bits", pmd()),
        (f"{base}; client_max_window_bits=9", pmd()),
        (f"{base}; server_no_context_takeover; client_no_context_takeover; "
         f"server_max_window_bits=10; client_max_window_bits=9",
         pmd("server_no_context_takeover", "client_no_context_takeover",
             "server_max_window_bits=10")),
        (f'{base}; server_max_window_bits="12"', pmd("server_max_window_bits=12")),
        (f"{base}; server_max_window_bits=8", pmd("server_max_window_bits=8")),
        (f"{base}; server_max_window_bits=15", pmd("server_max_window_bits=15")),
        (f"{base}; foo", None),
        (f"{base}; server_max_window_bits=16", None),
        (f"{base}; server_max_window_bits=7", None),
        (f"{base}; server_max_window_bits", None),
        (f"{base}; client_max_window_bits=20", None),
        (f"{base}; server_no_context_takeover=1", None),
        (f"{base}; server_no_context_takeover; server_no_context_takeover", None),
        (f"{base}; client_max_window_bits; client_max_window_bits=10", None),
        (f"{base}; foo, {base}; server_max_window_bits=11", pmd("server_max_window_bits=11")),
        (f"x-webkit-deflate-frame, {base}; client_no_context_takeover",
         pmd("client_no_context_takeover")),
        ("x-webkit-deflate-frame", None),
    ]
    problems = []
    for offer, want in cases:
        conn, header = raw_upgrade(port, offer)
        try:
            if normalize(header) != want:
                problems.append(f"offer {offer!r}: answered {header!r}, expected {want!r}")
            # the connection works whatever was agreed
            conn.send_frame(harness.OP_TEXT, b"ok")
            rsv1, opcode, payload = read_message(conn)
            if (rsv1, opcode, payload) != (False, harness.OP_TEXT, b"ok"):
                problems.append(f"offer {offer!r}: echo {(rsv1, opcode, payload)!r}")
            close_raw(conn)
        finally:
            conn.sock.close()
    assert not problems, "\n".join(problems)


def on_the_wire(port):
    """Default server, context takeover both ways: what the frames look like."""
    conn, header = raw_upgrade(port, "permessage-deflate; client_max_window_bits")
    try:
        assert header == "permessage-deflate", f"answer {header!r}"
        dec = zlib.decompressobj(-15)
        comp = zlib.compressobj(6, zlib.DEFLATED, -15)

        def roundtrip(data, compressed_send, opcode=harness.OP_TEXT, fragments=1):
            wire = compress(data, comp) if compressed_send else data
            if fragments == 1:
                conn.send_frame(opcode, wire, rsv=4 if compressed_send else 0)
            else:
                step = len(wire) // fragments + 1
                pieces = [wire[i:i + step] for i in range(0, len(wire), step)]
                pieces += [b""] * (fragments - len(pieces))
                frames = [harness.frame(opcode if i == 0 else harness.OP_CONT, piece,
                                        fin=(i == len(pieces) - 1),
                                        rsv=(4 if compressed_send and i == 0 else 0))
                          for i, piece in enumerate(pieces)]
                conn.send(b"".join(frames))
            rsv1, got_op, payload = read_message(conn)
            assert got_op == opcode, f"echo opcode {got_op}, expected {opcode}"
            echoed = inflate(payload, dec) if rsv1 else payload
            assert echoed == data, f"echo of {len(data)} bytes differs ({len(echoed)} bytes)"
            return rsv1, len(payload)

        big = json_1k().encode()
        for compressed_send in (False, True):
            rsv1, n = roundtrip(big, compressed_send)
            assert rsv1 and n < len(big) // 2, f"1 KB JSON echoed rsv1={rsv1}, {n} bytes"
        for size, want in ((0, False), (10, False), (63, False), (64, True), (65, True)):
            rsv1, _ = roundtrip(b"x" * size, False)
            assert rsv1 == want, f"{size}-byte message echoed with rsv1={rsv1}, expected {want}"
        roundtrip(b"", True)  # a compressed empty message
        roundtrip(b"\x00" * 100 + os.urandom(20), True, harness.OP_BINARY)
        rsv1, _ = roundtrip(big * 50, True, fragments=3)  # compressed, in 3 frames
        assert rsv1, "fragmented 50 KB echo not compressed"
        sizes = [roundtrip(m.encode(), True)[1] for m in SIMILAR]
        later = sum(sizes[50:]) / 50
        assert later < sizes[0] * 0.7, \
            f"context takeover: later messages {later:.0f} B vs first {sizes[0]} B compressed"
        close_raw(conn)
    finally:
        conn.sock.close()


def window_and_reset(port, offer, want_header, window, server_resets, expect_compressed=True):
    """The echo of a message with matches 1500 bytes back decodes with a `window`-bit
    decoder; if the server resets, every echo decodes alone and repeats compress the same."""
    conn, header = raw_upgrade(port, offer)
    try:
        assert normalize(header) == normalize(want_header), f"answer {header!r}"
        block = random_text(1500).encode()
        messages = [block * 4, json_1k().encode(), json_1k().encode(), block * 4]
        shared = zlib.decompressobj(-window)
        wire = []
        for m in messages:
            conn.send_frame(harness.OP_TEXT, m)
            rsv1, _, payload = read_message(conn)
            assert rsv1 == expect_compressed, f"echo rsv1={rsv1}"
            if not rsv1:
                assert payload == m
                continue
            try:
                if server_resets:
                    got = inflate(payload, zlib.decompressobj(-window))
                else:
                    got = inflate(payload, shared)
            except zlib.error as e:
                raise AssertionError(f"echo not decodable with a {window}-bit window"
                                     f"{' and a fresh decoder' if server_resets else ''}: {e}")
            assert got == m, "echo differs"
            wire.append(payload)
        if expect_compressed and server_resets:
            assert wire[1] == wire[2], "same message compressed differently despite the reset"
        if expect_compressed and window < 12:
            assert len(wire[0]) > 4000, \
                f"{len(messages[0])} bytes with 1500-byte repeats compressed to {len(wire[0])}"
        close_raw(conn)
    finally:
        conn.sock.close()


# --- greekwire as the client -------------------------------------------------------------

def client_script():
    script = [json_1k(), "", b"", "0123456789", UNICODE, UNICODE * 30,
              random_text(70_000), "z" * (1 << 20), os.urandom(1 << 20), BIN_1M]
    return script + SIMILAR


class ScriptedServer:
    def __init__(self):
        self.errors = []
        self.finished = False
        self.offer = None
        self.extensions = None

    async def handler(self, ws):
        self.offer = ws.request_headers.get("Sec-WebSocket-Extensions")
        self.extensions = list(ws.extensions)
        try:
            for i, message in enumerate(client_script()):
                await ws.send(message)
                echo = await ws.recv()
                if type(echo) is not type(message) or echo != message:
                    raise AssertionError(f"message {i} ({show(message)}) came back as "
                                         f"{show(echo)}")
            for m in SIMILAR:
                await ws.send(m)
            for i, m in enumerate(SIMILAR):
                assert await ws.recv() == m, f"pipelined {i} differs"
            self.finished = True
        except Exception as e:
            self.errors.append(repr(e))
        await ws.close(1000, "done")


async def greekwire_client(factory, client_options):
    server = ScriptedServer()
    extensions = [factory] if factory is not None else None
    async with websockets.serve(server.handler, harness.HOST, 0, max_size=None,
                                compression=None, extensions=extensions,
                                **SERVE_KW) as ws_server:
        port = ws_server.sockets[0].getsockname()[1]
        rc, out = await asyncio.to_thread(harness.run_client, f"{SCHEME}://{harness.HOST}:{port}/",
                                          "--deflate", "--max-message", MAX_MESSAGE,
                                          *CLIENT_OPTIONS, *client_options, timeout=40)
    return server, rc, out


def client_case(factory_kw, client_options=(), want=None):
    """factory_kw None: a server without the extension. want: expected
    (remote_nct, local_nct, remote_bits, local_bits) on the server side."""
    factory = None if factory_kw is None else ServerPerMessageDeflateFactory(**factory_kw)
    server, rc, out = run(greekwire_client(factory, list(client_options)))
    assert not server.errors, f"{server.errors} (client exit {rc}, stdout {out!r})"
    assert server.finished, f"server script did not finish (client exit {rc}, {out!r})"
    offer = server.offer or ""
    assert offer.startswith("permessage-deflate"), f"client offered {offer!r}"
    if factory is None:
        assert server.extensions == [], f"negotiated {server.extensions!r}"
    else:
        assert len(server.extensions) == 1, f"negotiated {server.extensions!r} for {offer!r}"
        e = server.extensions[0]
        got = (e.remote_no_context_takeover, e.local_no_context_takeover,
               e.remote_max_window_bits, e.local_max_window_bits)
        assert want is None or got == want, f"server side negotiated {got}, expected {want}"
    assert rc == 0, f"greekwire client exit code {rc}; stdout {out!r}"
    assert any(l.startswith("closed 1000") for l in out.splitlines()), f"stdout {out!r}"


def main():
    with harness.Greekwire("--deflate", "--max-message", MAX_MESSAGE) as server, \
         harness.Greekwire("--max-message", MAX_MESSAGE) as plain, \
         harness.Greekwire("--deflate", "--deflate-window-bits", 9) as w9, \
         harness.Greekwire("--deflate", "--deflate-no-context-takeover") as nct, \
         harness.Greekwire("--deflate", "--deflate-window-bits", 9,
                           "--deflate-no-context-takeover") as both, \
         harness.Greekwire("--deflate", "--max-message", SMALL_MAX) as small:
        url = server.url + "/echo"
        return harness.run_checks([
            (f"all {len(ALL_OFFERS)} client offers: negotiated params + echo",
             lambda: run(all_offers(url))),
            ("server without --deflate declines every offer, messages flow",
             lambda: run(declined(plain.url))),
            ("server --deflate-window-bits 9", lambda: run(server_options(w9.url,
                                                                         server_bits=9))),
            ("server --deflate-no-context-takeover",
             lambda: run(server_options(nct.url, server_nct=True))),
            ("server --deflate-window-bits 9 --deflate-no-context-takeover",
             lambda: run(server_options(both.url, server_bits=9, server_nct=True))),
            ("raw: answers to offers (valid, invalid, several)",
             lambda: negotiation_answers(server.port)),
            ("raw: RSV1 on the wire, threshold 64, context takeover, fragments",
             lambda: on_the_wire(server.port)),
            ("raw: server_max_window_bits=10 honoured",
             lambda: window_and_reset(server.port, "permessage-deflate; server_max_window_bits=10",
                                      "permessage-deflate; server_max_window_bits=10", 10,
                                      False)),
            ("raw: server_max_window_bits=8 -> echoes uncompressed",
             lambda: window_and_reset(server.port, "permessage-deflate; server_max_window_bits=8",
                                      "permessage-deflate; server_max_window_bits=8", 8, False,
                                      expect_compressed=False)),
            ("raw: server_no_context_takeover honoured",
             lambda: window_and_reset(server.port, "permessage-deflate; server_no_context_takeover",
                                      "permessage-deflate; server_no_context_takeover", 15,
                                      True)),
            ("raw: --deflate-window-bits 9 --deflate-no-context-takeover honoured",
             lambda: window_and_reset(both.port, "permessage-deflate",
                                      "permessage-deflate; server_no_context_takeover", 9,
                                      True)),
            ("compressed 1 MB > --max-message 100000 -> 1009", lambda: run(too_big(small.url))),
            ("greekwire client vs websockets server, default deflate",
             lambda: client_case({}, want=(False, False, 15, 15))),
            ("greekwire client vs server_no_context_takeover",
             lambda: client_case({"server_no_context_takeover": True},
                                 want=(False, True, 15, 15))),
            ("greekwire client vs client_no_context_takeover",
             lambda: client_case({"client_no_context_takeover": True},
                                 want=(True, False, 15, 15))),
            ("greekwire client vs server_max_window_bits=10",
             lambda: client_case({"server_max_window_bits": 10}, want=(False, False, 15, 10))),
            ("greekwire client vs client_max_window_bits=12",
             lambda: client_case({"client_max_window_bits": 12}, want=(False, False, 12, 15))),
            ("greekwire client vs all four parameters",
             lambda: client_case({"server_no_context_takeover": True,
                                  "client_no_context_takeover": True,
                                  "server_max_window_bits": 10, "client_max_window_bits": 12},
                                 want=(True, True, 12, 10))),
            ("greekwire client --deflate-window-bits 9 --deflate-no-context-takeover",
             lambda: client_case({"client_max_window_bits": 12},
                                 ["--deflate-window-bits", 9, "--deflate-no-context-takeover"],
                                 want=(True, False, 9, 15))),
            ("greekwire client vs server without the extension",
             lambda: client_case(None)),
            ("SIGTERM -> exit 0, clean stderr (all servers)",
             lambda: [s.stop() for s in (server, plain, w9, nct, both, small)]),
        ])


if __name__ == "__main__":
    harness.greekwire_binary()  # fail early on a bad argument
    sys.exit(main())
