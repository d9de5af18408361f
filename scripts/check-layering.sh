#!/usr/bin/env bash
# check-layering.sh enforces the import rules of DESIGN.md: only pkg/cli (and cmd/) import
# cobra and viper, and only pkg/container/lxc imports go-lxc.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
while read -r pkg imports; do
  case "$pkg" in
    */cmd/*|*/pkg/cli|*/pkg/cli/*) ;;
    *) if grep -qE 'github.com/spf13/(cobra|viper)' <<<"$imports"; then echo "layering: $pkg imports cobra/viper"; fail=1; fi ;;
  esac
  case "$pkg" in
    */pkg/container/lxc) ;;
    *) if grep -q 'github.com/lxc/go-lxc' <<<"$imports"; then echo "layering: $pkg imports go-lxc"; fail=1; fi ;;
  esac
done < <(go list -f '{{.ImportPath}} {{join .Imports " "}}' ./...)
exit $fail
