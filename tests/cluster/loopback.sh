#!/usr/bin/env bash
# SPEC §5 (cargo feature `ballista`): starts a Ballista scheduler and two
# executors as separate `ownermap` processes on loopback, runs the nightly
# job against them, checks every table CSV equals a local run's, and stops
# them. Usage: tests/cluster/loopback.sh PATH/TO/ownermap
set -euo pipefail
BIN=${1:?usage: loopback.sh PATH/TO/ownermap}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
# A free port whose next port is free too (an executor's gRPC port is its
# Flight port + 1).
port_pair() { python3 -c '
import socket
while True:
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    if p >= 65535: a.close(); continue
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1))
    except OSError:
        a.close(); b.close(); continue
    print(p); break'; }
# Waits up to 60 s (a loaded 2-core machine can take a while) for port $1 to
# listen while process $2 lives. Returns 2 when the process died (a port
# taken in between, say), 1 on timeout; either way its log ($3) is shown.
wait_port() {
  for _ in $(seq 1 600); do
    (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "process $2 exited before port $1 opened; its log:" >&2; tail -20 "$3" >&2; return 2; }
    sleep 0.1
  done
  echo "port $1 never opened within 60 s; the log of process $2:" >&2; tail -20 "$3" >&2; return 1
}
# start NAME PORT_VAR CMD...: runs CMD (with {PORT} replaced by a fresh port)
# in the background, logging to $work/NAME.log, and retries with another
# port up to three times if the process dies before listening.
start() {
  local name=$1 var=$2; shift 2
  local attempt p rc
  for attempt in 1 2 3; do
    p=$(port_pair)
    "${@//\{PORT\}/$p}" > "$work/$name.log" 2>&1 &
    local pid=$!
    rc=0; wait_port "$p" "$pid" "$work/$name.log" || rc=$?
    if [ "$rc" -eq 0 ]; then pids+=("$pid"); printf -v "$var" '%s' "$p"; return 0; fi
    kill "$pid" 2>/dev/null || true
    [ "$rc" -eq 2 ] || return 1
    echo "$name: retrying with another port (attempt $attempt)" >&2
  done
  return 1
}

# 7 days: traces cross every midnight, so every day's seam runs (#17).
"$BIN" generate --out "$work/org" --services 10 --days 7 --spans-per-day 2000 --end 2026-11-22 --seed 3 > /dev/null
start scheduler sp "$BIN" scheduler --bind "127.0.0.1:{PORT}"
for i in 1 2; do
  mkdir -p "$work/executor-$i"
  start "executor-$i" ep env OWNERMAP_LOG=info,ballista_executor=info "$BIN" executor --scheduler "127.0.0.1:$sp" --bind 127.0.0.1 --port "{PORT}" \
    --work-dir "$work/executor-$i" --concurrent-tasks 2
done
OWNERMAP_LOG=warn "$BIN" run --config "$work/org/ownermap.toml" --out "$work/local" > /dev/null
OWNERMAP_LOG=warn "$BIN" run --config "$work/org/ownermap.toml" --out "$work/cluster" --engine "ballista://127.0.0.1:$sp" --full > /dev/null
n=0
for f in "$work"/local/data/*.csv; do
  cmp "$f" "$work/cluster/data/$(basename "$f")"
  n=$((n + 1))
done
for i in 1 2; do
  grep -q "Finished task\|finished task\|Task .* finished" "$work/executor-$i.log" || { echo "executor $i ran no task" >&2; tail -20 "$work/executor-$i.log" >&2; exit 1; }
done
echo "loopback cluster: scheduler + 2 executors, $n tables identical to the local run"

# A stalled cluster never hangs the nightly run: with executor 1 stopped
# (SIGSTOP) mid-run, the run fails at engine.job_timeout with exit 1,
# naming the stage and the engine, and the previous report stays whole.
# Beside the original, so its relative input paths resolve the same way.
cp "$work/org/ownermap.toml" "$work/org/stall.toml"
printf '\n[engine]\njob_timeout = "20s"\n' >> "$work/org/stall.toml"
before=$(cd "$work/cluster" && find . -type f -exec md5sum {} + | sort | md5sum)
start=$(date +%s)
( sleep 3; kill -STOP "${pids[1]}" ) &
set +e
OWNERMAP_LOG=warn timeout 300 "$BIN" run --config "$work/org/stall.toml" --out "$work/cluster" --engine "ballista://127.0.0.1:$sp" --full > "$work/stall.log" 2>&1
rc=$?
set -e
kill -CONT "${pids[1]}" 2>/dev/null || true
took=$(( $(date +%s) - start ))
[ "$rc" -eq 1 ] || { echo "stalled run: exit $rc, expected 1" >&2; cat "$work/stall.log" >&2; exit 1; }
grep -q "did not finish within engine.job_timeout (20 s)" "$work/stall.log" && grep -q "ballista://127.0.0.1:$sp" "$work/stall.log" \
  || { echo "stalled run: no deadline message" >&2; cat "$work/stall.log" >&2; exit 1; }
after=$(cd "$work/cluster" && find . -type f -exec md5sum {} + | sort | md5sum)
[ "$before" = "$after" ] || { echo "stalled run changed the previous report" >&2; exit 1; }
echo "stalled executor: the run ended in ${took} s with exit 1 at the deadline; the previous report is whole"
