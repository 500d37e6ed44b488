#!/usr/bin/env bash
# bench/run.sh BIN_DIR - `make bench`: end-to-end throughput of the four
# services against the ideal stage, and latency at half that load.
#
# 1. bench-ideal: one loop of unpack + durable batched LMDB put + pack +
#    ZeroMQ send over the same leads (the "ideal stage").
# 2. The four services start on free loopback ports with state in a temp
#    dir, as tests/proc/harness.py starts them; the scheduler fires the
#    speed-to-lead reminder at once, at any hour.
# 3. bench-push sends BENCH_LEADS leads as fast as its window allows and
#    waits until the notifier's file sink has a line for each: leads/s
#    end to end. The ratio e2e/ideal is printed.
# 4. bench-push sends again at half that rate for BENCH_LATENCY_S seconds:
#    p50/p99 latency from a lead's send to its reminder line in the sink.
# The services stop with SIGTERM and the temp dir is removed, whatever
# happens. bench/README.md tells how to read the numbers.
#
# Environment: BENCH_LEADS (200000), BENCH_LATENCY_S (20), BENCH_WINDOW
# (4096), BENCH_TIMEOUT_S (300, per phase), BENCH_KEEP=1 keeps the temp
# dir (service logs), TMPDIR picks where the state goes (its file system
# decides what a durable commit costs).
set -euo pipefail

BIN=$(cd "${1:-build/bin}" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
LEADS=${BENCH_LEADS:-200000}
LATENCY_S=${BENCH_LATENCY_S:-20}
WINDOW=${BENCH_WINDOW:-4096}
TIMEOUT_S=${BENCH_TIMEOUT_S:-300}
SERVICES=(notifier scheduler grading intake)   # started in this order
declare -A DOWNSTREAM=([intake]=grading [grading]=scheduler
                       [scheduler]=notifier)
declare -A PID PORT

die() {
    echo "bench: $*" >&2
    exit 1
}

for exe in bench-ideal bench-push keyuan-intake keyuan-grading \
           keyuan-scheduler keyuan-notifier; do
    [ -x "$BIN/$exe" ] || die "$BIN/$exe is missing (make all bench-programs)"
done
[[ "$LEADS" =~ ^[0-9]+$ && "$LEADS" -ge 1000 ]] ||
    die "BENCH_LEADS must be a number of at least 1000"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/keyuan-bench.XXXXXX")
SINK=$TMP/sink/sink.log
mkdir -p "$TMP/sink"

# ---- services -------------------------------------------------------------

endpoint() { echo "tcp://127.0.0.1:${PORT[$1]}"; }

service_args() {
    local s=$1
    echo --state-dir "$TMP/$s" --bind "$(endpoint "$s")"
    [ -n "${DOWNSTREAM[$s]:-}" ] &&
        echo --downstream "$(endpoint "${DOWNSTREAM[$s]}")"
    case $s in
    intake) echo --agents "$ROOT/config/agents.json" \
                 --regions "$ROOT/data/divisions/cn_admin_divisions_2023.csv" ;;
    grading) echo --rules "$ROOT/config/grading.rules" ;;
    scheduler) echo --speed-to-lead-s 0 --work-start 00:00 \
                    --work-end 24:00 ;;
    notifier) echo --sink "file:$SINK" ;;
    esac
}

start_services() {
    local s
    for s in "${SERVICES[@]}"; do
        PORT[$s]=$("$BIN/bench-push" free-port)
    done
    for s in "${SERVICES[@]}"; do
        # shellcheck disable=SC2046  # the args hold no spaces
        "$BIN/keyuan-$s" $(service_args "$s") >>"$TMP/$s.log" 2>&1 &
        PID[$s]=$!
    done
    for s in "${SERVICES[@]}"; do
        "$BIN/bench-push" ready "$(endpoint "$s")" 10 ||
            die "$s did not answer within 10 s; its log:
$(tail -n 20 "$TMP/$s.log")"
    done
}

