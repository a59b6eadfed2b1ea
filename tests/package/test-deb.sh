#!/usr/bin/env bash
# Debian package test: builds redis-push-daemon_<version>_<arch>.deb with
# CPack, installs it into this machine with apt-get, runs the installed
# binary with the installed config against a redis-server on
# 127.0.0.1:6379, polls and watches a task with curl, checks the man page,
# then removes the package with --purge and checks that nothing is left.
#
# Usage: tests/package/test-deb.sh [BUILD_DIR]     (default build/package;
#        an existing, configured build tree is used as it is)
# Runs as root (it installs a package). Exits 77 (skipped) when it cannot
# run here without disturbing the machine: not root, 127.0.0.1:6379 or :8888
# already in use, or redis-push-daemon already installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build/package}
pkg=redis-push-daemon
skip() { echo "SKIPPED: tests/package/test-deb.sh: $*"; exit 77; }
fail() { echo "FAILED: tests/package/test-deb.sh: $*" >&2; exit 1; }
step() { echo "== $*"; }

[ "$(id -u)" -eq 0 ] || skip "must run as root (it installs and removes a package)"
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_busy 6379 && skip "127.0.0.1:6379 is in use; this test starts its own redis-server there"
port_busy 8888 && skip "127.0.0.1:8888 is in use; the installed config listens there"
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    skip "$pkg is already installed on this machine; not touching it"
fi
[ -e /usr/bin/redis-push-daemon ] && skip "/usr/bin/redis-push-daemon exists and is not from the package"

# Tools: build deps, dpkg-dev for dpkg-shlibdeps, man-db, redis-server, curl.
"$root/scripts/install-deps" dpkg-dev man-db curl redis-tools

