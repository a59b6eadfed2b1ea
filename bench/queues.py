"""The queue workloads of bench/run (issue 11): long-poll queue consumers of
the daemon's queue mode (MODES.md 1: GET /queue/<name>?timeout=N, 200 =
the message, 504 = timed out) against Webdis's BLPOP long-poll
(GET /BLPOP/<key>/<timeout>), both on the same Redis list <prefix>Q_<name>,
driven by `loadgen queue` (bench/loadgen/queue_*.cpp).

    queue_throughput  1,000 consumers on 100 queues, 100,000 messages RPUSHed as fast
                      as a window of 2,000 in flight allows: messages/s until the last
                      was delivered, duplicates, losses (neither delivered nor left in Redis)
    queue_vanish      the same with 10 % of the consumers closing their socket while a
                      request waits (half of them come back 0.5 s later)
    queue_idle        10,000 idle waiters on 10,000 queues: server RSS/PSS per waiter,
                      Redis connections before and with them
    queue_latency     1,000 consumers on 100 queues, 5,000 messages paced at 1,000/s:
                      p50/p99 from RPUSH written to message read

Webdis holds one Redis connection per BLPOP in flight: each of its threads
gets a pool of WEBDIS_POOL connections (bench/peers/webdis.json @POOL@).
Webdis 0.1.9 (Debian 12) speaks only the hixie-76 WebSocket draft, which no
RFC 6455 client (browsers, Beast) can use: no Webdis WebSocket line.
bench/run imports this module and calls setup().
"""
import json
import os
import re
import socket
import statistics
import subprocess
import time

R = None  # the bench/run module (Server, started, wait_quiet, med, ...)
PEERS = ("daemon", "webdis")
NAMES = {"daemon": "redis-push-daemon", "webdis": "Webdis (BLPOP)"}
# Per Webdis thread (2 threads): it opens them all at start. 1,000 consumers
# need 1,000 BLPOPs in flight; its pool hands out connections round robin per
# command, two BLPOPs on one connection queue behind each other, so the pool
# is sized well above the consumers per thread (1,100 x 2 = 2,200 connections).
WEBDIS_POOL = 1100


def setup(run_module):
    global R
    R = run_module
    R.WORKLOADS.update({"queue_throughput": wl_throughput, "queue_vanish": wl_vanish,
                        "queue_idle": wl_idle, "queue_latency": wl_latency})


def config(quick):
    return {"q_consumers": 1000, "q_queues": 100, "q_messages": 20000 if quick else 100000,
            "q_vanish": 0.1, "q_idle": 2000 if quick else 10000, "q_lat_messages": 5000 if quick else 5000,
            "q_lat_rate": 1000, "q_timeout": 30,
            "q_idle_seconds": 5.0 if quick else 10.0}


def targets_of(targets):
    return [t for t in PEERS if t in targets]


def http_get(port, path, timeout=3):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), head.decode("latin-1"), body


def has_queues(port):
    """Does the daemon have the queue mode? HEAD-less probe: GET /queue/<name>?timeout=0
    answers 504 (empty) or 200. Before the mode landed it did not: the daemon is then
    skipped, not failed."""
    try:
        status, head, body = http_get(port, "/queue/bench_probe?timeout=0")
        return status in (200, 504), head.split("\r\n")[0]
    except OSError as e:
        return False, repr(e)


def waiters(srv):
    """Requests the server holds: the daemon's redis_push_queue_waiters gauge, Webdis's
    BLPOPs blocked in Redis. None when the daemon has no such gauge."""
    if srv.kind == "webdis":
        info = srv.redis_cli("INFO", "clients")
        return int(re.search(r"blocked_clients:(\d+)", info).group(1))
    try:
        status, _, body = http_get(srv.port, "/metrics")
    except OSError:
        return None
    m = re.search(rb"^redis_push_queue_waiters(?:\{[^}]*\})? (\d+)", body, re.M)
    return int(m.group(1)) if m else None


def run_loadgen(srv, d, name, *args):
    f = {x: os.path.join(d, name + "." + x) for x in ("json", "err", "ready", "go", "done", "samples")}
    cmd = [R.LOADGEN, "queue", "--target", srv.kind, "--port", srv.port, "--redis-port", srv.redis_port,
           "--ready-file", f["ready"], "--go-file", f["go"], "--done-file", f["done"],
           "--samples-file", f["samples"]] + list(args)
    p = subprocess.Popen([str(c) for c in cmd], stdout=open(f["json"], "w"), stderr=open(f["err"], "w"))
    R.started.append(p)
    return p, f


def wait_file(path, p, limit):
    end = time.time() + limit
    while not os.path.exists(path) and p.poll() is None and time.time() < end:
        time.sleep(0.02)
    return os.path.exists(path)


