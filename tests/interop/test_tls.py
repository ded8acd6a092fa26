#!/usr/bin/python3
"""TLS and mutual TLS (wss://) against independent peers: the openssl CLI and Python websockets.

The PKI is made for the run by tests/tls/make_certs.sh (openssl CLI). Checks:
- `openssl s_client` -> `greekwire echo --tls-cert ...`: TLS 1.0 and 1.1 refused, 1.2 and 1.3
  accepted; ALPN http/1.1 chosen, an h2-only offer refused; SNI picks the certificate (exact and
  wildcard names, default otherwise); mTLS: no certificate refused when required, a certificate
  from another CA refused, ours accepted;
- Python websockets client over wss:// (sizes, mTLS) and every permessage-deflate offer it can
  make, over TLS (the deflate suite of test_deflate.py rerun with ssl);
- `greekwire echo --connect wss://` against Python websockets servers: verified by CA file,
  with a client certificate the server requires, hostname mismatch and unknown CA refused,
  --tls-insecure accepted with a warning;
- SIGHUP reloads the certificate without dropping connections; a broken file keeps the old one;
- bad TLS flags and unreadable files are clear errors.

Usage: test_tls.py PATH_TO_GREEKWIRE
"""

import asyncio
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

import harness

websockets = harness.require_module("websockets")
import test_deflate  # noqa: E402  (the deflate checks, rerun over TLS)

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK_TIMEOUT = 90


def make_pki():
    pki = tempfile.mkdtemp(prefix="gw-tls-interop-")
    subprocess.run(["bash", os.path.join(HERE, "..", "tls", "make_certs.sh"), pki], check=True,
                   stdout=subprocess.DEVNULL)
    return pki


PKI = make_pki()


def pem(name):
    return os.path.join(PKI, name)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, CHECK_TIMEOUT))


def tls_server(*extra, cert="server"):
    return harness.Greekwire("--tls-cert", pem(f"{cert}.pem"), "--tls-key", pem(f"{cert}.key"),
                             *extra)


def client_context(cert=None):
    ctx = ssl.create_default_context(cafile=pem("ca.pem"))
    if cert:
        ctx.load_cert_chain(pem(f"{cert}.pem"), pem(f"{cert}.key"))
    return ctx


# --- openssl s_client ---------------------------------------------------------------------

def s_client(port, *args, send=b"", timeout=10):
    """Runs openssl s_client; returns (exit code, stdout + stderr)."""
    argv = ["openssl", "s_client", "-connect", f"{harness.HOST}:{port}", "-CAfile",
            pem("ca.pem"), *args]
    # -ign_eof: keep reading after our input ends, until the server closes.
    proc = subprocess.run(argv + (["-ign_eof"] if send else []), input=send, capture_output=True,
                          timeout=timeout)
    return proc.returncode, (proc.stdout + proc.stderr).decode(errors="replace")


def old_versions_refused(port):
    for flag in ("-tls1", "-tls1_1"):
        # SECLEVEL=0 lets this OpenSSL even offer the old versions; the server must refuse.
        rc, out = s_client(port, flag, "-cipher", "DEFAULT@SECLEVEL=0")
        assert rc != 0, f"{flag} accepted:\n{out[-2000:]}"
        assert "alert protocol version" in out or "unsupported protocol" in out, out[-2000:]


def modern_versions_accepted(port):
    for flag, name in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
        rc, out = s_client(port, flag, "-verify_return_error", "-servername", "localhost")
        assert rc == 0, f"{flag} refused:\n{out[-2000:]}"
        assert f"Protocol  : {name}" in out or f"New, {name}" in out, out[-2000:]
        assert "Verify return code: 0 (ok)" in out, out[-2000:]


def alpn(port):
    rc, out = s_client(port, "-alpn", "h2,http/1.1")
    assert rc == 0 and "ALPN protocol: http/1.1" in out, out[-2000:]
    rc, out = s_client(port, "-alpn", "h2")
    assert rc != 0 and "no application protocol" in out, out[-2000:]


def peer_cn(port, *args):
    rc, out = s_client(port, *args)
    assert rc == 0, out[-2000:]
    for line in out.splitlines():
        if line.startswith("subject="):
            return line.split("CN", 1)[1].lstrip(" =")
    raise AssertionError(f"no subject line:\n{out[-2000:]}")


def sni(port):
    assert peer_cn(port, "-servername", "localhost") == "localhost"
    assert peer_cn(port, "-servername", "other.test") == "other.test"
    assert peer_cn(port, "-servername", "a.wild.test") == "other.test"
    assert peer_cn(port, "-servername", "unknown.test") == "localhost"  # the default
    assert peer_cn(port, "-noservername") == "localhost"