tmp=$(mktemp -d)
redis_pid="" daemon_pid="" installed=0
cleanup() {
    local rc=$?
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
    [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null || true
    if [ "$installed" = 1 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get remove --purge -y -qq "$pkg" >/dev/null 2>&1 || true
    fi
    if [ $rc -ne 0 ]; then
        for f in "$tmp"/*.log; do [ -f "$f" ] && { echo "---- $f"; tail -n 40 "$f"; }; done
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

step "build and cpack -G DEB in $build"
# An existing build tree (ctest's own) is used as it is; a new one is
# configured without tests.
if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRPD_BUILD_TESTS=OFF -DRPD_BUILD_BENCH=OFF >/dev/null
fi
[ -f "$build/CPackConfig.cmake" ] || fail "no CPackConfig.cmake in $build: is include(cmake/packaging.cmake) in CMakeLists.txt?"
cmake --build "$build" -j2 --target redis-push-daemon rpd_man_page >/dev/null
rm -f "$build"/${pkg}_*.deb
(cd "$build" && cpack -G DEB >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log"; fail "cpack failed"; }
debs=("$build"/${pkg}_*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "expected one ${pkg}_*.deb in $build, found: ${debs[*]}"
deb=${debs[0]}
echo "built $(basename "$deb")"

step "package metadata and contents"
version=$(dpkg-deb -f "$deb" Version)
arch=$(dpkg --print-architecture)
[ "$(basename "$deb")" = "${pkg}_${version}_${arch}.deb" ] || fail "file name $(basename "$deb") is not ${pkg}_${version}_${arch}.deb"
[ "$(dpkg-deb -f "$deb" Package)" = "$pkg" ] || fail "Package field"
[ "$(dpkg-deb -f "$deb" Section)" = net ] || fail "Section is not net"
[ -n "$(dpkg-deb -f "$deb" Maintainer)" ] || fail "no Maintainer"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for lib in libhiredis libspdlog libfmt libc6 libstdc++6; do
    grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib (shlibdeps)"
done
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$tmp/contents"
for f in /usr/bin/redis-push-daemon /etc/redis-push-daemon/push.json \
         /lib/systemd/system/redis-push-daemon.service /usr/share/man/man8/redis-push-daemon.8.gz \
         /usr/share/doc/redis-push-daemon/README.md /usr/share/doc/redis-push-daemon/copyright; do
    grep -qx "$f" "$tmp/contents" || fail "package lacks $f"
done
if grep -E '^/usr/local|^/tmp|^/root|^/work' "$tmp/contents"; then fail "package holds files under a build path"; fi
dpkg-deb --ctrl-tarfile "$deb" | tar -x -O ./conffiles >"$tmp/conffiles" 2>/dev/null || true
grep -qx /etc/redis-push-daemon/push.json "$tmp/conffiles" || fail "push.json is not a conffile"

step "apt-get install ./$(basename "$deb")"
installed=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$(realpath "$deb")" >"$tmp/apt-install.log" 2>&1 ||
    { cat "$tmp/apt-install.log"; fail "apt-get install failed"; }
dpkg-query -W -f='${Status}' "$pkg" | grep -q "install ok installed" || fail "dpkg does not list $pkg as installed"
[ -x /usr/bin/redis-push-daemon ] || fail "/usr/bin/redis-push-daemon missing"
[ -f /etc/redis-push-daemon/push.json ] || fail "/etc/redis-push-daemon/push.json missing"
[ -f /lib/systemd/system/redis-push-daemon.service ] || fail "unit missing"
/usr/bin/redis-push-daemon --version
/usr/bin/redis-push-daemon --config /etc/redis-push-daemon/push.json --check-config
man_path=$(man -w redis-push-daemon) || fail "man -w redis-push-daemon found nothing"
echo "man page: $man_path"
[ "$man_path" = /usr/share/man/man8/redis-push-daemon.8.gz ] || fail "man page at $man_path"
MANWIDTH=80 man 8 redis-push-daemon 2>/dev/null | grep -q "redis-push-daemon - HTTP long-poll push" || fail "man page does not render"
if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify /lib/systemd/system/redis-push-daemon.service >"$tmp/verify.log" 2>&1 ||
        { cat "$tmp/verify.log"; fail "systemd-analyze verify"; }
fi

step "run the installed daemon against redis-server on 127.0.0.1:6379"
redis-server --port 6379 --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" >"$tmp/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 100); do redis-cli -p 6379 ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
redis-cli -p 6379 ping | grep -q PONG || fail "redis-server did not start"
/usr/bin/redis-push-daemon --config /etc/redis-push-daemon/push.json >"$tmp/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do curl -fsS http://127.0.0.1:8888/healthz >/dev/null 2>&1 && break; sleep 0.1; done
health=$(curl -sS http://127.0.0.1:8888/healthz)
[ "$health" = '{"redis":"up"}' ] || fail "healthz answered $health"

id=pkgtest$$
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:8888/task/$id")
[ "$code" = 404 ] || fail "poll of a missing task answered $code"
redis-cli -p 6379 SET "RA_D_$id" '{"status":"running","progress":40}' >/dev/null
body=$(curl -fsS "http://127.0.0.1:8888/task/$id")
[ "$body" = '{"status":"running","progress":40}' ] || fail "poll answered $body"
echo "poll: $body"
curl -fsS -N -m 10 "http://127.0.0.1:8888/task/$id?watch" >"$tmp/watch.out" &
watch_pid=$!
for _ in $(seq 100); do
    [ "$(redis-cli -p 6379 PUBSUB NUMSUB "RA_SC_$id" | tail -n1)" = 1 ] && break
    sleep 0.05
done
sleep 0.3
redis-cli -p 6379 SET "RA_D_$id" '{"status":"done","progress":100}' >/dev/null
redis-cli -p 6379 PUBLISH "RA_SC_$id" '{"status":"done"}' >/dev/null
wait "$watch_pid" || fail "watch with curl failed"
watched=$(tr -d '\n' <"$tmp/watch.out")
[ "$watched" = '{"status":"done","progress":100}' ] || fail "watch answered $watched"
echo "watch: $watched"

step "stop daemon and redis-server"
kill -TERM "$daemon_pid"
rc=0; wait "$daemon_pid" || rc=$?
daemon_pid=""
[ $rc -eq 0 ] || fail "daemon exited $rc on SIGTERM"
kill -TERM "$redis_pid"; wait "$redis_pid" 2>/dev/null || true
redis_pid=""

step "apt-get remove --purge -y $pkg"
DEBIAN_FRONTEND=noninteractive apt-get remove --purge -y -qq "$pkg" >"$tmp/apt-remove.log" 2>&1 ||
    { cat "$tmp/apt-remove.log"; fail "apt-get remove --purge failed"; }
installed=0
[ ! -e /usr/bin/redis-push-daemon ] || fail "/usr/bin/redis-push-daemon still there"
[ ! -e /etc/redis-push-daemon ] || fail "/etc/redis-push-daemon still there after purge"
[ ! -e /lib/systemd/system/redis-push-daemon.service ] || fail "unit still there"
[ ! -e /usr/share/man/man8/redis-push-daemon.8.gz ] || fail "man page still there"
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "installed"; then fail "dpkg still lists $pkg"; fi
echo "PASSED: tests/package/test-deb.sh ($(basename "$deb"))"
