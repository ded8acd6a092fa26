#!/usr/bin/python3
"""`greekwire keys`: add (text and --json), list (never secrets), revoke, add-jwt-key, add-cert,
file modes, the audit log, exit codes (1 for failures, 2 for usage).

Usage: keys_cli_test.py PATH_TO_GREEKWIRE
"""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

BINARY = os.path.abspath(sys.argv[1])
failures = 0
passes = 0


def run(*args, cwd=None):
    p = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=60, cwd=cwd)
    return p.returncode, p.stdout, p.stderr


def check(ok, what):
    global failures, passes
    print(("ok   " if ok else "FAIL ") + what)
    if ok:
        passes += 1
    else:
        failures += 1


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


work = tempfile.mkdtemp(prefix="gw-keys-cli-")
try:
    data = os.path.join(work, "data")

    # add --json: exactly the three fields, URL-safe values, a long secret.
    rc, out, err = run("keys", "add", "--account", "alice", "--json", "--data-dir", data)
    check(rc == 0, f"keys add --json exits 0 ({err.strip()})")
    alice = json.loads(out) if rc == 0 else {}
    check(set(alice) == {"account", "client_id", "client_secret"}, "--json has account, client_id, client_secret")
    check(alice.get("account") == "alice", "the account is alice")
    check(re.fullmatch(r"[A-Za-z0-9]{8,10}", alice.get("client_id", "")) is not None,
          "client_id is 8-10 URL-safe characters")
    check(re.fullmatch(r"[A-Za-z0-9_-]{22,}", alice.get("client_secret", "")) is not None,
          "client_secret is URL-safe and at least 128 bits")
    check(mode(data) == 0o700, "data dir is 0700")
    check(mode(os.path.join(data, "greekwire.db")) == 0o600, "database is 0600")

    # A second key for the same account; a new account with its own balances, text output.
    rc, out, err = run("keys", "add", "--account", "alice", "--json", "--data-dir", data)
    second = json.loads(out) if rc == 0 else {}
    check(rc == 0 and second.get("client_id") not in ("", None, alice.get("client_id")),
          "a second key for an existing account")
    rc, out, err = run("keys", "add", "--account", "bob", "--balance", "BTC=1.5",
                       "--balance", "USDC=1000", "--scope", "account:read trade:read",
                       "--data-dir", data)
    check(rc == 0 and "client_secret" in out and "bob" in out, "text output of keys add")
    bob_id = re.search(r"client_id\s+(\S+)", out).group(1) if rc == 0 else ""

    # Without --account: the demo account; the default data dir is ./greekwire-data.
    rc, out, err = run("keys", "add", "--json", cwd=work)
    check(rc == 0 and json.loads(out)["account"] == "demo", "default account demo")
    check(os.path.isdir(os.path.join(work, "greekwire-data")), "default --data-dir ./greekwire-data")

    # list: every key, no secret anywhere.
    rc, out, err = run("keys", "list", "--json", "--data-dir", data)
    check(rc == 0, f"keys list --json exits 0 ({err.strip()})")
    listing = json.loads(out) if rc == 0 else {"accounts": []}
    by_name = {a["account"]: a for a in listing["accounts"]}
    check(set(by_name) == {"alice", "bob"}, "list has both accounts")
    check(len(by_name.get("alice", {}).get("keys", [])) == 2, "alice has two keys")
    check(by_name.get("bob", {}).get("initial_balances") == {"BTC": 1.5, "USDC": 1000},
          "bob's initial balances")
    check(by_name.get("alice", {}).get("initial_balances") == {"BTC": 10, "ETH": 100},
          "default balances 10 BTC and 100 ETH")
    check(by_name.get("bob", {}).get("keys", [{}])[0].get("scope") == "account:read trade:read",
          "bob's key keeps its scope")
    check(alice["client_secret"] not in out and second["client_secret"] not in out,
          "list --json prints no secret")
    rc, out, err = run("keys", "list", "--data-dir", data)
    check(rc == 0 and alice["client_id"] in out and alice["client_secret"] not in out,
          "list (text) shows client_ids, not secrets")

    # revoke.
    rc, out, err = run("keys", "revoke", alice["client_id"], "--data-dir", data)
    check(rc == 0, f"revoke exits 0 ({err.strip()})")
    rc, out, err = run("keys", "list", "--json", "--data-dir", data)
    keys = {k["client_id"]: k for a in json.loads(out)["accounts"] for k in a["keys"]}
    check(keys[alice["client_id"]]["revoked"] and not keys[second["client_id"]]["revoked"],
          "only the revoked key is marked revoked")
    rc, out, err = run("keys", "revoke", alice["client_id"], "--data-dir", data)
    check(rc == 1 and "client_id" in err, "revoking twice: exit 1 with a message")
    rc, out, err = run("keys", "revoke", "nosuchkey1", "--data-dir", data)
    check(rc == 1 and "nosuchkey1" in err and err.count("\n") == 1, "unknown client_id: one-line error, exit 1")

    # JWT keys and certificates, with files from the openssl command line.
    key = os.path.join(work, "ed.key")
    pub = os.path.join(work, "ed.pub")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True,
                   capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True,
                   capture_output=True)
    rc, out, err = run("keys", "add-jwt-key", "--account", "alice", "--kid", "k1", "--pem", pub,
                       "--data-dir", data)
    check(rc == 0 and "EdDSA" in out, f"add-jwt-key detects Ed25519 ({err.strip()})")
    rc, out, err = run("keys", "add-jwt-key", "--account", "alice", "--kid", "k1", "--pem", pub,
                       "--data-dir", data)
    check(rc == 1 and "k1" in err, "the same kid twice: exit 1")
    rc, out, err = run("keys", "add-jwt-key", "--account", "nobody", "--kid", "k1", "--pem", pub,
                       "--data-dir", data)
    check(rc == 1 and "nobody" in err, "add-jwt-key for an unknown account: exit 1")
    rc, out, err = run("keys", "add-jwt-key", "--account", "alice", "--kid", "k2", "--pem", key,
                       "--data-dir", data)
    check(rc == 1, "a private key file is not a public key: exit 1")
    rc, out, err = run("keys", "add-jwt-key", "--account", "alice", "--kid", "k3", "--pem",
                       os.path.join(work, "missing.pem"), "--data-dir", data)
    check(rc == 1 and "missing.pem" in err, "missing PEM file: exit 1")

    cert_key = os.path.join(work, "client.key")
    cert = os.path.join(work, "client.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", cert_key, "-out", cert, "-subj", "/CN=alice", "-days", "1"],
                   check=True, capture_output=True)
    printed = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-fingerprint", "-sha256"],
                             check=True, capture_output=True, text=True).stdout
    fingerprint = printed.split("=", 1)[1].strip().replace(":", "").lower()
    rc, out, err = run("keys", "add-cert", "--account", "alice", "--cert", cert, "--data-dir", data)
    check(rc == 0 and fingerprint in out, f"add-cert --cert computes the SHA-256 fingerprint ({err.strip()})")
    rc, out, err = run("keys", "add-cert", "--account", "bob", "--fingerprint", "ab" * 32,
                       "--data-dir", data)
    check(rc == 0, "add-cert --fingerprint")
    rc, out, err = run("keys", "list", "--json", "--data-dir", data)
    by_name = {a["account"]: a for a in json.loads(out)["accounts"]}
    check(by_name["alice"]["jwt_keys"] == ["k1"] and by_name["alice"]["certificates"] == [fingerprint],
          "list shows JWT key ids and certificates")

    # The audit log: key changes, no secrets, 0600.
    audit = os.path.join(data, "audit.log")
    lines = [json.loads(line) for line in open(audit)]
    events = [line["event"] for line in lines]
    check({"account.add", "key.add", "key.revoke", "jwt_key.add", "certificate.add"} <= set(events),
          "the audit log records the key changes")
    text = open(audit).read()
    check(alice["client_secret"] not in text and second["client_secret"] not in text,
          "no secret in the audit log")
    check(mode(audit) == 0o600, "audit log is 0600")

    # Usage errors exit 2.
    for args, what in [
        (("keys",), "keys without a subcommand"),
        (("keys", "revoke"), "revoke without a client_id"),
        (("keys", "add", "--account", "bad name"), "an invalid account name"),
        (("keys", "add", "--account", "carol", "--scope", "trade:superuser"), "an invalid scope"),
        (("keys", "add", "--account", "carol", "--scope", "trade:read ip:1.2.3.4"), "ip: in a key's scope"),
        (("keys", "add", "--account", "carol", "--balance", "BTC"), "a malformed --balance"),
        (("keys", "add", "--account", "alice", "--balance", "BTC=1"), "--balance for an existing account"),
        (("keys", "add-cert", "--account", "alice"), "add-cert without --fingerprint or --cert"),
        (("keys", "add-cert", "--account", "alice", "--fingerprint", "abc"), "a short fingerprint"),
        (("keys", "add-jwt-key", "--account", "alice"), "add-jwt-key without --kid/--pem"),
        (("keys", "frobnicate"), "an unknown subcommand"),
    ]:
        rc, out, err = run(*args, "--data-dir", data) if len(args) > 1 else run(*args)
        check(rc == 2 and err.strip(), f"{what}: exit 2 with a message")
    rc, out, err = run("keys", "list", "--json", "--data-dir", data)
    check("carol" not in out, "failed commands created nothing")
    by_name = {a["account"]: a for a in json.loads(out)["accounts"]}
    check(len(by_name["alice"]["keys"]) == 2, "--balance on an existing account added no key")

    # Concurrent writers: several `keys add` at once on one database.
    procs = [subprocess.Popen([BINARY, "keys", "add", "--account", f"user{i}", "--json",
                               "--data-dir", data], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for i in range(6)]
    results = [p.communicate(timeout=60) + (p.returncode,) for p in procs]
    check(all(rc == 0 for _, _, rc in results), "six concurrent keys add all succeed")
    rc, out, err = run("keys", "list", "--json", "--data-dir", data)
    names = {a["account"] for a in json.loads(out)["accounts"]}
    check({f"user{i}" for i in range(6)} <= names, "all six accounts are there")
finally:
    shutil.rmtree(work, ignore_errors=True)

print(f"{passes} passed, {failures} failed")
sys.exit(1 if failures else 0)
