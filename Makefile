# sluice: `make demo` runs the main job, `make test` the tests, `make bench` the
# benchmarks. Each runs the set-up (packages, DuckDB) and the build first when needed.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
SLUICE = $(BUILD)/sluice
FUZZ_TARGETS = $(basename $(notdir $(wildcard fuzz/fuzz_*.c)))

.PHONY: all setup build test test-asan demo bench fuzz clean docs

all: build

setup:
	@scripts/setup

$(BUILD)/CMakeCache.txt: | setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: setup $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j$(JOBS) >$(BUILD)/build.log 2>&1 || { cat $(BUILD)/build.log; exit 1; }

test: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS) $(CTEST_ARGS)

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer (the incremental
# property test with 4 random histories, one per merge mode, instead of 8).
test-asan: setup
	@cmake -S . -B build-asan -DSL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-asan -j$(JOBS) >build-asan/build.log 2>&1 || { cat build-asan/build.log; exit 1; }
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 SL_INCR_SEEDS=4 \
	  ctest --output-on-failure -j$(JOBS) -LE slow $(CTEST_ARGS)

demo: build
	@scripts/demo $(SLUICE)

bench: build
	@scripts/setup --bench
	@bench/run $(SLUICE)

# libFuzzer targets (clang); FUZZ_SECONDS per target.
fuzz: setup
	@CC=clang cmake -S . -B build-fuzz -DSL_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-fuzz -j$(JOBS) --target $(FUZZ_TARGETS) >build-fuzz/build.log 2>&1 || { cat build-fuzz/build.log; exit 1; }
	@fuzz/run build-fuzz $${FUZZ_SECONDS:-30}

docs: build
	@$(SLUICE) config reference > docs/configuration.md

clean:
	rm -rf $(BUILD) build-asan build-fuzz build-clang
