#!/usr/bin/env bash
# demo.sh: the end-to-end demo behind `make demo` (run after `make deps build`, as root).
# Everything it makes lives in a temporary VR_ROOT that is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
bin=$top/bin
section() { printf '\n######## %s\n' "$*"; }

section "the binaries"
for b in vbuild vimage vruntime vruntime-precise vrcli proc-publisher; do
  "$bin/$b" --version
done

section "foundation: proc.yaml, deterministic image tarball, safe unpack, an LXC container"
go run ./scripts/demo-foundation

demo=$(mktemp -d /tmp/vr-demo.XXXXXX)
trap 'rm -rf "$demo"' EXIT
export VR_ROOT=$demo/root

section "vbuild: build testdata/apps/hello with Heroku-style buildpacks in a container"
repo() { # testdata folder -> git repository with one commit
  cp -a "testdata/$1" "$demo/$2"
  git -C "$demo/$2" init -q -b master
  git -C "$demo/$2" add -A
  git -C "$demo/$2" -c user.name=demo -c user.email=demo@example.com commit -qm demo
}
repo apps/hello hello
repo buildpacks/never never
repo buildpacks/hello hello-buildpack
cat >"$demo/app.yaml" <<YAML
app_name: hello
app_repo_type: git
app_repo_url: $demo/hello
version: master
buildpack_urls:
- $demo/never
- $demo/hello-buildpack
env:
  GREETING: hello from the demo
YAML
cd "$demo"
"$bin/vbuild" build app.yaml
echo "== outputs"; ls -l build.tar.gz build_result.yaml compile.log
echo "== build.tar.gz"; tar -tvzf build.tar.gz
echo "== build_result.yaml"; cat build_result.yaml
first=$(md5sum <build.tar.gz)
echo "== the same build again from build_result.yaml (quiet, JSON summary)"
cp build_result.yaml replay.yaml
"$bin/vbuild" build -q --json replay.yaml
[ "$(md5sum <build.tar.gz)" = "$first" ] && echo "byte-identical build.tar.gz: $first"
"$bin/vbuild" cache purge hello

section "vruntime-precise: run that build as a proc, call it over HTTP, run its uptests"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
proc=hello-master-demo-$(cut -c1-8 <<<"$first")-web-$port
mkdir -p "$VR_ROOT/procs/$proc"
cat >"$VR_ROOT/procs/$proc/proc.yaml" <<YAML
app_name: hello
version: master
config_name: demo
release_hash: $(cut -c1-8 <<<"$first")
proc_name: web
port: $port
host: 127.0.0.1
user: nobody
build_url: $demo/build.tar.gz
build_md5: $(cut -d' ' -f1 <<<"$first")
mem_limit: 64M
env:
  GREETING: "it's \$HOME, \"quoted\""
YAML
py=$VR_ROOT/procs/$proc/proc.yaml
cat "$py"
"$bin/vruntime-precise" setup "$py"
"$bin/vruntime-precise" run "$py" > "$demo/proc.log" 2>&1 &
runner=$!
get() { python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode(), end="")' "$1"; }
for _ in $(seq 100); do
  get "http://127.0.0.1:$port/" >"$demo/page" 2>/dev/null && break
  sleep 0.1
done
echo "== GET http://127.0.0.1:$port/"; cat "$demo/page"
echo "== a second run of the same proc is refused:"
"$bin/vruntime-precise" run "$py" || echo "(exit $?)"
echo "== vruntime-precise uptest"
"$bin/vruntime-precise" uptest "$py"
echo "== SIGTERM to the runner"
kill -TERM "$runner"; wait "$runner" || echo "(runner exited with $?)"
"$bin/vruntime-precise" teardown "$py"
echo "== after teardown: $(ls "$VR_ROOT/procs" | wc -l) procs left"
cd "$top"
