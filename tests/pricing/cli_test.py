#!/usr/bin/python3
"""`greekwire price` and `greekwire iv`: JSON output, Deribit units, typed errors, exit codes.

Usage: cli_test.py PATH_TO_GREEKWIRE
"""
import json
import math
import subprocess
import sys

BINARY = sys.argv[1]
failures = 0
passes = 0


def run(*args):
    p = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def check(ok, what):
    global failures, passes
    print(("ok   " if ok else "FAIL ") + what)
    if ok:
        passes += 1
    else:
        failures += 1


def close(a, b, rel=1e-9):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


# Black-76 call: F=100, K=110, T=0.5, sigma=0.6, r=0.01 (values cross-checked with QuantLib
# in the unit tests; here: the CLI carries them through).
rc, out, err = run("price", "--model", "black76", "--type", "call", "--forward", "100",
                   "--strike", "110", "--expiry-years", "0.5", "--vol", "0.6", "--rate", "0.01",
                   "--json")
check(rc == 0, f"price --json exits 0 ({err.strip()})")
result = json.loads(out) if rc == 0 else {}
keys = {"price", "delta", "gamma", "vega", "theta", "rho", "vanna", "volga"}
check(keys <= set(result), "price --json has every Greek")
# Closed form, independently: d1 = (ln(F/K) + s^2/2)/s with s = sigma*sqrt(T).
s = 0.6 * math.sqrt(0.5)
d1 = (math.log(100 / 110) + s * s / 2) / s
d2 = d1 - s
N = lambda x: 0.5 * math.erfc(-x / math.sqrt(2))
df = math.exp(-0.01 * 0.5)
check(close(result.get("price", 0), df * (100 * N(d1) - 110 * N(d2))), "price matches the formula")
check(close(result.get("delta", 0), df * N(d1)), "delta matches the formula")
check(close(result.get("rho", 0), -0.5 * result.get("price", 0)), "Black-76 rho = -T * price")

# IV round trip through the CLI.
rc, out, err = run("iv", "--model", "black76", "--type", "call", "--forward", "100", "--strike",
                   "110", "--expiry-years", "0.5", "--price", repr(result.get("price", 1.0)),
                   "--rate", "0.01", "--json")
check(rc == 0 and close(json.loads(out)["iv"], 0.6, 1e-12), "iv recovers the volatility")

# Black-Scholes on spot.
rc, out, err = run("iv", "--model", "bs", "--type", "put", "--spot", "100", "--strike", "90",
                   "--expiry-years", "1", "--price", "4.2", "--rate", "0.03", "--div", "0.01",
                   "--json")
check(rc == 0 and 0.2 < json.loads(out)["iv"] < 0.3, "iv on spot (Black-Scholes)")

# Deribit units: the captured ETH-30JUL21-2800-C ticker (shared reference, section 4).
rc, out, err = run("iv", "--model", "black76", "--type", "call", "--forward", "2003.61",
                   "--strike", "2800", "--expiry-years", "0.020239610857432776", "--price",
                   "0.001972", "--deribit", "--json")
check(rc == 0 and abs(json.loads(out)["iv"] - 120.74) < 0.01, "Deribit IV in percent from a coin price")

# Errors: one line on stderr, non-zero exit.
rc, out, err = run("price", "--model", "black76", "--type", "call", "--forward", "100", "--strike",
                   "-5", "--expiry-years", "1", "--vol", "0.5")
check(rc == 2 and err.strip() and "\n" not in err.strip(), "negative strike: one-line error, exit 2")
rc, out, err = run("price", "--model", "bs", "--type", "call", "--forward", "100", "--strike", "90",
                   "--expiry-years", "1", "--vol", "0.5")
check(rc == 2, "--forward with --model bs is a usage error")
rc, out, err = run("iv", "--model", "black76", "--type", "call", "--forward", "100", "--strike",
                   "90", "--expiry-years", "1", "--price", "5")
check(rc == 1 and "intrinsic" in err, "price below intrinsic: typed error, exit 1")
rc, out, err = run("iv", "--model", "black76", "--type", "call", "--forward", "100", "--strike",
                   "90", "--expiry-years", "1", "--price", "100")
check(rc == 1 and "maximum" in err, "price at the maximum: typed error, exit 1")
rc, out, err = run("price", "--model", "black76", "--type", "call", "--forward", "100",
                   "--strike", "90", "--expiry-years", "1")
check(rc != 0, "missing --vol is an error")

rc, out, err = run("price", "--bogus")
check(rc == 2 and "--bogus" in err, "unknown flag: usage error, exit 2")
rc, out, err = run("--version")
check(rc == 0 and "greekwire" in out, "--version exits 0")

print(f"{passes} passed, {failures} failed")
sys.exit(1 if failures else 0)
