# lib.sh - shell helpers shared by scripts/demo.sh and bench/run.sh.

# stop_gently PID: asks the process to stop (SIGTERM, which keyuan's
# services answer by finishing their batch and exiting), waits up to 10 s,
# then kills it. Returns 0 when it stopped by itself, 1 when it was killed.
stop_gently() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    return 1
}
