#!/usr/bin/python3
"""greekwire client (`echo --connect`) <-> Python websockets server.

Usage: test_python_server.py PATH_TO_GREEKWIRE
"""

import asyncio
import base64
import os
import sys

import harness

websockets = harness.require_module("websockets")

CLIENT_MAX = ["--max-message", 17_000_000]
PATH = "/echo/path?q=1"
SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20]
CASE_TIMEOUT = 40


def random_text(size):
    return base64.b64encode(os.urandom(size))[:size].decode()


def echo_script():
    """(what the server sends, the echo it expects) pairs."""
    script = [(random_text(n), None) for n in SIZES]
    script += [(os.urandom(n), None) for n in SIZES]
    script += [("héllo wörld ✓ 𝄞 日本語 🎉", None)]
    script += [(["frag", "", "mented ✓"], "fragmented ✓"),
               ([b"\x00" * 70000, b"", b"\xff" * 3], b"\x00" * 70000 + b"\xff" * 3)]
    return [(m, m if expected is None else expected) for m, expected in script]


class ScriptedServer:
    """A websockets server whose single connection plays `script`, sends `pings` pings and
    `pipelined` messages, then closes with `close_code`; it records what went wrong."""

    def __init__(self, script=(), close_code=1000, pipelined=0):
        self.script, self.close_code, self.pipelined = script, close_code, pipelined
        self.errors = []
        self.path = None
        self.subprotocol_header = None
        self.finished = False

    async def handler(self, ws):
        self.path = ws.path
        self.subprotocol_header = ws.request_headers.get("Sec-WebSocket-Protocol")
        try:
            await self.play(ws)
            self.finished = True
        except Exception as e:  # recorded, the test reports it
            self.errors.append(repr(e))
        await ws.close(self.close_code, "done")

    async def play(self, ws):
        for i, (message, expected) in enumerate(self.script):
            await ws.send(message)
            self.check(i, await ws.recv(), expected)
        await asyncio.wait_for(await ws.ping(b"are you there"), 5)
        messages = [f"pipelined {i}" for i in range(self.pipelined)]
        for m in messages:
            await ws.send(m)
        for i, m in enumerate(messages):
            self.check(f"pipelined {i}", await ws.recv(), m)

    def check(self, label, echo, expected):
        if type(echo) is not type(expected) or echo != expected:
            self.errors.append(f"message {label}: echo {type(echo).__name__} of {len(echo)}, "
                               f"expected {type(expected).__name__} of {len(expected)}")
            raise AssertionError(self.errors[-1])


async def run_against(server, path="/"):
    async with websockets.serve(server.handler, harness.HOST, 0, max_size=None) as ws_server:
        port = ws_server.sockets[0].getsockname()[1]
        url = f"ws://{harness.HOST}:{port}{path}"
        return await asyncio.to_thread(harness.run_client, url, *CLIENT_MAX)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, CASE_TIMEOUT))


def assert_client(rc, out, want_rc, want_line=None):
    assert rc == want_rc, f"greekwire client exit code {rc}, expected {want_rc}; stdout {out!r}"
    if want_line:
        assert any(line.startswith(want_line) for line in out.splitlines()), \
            f"stdout {out!r} lacks a line starting {want_line!r}"


def echo_then_close_1000():
    server = ScriptedServer(echo_script(), 1000, pipelined=200)
    rc, out = run(run_against(server, PATH))
    assert not server.errors, server.errors
    assert server.finished, f"the server's script did not run to the end (client {rc}, {out!r})"
    assert server.path == PATH, f"request target {server.path!r}, expected {PATH!r}"
    assert server.subprotocol_header is None, f"unrequested {server.subprotocol_header!r}"
    assert_client(rc, out, 0, "closed 1000")


def close_4001():
    server = ScriptedServer([("one", "one")], 4001)
    rc, out = run(run_against(server))
    assert not server.errors, server.errors
    assert_client(rc, out, 1, "closed 4001")


def nobody_listening():
    rc, out = harness.run_client(f"ws://{harness.HOST}:{harness.free_port()}/", timeout=30)
    assert_client(rc, out, 2)


async def raw_http_server(response):
    """A TCP server that answers any request head with `response` and closes."""
    async def answer(reader, writer):
        try:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            writer.write(response)
            await writer.drain()
        finally:
            writer.close()
    return await asyncio.start_server(answer, harness.HOST, 0)


async def client_against_raw(response):
    async with await raw_http_server(response) as server:
        port = server.sockets[0].getsockname()[1]
        return await asyncio.to_thread(harness.run_client, f"ws://{harness.HOST}:{port}/",
                                       timeout=30)


def answered_200():
    rc, out = run(client_against_raw(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                     b"Connection: close\r\n\r\nok"))
    assert_client(rc, out, 2)


def wrong_accept():
    rc, out = run(client_against_raw(b"HTTP/1.1 101 Switching Protocols\r\n"
                                     b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                     b"Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"))
    assert_client(rc, out, 2)


def main():
    return harness.run_checks([
        ("echo up to 16 MiB, fragments, ping, pipelined; close 1000 -> exit 0",
         echo_then_close_1000),
        ("close 4001 -> exit 1", close_4001),
        ("nobody listening -> exit 2", nobody_listening),
        ("200 instead of 101 -> exit 2", answered_200),
        ("wrong Sec-WebSocket-Accept -> exit 2", wrong_accept),
    ])


if __name__ == "__main__":
    harness.greekwire_binary()  # fail early on a bad argument
    sys.exit(main())
