#!/usr/bin/python3
"""The dashboard's static files as `greekwire serve --web-root DIR` serves them, over real HTTP
(the test makes its own web root, so it does not need the npm build):

- Content-Type per extension (html, js, css, svg, png, ico, json, map, woff2); Vite's hashed
  /assets/* are `public, max-age=31536000, immutable`, index.html is `no-cache`; ETag and
  If-None-Match -> 304; HEAD has GET's headers and no body; POST -> 405 (Allow: GET, HEAD);
- no way out of the root: .., %2e%2e, encoded slashes, absolute paths, hidden files, a
  symlink pointing out -> 404;
- the other routes keep working: /healthz, /api/v2/public/test, the WebSocket API, and a plain
  GET of /ws/api/v2 is still 426;
- `--web-root` naming a directory without index.html exits 2; a binary that finds no web/dist
  answers / with a page saying how to build it.

Usage: test_dashboard.py PATH_TO_GREEKWIRE
"""

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_gateway import Client, Serve, harness, run, websockets  # noqa: E402

FILES = {
    "index.html": b"<!doctype html><title>dashboard</title><script src=/assets/app-Ab12.js></script>",
    "assets/app-Ab12.js": b"console.log('dashboard');",
    "assets/app-Ab12.js.map": b'{"version":3}',
    "assets/app-Cd34.css": b"body{color:#fff}",
    "assets/font-Ef56.woff2": b"wOF2\x00\x01",
    "favicon.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    "favicon.ico": b"\x00\x00\x01\x00",
    "logo.png": b"\x89PNG\r\n\x1a\n",
    "manifest.json": b"{}",
    ".env": b"SECRET=hidden",
}

TYPES = {
    "/": "text/html; charset=utf-8",
    "/index.html": "text/html; charset=utf-8",
    "/assets/app-Ab12.js": "text/javascript; charset=utf-8",
    "/assets/app-Ab12.js.map": "application/json",
    "/assets/app-Cd34.css": "text/css; charset=utf-8",
    "/assets/font-Ef56.woff2": "font/woff2",
    "/favicon.svg": "image/svg+xml",
    "/favicon.ico": "image/x-icon",
    "/logo.png": "image/png",
    "/manifest.json": "application/json",
}


def make_web_root():
    base = tempfile.mkdtemp(prefix="gw-webroot-")
    root = os.path.join(base, "dist")
    for name, data in FILES.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    with open(os.path.join(base, "outside.txt"), "wb") as f:
        f.write(b"outside the web root")
    os.symlink(os.path.join(base, "outside.txt"), os.path.join(root, "escape.txt"))
    return base, root


