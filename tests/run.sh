#!/usr/bin/env bash
# Runs every test: the cmocka unit tests, then the process-level tests,
# which start the real services on loopback with their own temporary state.
# Usage: tests/run.sh BIN_DIR   (binaries from `make all unit`)
set -uo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-build/bin}"
export KEYUAN_BIN="$(cd "$BIN" && pwd)"
export KEYUAN_SHARED="${KEYUAN_SHARED:-$(cd .. && pwd)/shared}"
# Sanitizer builds (make test) stop at the first error, leaks included.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

passed=0
failed=0
failures=()

run() {
    local name="$1"; shift
    echo "=== $name"
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$name")
    fi
}

for t in "$BIN"/tests/test_*; do
    [ -x "$t" ] && run "unit: $(basename "$t")" "$t"
done

for t in tests/proc/test_*.py; do
    [ -f "$t" ] && run "proc: $(basename "$t")" \
        /usr/bin/python3 -m unittest -v "tests.proc.$(basename "$t" .py)"
done

echo
for f in "${failures[@]}"; do
    echo "FAILED: $f"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
