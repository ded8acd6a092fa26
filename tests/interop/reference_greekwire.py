#!/usr/bin/python3
"""A stand-in for the greekwire binary, built on Python websockets, to check the harness itself.

It implements the subset of the `greekwire echo` command line the interop tests use:
  reference_greekwire.py echo --listen HOST:PORT [--max-message N] [--handshake-timeout S] ...
  reference_greekwire.py echo --connect URL [--max-message N]
Run any test with it in place of greekwire, e.g.
  /usr/bin/python3 tests/interop/test_python_client.py tests/interop/reference_greekwire.py
Checks of greekwire-specific behaviour (426/431 answers, idle timeout, ...) may fail here.
"""

import argparse
import asyncio
import http
import signal
import sys

import websockets


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["echo"])
    parser.add_argument("--listen")
    parser.add_argument("--connect")
    parser.add_argument("--max-message", type=int, default=16 * 1024 * 1024)
    parser.add_argument("--handshake-timeout", type=float, default=10)
    parser.add_argument("--close-timeout", type=float, default=5)
    for ignored in ("--threads", "--idle-timeout", "--ping-interval"):
        parser.add_argument(ignored)
    parser.add_argument("--origin", action="append")
    parser.add_argument("--subprotocol", action="append")
    return parser.parse_args()


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def health(path, headers):
    if path == "/healthz":
        return http.HTTPStatus.OK, [], b"ok\n"
    return None


async def serve(args):
    host, port = args.listen.rsplit(":", 1)
    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set_result, None)
    async with websockets.serve(echo, host, int(port), max_size=args.max_message,
                                compression=None,
                                close_timeout=args.close_timeout, process_request=health,
                                subprotocols=args.subprotocol) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on ws://{host}:{port}", flush=True)
        await stop
    return 0


async def connect(args):
    try:
        ws = await websockets.connect(args.connect, max_size=args.max_message,
                                      compression=None)
    except (OSError, websockets.InvalidHandshake, asyncio.TimeoutError) as e:
        print(f"connection failed: {e}", file=sys.stderr)
        return 2
    try:
        await echo(ws)
    except websockets.ConnectionClosed:
        pass
    print(f"closed {ws.close_code} {ws.close_reason}", flush=True)
    return 0 if ws.close_code == 1000 else 1


def main():
    args = parse_args()
    return asyncio.run(serve(args) if args.listen else connect(args))


if __name__ == "__main__":
    sys.exit(main())