# SIGTERM, in the reverse order of starting; SIGKILL after 10 s.
stop_services() {
    local i s pid
    for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
        s=${SERVICES[$i]}
        pid=${PID[$s]:-}
        [ -n "$pid" ] || continue
        stop_gently "$pid" ||
            echo "bench: $s ignored SIGTERM for 10 s; killed it" >&2
        wait "$pid" 2>/dev/null || true
        unset "PID[$s]"
    done
}

cleanup() {
    stop_services
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "bench: kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pids_arg() {
    local s out=""
    for s in intake grading scheduler notifier; do
        out+="${out:+,}$s:${PID[$s]}"
    done
    echo "$out"
}

# ---- an optional profile of the full-load run ------------------------------

# BENCH_PERF=FILE samples every CPU with perf during the full-load run and
# writes the top symbols, overall and per service, to FILE. perf's own
# cost lowers that run's numbers: use them for the profile only.
PERF_PID=""
profile_start() {
    [ -n "${BENCH_PERF:-}" ] || return 0
    command -v perf >/dev/null || die "BENCH_PERF needs perf"
    perf record -q -a -e cpu-clock -F 999 -o "$TMP/perf.data" \
        >"$TMP/perf.log" 2>&1 &
    PERF_PID=$!
    sleep 1 # perf needs a moment before it samples
}

profile_top() {
    local n=$1
    shift
    perf report -i "$TMP/perf.data" --stdio --no-children "$@" 2>/dev/null |
        awk -v n="$n" '!/^#/ && !/^$/ && k++ < n' # reads all: no SIGPIPE
}

# The thread ids of process pid, comma-separated.
tids() {
    local t out=""
    for t in /proc/"$1"/task/*; do
        out+="${out:+,}${t##*/}"
    done
    echo "$out"
}

profile_stop() {
    local s
    [ -n "$PERF_PID" ] || return 0
    kill -INT "$PERF_PID"
    wait "$PERF_PID" || true
    {
        echo "# perf, all CPUs, the full-load run of $LEADS leads"
        echo "## CPU time by thread (swapper: idle)"
        profile_top 15 --sort pid
        for s in intake grading scheduler notifier; do
            echo "## $s, all its threads (% of its own samples)"
            profile_top 20 --tid "$(tids "${PID[$s]}")" --sort pid,dso,sym \
                --percentage relative
        done
    } >"$BENCH_PERF"
    echo "bench: profile in $BENCH_PERF" >&2
}

# ---- phases ----------------------------------------------------------------

# The value of key in a line of key=value pairs.
val() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

