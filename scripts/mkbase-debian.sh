#!/usr/bin/env bash
# mkbase-debian.sh makes a minimal Debian base image tarball with debootstrap, the usual first
# base image of `vimage build`, and prints its path on stdout (progress goes to stderr).
#
#   scripts/mkbase-debian.sh [SUITE]            # SUITE defaults to bookworm
#
# The tarball is cached: it is made once per machine and reused while this script is unchanged.
# Its name carries the suite, the architecture and the first 12 hex digits of the SHA-256 of this
# script, e.g. /var/cache/vr-test/debian-bookworm-minbase-amd64-1a2b3c4d5e6f.tar.gz; older
# tarballs of the same suite are removed when a new one is made. Concurrent runs wait for each
# other (flock), so tests and the demo can all call it.
#
# Settings (environment):
#   VR_TEST_CACHE     cache directory (default /var/cache/vr-test)
#   VR_DEBIAN_MIRROR  Debian mirror (default: the first Debian URI in this machine's apt
#                     sources, else http://deb.debian.org/debian)
#
# The image: `debootstrap --variant=minbase SUITE` (about 200 MB unpacked), with an empty
# /etc/resolv.conf, /etc/hostname "localhost" (debootstrap copies the host's), a localhost-only
# /etc/hosts, no apt lists or cached packages. Owners are stored as numbers (--numeric-owner),
# as vimage reads them.
# Needs root and debootstrap (scripts/deps.sh installs it); takes about 30 s the first time.
set -euo pipefail

suite=${1:-bookworm}
cache=${VR_TEST_CACHE:-/var/cache/vr-test}

die() { echo "mkbase-debian.sh: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap)"
command -v debootstrap >/dev/null || die "needs debootstrap; run scripts/deps.sh"
[[ $suite =~ ^[a-z][a-z0-9-]*$ ]] || die "bad suite name: $suite"

# The Debian mirror this machine's apt uses (deb822 .sources files, then one-line .list files).
detect_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    uri=$(awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' "$f" |
      grep -E '/debian/?$' | grep -v security | head -n1 || true)
    [ -n "$uri" ] && { echo "${uri%/}"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' "$f" |
      grep -E '/debian/?$' | grep -v security | head -n1 || true)
    [ -n "$uri" ] && { echo "${uri%/}"; return; }
  done
  echo http://deb.debian.org/debian
}
mirror=${VR_DEBIAN_MIRROR:-$(detect_mirror)}

arch=$(dpkg --print-architecture)
key=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)
out="$cache/debian-$suite-minbase-$arch-$key.tar.gz"

if [ -s "$out" ]; then
  echo "$out"
  exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.mkbase-$suite.lock"
flock 9
if [ -s "$out" ]; then # made by a concurrent run meanwhile
  echo "$out"
  exit 0
fi

tmp=$(mktemp -d "$cache/.mkbase-$suite-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root="$tmp/rootfs"

echo "mkbase-debian.sh: debootstrap --variant=minbase $suite from $mirror (about 30 s)" >&2
if ! debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$tmp/debootstrap.log" 2>&1; then
  tail -n 20 "$tmp/debootstrap.log" >&2
  [ -f "$root/debootstrap/debootstrap.log" ] && tail -n 20 "$root/debootstrap/debootstrap.log" >&2
  die "debootstrap failed"
fi

# Nothing of this host stays in the image.
rm -f "$root/etc/resolv.conf"
: >"$root/etc/resolv.conf"
echo localhost >"$root/etc/hostname"
chmod 0644 "$root/etc/resolv.conf" "$root/etc/hostname"
[ -e "$root/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
find "$root/var/lib/apt/lists" -mindepth 1 -maxdepth 1 -type f -delete
rm -f "$root/var/cache/apt/archives/"*.deb "$root/var/cache/apt/"*.bin

tar --numeric-owner -C "$root" -czf "$tmp/base.tar.gz" .
mv "$tmp/base.tar.gz" "$out"
find "$cache" -maxdepth 1 -name "debian-$suite-minbase-$arch-*.tar.gz" ! -path "$out" -delete
echo "mkbase-debian.sh: made $out ($(du -h "$out" | cut -f1))" >&2
echo "$out"