def request(server, method, target, headers=None):
    """One request with the target sent exactly as given (no normalisation)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest(method, target, skip_accept_encoding=True)
    for name, value in (headers or {}).items():
        conn.putheader(name, value)
    conn.endheaders()
    response = conn.getresponse()
    body = response.read() if method != "HEAD" else b""
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def raw_request(server, line):
    """A request line as raw bytes (for targets http.client would refuse)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(line + b"\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1]), data


def content_types_and_caching(server):
    for target, expected in TYPES.items():
        status, headers, body = request(server, "GET", target)
        assert status == 200, f"{target}: {status}"
        assert headers["content-type"] == expected, f"{target}: {headers['content-type']}"
        name = "index.html" if target == "/" else target[1:]
        assert body == FILES[name], f"{target}: body {body[:40]!r}"
        assert headers["content-length"] == str(len(FILES[name])), target
        assert headers["x-content-type-options"] == "nosniff", target
        want = ("public, max-age=31536000, immutable" if target.startswith("/assets/")
                else "no-cache")
        assert headers["cache-control"] == want, f"{target}: {headers['cache-control']}"


def etags_and_304(server):
    status, headers, _ = request(server, "GET", "/")
    etag = headers["etag"]
    assert status == 200 and etag.startswith('"'), headers
    status, headers, body = request(server, "GET", "/", {"If-None-Match": etag})
    assert status == 304 and body == b"", (status, body)
    assert headers["etag"] == etag and headers["cache-control"] == "no-cache", headers
    status, _, _ = request(server, "GET", "/", {"If-None-Match": '"stale"'})
    assert status == 200, status
    status, headers, _ = request(server, "GET", "/assets/app-Ab12.js",
                                 {"If-None-Match": f'"x", W/{etag}'})
    assert status == 200, "an index.html tag matched a different file"


def head_and_methods(server):
    status, headers, body = request(server, "HEAD", "/assets/app-Ab12.js")
    assert status == 200 and body == b"", status
    assert headers["content-length"] == str(len(FILES["assets/app-Ab12.js"])), headers
    assert headers["content-type"] == "text/javascript; charset=utf-8", headers
    for method in ("POST", "PUT", "DELETE"):
        status, headers, _ = request(server, method, "/index.html")
        assert status == 405 and headers.get("allow") == "GET, HEAD", (method, status, headers)


def no_way_out(server):
    for target in (b"/../outside.txt", b"/%2e%2e/outside.txt", b"/%2E%2E/%2E%2E/etc/passwd",
                   b"/assets/..%2f..%2foutside.txt", b"/assets/../../outside.txt",
                   b"//etc/passwd", b"/%2fetc/passwd", b"/escape.txt", b"/.env", b"/%2eenv",
                   b"/..%5coutside.txt", b"/assets/", b"/assets", b"/missing.js",
                   b"/" + os.path.abspath(__file__).encode()):
        status, data = raw_request(server, b"GET " + target + b" HTTP/1.1")
        assert status in (400, 404), f"{target!r}: {status}"
        assert b"outside the web root" not in data and b"SECRET" not in data, target
        assert b"root:" not in data, target


def other_routes_still_work(server):
    status, _, body = request(server, "GET", "/healthz")
    assert status == 200 and body == b"ok\n", (status, body)
    status, headers, body = request(server, "GET", "/api/v2/public/test")
    assert status == 200 and json.loads(body)["result"]["version"], body
    status, headers, _ = request(server, "GET", "/ws/api/v2")
    assert status == 426 and headers.get("upgrade") == "websocket", (status, headers)

    async def websocket():
        async with websockets.connect(server.ws) as ws:
            client = Client(ws)
            answer = await client.call("public/test")
            assert "version" in answer["result"], answer
    run(websocket())


def missing_web_root_is_an_error():
    proc = subprocess.run([harness.greekwire_binary(), "serve", "--listen", "127.0.0.1:0",
                           "--data-dir", tempfile.mkdtemp(prefix="gw-serve-"),
                           "--web-root", "/nonexistent/dist"],
                          capture_output=True, text=True, timeout=30, env=harness.child_env())
    assert proc.returncode == 2 and "/nonexistent/dist" in proc.stderr, proc.stderr


def placeholder_without_a_build():
    # A copy of the binary two directories down a temporary tree, run from there: neither
    # ../../web/dist next to it nor ./web/dist exists.
    base = tempfile.mkdtemp(prefix="gw-noweb-")
    bindir = os.path.join(base, "a", "b")
    os.makedirs(bindir)
    shutil.copy2(harness.greekwire_binary(), bindir)
    proc = subprocess.Popen([os.path.join(bindir, os.path.basename(harness.greekwire_binary())),
                             "serve", "--listen", "127.0.0.1:0", "--data-dir",
                             os.path.join(base, "data")],
                            cwd=base, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=harness.child_env(), preexec_fn=harness.die_with_parent, text=True)
    try:
        banner = [proc.stdout.readline() for _ in range(4)]
        port = int(banner[0].strip().rsplit(":", 1)[1].split("/")[0])
        assert any("dashboard  not built" in line for line in banner), banner

        class Port:
            pass
        server = Port()
        server.port = port
        status, headers, body = request(server, "GET", "/")
        assert status == 200 and b"make build" in body, (status, body)
        assert headers["content-type"] == "text/html; charset=utf-8", headers
        status, _, _ = request(server, "GET", "/assets/app.js")
        assert status == 426, status  # not a route: the WebSocket endpoint's answer, as before
    finally:
        proc.terminate()
        proc.wait(20)
        shutil.rmtree(base, ignore_errors=True)


def main():
    harness.greekwire_binary()
    base, root = make_web_root()
    try:
        with Serve("--web-root", root) as server:
            assert any(f"(web root {root})" in line for line in server.banner), server.banner
            status = harness.run_checks([
                ("content types; immutable hashed assets, no-cache index",
                 lambda: content_types_and_caching(server)),
                ("ETag, If-None-Match -> 304", lambda: etags_and_304(server)),
                ("HEAD, and 405 for other methods", lambda: head_and_methods(server)),
                ("no path leaves the web root", lambda: no_way_out(server)),
                ("/healthz, the HTTP and WebSocket APIs, 426 still there",
                 lambda: other_routes_still_work(server)),
                ("--web-root without index.html: exit 2", missing_web_root_is_an_error),
                ("no build found: / says how to build it", placeholder_without_a_build),
                ("SIGTERM -> exit 0, clean stderr", server.stop),
            ])
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
