#!/usr/bin/env bash
# Runs every Go fuzz target of the repository (func FuzzX in a _test.go file) for a bounded
# time each: scripts/fuzz.sh [duration, default 5s]. Prints the executions of each; a failure
# prints the failing input (kept under testdata/fuzz/ by go test) and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-5s}"
total=0
while IFS=: read -r file name; do
  pkg="./$(dirname "$file")"
  if ! out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg" 2>&1); then
    echo "$out"
    echo "FAIL: $name ($pkg)" >&2
    exit 1
  fi
  execs=$(echo "$out" | grep -o 'execs: [0-9]*' | tail -1 | tr -dc 0-9)
  total=$((total + ${execs:-0}))
  printf '%-40s %-12s %10s executions, no failure\n' "$name" "$pkg" "${execs:-?}"
done < <(git grep -H -o -E '^func Fuzz[A-Za-z0-9_]+' -- '*_test.go' | sed -E 's/:func /:/')
echo "fuzz: $total executions in all"
