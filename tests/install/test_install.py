#!/usr/bin/python3
"""`cmake --install` of this build, then a project outside the tree built against it.

- the install puts the headers under include/greekwire/, libgreekwire_client.a, the CMake
  package (greekwireConfig.cmake, greekwireConfigVersion.cmake, the exported targets) and the
  greekwire binary under the prefix;
- the installed headers include only each other and the standard library (nothing of src/);
- tests/install/outside_project (find_package(greekwire) + greekwire::client, nothing else)
  configures against that prefix alone, compiles without any include directory of this source
  tree, links (also with the whole archive: every object resolves against the package's
  dependencies), and its checks pass: URL parsing, ConnectionOptions, a Book with the checksum
  test vector, and against the installed `greekwire serve` a verified live book;
- a major version the package does not provide is refused by find_package.

In the sanitizer build the library's objects need the sanitizer runtimes: the exported target
carries -fsanitize=address,undefined as a link option and the outside project is built with
the same compiler, so it runs there too (under ASan and LeakSanitizer).

Usage: test_install.py PATH_TO_GREEKWIRE BUILD_DIR CXX_COMPILER
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "gateway"))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))
import harness  # noqa: E402
from test_gateway import Serve  # noqa: E402

OUTSIDE = os.path.join(HERE, "outside_project")
SOURCE_ROOT = os.path.realpath(os.path.join(HERE, "..", ".."))


def run(argv, **kwargs):
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=120,
                          env=harness.child_env(), **kwargs)
    assert proc.returncode == 0, f"{' '.join(map(str, argv))}: exit {proc.returncode}\n" \
                                 f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


class Layout:
    """Where things go: inside the build directory, at the same paths each run, so that ccache
    recognises the outside project's compilation."""

    def __init__(self, build_dir):
        self.root = os.path.join(build_dir, "install_test")
        self.prefix = os.path.join(self.root, "prefix")
        self.outside_build = os.path.join(self.root, "outside")
        self.package = None  # lib*/cmake/greekwire, found after the install

    def fresh(self):
        shutil.rmtree(self.root, ignore_errors=True)
        os.makedirs(self.root)


def install(build_dir, layout):
    run(["cmake", "--install", build_dir, "--prefix", layout.prefix])
    packages = glob.glob(os.path.join(layout.prefix, "lib*", "cmake", "greekwire"))
    assert len(packages) == 1, packages
    layout.package = packages[0]
    libdir = os.path.dirname(os.path.dirname(layout.package))
    expected = [
        os.path.join(layout.prefix, "include", "greekwire", "greekwire.hpp"),
        os.path.join(layout.prefix, "include", "greekwire", "url.hpp"),
        os.path.join(libdir, "libgreekwire_client.a"),
        os.path.join(layout.package, "greekwireConfig.cmake"),
        os.path.join(layout.package, "greekwireConfigVersion.cmake"),
        os.path.join(layout.package, "greekwireTargets.cmake"),
        os.path.join(layout.prefix, "bin", "greekwire"),
    ]
    missing = [path for path in expected if not os.path.isfile(path)]
    assert not missing, missing
    # Only the SDK's library: no layer archives, no test or benchmark binaries.
    archives = sorted(os.path.basename(p) for p in glob.glob(os.path.join(libdir, "*.a")))
    assert archives == ["libgreekwire_client.a"], archives
    assert sorted(os.listdir(os.path.join(layout.prefix, "bin"))) == ["greekwire"]


def headers_self_contained(layout):
    include = os.path.join(layout.prefix, "include")
    headers = glob.glob(os.path.join(include, "greekwire", "*.hpp"))
    assert len(headers) >= 9, headers
    for header in headers:
        with open(header) as f:
            for quoted in re.findall(r'^\s*#\s*include\s+"([^"]+)"', f.read(), re.M):
                assert quoted.startswith("greekwire/"), f"{header} includes {quoted}"
                assert os.path.isfile(os.path.join(include, quoted)), f"{header}: {quoted}"


def configure_outside(layout, cxx, extra=()):
    argv = ["cmake", "-S", OUTSIDE, "-B", layout.outside_build, "-G", "Ninja",
            "-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_CXX_COMPILER={cxx}",
            f"-DCMAKE_PREFIX_PATH={layout.prefix}", "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON",
            # Only the prefix: not a greekwire the user or the system may have elsewhere.
            "-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF", *extra]
    if shutil.which("ccache"):
        argv.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
    return subprocess.run(argv, capture_output=True, text=True, timeout=120,
                          env=harness.child_env())


