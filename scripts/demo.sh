#!/usr/bin/env bash
# demo.sh - runs keyuan on this machine with the shipped demo data and shows
# reminders reaching the agents.
#
# Starts the four services on loopback (ports KEYUAN_DEMO_PORT_BASE..+3,
# default 7101-7104) with their state under var/demo (wiped first), imports
# data/demo_listings.csv and the sample leads with keyuanctl, prints the
# reminders the notifier delivers for a few seconds, shows one customer and
# the reminder list, then stops the services with SIGTERM.
#
# The scheduler runs with a demo configuration: a new lead is due for its
# first call after 3 seconds and working hours cover the whole day, so the
# reminders arrive now whatever the time; the grade cadences are the real
# ones (A every 3 days, B weekly, C monthly).
#
# Usage: scripts/demo.sh [BIN_DIR]   (default build/bin; `make demo`)
# Environment: KEYUAN_DEMO_PORT_BASE (7101), KEYUAN_DEMO_WATCH_S (12).
# Exits non-zero when a step fails or no reminder arrived.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
BIN="$(cd "${1:-$ROOT/build/bin}" 2>/dev/null && pwd)" || {
    echo "demo: no binaries directory ${1:-build/bin}; run 'make all'" >&2
    exit 2
}
cd "$ROOT"

BASE="${KEYUAN_DEMO_PORT_BASE:-7101}"
WATCH_S="${KEYUAN_DEMO_WATCH_S:-12}"
DEMO=var/demo
REMINDERS="$DEMO/reminders.log"
SERVICES=(notifier scheduler grading intake)   # start order: downstream first
declare -A PORT=([intake]=$BASE [grading]=$((BASE + 1))
                 [scheduler]=$((BASE + 2)) [notifier]=$((BASE + 3)))
declare -A NEXT=([intake]=grading [grading]=scheduler [scheduler]=notifier)
declare -A PID=()

# Step headings, in bold on a terminal.
if [ -t 1 ]; then
    BOLD=$'\033[1m' PLAIN=$'\033[0m'
else
    BOLD="" PLAIN=""
fi
say() {
    printf '\n%s==> %s%s\n' "$BOLD" "$*" "$PLAIN"
}

endpoint() {
    echo "tcp://127.0.0.1:${PORT[$1]}"
}

# keyuanctl against the demo's endpoints, whatever the caller's environment.
ctl() {
    KEYUAN_INTAKE="$(endpoint intake)" KEYUAN_GRADING="$(endpoint grading)" \
    KEYUAN_SCHEDULER="$(endpoint scheduler)" \
    KEYUAN_NOTIFIER="$(endpoint notifier)" "$BIN/keyuanctl" "$@"
}

# ---- stopping: on the way out, whatever happened ----------------------------

stop_services() {
    local s pid
    for s in intake grading scheduler notifier; do   # upstream first
        pid="${PID[$s]:-}"
        [ -n "$pid" ] || continue
        if kill -0 "$pid" 2>/dev/null; then
            echo "    stopping $s (pid $pid) with SIGTERM"
            stop_gently "$pid" ||
                echo "    $s did not stop within 10 s; killed it" >&2
        fi
        wait "$pid" 2>/dev/null && echo "    $s exited cleanly" \
            || echo "    $s exited with status $?" >&2
        PID[$s]=""
    done
}

