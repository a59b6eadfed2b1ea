#!/usr/bin/env python3
"""bench/history.py: the figures of issue 12 (history pages and fetches).

    bench/history.py                  # 3 runs of each, medians
    bench/history.py --runs 5 --entries 1000000 --fetch-seconds 30

history_pages   one 1,000,000-entry stream paged 1,000 at a time over one keep-alive HTTP
                connection (GET /stream/h/history?limit=1000&after=<next>), against raw
                `XRANGE key (<last> + COUNT 1000` over one Redis connection, in the same run:
                entries/s of each and their ratio (the issue asks >= 0.5).
history_fetch   100 WebSocket fetches (one socket each, spread over the stream) walk it with a
                slow acceptor (each row accepted 5 ms after it arrived) for --fetch-seconds;
                the daemon's RSS sampled every second: spread (max - min) / min after a 3 s
                warm-up (the issue asks within 5 %).

Builds history_bench and the daemon into build-bench/ (Release), starts its own
redis-server and daemon on free loopback ports in a private folder under
run/, stops them by PID, prints a JSON summary and writes bench/results/history.json.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build-bench")
TOOL = os.path.join(BUILD, "bench", "history_bench")
DAEMON = os.path.join(BUILD, "src", "redis-push-daemon")
started = []


def log(*a):
    print("[history]", *a, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, limit=10.0):
    end = time.time() + limit
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def start(cmd, out, port):
    p = subprocess.Popen(cmd, stdout=open(out, "w"), stderr=subprocess.STDOUT)
    started.append(p)
    wait_port(port)
    return p


def stop(p):
    if p and p.poll() is None:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def build(daemon_too):
    subprocess.run(["cmake", "-S", ROOT, "-B", BUILD, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                    "-DRPD_BUILD_TESTS=OFF", "-DRPD_BUILD_BENCH=ON"], check=True, stdout=subprocess.DEVNULL)
    targets = ["history_bench"] + (["redis-push-daemon"] if daemon_too else [])
    subprocess.run(["cmake", "--build", BUILD, "--target"] + targets + ["-j2"], check=True)


class Setup:
    """A private redis-server holding the stream and a daemon on it."""

    def __init__(self, rundir, entries):
        self.dir, self.entries = rundir, entries
        self.redis_port, self.port = free_port(), free_port()

    def cli(self, *args):
        return subprocess.run(["redis-cli", "-p", str(self.redis_port)] + [str(a) for a in args],
                              capture_output=True, text=True, check=True).stdout

    def __enter__(self):
        self.redis = start(["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                            "--save", "", "--appendonly", "no", "--dir", self.dir],
                           os.path.join(self.dir, "redis.out"), self.redis_port)
        # Ids <i>-1 so that fetch i can start after <i*spread>-1; fields like a small event.
        chunk = 100000
        for first in range(1, self.entries + 1, chunk):
            last = min(self.entries, first + chunk - 1)
            self.cli("EVAL", "for i=tonumber(ARGV[1]),tonumber(ARGV[2]) do redis.call('XADD', KEYS[1], "
                     "i .. '-1', 'kind', 'order', 'n', i, 'user', 'u' .. (i % 1000)) end return 1",
                     1, "RA_S_h", first, last)
        conf = os.path.join(self.dir, "daemon.json")
        json.dump({"http": {"address": "127.0.0.1", "port": self.port, "max_connections": 19900},
                   "redis": {"host": "127.0.0.1", "port": self.redis_port, "subscriber_connections": 4},
                   "history": {"accept_timeout_seconds": 60}, "log": {"level": "warn"}}, open(conf, "w"))
        self.daemon = start([DAEMON, "--config", conf], os.path.join(self.dir, "daemon.out"), self.port)
        return self

    def __exit__(self, *exc):
        stop(self.daemon)
        stop(self.redis)


def tool(*args, timeout=900):
    r = subprocess.run([TOOL] + [str(a) for a in args], capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"history_bench {args[0]} failed: {r.stderr[-2000:]}")
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--entries", type=int, default=1000000)
    ap.add_argument("--fetches", type=int, default=100)
    ap.add_argument("--fetch-seconds", type=int, default=30)
    ap.add_argument("--accept-ms", type=int, default=5)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--daemon", help="a Release daemon binary to use instead of build-bench's")
    a = ap.parse_args()
    global DAEMON
    if a.daemon:
        DAEMON = os.path.abspath(a.daemon)
    if not a.no_build:
        build(not a.daemon)
    os.makedirs(os.path.join(ROOT, "run"), exist_ok=True)
    rundir = tempfile.mkdtemp(prefix="history-", dir=os.path.join(ROOT, "run"))
    pages, fetches = [], []
    try:
        for i in range(a.runs):
            d = os.path.join(rundir, f"run{i}")
            os.makedirs(d)
            with Setup(d, a.entries) as s:
                p = tool("pages", "--port", s.port, "--redis-port", s.redis_port, "--key", "RA_S_h",
                         "--name", "h", "--limit", 1000)
                log(f"pages run {i + 1}: raw {p['raw_entries_per_s']:.0f}/s, daemon "
                    f"{p['daemon_entries_per_s']:.0f}/s, ratio {p['ratio']:.3f}")
                pages.append(p)
                f = tool("fetch", "--port", s.port, "--name", "h", "--fetches", a.fetches, "--seconds",
                         a.fetch_seconds, "--accept-ms", a.accept_ms, "--pid", s.daemon.pid, "--spread",
                         a.entries // a.fetches)
                log(f"fetch run {i + 1}: {f['rows']} rows, RSS {f['rss_min_kb']}..{f['rss_max_kb']} KB "
                    f"(spread {100 * f['rss_spread']:.2f} %), ended early: {f['ended']}")
                fetches.append(f)
    finally:
        for p in started:
            stop(p)
    med = statistics.median
    summary = {
        "entries": a.entries, "runs": a.runs,
        "pages_raw_entries_per_s": med(p["raw_entries_per_s"] for p in pages),
        "pages_daemon_entries_per_s": med(p["daemon_entries_per_s"] for p in pages),
        "pages_ratio": med(p["ratio"] for p in pages),
        "fetch_rows_per_s": med(f["rows"] / a.fetch_seconds for f in fetches),
        "fetch_rss_min_kb": med(f["rss_min_kb"] for f in fetches),
        "fetch_rss_max_kb": med(f["rss_max_kb"] for f in fetches),
        "fetch_rss_spread": med(f["rss_spread"] for f in fetches),
        "pages": pages, "fetch": fetches,
    }
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    json.dump(summary, open(os.path.join(ROOT, "bench", "results", "history.json"), "w"), indent=1)
    print(json.dumps({k: v for k, v in summary.items() if k not in ("pages", "fetch")}, indent=1))


if __name__ == "__main__":
    main()