def build_outside(layout, cxx):
    configured = configure_outside(layout, cxx)
    assert configured.returncode == 0, configured.stdout[-3000:] + configured.stderr[-3000:]
    with open(os.path.join(layout.outside_build, "CMakeCache.txt")) as f:
        cache = f.read()
    found = re.search(r"^greekwire_DIR:PATH=(.*)$", cache, re.M).group(1)
    assert os.path.realpath(found) == os.path.realpath(layout.package), found
    run(["cmake", "--build", layout.outside_build])
    with open(os.path.join(layout.outside_build, "compile_commands.json")) as f:
        commands = json.load(f)
    main = [c["command"] for c in commands if c["file"].endswith("main.cpp")]
    assert len(main) == 1, commands
    # The include directories are the prefix's; this tree (src/, include/) is nowhere.
    assert f"{layout.prefix}/include" in main[0], main
    for flag in re.findall(r"-(?:I|isystem)\s*(\S+)", main[0]):
        path = os.path.realpath(flag)
        assert not path.startswith(SOURCE_ROOT + os.sep) or \
            path.startswith(os.path.realpath(layout.root) + os.sep), main
    # Linked with every object of the archive: runs, so nothing was left unresolved.
    run([os.path.join(layout.outside_build, "whole_archive")])
    return os.path.join(layout.outside_build, "outside")


def run_outside(binary, *args):
    proc = subprocess.run([binary, *args], capture_output=True, text=True, timeout=60,
                          env=harness.child_env())
    assert not harness.sanitizer_report(proc.stderr), harness.excerpt(proc.stderr)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1] == "outside: all checks passed", proc.stdout
    assert not [line for line in lines if "FAILED" in line], proc.stdout
    return lines


def offline_checks(binary):
    lines = run_outside(binary)
    assert "outside: ok change chained, checksum 3370445602 verified" in lines, lines
    assert "outside: ok gap breaks the book" in lines, lines
    assert not [line for line in lines if "connect" in line], lines


def live_checks(binary, layout):
    # The server is the installed binary: it runs from the prefix too.
    sys.argv[1] = os.path.join(layout.prefix, "bin", "greekwire")
    with Serve() as server:
        lines = run_outside(binary, server.ws)
        assert "outside: ok a book update with its checksum verified" in lines, lines
        live = [line for line in lines if line.startswith("outside: live BTC-PERPETUAL bid ")]
        assert live, lines
        server.stop()


def version_refused(layout, cxx):
    """find_package(greekwire X.0 REQUIRED) with X above the installed major version fails,
    naming the version it found."""
    with open(os.path.join(layout.package, "greekwireConfigVersion.cmake")) as f:
        version = re.search(r'set\(PACKAGE_VERSION "([0-9.]+)"\)', f.read()).group(1)
    wanted = f"{int(version.split('.')[0]) + 1}.0"
    probe = os.path.join(layout.root, "version_probe")
    os.makedirs(probe)
    with open(os.path.join(probe, "CMakeLists.txt"), "w") as f:
        f.write("cmake_minimum_required(VERSION 3.20)\nproject(probe LANGUAGES CXX)\n"
                f"find_package(greekwire {wanted} REQUIRED)\n")
    proc = subprocess.run(["cmake", "-S", probe, "-B", os.path.join(probe, "build"), "-G",
                           "Ninja", f"-DCMAKE_CXX_COMPILER={cxx}",
                           f"-DCMAKE_PREFIX_PATH={layout.prefix}"],
                          capture_output=True, text=True, timeout=120, env=harness.child_env())
    assert proc.returncode != 0, proc.stdout
    assert f'compatible with requested version "{wanted}"' in proc.stderr, proc.stderr
    assert f"greekwireConfig.cmake, version: {version}" in proc.stderr, proc.stderr


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.strip().splitlines()[-1])
    harness.greekwire_binary()
    build_dir, cxx = sys.argv[2], sys.argv[3]
    if not shutil.which("ninja"):
        print("SKIP: ninja is not installed")
        return harness.SKIP
    layout = Layout(build_dir)
    layout.fresh()
    state = {}
    return harness.run_checks([
        ("cmake --install: headers, libgreekwire_client.a, package, binary",
         lambda: install(build_dir, layout)),
        ("installed headers include only each other", lambda: headers_self_contained(layout)),
        ("outside project: find_package(greekwire) from the prefix alone, builds",
         lambda: state.update(binary=build_outside(layout, cxx))),
        ("outside project: URL, options, book and checksum", lambda: offline_checks(
            state["binary"])),
        ("outside project against the installed greekwire serve",
         lambda: live_checks(state["binary"], layout)),
        ("find_package(greekwire NEXT_MAJOR.0) is refused", lambda: version_refused(layout, cxx)),
    ])


if __name__ == "__main__":
    sys.exit(main())
