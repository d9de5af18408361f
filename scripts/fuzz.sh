#!/usr/bin/env bash
# fuzz.sh runs every Fuzz* target of the module for a short time each (default 10s).
# go test accepts one -fuzz target per package run, hence the loop.
set -euo pipefail
t=${1:-10s}
cd "$(dirname "$0")/.."
grep -rl --include='*_test.go' '^func Fuzz' pkg cmd 2>/dev/null | while read -r f; do
  dir=./$(dirname "$f")
  for fn in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //'); do
    echo "fuzz $dir $fn ($t)"
    go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$t" -fuzzminimizetime 200x "$dir" >/tmp/vr-fuzz.log 2>&1 || { cat /tmp/vr-fuzz.log; exit 1; }
  done
done