def wait_waiting(srv, want, limit=60):
    """Until the server holds `want` requests (daemon: its gauge; Webdis: BLPOPs blocked
    in Redis, at most one per pool connection, so: until that number stops growing for
    1 s). Returns the last count seen."""
    end, last, since = time.time() + limit, -1, time.time()
    while time.time() < end:
        n = waiters(srv)
        if n is None:  # no gauge: give the daemon 1 s
            time.sleep(1)
            return None
        if n >= want:
            return n
        if n != last:
            last, since = n, time.time()
        elif n > 0 and time.time() - since >= 1.0 and (srv.kind == "webdis" or n >= 0.98 * want):
            return n  # (daemon: consumers that vanished right after their first request)
        time.sleep(0.05)
    R.log(f"{srv.kind}: only {last} of {want} requests held after {limit} s")
    return last


def gated_run(srv, d, name, args, settle=0.5, idle_s=0.0):
    """Consumers connect and send their first request; once the server holds them,
    server memory and Redis connections are read, then the push starts (go file)."""
    base, rbase = srv.mem_kb(), srv.redis_stats()
    p, f = run_loadgen(srv, d, name, *args)
    if not wait_file(f["ready"], p, 240):
        p.wait(30)
        raise RuntimeError(f"{name}: consumers never ready, see {f['err']}")
    ready = None
    for _ in range(100):  # written whole (rename), but be patient with an older loadgen
        try:
            ready = json.load(open(f["ready"]))
            break
        except ValueError:
            time.sleep(0.02)
    if ready is None:
        raise RuntimeError(f"{name}: unreadable {f['ready']}")
    held_n = wait_waiting(srv, ready["waiting"])
    time.sleep(settle)
    held, rheld = srv.mem_kb(), srv.redis_stats()
    held_n2 = waiters(srv)
    idle = None
    if idle_s:  # CPU of holding them: the daemon re-checks queues with waiters every modes.recheck_ms
        i0, ir0, t0 = srv.cpu_s(), srv.redis_cpu_s(), time.time()
        time.sleep(idle_s)
        wall = time.time() - t0
        idle = {"seconds": wall, "server_cpu_pct": 100 * (srv.cpu_s() - i0) / wall,
                "redis_cpu_pct": 100 * (srv.redis_cpu_s() - ir0) / wall}
    c0, r0 = srv.cpu_s(), srv.redis_cpu_s()
    open(f["go"], "w").close()
    wait_file(f["done"], p, 900)
    c1, r1 = srv.cpu_s(), srv.redis_cpu_s()
    p.wait(120)
    if p.returncode != 0:
        raise RuntimeError(f"{name}: loadgen failed ({p.returncode}), see {f['err']}")
    j = json.load(open(f["json"]))
    n = max(1, j["ready"])
    lat = j["latency_ms"] or {}
    return j, {
        "ready": j["ready"], "failed": j["failed"], "held_by_server": held_n, "held_by_server_settled": held_n2,
        "errors": j["errors_total"], "error_kinds": j["errors"], "pushed": j["pushed"],
        "delivered": j["delivered"], "unique": j["unique"], "duplicates": j["duplicates"], "lost": j["lost"],
        "left_in_redis": j["left_in_redis"], "all_delivered": j["all_delivered"], "stalled": j["stalled"],
        "throughput": j["throughput_per_s"] if j["pushed"] else None, "deliver_s": j["deliver_s"],
        "push_s": j["push_s"], "timeouts": j["timeouts"], "vanished": j["vanish"]["vanished"],
        "vanish": j["vanish"], "p50_ms": lat.get("p50"), "p99_ms": lat.get("p99"), "max_ms": lat.get("max"),
        "connect_s": j["connect_s"],
        "kb_per_waiter_rss": (held["rss_kb"] - base["rss_kb"]) / n,
        "kb_per_waiter_pss": (held["pss_kb"] - base["pss_kb"]) / n,
        "mem_base_kb": base, "mem_held_kb": held,
        "redis_conns_before": rbase["server_connections"], "redis_conns_held": rheld["server_connections"],
        "redis_conns_delta": rheld["server_connections"] - rbase["server_connections"],
        "redis_used_memory_delta": rheld["used_memory"] - rbase["used_memory"],
        "idle_server_cpu_pct": idle and idle["server_cpu_pct"], "idle_redis_cpu_pct": idle and idle["redis_cpu_pct"],
        "server_cpu_s": round(c1 - c0, 3), "redis_cpu_s": round(r1 - r0, 3),
        "loadgen_core_share_push": j["loadgen_core_share_push"], "samples": f["samples"],
        "loadavg": open("/proc/loadavg").read().split()[:3], "loadgen": j}


