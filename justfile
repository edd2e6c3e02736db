# ownermap tasks. Everything here also works without `just`: see README.md.

export CARGO_TARGET_DIR := env_var_or_default("CARGO_TARGET_DIR", env_var("HOME") + "/.cache/ownermap-target")

# Run the nightly job on the committed sample data.
run *ARGS:
    cargo run --release -- run --config sample-data/ownermap.toml {{ARGS}}

# The test suite (what CI runs).
test:
    cargo test --release

# Generate a dataset: just generate /tmp/org 1000000
generate OUT="target/gen" SPANS="100000" DAYS="7":
    cargo run --release -- generate --out {{OUT}} --spans-per-day {{SPANS}} --days {{DAYS}} --end 2026-11-22 --seed 7

# Benchmark: generates datasets once under target/bench-data and times `run`.
bench *ARGS:
    bash benches/bench.sh {{ARGS}}

# Regenerate the committed sample data.
sample:
    rm -rf sample-data/spans && cargo run --release -- generate --out sample-data --services 24 --days 7 --spans-per-day 6000 --end 2026-11-22 --seed 42 --layout trace --links
