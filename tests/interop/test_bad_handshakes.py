#!/usr/bin/python3
"""Malformed and abusive input over raw sockets against the greekwire echo server.

Usage: test_bad_handshakes.py PATH_TO_GREEKWIRE
"""

import base64
import os
import random
import signal
import sys
import time

import harness
from harness import OP_CLOSE, OP_PING, OP_TEXT, RawConnection, upgrade_request

HANDSHAKE_TIMEOUT = 2
IDLE_TIMEOUT = 1


def new_key(size=16):
    return base64.b64encode(os.urandom(size)).decode()


def respond(port, lines):
    with RawConnection(port) as conn:
        return conn.request(lines)


def assert_status(response, *statuses):
    assert response.status in statuses, \
        f"got {response.status_line!r}, expected status {' or '.join(map(str, statuses))}"


def version_8(port):
    response = respond(port, upgrade_request(port, new_key(), version="8"))
    assert_status(response, 426)
    version = response.header("sec-websocket-version") or ""
    assert "13" in [v.strip() for v in version.split(",")], \
        f"426 lacks Sec-WebSocket-Version: 13 (headers {response.headers})"


def missing_key(port):
    assert_status(respond(port, upgrade_request(port, None)), 400)


def short_key(port):
    assert_status(respond(port, upgrade_request(port, new_key(15))), 400)


def post(port):
    lines = upgrade_request(port, new_key(), method="POST", extra=["Content-Length: 0"])
    assert_status(respond(port, lines), 400, 405)


def huge_headers(port):
    filler = [f"X-Filler-{i:03}: {'a' * 100}" for i in range(9 * 1024 // 115 + 1)]
    assert sum(len(line) + 2 for line in filler) >= 9 * 1024
    assert_status(respond(port, upgrade_request(port, new_key(), extra=filler)), 431)


def garbage_bytes():
    data = random.Random(6455).randbytes(100)
    return bytes(b for b in data if b not in b"\r\n")


def tls_client_hello():
    # Record header (handshake, TLS 1.0, length 512), ClientHello of length 508, TLS 1.2, random.
    hello = bytes.fromhex("16 03 01 02 00 01 00 01 fc 03 03") + os.urandom(32)
    return hello + bytes.fromhex("00 00 20 13 01 13 02 13 03 c0 2b c0 2f")


def rejects_garbage(port, data):
    with RawConnection(port) as conn:
        conn.send(data)
        assert_status(conn.read_http_head(), 400)
        assert conn.wait_eof(5), "connection still open 5 s after the 400"


def slow_handshake(port):
    """One byte a second: the server must give up at about the handshake timeout."""
    request = ("\r\n".join(upgrade_request(port, new_key())) + "\r\n\r\n").encode()
    with RawConnection(port) as conn:
        start = time.monotonic()
        closed = False
        for byte in request:
            try:
                conn.send(bytes([byte]))
            except OSError:
                closed = True
            if closed or conn.wait_eof(1.0) or time.monotonic() - start > 8:
                closed = closed or time.monotonic() - start <= 8
                break
        elapsed = time.monotonic() - start
    assert closed, f"connection still open after {elapsed:.1f}s"
    low, high = HANDSHAKE_TIMEOUT - 0.5, HANDSHAKE_TIMEOUT + 3
    assert low <= elapsed <= high, f"closed after {elapsed:.1f}s, expected {low}..{high}s"


def healthz(port):
    assert_status(respond(port, ["GET /healthz HTTP/1.1", f"Host: {harness.HOST}:{port}"]), 200)


def fails_with(port, code, frame_bytes):
    with RawConnection(port) as conn:
        conn.upgrade()
        conn.send(frame_bytes)
        conn.expect_close(code)


def still_echoes(port):
    with RawConnection(port) as conn:
        conn.upgrade("/after/abuse")
        for text in ("still alive", "ünïcode ✓"):
            conn.send_frame(OP_TEXT, text.encode())
            opcode, payload = conn.read_message()
            assert (opcode, payload) == (OP_TEXT, text.encode()), f"echo {opcode} {payload!r}"
        conn.send_frame(OP_CLOSE, harness.close_payload(1000, "bye"))
        conn.expect_close(1000)


def idle_timeout(port):
    with RawConnection(port, timeout=IDLE_TIMEOUT + 4) as conn:
        conn.upgrade()
        start = time.monotonic()
        close = conn.expect_close()
        elapsed = time.monotonic() - start
    print(f"     idle close code {close.close_code()} after {elapsed:.1f}s")
    assert elapsed >= IDLE_TIMEOUT * 0.8, f"closed after only {elapsed:.1f}s"


def sigterm_with_client(server):
    with RawConnection(server.port, timeout=10) as conn:
        conn.upgrade()
        conn.send_frame(OP_TEXT, b"hello")
        assert conn.read_message() == (OP_TEXT, b"hello")
        server.stopped = True
        server.signal(signal.SIGTERM)
        conn.expect_close(1001)
    server.check_exit(server.wait(15))


def main():
    with harness.Greekwire("--handshake-timeout", HANDSHAKE_TIMEOUT) as server, \
         harness.Greekwire("--idle-timeout", IDLE_TIMEOUT) as idle:
        port = server.port
        return harness.run_checks([
            ("version 8 -> 426 + Sec-WebSocket-Version: 13", lambda: version_8(port)),
            ("missing key -> 400", lambda: missing_key(port)),
            ("15-byte key -> 400", lambda: short_key(port)),
            ("POST -> 400/405", lambda: post(port)),
            ("9 KiB of headers -> 431", lambda: huge_headers(port)),
            ("100 garbage bytes -> 400 + close", lambda: rejects_garbage(port, garbage_bytes())),
            ("TLS ClientHello -> 400 + close", lambda: rejects_garbage(port, tls_client_hello())),
            ("one byte a second -> closed at handshake timeout", lambda: slow_handshake(port)),
            ("GET /healthz -> 200", lambda: healthz(port)),
            ("unmasked client frame -> 1002",
             lambda: fails_with(port, 1002, harness.frame(OP_TEXT, b"hello", mask=False))),
            ("126-byte ping -> 1002",
             lambda: fails_with(port, 1002, harness.frame(OP_PING, b"p" * 126))),
            ("still echoes after all that", lambda: still_echoes(port)),
            ("idle timeout -> close frame + EOF", lambda: idle_timeout(idle.port)),
            ("idle server: SIGTERM -> exit 0, clean stderr", idle.stop),
            ("SIGTERM with a client -> 1001, exit 0, clean stderr",
             lambda: sigterm_with_client(server)),
        ])


if __name__ == "__main__":
    sys.exit(main())