def each_target(cfg, targets, rundir, label, body):
    """Runs body(srv, d, i) -> result dict, cfg.runs times per target, fresh servers."""
    res = {}
    for t in targets_of(targets):
        res[t] = []
        for i in range(cfg.runs):
            d = os.path.join(rundir, f"{label}-{t}-{i}")
            busy = R.wait_quiet(cfg.wait_quiet)
            with R.Server(t, d, webdis_pool=WEBDIS_POOL) as srv:
                if t == "webdis":  # its pool connects after the port opens: count it whole
                    end = time.time() + 30
                    while srv.redis_stats()["server_connections"] < 2 * WEBDIS_POOL and time.time() < end:
                        time.sleep(0.1)
                if t == "daemon":
                    ok, why = has_queues(srv.port)
                    if not ok:
                        R.log(f"{label}: the daemon has no queue mode yet ({why.strip()}): skipped")
                        res.pop(t)
                        res.setdefault("skipped", {})[t] = f"no queue mode: {why.strip()}"
                        break
                r = body(srv, d, i)
            r["machine_busy_before"] = busy
            res[t].append(r)
    return res


def summary(label, srv, i, r):
    R.log(f"{label} {srv.kind} run {i + 1}: {r['ready']} consumers (server holds {r['held_by_server']}), "
          f"{r['unique']}/{r['pushed']} delivered in {r['deliver_s']:.3f} s = {r['throughput'] or 0:.0f}/s, "
          f"dup {r['duplicates']}, lost {r['lost']}, left in Redis {r['left_in_redis']}, vanished {r['vanish']}, "
          f"timeouts {r['timeouts']}, errors {r['error_kinds']}, p50 {r['p50_ms']} p99 {r['p99_ms']} ms, "
          f"redis conns {r['redis_conns_before']}->{r['redis_conns_held']}, loadavg {r['loadavg']}")


def throughput_body(cfg, label, vanish):
    def body(srv, d, i):
        args = ["--consumers", cfg.q_consumers, "--queues", cfg.q_queues, "--messages", cfg.q_messages,
                "--publish", "burst", "--timeout", cfg.q_timeout, "--stall-seconds", 5, "--seed", i + 1]
        if vanish:
            args += ["--vanish", cfg.q_vanish]
        j, r = gated_run(srv, d, "queue", args)
        summary(label, srv, i, r)
        return r
    return body


def wl_throughput(cfg, targets, rundir):
    return each_target(cfg, targets, rundir, "queue_throughput", throughput_body(cfg, "queue_throughput", False))


def wl_vanish(cfg, targets, rundir):
    return each_target(cfg, targets, rundir, "queue_vanish", throughput_body(cfg, "queue_vanish", True))


def wl_idle(cfg, targets, rundir):
    n = cfg.q_idle

    def body(srv, d, i):
        j, r = gated_run(srv, d, "idle", ["--consumers", n, "--queues", n, "--publish", "none",
                                          "--timeout", 300], settle=3.0, idle_s=cfg.q_idle_seconds)
        R.log(f"queue_idle {srv.kind} run {i + 1}: {r['ready']}/{n} waiting (server holds {r['held_by_server']}, "
              f"{r['held_by_server_settled']} after settling), {r['kb_per_waiter_rss']:.2f} KB RSS "
              f"{r['kb_per_waiter_pss']:.2f} KB PSS per waiter, redis conns {r['redis_conns_before']}->"
              f"{r['redis_conns_held']}, idle CPU % of a core: server {r['idle_server_cpu_pct']:.1f} Redis "
              f"{r['idle_redis_cpu_pct']:.1f}, errors {r['error_kinds']}, loadavg {r['loadavg']}")
        return r
    return each_target(cfg, targets, rundir, "queue_idle", body)


def wl_latency(cfg, targets, rundir):
    def body(srv, d, i):
        j, r = gated_run(srv, d, "latency", ["--consumers", cfg.q_consumers, "--queues", cfg.q_queues,
                                             "--messages", cfg.q_lat_messages, "--publish", "paced",
                                             "--rate", cfg.q_lat_rate, "--timeout", cfg.q_timeout,
                                             "--stall-seconds", 5])
        summary("queue_latency", srv, i, r)
        return r
    return each_target(cfg, targets, rundir, "queue_latency", body)


