#!/usr/bin/python3
"""Memory per idle connection of `greekwire echo`: cleartext and TLS, with and without
permessage-deflate.

Opens N connections (Python websockets), sends one 1 KB message on each and waits for its echo,
waits 2.5 s (idle TLS connections release their record buffers after ~2 s), then reads the
server's resident memory (VmRSS) and reports (RSS_after - RSS_before) / N.
Usage: idle_connections.py PATH_TO_GREEKWIRE [N]
"""
import asyncio
import os
import re
import resource
import ssl
import subprocess
import sys
import tempfile

import websockets

BINARY = sys.argv[1]
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
MESSAGE = ('{"jsonrpc":"2.0","method":"subscription","params":{"channel":"ticker.BTC-PERPETUAL"}}' * 12)[:1024]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


PKI = tempfile.mkdtemp(prefix="gw-memory-")
subprocess.run(["bash", os.path.join(os.path.dirname(__file__), "..", "..", "tests", "tls",
                                     "make_certs.sh"), PKI], check=True, stdout=subprocess.DEVNULL)
TLS = ["--tls-cert", f"{PKI}/server.pem", "--tls-key", f"{PKI}/server.key"]


async def hold(url, compression, pid):
    """Opens the connections, returns the server's RSS while they are all open and idle."""
    sockets = []
    context = None
    if url.startswith("wss://"):
        context = ssl.create_default_context(cafile=f"{PKI}/ca.pem")
        url = url.replace("127.0.0.1", "localhost")
    for _ in range(COUNT):
        ws = await websockets.connect(url, compression=compression, max_size=None,
                                      ping_interval=None, ssl=context)
        await ws.send(MESSAGE)
        assert await ws.recv() == MESSAGE
        sockets.append(ws)
    # Idle TLS connections give their record buffers back after two sweeps without I/O (one
    # sweep a second): wait until the last connection has been idle that long.
    await asyncio.sleep(2.5)
    rss = rss_kib(pid)
    await asyncio.gather(*(ws.close() for ws in sockets))
    return rss


def measure(server_args, compression):
    server = subprocess.Popen([BINARY, "echo", "--listen", "127.0.0.1:0", *server_args],
                              stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().split()[-1]
        before = rss_kib(server.pid)
        after = asyncio.run(hold(url, compression, server.pid))
        return (after - before) * 1024 / COUNT
    finally:
        server.terminate()
        server.wait()


soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
rows = [
    ("no compression", [], None),
    ("deflate, window 15 (defaults)", ["--deflate"], "deflate"),
    ("deflate, window 9, no context takeover", ["--deflate", "--deflate-window-bits", "9",
                                                "--deflate-no-context-takeover"], "deflate"),
    ("deflate, window 9, memLevel 1", ["--deflate", "--deflate-window-bits", "9",
                                       "--deflate-mem-level", "1"], "deflate"),
    ("TLS, no compression", TLS, None),
    ("TLS, deflate, window 9, memLevel 1", [*TLS, "--deflate", "--deflate-window-bits", "9",
                                            "--deflate-mem-level", "1"], "deflate"),
]
for name, args, compression in rows:
    print(f"{name:42s} {measure(args, compression) / 1024:8.1f} KiB per connection")
