#!/usr/bin/env bash
# deps.sh installs every system package vr needs, idempotently.
# When everything is already present it only runs dpkg-query and exits (well under a second).
set -euo pipefail

PACKAGES=(
  # build: make runs everything; cgo (go-lxc) needs a C toolchain and pkg-config
  make gcc libc6-dev pkg-config
  # containers
  lxc lxc-dev liblxc1 uidmap
  # test images
  busybox-static debootstrap
  # version control
  git mercurial
  # process supervision and events (proc-publisher)
  supervisor redis-server
  # cross-checks of our YAML with the original's library (PyYAML)
  python3 python3-yaml
  # tools used by tests and benchmarks
  tar gzip bzip2 xz-utils ca-certificates
  # balancers and host transport (vrcli pool; tests start their own instances on loopback)
  nginx varnish haproxy apache2 openssh-server openssh-client util-linux socat procps sudo
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
# Packages such as nginx, varnish, apache2 and openssh-server start their system service from
# postinst, which fails (or takes ports) where there is no init system. Tests start their own
# instances, so forbid service starts during the install with a policy-rc.d (exit 101), unless
# the machine already has one, and remove ours afterwards.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# written by vr scripts/deps.sh for the duration of an install\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 0755 "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps.sh: done" >&2