on_exit() {
    local rc=$? logs=""
    trap - EXIT INT TERM
    if [ ${#PID[@]} -gt 0 ]; then
        say "Stopping the services"
        stop_services
        logs="; service logs are in $DEMO/*.log"
    fi
    if [ "$rc" -eq 130 ] || [ "$rc" -eq 143 ]; then
        echo "demo: interrupted$logs" >&2
    elif [ "$rc" -ne 0 ]; then
        echo "demo: failed (status $rc)$logs" >&2
    fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- starting ------------------------------------------------------------

check_ready_to_start() {
    local s
    for s in keyuan-intake keyuan-grading keyuan-scheduler keyuan-notifier \
             keyuanctl; do
        if [ ! -x "$BIN/$s" ]; then
            echo "demo: $BIN/$s is missing; run 'make all'" >&2
            exit 2
        fi
    done
    for s in "${SERVICES[@]}"; do
        if (exec 3<>"/dev/tcp/127.0.0.1/${PORT[$s]}") 2>/dev/null; then
            echo "demo: port ${PORT[$s]} is in use (another demo?);" \
                 "set KEYUAN_DEMO_PORT_BASE to use other ports" >&2
            exit 2
        fi
    done
}

service_args() {
    local s="$1"
    echo --state-dir "$DEMO/$s" --bind "$(endpoint "$s")"
    if [ -n "${NEXT[$s]:-}" ]; then
        echo --downstream "$(endpoint "${NEXT[$s]}")"
    fi
    case "$s" in
    scheduler)
        echo --speed-to-lead-s 3 --work-start 00:00 --work-end 24:00 \
             --cadence-a-days 3 --cadence-b-days 7 --cadence-c-days 30 \
             --cadence-lead-days 2 --time-zone Asia/Shanghai ;;
    notifier)
        echo --sink "file:$REMINDERS,stdout" ;;
    esac
}

# Waits until the service logs that it is serving, or fails if it exits.
wait_started() {
    local s="$1"
    for _ in $(seq 100); do
        if ! kill -0 "${PID[$s]}" 2>/dev/null; then
            echo "demo: $s exited at start; last lines of $DEMO/$s.log:" >&2
            tail -n 20 "$DEMO/$s.log" >&2
            exit 1
        fi
        grep -q 'event=started' "$DEMO/$s.log" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "demo: $s did not start within 10 s; see $DEMO/$s.log" >&2
    exit 1
}

start_services() {
    local s
    for s in "${SERVICES[@]}"; do
        # shellcheck disable=SC2046  # the arguments are words on purpose
        "$BIN/keyuan-$s" $(service_args "$s") \
            </dev/null >>"$DEMO/$s.log" 2>&1 &
        PID[$s]=$!
        wait_started "$s"
        printf '    %-9s pid %-7s %s  log %s\n' "$s" "${PID[$s]}" \
            "$(endpoint "$s")" "$DEMO/$s.log"
    done
}

# ---- the demo ---------------------------------------------------------------

# Pushes one file. keyuanctl lists each rejected row and then the counts;
# it fails only when intake left rows unanswered, and so does the demo.
push() {
    echo "\$ keyuanctl push $*"
    ctl push "$@"
}

# Prints reminder lines as the notifier writes them, for WATCH_S seconds.
watch_reminders() {
    local end=$((SECONDS + WATCH_S)) shown=0 n
    touch "$REMINDERS"
    while [ "$SECONDS" -lt "$end" ]; do
        n=$(wc -l <"$REMINDERS")
        if [ "$n" -gt "$shown" ]; then
            tail -n "+$((shown + 1))" "$REMINDERS" | head -n "$((n - shown))"
            shown=$n
        fi
        sleep 0.5
    done
    echo "    $shown reminders delivered in ${WATCH_S} s"
    [ "$shown" -gt 0 ]
}

main() {
    check_ready_to_start

    say "Wiping $DEMO and starting the four services"
    rm -rf "$DEMO"
    mkdir -p "$DEMO"
    start_services

    say "Importing the demo listings first, so that grading knows the market"
    # The listings CSV has no source column keyuanctl reads: name it.
    push listings data/demo_listings.csv --source keyuan-demo

    say "Importing the sample leads (JSON Lines, then a portal's CSV export);" \
        "each file holds one bad row on purpose"
    push leads data/sample_leads.jsonl
    push leads data/sample_leads.csv

    say "Service status"
    echo "\$ keyuanctl status"
    ctl status

    say "Reminders arriving at the notifier ($REMINDERS), for ${WATCH_S} s"
    local delivered=0
    watch_reminders || delivered=$?

    say "One customer file: the person who came from anjuke, then beike"
    local phone='+86 138-0013-8003' id
    echo "\$ keyuanctl show --mobile '$phone'"
    ctl show --mobile "$phone"
    id=$(ctl show --mobile "$phone" --json |
         sed -n 's/.*"customerId":"\([0-9]*\)".*/\1/p')

    say "Their grade, and the rules and reasons that gave it"
    echo "\$ keyuanctl grade $id"
    ctl grade "$id"

    say "Their follow-ups: the first call has fired, the cadence of the" \
        "grade is planned"
    echo "\$ keyuanctl reminders --customer $id --planned"
    ctl reminders --customer "$id" --planned

    say "The latest reminders fired, for all agents"
    echo "\$ keyuanctl reminders --limit 8"
    ctl reminders --limit 8

    say "Stopping the services"
    stop_services
    PID=()

    if [ "$delivered" -ne 0 ]; then
        echo "demo: no reminder arrived; see $DEMO/*.log" >&2
        exit 1
    fi
    say "Done. State, logs and $REMINDERS stay under $DEMO."
}

main
