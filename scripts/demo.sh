#!/usr/bin/env bash
# demo.sh: the end-to-end demo behind `make demo` (run after `make deps build`, as root).
set -euo pipefail
cd "$(dirname "$0")/.."
for b in vbuild vimage vruntime vruntime-precise vrcli proc-publisher; do
  ./bin/$b --version
done
go run ./scripts/demo-foundation
