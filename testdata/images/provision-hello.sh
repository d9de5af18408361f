#!/bin/sh
# Provisioning script of the Debian test image (pkg/imager's tests, `make demo`): installs GNU
# hello from Debian's packages with apt-get and leaves no apt lists or cached packages behind.
set -eu
apt-get update -q
apt-get install -y -q --no-install-recommends hello
apt-get clean
rm -f /var/lib/apt/lists/*_*
echo "provisioned: $(hello --version | head -n 1)"
