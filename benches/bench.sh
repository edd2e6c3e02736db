#!/usr/bin/env bash
# Benchmark of `ownermap run` on generated data (not a test; CI does not run it).
# Generates each dataset once under target/bench-data/, runs the release
# binary, and prints wall time, spans/s, peak RSS (from the OS, via
# /usr/bin/time) and the per-stage times from summary.json; then the same
# wall time and peak RSS for the peer baselines in benches/peers/ (DuckDB
# and Polars from PyPI in target/bench-venv) and a bare DuckDB scan of the
# needed columns. Results are saved to target/bench-data/results.json.
# Set NO_PEERS=1 to skip the baselines.
#
# Usage: benches/bench.sh [SPANS_PER_DAY ...]     (default: 1000000 10000000)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ownermap-target}"
cargo build --release --quiet
BIN="$CARGO_TARGET_DIR/release/ownermap"
DATA=target/bench-data
mkdir -p "$DATA"
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(1000000 10000000)
results="["
for n in "${sizes[@]}"; do
  dir="$DATA/d$n"
  if [ ! -f "$dir/ownermap.toml" ]; then
    echo "generating $n spans into $dir"
    OWNERMAP_LOG=warn "$BIN" generate --out "$dir" --services 40 --days 1 --spans-per-day "$n" --end 2026-11-22 --seed 7
  fi
  out="$DATA/out-$n"
  OWNERMAP_LOG=warn /usr/bin/time -f "%e %M" -o "$DATA/time-$n" "$BIN" run --config "$dir/ownermap.toml" --out "$out"
  read -r wall rss_kb < "$DATA/time-$n"
  spans=$(python3 -c "import json;print(json.load(open('$out/summary.json'))['spans_in_window'])")
  stages=$(python3 -c "import json;print(json.dumps({s['stage']: round(s['seconds'],2) for s in json.load(open('$out/summary.json'))['stages']}))")
  rate=$(python3 -c "print(int($spans/max($wall,1e-9)))")
  printf '%12s spans  %8.2f s  %12s spans/s  peak RSS %6.2f GB  stages %s\n' "$spans" "$wall" "$rate" "$(python3 -c "print($rss_kb/1048576)")" "$stages"
  peers="{}"
  if [ -z "${NO_PEERS:-}" ]; then
    if [ ! -x target/bench-venv/bin/python ]; then
      python3 -m venv target/bench-venv
      target/bench-venv/bin/pip install -q duckdb polars
    fi
    peers="{"
    for p in bare_scan duckdb_core polars_core; do
      /usr/bin/time -f "%e %M" -o "$DATA/time-$p" target/bench-venv/bin/python "benches/peers/$p.py" "$dir/spans" > /dev/null
      read -r pw pr < "$DATA/time-$p"
      printf '%12s %-12s %8.2f s  %26s peak RSS %6.2f GB\n' "" "$p" "$pw" "" "$(python3 -c "print($pr/1048576)")"
      peers+="\"$p\": {\"wall_s\": $pw, \"peak_rss_kb\": $pr},"
    done
    peers="${peers%,}}"
  fi
  results+="{\"spans\": $spans, \"wall_s\": $wall, \"spans_per_s\": $rate, \"peak_rss_kb\": $rss_kb, \"stages\": $stages, \"peers\": $peers},"
done
echo "${results%,}]" > "$DATA/results.json"
echo "saved $DATA/results.json"
