# greekwire: the two commands are `make run` and `make test`.
#   make build   bootstrap, the dashboard (web/dist), then the Release build: build/release/greekwire
#   make run     build, then start the gateway with the simulated market (`greekwire serve`)
#   make test    bootstrap, Release + sanitizer (ASan/UBSan) + fuzz (clang) builds, every test
#   make bench   kernel benchmarks and the echo comparison against Boost.Beast and websocketpp
#   make fuzz    each libFuzzer target for FUZZ_SECONDS (default 300)
#   make format  clang-format the sources

JOBS ?= $(shell nproc)
CMAKE_GEN := -G Ninja
RELEASE := build/release
ASAN := build/asan
FUZZ := build/fuzz
FUZZ_SECONDS ?= 300
TEST_FUZZ_SECONDS ?= 30
RUN_ARGS ?= --listen 127.0.0.1:8080

.PHONY: all bootstrap web build run test test-release test-asan test-fuzz bench fuzz format clean

all: build

bootstrap:
	@bash scripts/bootstrap.sh

$(RELEASE)/build.ninja:
	cmake -S . -B $(RELEASE) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release

# The sanitizer build uses clang so that every file is compiled by both g++ (Release) and clang.
$(ASAN)/build.ninja:
	CXX=clang++ cmake -S . -B $(ASAN) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DGW_SANITIZE=ON

$(FUZZ)/build.ninja:
	CXX=clang++ cmake -S . -B $(FUZZ) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGW_FUZZ=ON \
	  -DGW_FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)

# The dashboard (docs/DASHBOARD.md): npm ci when web/package-lock.json is newer than what is
# installed, then the Vite build into web/dist (served by `greekwire serve` at /). CMake builds
# do not need it: without web/dist the gateway answers / with a page saying how to build it.
web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --silent --no-audit --no-fund

WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html \
  web/vite.config.ts web/tsconfig.json web/package.json

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run --silent build

web: bootstrap web/dist/index.html

build: bootstrap web $(RELEASE)/build.ninja
	cmake --build $(RELEASE) -j $(JOBS) --target greekwire

run: build
	$(RELEASE)/greekwire serve $(RUN_ARGS)

# Every test: the Release build (g++) compiles everything, benchmarks, peers and tests included;
# the sanitizer build (clang, ASan + UBSan + LeakSanitizer) runs the unit and interoperability
# tests; the fuzz build (clang, libFuzzer) runs each fuzzer for TEST_FUZZ_SECONDS.
test: bootstrap web test-release test-asan test-fuzz
	@echo "make test: all suites passed"

test-release: $(RELEASE)/build.ninja
	cmake --build $(RELEASE) -j $(JOBS)
	cd $(RELEASE) && ctest --output-on-failure -L alloc

# playwright-core for the browser test, pinned by tests/browser/package-lock.json.
tests/browser/node_modules/.package-lock.json: tests/browser/package-lock.json
	cd tests/browser && npm ci --silent --no-audit --no-fund

test-asan: $(ASAN)/build.ninja tests/browser/node_modules/.package-lock.json web
	cmake --build $(ASAN) -j $(JOBS)
	cd $(ASAN) && ctest --output-on-failure -j $(JOBS)

test-fuzz: $(FUZZ)/build.ninja
	cmake -S . -B $(FUZZ) -DGW_FUZZ_SECONDS=$(TEST_FUZZ_SECONDS) > /dev/null
	cmake --build $(FUZZ) -j $(JOBS)
	cd $(FUZZ) && ctest --output-on-failure -j $(JOBS)

bench: bootstrap $(RELEASE)/build.ninja
	cmake --build $(RELEASE) -j $(JOBS)
	taskset -c 1 $(RELEASE)/bench/gw_kernels --benchmark_repetitions=5 \
	  --benchmark_report_aggregates_only=true
	bash bench/echo_compare.sh

fuzz: bootstrap $(FUZZ)/build.ninja
	cmake -S . -B $(FUZZ) -DGW_FUZZ_SECONDS=$(FUZZ_SECONDS) > /dev/null
	cmake --build $(FUZZ) -j $(JOBS)
	cd $(FUZZ) && ctest --output-on-failure

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf build
