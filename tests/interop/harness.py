"""Shared helpers for the interop tests.

- Greekwire: starts `greekwire echo --listen 127.0.0.1:0 ...`, reads the ready line, and on
  stop sends SIGTERM and checks exit code 0 and a stderr free of sanitizer reports.
- run_client: runs `greekwire echo --connect URL` to completion.
- RawConnection: a plain TCP socket speaking just enough HTTP and RFC 6455 framing to send
  malformed input and read what the server answers.
- run_checks: runs named checks, reports each, and turns the result into an exit status.

Every test script takes the greekwire binary as its first argument (or $GREEKWIRE).
"""

import base64
import ctypes
import hashlib
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

SKIP = 77  # ctest SKIP_RETURN_CODE
HOST = "127.0.0.1"
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "LeakSanitizer", "runtime error:")
READY_PREFIX = "listening on "  # then ws:// or wss://

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


# --- environment -------------------------------------------------------------------------

def greekwire_binary():
    path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("GREEKWIRE")
    if not path:
        sys.exit(f"usage: {sys.argv[0]} PATH_TO_GREEKWIRE")
    if not os.access(path, os.X_OK):
        sys.exit(f"greekwire binary not executable: {path}")
    return path


def require_module(name):
    """Exits with the skip status if a peer library is missing."""
    try:
        return __import__(name)
    except ImportError:
        print(f"SKIP: Python module '{name}' is not installed (python3-{name})")
        sys.exit(SKIP)


def exit_on_sigterm():
    """Turns SIGTERM into SystemExit so that `with` blocks still stop the servers."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))


def die_with_parent():
    """preexec_fn: the child gets SIGKILL when the test process dies, even by SIGKILL."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def child_env():
    env = os.environ.copy()
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    return env


def sanitizer_report(text):
    """The sanitizer marker found in text, or None."""
    return next((m for m in SANITIZER_MARKERS if m in text), None)


def excerpt(text, limit=6000):
    """The part of a stderr worth printing: from the first sanitizer report if any, else the
    end."""
    marker = sanitizer_report(text)
    if marker:
        start = text.rfind("\n", 0, max(0, text.find(marker) - 80)) + 1
        return text[start:start + limit]
    return text[-limit:]


