#!/usr/bin/env bash
# deps.sh installs every system package vr needs, idempotently.
# When everything is already present it only runs dpkg-query and exits (well under a second).
set -euo pipefail

PACKAGES=(
  # containers
  lxc lxc-dev liblxc1 uidmap
  # test images
  busybox-static debootstrap
  # version control
  git mercurial
  # cross-checks of our YAML with the original's library (PyYAML)
  python3 python3-yaml
  # tools used by tests and benchmarks
  tar gzip bzip2 xz-utils ca-certificates
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi

echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps.sh: done" >&2
