# The two commands of the quick start are `make run` and `make test`; see README.md.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
BUILD_DIR ?= build
DEBUG_DIR ?= build-debug
TSAN_DIR ?= build-tsan
# What make test runs again under ThreadSanitizer: the replicas, the job queue and runner, and the
# tests that race threads on purpose.
TSAN_TESTS ?= Exporter|TracingTest|FlagConcurrency|TenantStore|ServerStop|AuditEmitter|Replicas|LifecycleReplicas|WebhooksReplicas|QueueTest|DemoResetSchedule|ConcurrentWriters|ParallelWrong|PasswordStorm|ConnectionCap
ADDR ?= 127.0.0.1:8080
DB ?= sqlite:var/breakpilot.db

.PHONY: all setup build build-debug build-tsan run test bench format format-check lint clean

all: build

setup:
	@bash scripts/setup.sh

$(BUILD_DIR)/build.ninja:
	cmake --preset release

$(DEBUG_DIR)/build.ninja:
	cmake --preset debug

$(TSAN_DIR)/build.ninja:
	cmake --preset tsan

## build: release binary at build/breakpilot
build: setup $(BUILD_DIR)/build.ninja
	cmake --build --preset release -j $(JOBS)

build-debug: setup $(DEBUG_DIR)/build.ninja
	cmake --build --preset debug -j $(JOBS)

build-tsan: setup $(TSAN_DIR)/build.ninja
	cmake --build --preset tsan -j $(JOBS) --target breakpilot store_tests e2e_tests unit_tests sdk_tests

## run: build, then serve on SQLite with demo data (prints the URL and the staff token)
run: build
	@bash scripts/run.sh "$(BUILD_DIR)/breakpilot" "$(ADDR)" "$(DB)"

## test: format check, clang-tidy, sanitizer builds (ASan+UBSan, and TSan), the whole suite on SQLite and a throwaway PostgreSQL, then the concurrency tests again under TSan
test: setup format-check build-debug build-tsan
	@$(MAKE) --no-print-directory lint LINT_DIR=$(DEBUG_DIR)
	@bash scripts/with-postgres.sh bash -c 'env BREAKPILOT_REQUIRE_PG=1 \
	  ctest --test-dir $(DEBUG_DIR) --output-on-failure -j $(JOBS) --timeout 600 && \
	  env BREAKPILOT_REQUIRE_PG=1 TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	  ctest --test-dir $(TSAN_DIR) --output-on-failure -j $(JOBS) --timeout 900 -R "$(TSAN_TESTS)"'

## bench: wrk against the release build and nginx, the 10M-event audit bench, the job queue, the write path; figures into docs/PERFORMANCE.md
## PostgreSQL gets shared_buffers = 25% of RAM, the documentation's starting value for a dedicated server
bench: build
	@BREAKPILOT_PG_SETTINGS="-c shared_buffers=$$(awk '/MemTotal/ {print int($$2 / 4096)}' /proc/meminfo)MB" \
	  bash scripts/with-postgres.sh bash -c 'bash bench/http_bench.sh "$(BUILD_DIR)/breakpilot" && bash bench/audit_bench.sh "$(BUILD_DIR)/breakpilot" "$(BUILD_DIR)/audit_gen" && bash bench/jobs_bench.sh "$(BUILD_DIR)/jobs_bench"'
	@# The write path on a PostgreSQL with its durable defaults (the one above runs with fsync off).
	@BREAKPILOT_PG_SETTINGS="-c fsync=on" bash scripts/with-postgres.sh bash bench/write_bench.sh "$(BUILD_DIR)/breakpilot"
	@# The portal's pages beside /healthz and nginx (SQLite).
	@bash bench/portal_bench.sh "$(BUILD_DIR)/breakpilot"
	@# Polar's signed webhooks beside /healthz, on both stores.
	@bash scripts/with-postgres.sh bash bench/billing_bench.sh "$(BUILD_DIR)"
	@# OFREP evaluations beside nginx, single and bulk, on both stores.
	@bash scripts/with-postgres.sh bash bench/flags_bench.sh "$(BUILD_DIR)"
	@# The tenant move of physical isolation beside INSERT ... SELECT, on both stores.
	@bash scripts/with-postgres.sh bash bench/tenant_move_bench.sh "$(BUILD_DIR)/tenant_move_bench"
	@bash bench/tracing_bench.sh "$(BUILD_DIR)"

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

format-check:
	@bad=$$(git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run -Werror 2>&1 | grep -c 'error:' || true); \
	if [ "$$bad" != "0" ]; then \
	  git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run -Werror 2>&1 | head -40; \
	  echo "clang-format: $$bad places differ; run 'make format'"; exit 1; \
	fi; echo "clang-format: clean"

## lint: clang-tidy over src/, sdk/src/ and examples/ (the product, not its tests); any finding there fails. The
## analyzer's reports inside Boost's own headers (asio's awaitable, execution_context) are not
## ours and are not counted.
LINT_DIR ?= $(BUILD_DIR)
lint: setup $(LINT_DIR)/build.ninja
	@out=$$(git ls-files 'src/*.cpp' 'sdk/src/*.cpp' 'examples/*.cpp' | grep -Ev '_(store|contract_)?test.cpp$$|_fuzz.cpp$$' | \
	  xargs -P $(JOBS) -n 4 clang-tidy -p $(LINT_DIR) --quiet 2>&1); \
	mine=$$(grep -E '^$(CURDIR)/(src|sdk|examples)/[^:]+:[0-9]+:[0-9]+: (warning|error):' <<<"$$out" | sort -u); \
	if [ -n "$$mine" ]; then echo "$$mine"; echo "clang-tidy: findings in src/, sdk/ or examples/"; exit 1; fi; \
	echo "clang-tidy: clean"

clean:
	rm -rf $(BUILD_DIR) $(DEBUG_DIR) $(TSAN_DIR)