# ------------------------------------------------------------------ table
def rows_for(name, res, cfg, row, ours):
    """Rows through bench/run's row(metric, key, peer, target, met, fmt), peer Webdis."""
    med = R.med
    skipped = res.get("skipped", {})
    plain = row

    def row(metric, *a, **kw):
        plain(metric + (f" (daemon skipped: {skipped['daemon']})" if "daemon" in skipped else ""), *a, **kw)
    w = "webdis"
    zero = lambda o, r: o == 0  # noqa: E731
    if name in ("queue_throughput", "queue_vanish"):
        n = cfg.q_messages
        what = f"{cfg.q_consumers} consumers, {cfg.q_queues} queues, {n} messages"
        if name == "queue_vanish":
            what += f", {cfg.q_vanish * 100:.0f} % vanish mid-wait"
        row(f"{what}: messages/s until the last delivered", "throughput", w, ">= 2 x Webdis",
            lambda o, r: r is not None and r >= 2.0, "{:.0f}")
        row("delivered (each once)", "unique", w, f"{n}", lambda o, r: o >= n, "{:.0f}")
        row("duplicates", "duplicates", w, "0", zero, "{:.0f}")
        row("lost (neither delivered nor left in Redis)", "lost", w, "0", zero, "{:.0f}")
        row("left in Redis at the end", "left_in_redis", w, fmt="{:.0f}")
        if name == "queue_vanish":
            row("consumers that vanished", "vanished", w, fmt="{:.0f}")
        row("RPUSH-to-client p99 ms (burst: includes queueing)", "p99_ms", w, fmt="{:.1f}")
    elif name == "queue_idle":
        n = cfg.q_idle
        row(f"{n} idle waiters on {n} queues: KB RSS per waiter", "kb_per_waiter_rss", w, "<= 4 KB",
            lambda o, r: o <= 4.0)
        row("KB PSS per waiter", "kb_per_waiter_pss", w, fmt="{:.2f}")
        row("Redis connections before", "redis_conns_before", w, fmt="{:.0f}")
        row(f"Redis connections with {n} waiters", "redis_conns_held", w, "unchanged",
            lambda o, r: med(ours, "redis_conns_delta") == 0, "{:.0f}")
        row("requests held by the server (Webdis: BLPOPs blocked in Redis)", "held_by_server_settled", w, f"{n}",
            lambda o, r: o >= n, "{:.0f}")
        row(f"idle CPU % of a core, server ({cfg.q_idle_seconds:.0f} s)", "idle_server_cpu_pct", w, fmt="{:.1f}")
        row("idle CPU % of a core, Redis", "idle_redis_cpu_pct", w, fmt="{:.1f}")
    elif name == "queue_latency":
        n = cfg.q_lat_messages
        row(f"{cfg.q_consumers} waiting on {cfg.q_queues} queues, {n} RPUSHes @{cfg.q_lat_rate}/s: p50 ms",
            "p50_ms", w, fmt="{:.2f}")
        row("RPUSH-to-client p99 ms", "p99_ms", w, "<= Webdis", lambda o, r: r is not None and r <= 1.0, "{:.2f}")
        row(f"delivered of {n}", "unique", w, f"{n}", lambda o, r: o >= n, "{:.0f}")


def table_md(rows):
    """One line per metric: daemon, Webdis, the ratio daemon/Webdis, target, met."""
    fmtv = R.fmtv
    out = ["| workload | metric | daemon | Webdis | daemon / Webdis | target | met |",
           "|---|---|---:|---:|---:|---|---|"]
    for r in rows:
        met = "" if r["met"] is None else ("yes" if r["met"] else "**no**")
        out.append(f"| {r['workload']} | {r['metric']} | {fmtv(r['ours'], r['fmt'])} | {fmtv(r['peer'], r['fmt'])} | "
                   f"{fmtv(r['ratio'], '{:.2f}')} | {r['target'] or ''} | {met} |")
    return "\n".join(out)


# ------------------------------------------------------------------ plots
def plots(allres, cfg):
    med = R.med
    items = []
    for w in ("queue_throughput", "queue_vanish"):
        r = allres.get(w)
        if r:
            short = {"daemon": "daemon", "webdis": "Webdis BLPOP"}
            items += [(short[t] + (" (10 % vanish)" if w == "queue_vanish" else ""), med(r[t], "throughput"))
                      for t in PEERS if t in r]
    if items:
        R.bars("queue-throughput", f"Queue throughput: {cfg.q_consumers} consumers, {cfg.q_queues} queues, "
               f"{cfg.q_messages} messages (median)", "messages per second", items)
    r = allres.get("queue_latency")
    if r:
        R.cdf("queue-latency", f"RPUSH to waiting client, {cfg.q_lat_messages} messages at {cfg.q_lat_rate}/s "
              "(median run)", "ms from RPUSH written to message read",
              [(t, (R.median_run(r[t], "p99_ms") or {}).get("samples")) for t in PEERS if t in r], 0)