push() {
    "$BIN/bench-push" run --intake "$(endpoint intake)" --sink "$SINK" \
        --window "$WINDOW" --timeout "$TIMEOUT_S" --pids "$(pids_arg)" "$@"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

echo "bench: ideal stage, $LEADS events" >&2
IDEAL=$(timeout 300 "$BIN/bench-ideal" "$TMP/ideal" "$LEADS") ||
    die "bench-ideal failed or took more than 300 s"
rm -rf "$TMP/ideal"

echo "bench: starting the services in $TMP" >&2
start_services

echo "bench: end to end, $LEADS leads, as fast as the window allows" >&2
profile_start
MAX=$(push --label max --leads "$LEADS" --first 0) ||
    die "the end-to-end run failed (BENCH_KEEP=1 keeps the logs)"
profile_stop

HALF_RATE=$(awk -v r="$(val "$MAX" leads_per_s)" \
    'BEGIN { printf "%d", r / 2 }')
HALF_LEADS=$(awk -v r="$HALF_RATE" -v s="$LATENCY_S" \
    'BEGIN { n = r * s; printf "%d", n < 1000 ? 1000 : n }')
echo "bench: half load, $HALF_LEADS leads at $HALF_RATE/s" >&2
HALF=$(push --label half --leads "$HALF_LEADS" --first "$LEADS" \
    --rate "$HALF_RATE") ||
    die "the half-load run failed (BENCH_KEEP=1 keeps the logs)"

# ---- the summary -----------------------------------------------------------

calc() { awk "BEGIN { printf \"$1\", $2 }"; }

row() { printf "  %-36s %12s %10s\n" "$@"; }

lat_row() {
    printf "  %-36s %7s %7s %7s %7s\n" "$1" "$(val "$2" lat_p50_ms)" \
        "$(val "$2" lat_p90_ms)" "$(val "$2" lat_p99_ms)" \
        "$(val "$2" lat_max_ms)"
}

# CPU seconds of one process (client, intake, ...) in both runs.
cpu_row() {
    printf "  %-12s %10s %10s\n" "$1" "$(val "$MAX" "cpu_$1_s")" \
        "$(val "$HALF" "cpu_$1_s")"
}

# Bytes a service wrote per lead (LMDB pages, sink lines), in KB.
written_row() {
    printf "  %-12s %10s %10s\n" "$1" \
        "$(calc "%.1f" "$(val "$MAX" "written_$1_bytes") / 1024 / $LEADS")" \
        "$(calc "%.1f" "$(val "$HALF" "written_$1_bytes") / 1024 / $HALF_LEADS")"
}

cpu_total() {
    local line=$1 s sum=0
    for s in client intake grading scheduler notifier; do
        sum=$(calc "%.2f" "$sum + $(val "$line" "cpu_${s}_s")")
    done
    echo "$sum"
}

summary() {
    local ideal_rate e2e_rate max_cpu half_cpu
    ideal_rate=$(val "$IDEAL" events_per_s)
    e2e_rate=$(val "$MAX" leads_per_s)
    max_cpu=$(cpu_total "$MAX")
    half_cpu=$(cpu_total "$HALF")

    echo
    echo "keyuan bench, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores" \
        "($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1))," \
        "load average before: $LOAD_BEFORE"
    echo "state on $(df --output=fstype "$TMP" | tail -n 1);" \
        "$LEADS leads of $(val "$IDEAL" msg_bytes) bytes; window $WINDOW"
    echo
    row "" "per second" "seconds"
    row "ideal stage (one loop, one store)" "$ideal_rate" \
        "$(val "$IDEAL" seconds)"
    row "end to end (intake..notifier sink)" "$e2e_rate" \
        "$(val "$MAX" seconds)"
    row "  intake replies in that run" "$(val "$MAX" intake_per_s)" \
        "$(val "$MAX" intake_seconds)"
    row "ratio e2e / ideal" "$(calc "%.3f" "$e2e_rate / $ideal_rate")" ""
    echo
    printf "  %-36s %7s %7s %7s %7s\n" "latency ms, send -> sink line" \
        p50 p90 p99 max
    lat_row "half load ($HALF_RATE/s, $HALF_LEADS leads)" "$HALF"
    lat_row "full load (mostly queueing)" "$MAX"
    echo
    printf "  %-12s %10s %10s\n" "CPU s" "full load" "half load"
    for s in client intake grading scheduler notifier; do
        cpu_row "$s"
    done
    printf "  %-12s %10s %10s\n" total "$max_cpu" "$half_cpu"
    printf "  %-12s %10s %10s\n" "us per lead" \
        "$(calc "%.0f" "$max_cpu * 1e6 / $LEADS")" \
        "$(calc "%.0f" "$half_cpu * 1e6 / $HALF_LEADS")"
    printf "  %-12s %10s\n" "ideal" "$(calc "%.2f" \
        "$(val "$IDEAL" cpu_user_s) + $(val "$IDEAL" cpu_sys_s)")"
    echo
    printf "  %-12s %10s %10s\n" "KB written" "per lead" "half load"
    for s in intake grading scheduler notifier; do
        written_row "$s"
    done
    echo
    echo "raw:"
    echo "  $IDEAL"
    echo "  $MAX"
    echo "  $HALF"
}
summary
