#!/usr/bin/env bash
# Scan benchmark (release build): times the local connector over
#   1. a generated repository of 50,000 files with 300 workflows, written once to
#      target/bench-repo-50k (regenerated only when the generator changes), and
#   2. a real checkout: $BENCH_REAL_REPO if set, else this repository.
# Each case is run once to warm the page cache, then 5 times; min/median/max are printed.
#
# Usage:
#   scripts/bench.sh                                   # generated repo + this checkout
#   BENCH_REAL_REPO=~/src/some-ml-repo scripts/bench.sh
#
# Target: the 50k-file scan under 2 s on a 2-core machine with a warm cache.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench --bench scan "$@"
