#!/bin/bash
# Records every distinct SQL text the drivers (pg, mysql2, better-sqlite3) receive while jest
# runs, in jest's module registry (setup file) and in child processes and worker threads
# (NODE_OPTIONS), then prints them normalised (placeholder lists and CTE numbers folded) to
# compare two checkouts: a refactoring that must not change SQL shows an empty diff.
#   tools/capture-sql/run.sh OUT [jest args…]   e.g. OUT=/tmp/before --selectProjects databases
# Run it from a copy of the checkout: ts-jest compiles sources as the tests reach them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$here/../.." && pwd)"
OUT=$1; shift
export ROOT SQL_CAPTURE=$OUT
cd "$ROOT"
NODE_OPTIONS="--require $here/capture.cjs" node --experimental-vm-modules node_modules/jest/bin/jest.js --config "$here/config.cjs" "$@" || true
python3 "$here/normalise.py" "$OUT" > "$OUT.sql.txt"
echo "distinct statements: $(wc -l < "$OUT.sql.txt") in $OUT.sql.txt"