def free_port():
    """A port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --- the greekwire echo server -------------------------------------------------------------

class Greekwire:
    """`greekwire echo --listen 127.0.0.1:0 OPTIONS...` as a context manager.

    Leaving the block normally stops the server with SIGTERM and asserts exit code 0 and no
    sanitizer report; leaving it through an exception kills it and prints its stderr.
    """

    def __init__(self, *options, binary=None, ready_timeout=30):
        self.binary = binary or greekwire_binary()
        self.options = [str(o) for o in options]
        self.ready_timeout = ready_timeout
        self.proc = None
        self.port = None
        self.scheme = "ws"
        self.stopped = False
        self._stderr = tempfile.TemporaryFile()
        self._stdout_rest = []

    @property
    def url(self):
        return f"{self.scheme}://{HOST}:{self.port}"

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.kill()
            self.print_stderr()
        elif not self.stopped:
            self.stop()
        return False

    def start(self):
        argv = [self.binary, "echo", "--listen", f"{HOST}:0", *self.options]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._stderr, env=child_env(),
                                     preexec_fn=die_with_parent)
        try:
            line = self._read_ready_line()
        except Exception:
            self.kill()
            self.print_stderr()
            raise
        self.scheme = line[len(READY_PREFIX):].split(":", 1)[0]
        self.port = int(line[len(READY_PREFIX):].rsplit(":", 1)[1].rstrip("/"))
        threading.Thread(target=self._drain_stdout, daemon=True).start()

    def _read_ready_line(self):
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + self.ready_timeout
        data = b""
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no ready line within {self.ready_timeout}s: {data!r}")
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise AssertionError(f"server exited before ready (rc={self.proc.wait()}), "
                                         f"stdout {data!r}")
                data += chunk
        line, rest = data.split(b"\n", 1)
        self._stdout_rest.append(rest)
        line = line.decode().rstrip("\r")
        if not line.startswith(READY_PREFIX):
            raise AssertionError(f"unexpected first stdout line: {line!r}")
        return line

    def _drain_stdout(self):
        for chunk in iter(lambda: self.proc.stdout.read1(65536), b""):
            self._stdout_rest.append(chunk)

    def stderr(self):
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def print_stderr(self):
        text = self.stderr()
        if text:
            print(f"--- greekwire server stderr ---\n{excerpt(text)}\n---", file=sys.stderr)

    def signal(self, signum):
        self.proc.send_signal(signum)

    def wait(self, timeout):
        return self.proc.wait(timeout)

    def stop(self, timeout=15):
        """SIGTERM, then asserts exit code 0 and a clean stderr."""
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"greekwire did not exit within {timeout}s of SIGTERM")
        self.check_exit(rc)

    def check_exit(self, rc):
        text = self.stderr()
        marker = sanitizer_report(text)
        if rc != 0 or marker:
            self.print_stderr()
            raise AssertionError(f"greekwire server exit code {rc}"
                                 + (f", stderr contains {marker!r}" if marker else ""))

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run_client(url, *options, binary=None, timeout=60):
    """Runs `greekwire echo --connect URL` and returns (exit code, stdout); fails on a timeout
    or a sanitizer report."""
    argv = [binary or greekwire_binary(), "echo", "--connect", url, *map(str, options)]
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, env=child_env())
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"greekwire client still running after {timeout}s; "
                             f"stdout {e.stdout!r}") from None
    stderr = proc.stderr.decode(errors="replace")
    marker = sanitizer_report(stderr)
    if marker:
        raise AssertionError(f"greekwire client (exit code {proc.returncode}) stderr contains "
                             f"{marker!r}:\n{excerpt(stderr)}")
    return proc.returncode, proc.stdout.decode(errors="replace")


# --- raw RFC 6455 over a plain socket ------------------------------------------------------

def frame(opcode, payload=b"", fin=True, mask=True, rsv=0):
    """One encoded frame; masked with a random key unless mask=False."""
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    bit = 0x80 if mask else 0
    n = len(payload)
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + apply_mask(payload, key)


def apply_mask(data, key):
    repeated = (key * (len(data) // 4 + 1))[:len(data)]
    masked = int.from_bytes(data, "big") ^ int.from_bytes(repeated, "big")
    return masked.to_bytes(len(data), "big")


def close_payload(code, reason=""):
    return struct.pack("!H", code) + reason.encode()


def accept_key(key):
    return base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()


class HttpResponse:
    def __init__(self, head):
        lines = head.decode("latin-1").split("\r\n")
        self.status_line = lines[0]
        self.status = int(lines[0].split(" ", 2)[1])
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()

    def header(self, name):
        return self.headers.get(name.lower())


class Frame:
    def __init__(self, fin, opcode, payload):
        self.fin, self.opcode, self.payload = fin, opcode, payload

    def close_code(self):
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else 1005

    def __repr__(self):
        return f"Frame(fin={self.fin}, opcode={self.opcode}, {len(self.payload)} bytes)"


class RawConnection:
    """A TCP connection to the server; every read fails after `timeout` seconds."""

    def __init__(self, port, timeout=5):
        self.port = port
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.buf = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()
        return False

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise AssertionError(f"nothing from the server within {self.sock.gettimeout()}s; "
                                 f"buffered {self.buf[:200]!r}") from None
        if not chunk:
            raise EOFError(f"connection closed by the server; buffered {self.buf[:200]!r}")
        self.buf += chunk

    def recv_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_http_head(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return HttpResponse(head)

    def request(self, lines):
        """Sends an HTTP request made of the given lines and returns the response head."""
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        return self.read_http_head()

    def upgrade(self, path="/"):
        key = base64.b64encode(os.urandom(16)).decode()
        response = self.request(upgrade_request(self.port, key, path))
        assert response.status == 101, f"handshake answered {response.status_line!r}"
        got = response.header("sec-websocket-accept")
        assert got == accept_key(key), f"Sec-WebSocket-Accept {got!r}"
        return response

    def send_frame(self, opcode, payload=b"", **kw):
        self.send(frame(opcode, payload, **kw))

    def read_frame(self):
        b0, b1 = self.recv_exact(2)
        assert not b1 & 0x80, "server frame is masked"
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.recv_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.recv_exact(8))[0]
        return Frame(bool(b0 & 0x80), b0 & 0x0F, self.recv_exact(n))

    def read_message(self):
        """The next data message (fragments joined, pings answered) as (opcode, payload)."""
        opcode, parts = None, []
        while True:
            f = self.read_frame()
            if f.opcode == OP_PING:
                self.send_frame(OP_PONG, f.payload)
                continue
            assert f.opcode != OP_CLOSE, f"got close {f.close_code()} instead of a message"
            if f.opcode != OP_CONT:
                opcode = f.opcode
            parts.append(f.payload)
            if f.fin:
                return opcode, b"".join(parts)

    def expect_close(self, code=None, eof_timeout=5):
        """Reads up to the server's close frame (skipping pings, pongs and data), answers it,
        waits for the server to close TCP, and returns the close frame."""
        while True:
            f = self.read_frame()
            if f.opcode == OP_CLOSE:
                break
        if code is not None:
            assert f.close_code() == code, f"close code {f.close_code()}, expected {code}"
        try:
            self.send_frame(OP_CLOSE, f.payload[:2])
        except OSError:
            pass  # the server may already have closed; that is fine after a failure
        assert self.wait_eof(eof_timeout), f"TCP still open {eof_timeout}s after close frame"
        return f

    def wait_eof(self, timeout):
        """True once the server closes the connection (FIN or RST) within timeout; discards
        anything it sends meanwhile."""
        saved = self.sock.gettimeout()
        deadline = time.monotonic() + timeout
        try:
            while (left := deadline - time.monotonic()) > 0:
                self.sock.settimeout(left)
                if not self.sock.recv(65536):
                    return True
        except socket.timeout:
            pass
        except (ConnectionResetError, BrokenPipeError):
            return True
        finally:
            self.sock.settimeout(saved)
        return False


def upgrade_request(port, key, path="/", version="13", method="GET", extra=()):
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Version: {version}"]
    if key is not None:
        lines.append(f"Sec-WebSocket-Key: {key}")
    return lines + list(extra)


# --- running checks ------------------------------------------------------------------------

def run_checks(checks):
    """Runs (name, function) pairs in order, each to completion, and returns the exit status:
    0 if all passed, 1 otherwise."""
    exit_on_sigterm()
    failed = []
    for name, check in checks:
        start = time.monotonic()
        try:
            check()
        except Exception:
            failed.append(name)
            print(f"FAIL {name} ({time.monotonic() - start:.1f}s)")
            traceback.print_exc(file=sys.stdout)
        else:
            print(f"ok   {name} ({time.monotonic() - start:.1f}s)")
        sys.stdout.flush()
    print(f"{len(checks) - len(failed)}/{len(checks)} checks passed"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0
