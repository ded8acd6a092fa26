#!/usr/bin/python3
"""`greekwire serve --config FILE` (TOML):

- greekwire.example.toml (every key, at its default) is accepted as it is;
- a file's settings take effect: the market's seed, the demo account's balances, the heartbeat
  bounds, the credit pools, the per-IP connection limit, and flags given on the command line
  win over the file (--listen, --data-dir, --max-connections-per-ip here);
- a bad file is refused with exit status 2 before anything starts, and the message names the
  file, the line and the key: unknown keys, wrong types, values out of range, a scalar where a
  section belongs, TOML syntax errors, contradicting keys; a missing file is a usage error (2).

Usage: test_config.py PATH_TO_GREEKWIRE
"""

import asyncio
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_gateway import Client, Serve, harness, run, websockets  # noqa: E402

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                       "greekwire.example.toml")


def write_config(text):
    handle, path = tempfile.mkstemp(prefix="gw-config-", suffix=".toml")
    with os.fdopen(handle, "w") as f:
        f.write(text)
    return path


def example_is_accepted():
    with Serve("--config", EXAMPLE) as server:
        assert "market     simulated (seed 1, speed 1)" in server.banner, server.banner
        server.stop()


SETTINGS = """\
listen = "127.0.0.1:1"        # the --listen flag wins
data_dir = "/nonexistent/dir"  # the --data-dir flag wins
seed = 7
max_connections_per_ip = 2     # the --max-connections-per-ip flag wins

[gateway]
heartbeat_min_s = 2

[demo]
balances = { BTC = 3.5, ETH = 0 }

[rate_limits.non_matching]
cost = 500
capacity = 5000                # ten requests per session
refill_per_second = 1

[venue.btc]
index_price = 50000
"""


def settings_take_effect():
    path = write_config(SETTINGS)
    with Serve("--config", path, "--max-connections-per-ip", 3) as server:
        assert "market     simulated (seed 7, speed 1)" in server.banner, server.banner

        async def go():
            async with websockets.connect(server.ws) as ws:
                c = Client(ws)
                auth = await c.call("public/auth", {"grant_type": "client_credentials",
                                                    "client_id": server.demo[0],
                                                    "client_secret": server.demo[1]})
                assert "result" in auth, auth
                summary = (await c.call("private/get_account_summary",
                                        {"currency": "BTC"}))["result"]
                assert summary["balance"] == 3.5, summary
                assert (await c.call("public/set_heartbeat", {"interval": 2}))["result"] == "ok"
                refused = await c.call("public/set_heartbeat", {"interval": 1})
                assert refused["error"]["code"] == -32602, refused
                index = (await c.call("public/get_index_price",
                                      {"index_name": "btc_usd"}))["result"]
                assert 40_000 < index["index_price"] < 60_000, index
                # Ten requests' credits: six went above, four more pass, the eleventh does not.
                codes = []
                try:
                    for _ in range(6):
                        reply = await c.call("public/test")
                        codes.append(reply.get("error", {}).get("code"))
                except (asyncio.TimeoutError, websockets.exceptions.ConnectionClosed):
                    pass
                assert codes[:4] == [None] * 4 and 10028 in codes, codes
                await asyncio.gather(c.reader, return_exceptions=True)  # closed with 1008

            sockets = [await websockets.connect(server.ws) for _ in range(3)]
            try:
                await websockets.connect(server.ws)
                raise AssertionError("a fourth connection from one address was accepted")
            except websockets.exceptions.InvalidStatusCode as e:
                assert e.status_code == 429, e
            finally:
                for ws in sockets:
                    await ws.close()
        run(go())
        server.stop()
    os.unlink(path)


BAD = [
    ("threads = 1\n[venue]\nsped = 2\n", ":3: unknown key 'venue.sped'"),
    ('threads = "four"\n', ":1: 'threads' must be an integer from 1 to 256"),
    ("threads = 300\n", ":1: 'threads' must be an integer"),
    ("speed = true\n", ":1: 'speed' must be a number"),
    ("[venue.noise]\ndepth = 11\n", ":2: 'venue.noise.depth' must be an integer from 1 to 10"),
    ("venue = 3\n", ":1: 'venue' must be a table"),
    ("[demo]\nbalances = { BTC = 1, XRP = 2 }\n", ":2: 'demo.balances' must be"),
    ('listen = "nowhere"\n', ":1: 'listen' must be host:port"),
    ('[tls]\nclient_cert = "sometimes"\n', ":2: 'tls.client_cert' must be"),
    ("\n\nthreads = \n", ":3:"),
    ("[gateway]\nsend_buffer_cap = 1048576\nsend_buffer_hard_cap = 524288\n",
     ":3: 'gateway.send_buffer_hard_cap' must be at least 'gateway.send_buffer_cap'"),
    ("[rate_limits.matching]\ncapacity = 100\n", ":2: 'rate_limits.matching.capacity' must be"),
    ("seed = 1\nseed = 2\n", ":2:"),  # TOML: a key defined twice
]


def bad_files_are_refused():
    data_dir = tempfile.mkdtemp(prefix="gw-config-bad-")
    for text, message in BAD:
        path = write_config(text)
        proc = subprocess.run([harness.greekwire_binary(), "serve", "--listen", "127.0.0.1:0",
                               "--data-dir", data_dir, "--config", path], capture_output=True,
                              text=True, timeout=30, env=harness.child_env())
        os.unlink(path)
        assert proc.returncode == 2, (text, proc.returncode, proc.stderr)
        assert f"{path}{message}" in proc.stderr, (text, message, proc.stderr)
        assert "listening" not in proc.stdout, proc.stdout
        assert not harness.sanitizer_report(proc.stderr), proc.stderr
    assert not os.listdir(data_dir), "a refused configuration still created files"
    proc = subprocess.run([harness.greekwire_binary(), "serve", "--config", "/nonexistent.toml"],
                          capture_output=True, text=True, timeout=30, env=harness.child_env())
    assert proc.returncode == 2 and "nonexistent.toml" in proc.stderr, proc.stderr


def main():
    harness.greekwire_binary()
    return harness.run_checks([
        ("greekwire.example.toml is accepted as it is", example_is_accepted),
        ("a config file takes effect; flags win over it", settings_take_effect),
        ("bad files: exit 2 naming file, line and key", bad_files_are_refused),
    ])


if __name__ == "__main__":
    sys.exit(main())
