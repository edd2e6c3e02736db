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
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# up to 30 s: on a loaded 2-core machine a process can take a while to listen
wait_port() { for _ in $(seq 1 300); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

# 7 days: traces cross every midnight, so every day's seam runs (#17).
"$BIN" generate --out "$work/org" --services 10 --days 7 --spans-per-day 2000 --end 2026-11-22 --seed 3 > /dev/null
sp=$(port)
"$BIN" scheduler --bind "127.0.0.1:$sp" > "$work/scheduler.log" 2>&1 & pids+=($!)
wait_port "$sp"
for i in 1 2; do
  ep=$(port)
  while [ "$((ep + 1))" -gt 65535 ]; do ep=$(port); done
  OWNERMAP_LOG=info,ballista_executor=info "$BIN" executor --scheduler "127.0.0.1:$sp" --bind 127.0.0.1 --port "$ep" --work-dir "$work/executor-$i" --concurrent-tasks 2 \
    > "$work/executor-$i.log" 2>&1 & pids+=($!)
  mkdir -p "$work/executor-$i"
  wait_port "$ep"
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
