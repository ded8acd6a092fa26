#!/usr/bin/python3
"""Python websockets client <-> greekwire echo server.

Usage: test_python_client.py PATH_TO_GREEKWIRE
"""

import asyncio
import base64
import os
import sys

import harness

websockets = harness.require_module("websockets")

MAX_MESSAGE = 17_000_000
SMALL_MAX = 1000
SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20]
UNICODE = "héllo wörld ✓ 𝄞 日本語 🎉 Ελληνικά \u0000 \ufeff \U0010ffff"
CHECK_TIMEOUT = 30


def random_text(size):
    """`size` bytes of random ASCII, so the byte length equals the string length."""
    return base64.b64encode(os.urandom(size))[:size].decode()


def connect(url):
    return websockets.connect(url, max_size=None, open_timeout=10, close_timeout=5,
                              ping_interval=None)


def run(coro_fn, *args):
    """Runs an async check with a deadline."""
    return asyncio.run(asyncio.wait_for(coro_fn(*args), CHECK_TIMEOUT))


async def roundtrip(ws, message, expected=None):
    await ws.send(message)
    echo = await ws.recv()
    expected = message if expected is None else expected
    assert type(echo) is type(expected), f"echo is {type(echo).__name__}"
    assert echo == expected, f"echo differs ({len(echo)} vs {len(expected)})"


async def echo_sizes(url, make):
    async with connect(url) as ws:
        for size in SIZES:
            try:
                await roundtrip(ws, make(size))
            except Exception as e:
                raise AssertionError(f"size {size}: {e!r}") from e


async def echo_fragmented(url):
    async def chunks():
        for part in (b"async ", b"", b"fragments"):
            yield part

    big = [random_text(100_000) for _ in range(3)]
    async with connect(url) as ws:
        await roundtrip(ws, ["frag", "", "mented ", "wörld ✓"], "fragmented wörld ✓")
        await roundtrip(ws, [b"\x00\x01", b"\xff" * 200, b""], b"\x00\x01" + b"\xff" * 200)
        await roundtrip(ws, chunks(), b"async fragments")
        await roundtrip(ws, big, "".join(big))


async def echo_unicode(url):
    async with connect(url) as ws:
        await roundtrip(ws, UNICODE)
        await roundtrip(ws, UNICODE * 5000)


async def echo_pipelined(url, count=1000):
    messages = [f"message {i} ✓" if i % 2 else f"binary {i}".encode() for i in range(count)]
    async with connect(url) as ws:
        for m in messages:
            await ws.send(m)
        for i, m in enumerate(messages):
            echo = await ws.recv()
            assert echo == m, f"message {i}: got {echo!r}, expected {m!r}"


async def ping_pong(url):
    async with connect(url) as ws:
        for payload in (b"", b"probe", os.urandom(125)):
            waiter = await ws.ping(payload)
            await asyncio.wait_for(waiter, 5)
        await roundtrip(ws, "still open")


async def close_normal(url):
    ws = await connect(url)
    await roundtrip(ws, "before close")
    await ws.close(1000, "bye")
    await ws.wait_closed()
    print(f"     server close frame: code {ws.close_code} reason {ws.close_reason!r}")
    assert ws.close_code == 1000, f"client saw close code {ws.close_code}"


async def expect_close_code(ws, code):
    try:
        await asyncio.wait_for(ws.recv(), 10)
    except websockets.ConnectionClosed:
        pass
    else:
        raise AssertionError("expected the server to close the connection, got a message")
    await ws.wait_closed()
    assert ws.close_code == code, f"client saw close code {ws.close_code}, expected {code}"


async def too_big(url):
    async with connect(url) as ws:
        await roundtrip(ws, b"x" * SMALL_MAX)  # exactly the limit is fine
        await ws.send(b"x" * (SMALL_MAX + 1))
        await expect_close_code(ws, 1009)
    async with connect(url) as ws:
        await ws.send(["y" * 400, "y" * 400, "y" * 400])  # only the whole message is too big
        await expect_close_code(ws, 1009)


def invalid_utf8(port):
    cases = [
        [harness.frame(harness.OP_TEXT, b"\xff\xfe\xfd")],
        [harness.frame(harness.OP_TEXT, b"abc\xe2\x82")],  # truncated code point
        [harness.frame(harness.OP_TEXT, b"ok", fin=False),  # invalid in a continuation
         harness.frame(harness.OP_CONT, b"\xed\xa0\x80")],  # UTF-16 surrogate
    ]
    for frames in cases:
        with harness.RawConnection(port) as conn:
            conn.upgrade()
            conn.send(b"".join(frames))
            conn.expect_close(1007)


def split_code_point(port):
    """A 4-byte code point split across two fragments is valid text; the echo is the whole
    message in one frame."""
    with harness.RawConnection(port) as conn:
        conn.upgrade()
        conn.send(harness.frame(harness.OP_TEXT, b"party \xf0\x9f", fin=False)
                  + harness.frame(harness.OP_CONT, b"\x8e\x89"))
        echo = conn.read_frame()
        assert (echo.fin, echo.opcode) == (True, harness.OP_TEXT), f"echo starts with {echo}"
        assert echo.payload == "party 🎉".encode(), f"echo {echo.payload!r}"
        conn.send_frame(harness.OP_CLOSE, harness.close_payload(1000))
        conn.expect_close(1000)


def main():
    with harness.Greekwire("--max-message", MAX_MESSAGE) as server, \
         harness.Greekwire("--max-message", SMALL_MAX) as small:
        url = server.url + "/echo"
        return harness.run_checks([
            ("text sizes 0..16 MiB", lambda: run(echo_sizes, url, random_text)),
            ("binary sizes 0..16 MiB", lambda: run(echo_sizes, url, os.urandom)),
            ("fragmented messages", lambda: run(echo_fragmented, url)),
            ("multi-byte unicode text", lambda: run(echo_unicode, url)),
            ("code point split across fragments -> one frame",
             lambda: split_code_point(server.port)),
            ("1000 pipelined messages", lambda: run(echo_pipelined, url)),
            ("ping/pong", lambda: run(ping_pong, url)),
            ("close 1000", lambda: run(close_normal, url)),
            ("over --max-message -> 1009", lambda: run(too_big, small.url)),
            ("invalid UTF-8 -> 1007", lambda: invalid_utf8(server.port)),
            ("small server: SIGTERM -> exit 0, clean stderr", small.stop),
            ("SIGTERM -> exit 0, clean stderr", server.stop),
        ])


if __name__ == "__main__":
    sys.exit(main())
