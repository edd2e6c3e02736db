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
# Every size runs on both layouts `generate` writes: `clickhouse` (the
# Collector's ClickHouse order, a trace's spans scattered; what real exports
# look like) and `trace` (a trace's spans adjacent). ownermap runs with its
# default config (so its default memory limit). On the smallest size the
# peers' edges and services are checked against ownermap's (benches/
# selfcheck.py), so the ratios compare like with like. Prints a Markdown
# table with the ratios the README's performance section quotes.
#
# Usage: benches/bench.sh [SPANS_PER_DAY ...]     (default: 1000000 10000000)
#        benches/bench.sh week     7 days x 10 M spans under memory_limit 4g:
#                                  a full run, then last night's run (6 days)
#                                  and tonight's incremental run (7 days, one
#                                  new day), whose tables must equal the full
#                                  run's.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ownermap-target}"
cargo build --release --quiet
BIN="$CARGO_TARGET_DIR/release/ownermap"
DATA=target/bench-data
mkdir -p "$DATA"
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
timed() { # label, out-dir, args... : runs ownermap, prints wall/RSS/stages
  local label=$1 out=$2; shift 2
  OWNERMAP_LOG=warn /usr/bin/time -f "%e %M" -o "$DATA/time-run" "$BIN" run --out "$out" "$@" || [ $? -eq 3 ]
  read -r wall rss_kb < "$DATA/time-run"
  python3 - "$out/summary.json" "$label" "$wall" "$rss_kb" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); label, wall, rss = sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
st = {}
for x in s["stages"]:
    st[x["stage"]] = round(st.get(x["stage"], 0) + x["seconds"], 2)
print(f'{label:>14}  {s["spans_in_window"]:>11} spans  {wall:8.2f} s  {int(s["spans_in_window"]/max(wall,1e-9)):>10} spans/s  '
      f'peak RSS {rss/1048576:5.2f} GB  read {s["bytes_read"]/1048576:.0f} MB in {s["files_read"]} files ({s["files_pruned"]} pruned)  '
      f'days computed/cached {s["days_computed"]}/{s["days_cached"]}  stages {st}')
PY
}
if [ "${1:-}" = week ]; then
  dir="$DATA/d70m"
  if [ ! -f "$dir/ownermap.toml" ]; then
    OWNERMAP_LOG=warn "$BIN" generate --out "$dir" --services 40 --days 7 --spans-per-day 10000000 --end 2026-11-22 --seed 7
    printf '[engine]\nmemory_limit = "4g"\n' >> "$dir/ownermap.toml"
  fi
  timed "full week" "$DATA/out-week-full" --config "$dir/ownermap.toml" --full
  timed "last night" "$DATA/out-week-prev" --config "$dir/ownermap.toml" --end 2026-11-21 --days 6
  timed "incremental" "$DATA/out-week-incr" --config "$dir/ownermap.toml"
  for f in "$DATA"/out-week-full/data/*.csv; do
    cmp -s "$f" "$DATA/out-week-incr/data/$(basename "$f")" || { echo "DIFFERS: $(basename "$f")"; exit 1; }
  done
  echo "incremental tables identical to the full run's"
  exit 0
fi
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(1000000 10000000)
if [ -z "${NO_PEERS:-}" ] && [ ! -x target/bench-venv/bin/python ]; then
  python3 -m venv target/bench-venv
  target/bench-venv/bin/pip install -q duckdb polars
fi
results="["
table="| spans | layout | ownermap \`run\` | DuckDB core | Polars core | bare scan | ÷ faster peer (target ≤ 0.5) | ÷ bare scan (target ≤ 6) | peak RSS (target ≤ 1.5 GB) |
|---|---|---|---|---|---|---|---|---|"
selfcheck=0
for n in "${sizes[@]}"; do
  for layout in clickhouse trace; do
    dir="$DATA/d$n-$layout"
    if [ ! -f "$dir/ownermap.toml" ]; then
      echo "generating $n spans ($layout layout) into $dir"
      OWNERMAP_LOG=warn "$BIN" generate --out "$dir" --services 40 --days 1 --spans-per-day "$n" --end 2026-11-22 --seed 7 --layout "$layout"
    fi
    out="$DATA/out-$n-$layout"
    # Read once so every command below finds the files in the OS cache.
    cat "$dir"/spans/*/*.parquet > /dev/null
    OWNERMAP_LOG=warn /usr/bin/time -f "%e %M" -o "$DATA/time-run" "$BIN" run --config "$dir/ownermap.toml" --out "$out" --full
    read -r wall rss_kb < "$DATA/time-run"
    spans=$(python3 -c "import json;print(json.load(open('$out/summary.json'))['spans_in_window'])")
    stages=$(python3 -c "
import json; st = {}
for s in json.load(open('$out/summary.json'))['stages']: st[s['stage']] = round(st.get(s['stage'], 0) + s['seconds'], 2)
print(json.dumps(st))")
    rate=$(python3 -c "print(int($spans/max($wall,1e-9)))")
    printf '%12s spans  %-10s  %8.2f s  %12s spans/s  peak RSS %5.2f GB  stages %s\n' "$spans" "$layout" "$wall" "$rate" "$(python3 -c "print($rss_kb/1048576)")" "$stages"
    peers="{}"
    declare -A pw=()
    if [ -z "${NO_PEERS:-}" ]; then
      peers="{"
      for p in bare_scan duckdb_core polars_core; do
        dump=()
        [ "$n" = "${sizes[0]}" ] && [ "$p" != bare_scan ] && dump=("$DATA/peer-$p.json")
        /usr/bin/time -f "%e %M" -o "$DATA/time-$p" target/bench-venv/bin/python "benches/peers/$p.py" "$dir/spans" "${dump[@]}" > /dev/null
        read -r w r < "$DATA/time-$p"
        pw[$p]=$w
        printf '%12s %-12s %8.2f s  %26s peak RSS %5.2f GB\n' "" "$p" "$w" "" "$(python3 -c "print($r/1048576)")"
        peers+="\"$p\": {\"wall_s\": $w, \"peak_rss_kb\": $r},"
        if [ ${#dump[@]} -gt 0 ]; then
          python3 benches/selfcheck.py "$out" "${dump[0]}" "$p" || selfcheck=1
        fi
      done
      peers="${peers%,}}"
      row=$(python3 -c "
w, rss, b, d, p = $wall, $rss_kb / 1048576, ${pw[bare_scan]}, ${pw[duckdb_core]}, ${pw[polars_core]}
f = min(d, p)
print(f'| {$spans:,} | $layout | {w:.2f} s | {d:.2f} s | {p:.2f} s | {b:.2f} s | {w / f:.2f} × | {w / b:.1f} × | {rss:.2f} GB |')")
      table+=$'\n'"$row"
    fi
    results+="{\"spans\": $spans, \"layout\": \"$layout\", \"wall_s\": $wall, \"spans_per_s\": $rate, \"peak_rss_kb\": $rss_kb, \"stages\": $stages, \"peers\": $peers},"
  done
done
echo "${results%,}]" > "$DATA/results.json"
echo
echo "$table"
echo
echo "saved $DATA/results.json"
[ "$selfcheck" -eq 0 ] || { echo "self-check failed: a peer's edges or services differ from ownermap's" >&2; exit 1; }