def mtls_required(port):
    # TLS 1.3: the client finishes first; the server's verdict arrives as an alert.
    request = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
    rc, out = s_client(port, "-tls1_3", send=request)
    assert "certificate required" in out, f"rc {rc}:\n{out[-2000:]}"
    rc, out = s_client(port, "-tls1_2", send=request)
    assert rc != 0 and "handshake failure" in out, f"rc {rc}:\n{out[-2000:]}"
    rc, out = s_client(port, "-cert", pem("rogue-client.pem"), "-key", pem("rogue-client.key"),
                       send=request)
    assert "unknown ca" in out, f"rc {rc}:\n{out[-2000:]}"
    rc, out = s_client(port, "-cert", pem("client.pem"), "-key", pem("client.key"), send=request)
    assert rc == 0 and "HTTP/1.1 426" in out, f"rc {rc}:\n{out[-2000:]}"


# --- Python websockets over TLS ---------------------------------------------------------------

async def echo_sizes(url, ctx):
    async with websockets.connect(url, ssl=ctx, max_size=None, compression=None) as ws:
        for size in (0, 1, 125, 16384, 16385, 100_000, 2_000_000):
            message = os.urandom(size)
            await ws.send(message)
            assert await ws.recv() == message, f"binary {size}"
        await ws.send("héllo ✓ 𝄞")
        assert await ws.recv() == "héllo ✓ 𝄞"


async def refused(url, ctx):
    try:
        async with websockets.connect(url, ssl=ctx, open_timeout=10) as ws:
            await ws.send("x")
            await ws.recv()
    except (ssl.SSLError, OSError, websockets.exceptions.WebSocketException):
        return
    raise AssertionError("connection was accepted")


def deflate_over_tls(url):
    test_deflate.CONNECT_KW = {"ssl": client_context()}
    try:
        run(test_deflate.all_offers(url))
    finally:
        test_deflate.CONNECT_KW = {}


# --- greekwire client against websockets servers ----------------------------------------

