#!/usr/bin/python3
"""Functional self-check of a WebSocket echo server (benchmark peers, greekwire echo).

Usage: check_peers.py ws://127.0.0.1:PORT

Sends text and binary messages (empty, 512 B, 1 MiB; plus a multi-byte UTF-8 text)
and verifies that each comes back unchanged and with the same type (text/binary),
then closes cleanly. Uses the asyncio API of the `websockets` module (Debian 10.4:
there is no websockets.sync there). Exit status 0 on success, 1 on failure.
"""

import asyncio
import os
import sys

import websockets

TIMEOUT_S = 10.0


def _cases():
    text_512 = ("greekwire-" * 52)[:512]
    text_1m = ("abcdefghijklmnopqrstuvwxyz0123456789" * 30000)[: 1 << 20]
    utf8 = "αβγδε ωψχ — 🐍 " * 40  # multi-byte code points, 4-byte ones too
    return [
        ("text 0 B", ""),
        ("binary 0 B", b""),
        ("text 512 B", text_512),
        ("binary 512 B", os.urandom(512)),
        ("text UTF-8 %d B" % len(utf8.encode()), utf8),
        ("text 1 MiB", text_1m),
        ("binary 1 MiB", os.urandom(1 << 20)),
    ]


async def check(url: str) -> int:
    failures = 0
    async with websockets.connect(
        url,
        compression=None,  # plain frames: the peers have permessage-deflate off anyway
        max_size=16 << 20,
        open_timeout=TIMEOUT_S,
        close_timeout=TIMEOUT_S,
    ) as ws:
        for name, payload in _cases():
            await ws.send(payload)
            try:
                reply = await asyncio.wait_for(ws.recv(), TIMEOUT_S)
            except asyncio.TimeoutError:
                print(f"FAIL {name}: no reply within {TIMEOUT_S} s")
                return 1
            if type(reply) is not type(payload):
                print(f"FAIL {name}: got {type(reply).__name__}, sent {type(payload).__name__}")
                failures += 1
            elif reply != payload:
                print(f"FAIL {name}: payload differs (got {len(reply)} units, sent {len(payload)})")
                failures += 1
            else:
                print(f"ok   {name}")
        # Pipelined: several messages in flight before reading, replies must keep order.
        msgs = [f"pipelined-{i}-" + "x" * i for i in range(32)]
        for m in msgs:
            await ws.send(m)
        got = [await asyncio.wait_for(ws.recv(), TIMEOUT_S) for _ in msgs]
        if got != msgs:
            print("FAIL pipelined x32: replies differ or out of order")
            failures += 1
        else:
            print("ok   pipelined x32")
    # Leaving the context manager performed the closing handshake.
    if ws.close_code not in (1000, 1005):
        print(f"FAIL close: close code {ws.close_code}")
        failures += 1
    else:
        print(f"ok   close ({ws.close_code})")
    return 1 if failures else 0


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    url = sys.argv[1]
    try:
        rc = asyncio.run(check(url))
    except Exception as e:  # connection refused, handshake failure, protocol error ...
        print(f"FAIL {url}: {type(e).__name__}: {e}")
        return 1
    print(("PASS " if rc == 0 else "FAIL ") + url)
    return rc


if __name__ == "__main__":
    sys.exit(main())