async def echo_server_once(server_ctx, *client_options, server_cn=None):
    """A wss:// websockets server that sends three messages and closes with 1000."""
    seen = {}

    async def handler(ws):
        cert = ws.transport.get_extra_info("peercert")
        seen["client"] = cert
        for message in ("one", b"\x00two", "three" * 1000):
            await ws.send(message)
            assert await ws.recv() == message
        await ws.close(1000)

    async with websockets.serve(handler, harness.HOST, 0, ssl=server_ctx,
                                compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        host = server_cn or "localhost"
        rc, out = await asyncio.to_thread(harness.run_client, f"wss://{host}:{port}/",
                                          *client_options, timeout=40)
    return rc, out, seen


def server_context(cert="server", require_client=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pem(f"{cert}.pem"), pem(f"{cert}.key"))
    if require_client:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(pem("ca.pem"))
    return ctx


def our_client_verified():
    rc, out, _ = run(echo_server_once(server_context(), "--tls-ca", pem("ca.pem")))
    assert rc == 0 and "closed 1000" in out, (rc, out)


def our_client_mtls():
    rc, out, seen = run(echo_server_once(server_context(require_client=True), "--tls-ca",
                                         pem("ca.pem"), "--tls-cert", pem("client.pem"),
                                         "--tls-key", pem("client.key")))
    assert rc == 0, (rc, out)
    subject = dict(x[0] for x in seen["client"]["subject"])
    assert subject["commonName"] == "alice", seen


def client_failure(server_ctx, *options, expect):
    argv = [harness.greekwire_binary(), "echo", "--connect"]

    async def go():
        async with websockets.serve(lambda ws: ws.close(), harness.HOST, 0,
                                    ssl=server_ctx) as server:
            port = server.sockets[0].getsockname()[1]
            return await asyncio.to_thread(
                subprocess.run, [*argv, f"wss://localhost:{port}/", *options],
                capture_output=True, timeout=30, env=harness.child_env())
    proc = run(go())
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode == 2, (proc.returncode, err)
    assert expect in err, err
    assert not harness.sanitizer_report(err), err


def our_client_refuses():
    client_failure(server_context("other"), "--tls-ca", pem("ca.pem"), expect="hostname mismatch")
    client_failure(server_context("rogue-server"), "--tls-ca", pem("ca.pem"),
                   expect="certificate verify failed")
    client_failure(server_context(require_client=True), "--tls-ca", pem("ca.pem"),
                   expect="client certificate")


def our_client_insecure():
    async def go():
        return await echo_server_once(server_context("other"), "--tls-insecure")
    rc, out, _ = run(go())
    assert rc == 0, (rc, out)


def insecure_warns():
    proc = subprocess.run([harness.greekwire_binary(), "echo", "--connect",
                           "wss://127.0.0.1:1/", "--tls-insecure"], capture_output=True,
                          timeout=30, env=harness.child_env())
    err = proc.stderr.decode()
    assert "WARNING" in err and "NOT verified" in err, err
    assert proc.returncode == 2 and "cannot connect" in err, (proc.returncode, err)


# --- SIGHUP reload ------------------------------------------------------------------------------

def sighup_reload():
    work = tempfile.mkdtemp(prefix="gw-reload-")
    cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    shutil.copy(pem("server.pem"), cert)
    shutil.copy(pem("server.key"), key)
    with harness.Greekwire("--tls-cert", cert, "--tls-key", key) as server:
        async def go():
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            async with websockets.connect(server.url, ssl=ctx) as ws:
                await ws.send("before")
                assert await ws.recv() == "before"
                assert peer_cn(server.port) == "localhost"
                shutil.copy(pem("other.pem"), cert)
                shutil.copy(pem("other.key"), key)
                server.signal(signal.SIGHUP)
                await wait_for_output(server, "reloaded the TLS certificates")
                assert peer_cn(server.port) == "other.test"
                await ws.send("after")  # the old connection is untouched
                assert await ws.recv() == "after"
                with open(cert, "w") as f:
                    f.write("-----BEGIN CERTIFICATE-----\ngarbage\n")
                server.signal(signal.SIGHUP)
                await wait_for_stderr(server, "TLS reload failed")
                assert peer_cn(server.port) == "other.test"  # still the last good one
        run(go())
    shutil.rmtree(work)


async def wait_for_output(server, text, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in b"".join(server._stdout_rest).decode(errors="replace"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {text!r} on stdout")


async def wait_for_stderr(server, text, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in server.stderr():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {text!r} on stderr")


# --- flags ---------------------------------------------------------------------------------

def bad_flags():
    binary = harness.greekwire_binary()
    cases = [
        (["--tls-cert", pem("server.pem")], 2, "--tls-key"),
        (["--tls-cert", pem("server.pem"), "--tls-key", pem("server.key"), "--tls-client-cert",
          "required"], 2, "--tls-client-ca"),
        (["--tls-cert", pem("server.pem"), "--tls-key", pem("server.key"), "--tls-client-cert",
          "sometimes", "--tls-client-ca", pem("ca.pem")], 2, "sometimes"),
        (["--tls-cert", pem("missing.pem"), "--tls-key", pem("server.key")], 1, "missing.pem"),
        (["--tls-cert", pem("server.pem"), "--tls-key", pem("other.key")], 1, "mismatch"),
    ]
    for flags, want_rc, want_text in cases:
        proc = subprocess.run([binary, "echo", "--listen", f"{harness.HOST}:0", *flags],
                              capture_output=True, timeout=30, env=harness.child_env())
        err = proc.stderr.decode(errors="replace")
        assert proc.returncode == want_rc, (flags, proc.returncode, err)
        assert want_text in err, (flags, err)


def main():
    with tls_server("--tls-cert", pem("other.pem"), "--tls-key", pem("other.key")) as server, \
         tls_server("--tls-client-ca", pem("ca.pem"), "--tls-client-cert", "required") as mtls, \
         tls_server("--deflate", "--max-message", test_deflate.MAX_MESSAGE) as deflate:
        wss = f"wss://localhost:{server.port}/"
        return harness.run_checks([
            ("s_client: TLS 1.0 and 1.1 refused", lambda: old_versions_refused(server.port)),
            ("s_client: TLS 1.2 and 1.3 accepted, chain verified",
             lambda: modern_versions_accepted(server.port)),
            ("s_client: ALPN http/1.1 chosen, h2 only refused", lambda: alpn(server.port)),
            ("s_client: SNI chooses the certificate", lambda: sni(server.port)),
            ("s_client: mTLS required: none, wrong CA refused; ours accepted",
             lambda: mtls_required(mtls.port)),
            ("websockets client over wss: sizes 0..2 MB",
             lambda: run(echo_sizes(wss, client_context()))),
            ("websockets client with a client certificate (required)",
             lambda: run(echo_sizes(f"wss://localhost:{mtls.port}/", client_context("client")))),
            ("websockets client without a certificate (required) refused",
             lambda: run(refused(f"wss://localhost:{mtls.port}/", client_context()))),
            (f"websockets over TLS: all {len(test_deflate.ALL_OFFERS)} deflate offers + echo",
             lambda: deflate_over_tls(f"wss://localhost:{deflate.port}/")),
            ("greekwire client: verified by --tls-ca", our_client_verified),
            ("greekwire client: client certificate for a server that requires one",
             our_client_mtls),
            ("greekwire client: hostname mismatch, unknown CA, missing client cert refused",
             our_client_refuses),
            ("greekwire client: --tls-insecure connects, warns", our_client_insecure),
            ("greekwire client: --tls-insecure warning on stderr", insecure_warns),
            ("SIGHUP reloads certificates, keeps connections; bad files keep the old",
             sighup_reload),
            ("bad TLS flags and files are clear errors", bad_flags),
            ("SIGTERM -> exit 0, clean stderr", lambda: [s.stop() for s in (server, mtls,
                                                                              deflate)]),
        ])


if __name__ == "__main__":
    harness.greekwire_binary()
    try:
        sys.exit(main())
    finally:
        shutil.rmtree(PKI, ignore_errors=True)
