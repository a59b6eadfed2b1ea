"""The stream workloads of bench/run (issue 10): SSE and WebSocket subscribers
of the daemon's stream mode (MODES.md §3, §4) against nginx + Nchan with its
memory backend (nchan_mem) and with its Redis backend (nchan_redis).

    stream_fanout_sse   N SSE subscribers on one stream, 3 publishes one after the other:
                        ms from the publish until every subscriber had it, delivered count
    stream_fanout_ws    the same over WebSocket
    stream_many         N subscribers on N streams (one each), N publishes paced at 1,000/s
                        over them, SSE and WebSocket: p50/p99 publish-to-client latency
    stream_memory       N idle subscribers on N streams, SSE and WebSocket: server RSS/PSS
                        per connection, Redis connections before and after

Publishes carry t = the loadgen's steady_clock ns when written (same machine),
so latency = receive - t. The daemon is published to with XADD RA_S_<name>,
Nchan with POST /pub/<name>. bench/run imports this module and calls setup().
"""
import base64
import os
import socket
import statistics
import time

R = None  # the bench/run module (Server, started, wait_quiet, med, ...)
PEERS = ("daemon", "nchan_mem", "nchan_redis")
NAMES = {"daemon": "redis-push-daemon", "nchan_mem": "Nchan (memory)", "nchan_redis": "Nchan (Redis)"}


def setup(run_module):
    R = run_module
    globals()["R"] = R
    R.NAMES.update(NAMES)
    R.WORKLOADS.update({"stream_fanout_sse": wl_fanout_sse, "stream_fanout_ws": wl_fanout_ws,
                        "stream_many": wl_many, "stream_memory": wl_memory})


def config(quick):
    return {"s_fanout": 2000 if quick else 10000, "s_many": 2000 if quick else 10000,
            "s_memory": 2000 if quick else 10000, "s_rate": 1000, "s_repeats": 3}


def targets_of(targets):
    return [t for t in PEERS if t in targets or (t.startswith("nchan") and "nchan" in targets)]


def recv_until(s, data, token, limit=2.0):
    end = time.time() + limit
    while token not in data and time.time() < end:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def has_streams(port, proto):
    """Does the daemon have the stream mode for this protocol? SSE: GET /stream/<name>
    answers an event stream; WebSocket: /ws upgrades and answers a subscribe with
    "subscribed". (Before the stream mode landed it did not: the daemon is then
    skipped, not failed.)"""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        if proto == "sse":
            s.sendall(b"GET /stream/bench_probe HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
            h = recv_until(s, b"", b"\r\n\r\n").decode("latin-1").lower()
            s.close()
            return h.startswith("http/1.1 200") and "text/event-stream" in h, h.split("\r\n")[0]
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall(f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        data = recv_until(s, b"", b"\r\n\r\n")
        head, _, rest = data.partition(b"\r\n\r\n")
        first = head.decode("latin-1").split("\r\n")[0]
        if b" 101 " not in head.split(b"\r\n")[0]:
            s.close()
            return False, "/ws: " + first
        payload = b'{"type":"subscribe","stream":"bench_probe","offset":"$","id":1}'
        mask = os.urandom(4)
        s.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
        try:
            rest = recv_until(s, rest, b'"subscribed"')
        except OSError:
            pass
        s.close()
        return b'"subscribed"' in rest, "/ws subscribe answered " + repr(rest[:120])
    except OSError as e:
        return False, repr(e)


def run_loadgen(srv, d, name, *args):
    """Starts `loadgen stream` gated by ready/go/done files; returns (proc, paths)."""
    f = {x: os.path.join(d, name + "." + x) for x in ("json", "err", "ready", "go", "done", "samples")}
    cmd = [R.LOADGEN, "stream", "--target", "daemon" if srv.kind == "daemon" else "nchan",
           "--port", srv.port, "--redis-port", srv.redis_port, "--ready-file", f["ready"], "--go-file", f["go"],
           "--done-file", f["done"], "--samples-file", f["samples"]] + list(args)
    import subprocess
    p = subprocess.Popen([str(c) for c in cmd], stdout=open(f["json"], "w"), stderr=open(f["err"], "w"))
    R.started.append(p)
    return p, f


def wait_file(path, p, limit):
    end = time.time() + limit
    while not os.path.exists(path) and p.poll() is None and time.time() < end:
        time.sleep(0.02)
    return os.path.exists(path)


def gated_run(srv, d, name, args, settle=2.0):
    """Server memory and Redis connections before the subscribers, when all are
    established (after `settle` s), the server's CPU over the publish phase."""
    base, rbase = srv.mem_kb(), srv.redis_stats()
    p, f = run_loadgen(srv, d, name, *args)
    if not wait_file(f["ready"], p, 240):
        p.wait(30)
        raise RuntimeError(f"{name}: subscribers never established, see {f['err']}")
    time.sleep(settle)
    held, rheld = srv.mem_kb(), srv.redis_stats()
    c0, r0 = srv.cpu_s(), srv.redis_cpu_s()
    open(f["go"], "w").close()
    wait_file(f["done"], p, 600)
    c1, r1 = srv.cpu_s(), srv.redis_cpu_s()
    p.wait(120)
    if p.returncode != 0:
        raise RuntimeError(f"{name}: loadgen failed ({p.returncode}), see {f['err']}")
    j = R.json.load(open(f["json"]))
    n = max(1, j["established"])
    return j, {
        "established": j["established"], "failed": j["failed"], "errors": j["errors_total"],
        "error_kinds": j["errors"], "delivered": j["delivered"], "expected": j["expected"],
        "missing": j["missing"], "duplicates": j["duplicates"], "all_delivered": j["all_delivered"],
        "p50_ms": (j["latency_ms"] or {}).get("p50"), "p99_ms": (j["latency_ms"] or {}).get("p99"),
        "max_ms": (j["latency_ms"] or {}).get("max"), "connect_s": j["connect"]["seconds"],
        "kb_per_conn_rss": (held["rss_kb"] - base["rss_kb"]) / n,
        "kb_per_conn_pss": (held["pss_kb"] - base["pss_kb"]) / n,
        "mem_base_kb": base, "mem_held_kb": held,
        "redis_conns_before": rbase["server_connections"], "redis_conns_held": rheld["server_connections"],
        "redis_conns_delta": rheld["server_connections"] - rbase["server_connections"],
        "server_cpu_publish_s": round(c1 - c0, 3), "redis_cpu_publish_s": round(r1 - r0, 3),
        "loadgen_core_share_publish": j["loadgen_core_share_publish"], "samples": f["samples"], "loadgen": j}


def each_target(cfg, targets, rundir, label, body, proto):
    """Runs body(srv, d, i) -> result dict, cfg.runs times per target, fresh servers."""
    res = {}
    for t in targets_of(targets):
        res[t] = []
        for i in range(cfg.runs):
            d = os.path.join(rundir, f"{label}-{t}-{i}")
            busy = R.wait_quiet(cfg.wait_quiet)
            with R.Server(t, d) as srv:
                if t == "daemon":
                    ok, why = has_streams(srv.port, proto)
                    if not ok:
                        R.log(f"{label}: the daemon has no stream mode yet ({why.strip()}): skipped")
                        res.pop(t)
                        res.setdefault("skipped", {})[t] = f"no stream mode: {why.strip()}"
                        break
                r = body(srv, d, i)
            r["machine_busy_before"] = busy
            res[t].append(r)
    return res


def fanout(proto):
    def wl(cfg, targets, rundir):
        n = cfg.s_fanout

        def body(srv, d, i):
            j, r = gated_run(srv, d, "fanout", ["--proto", proto, "--count", n, "--streams", 1, "--publish",
                                                 "fanout", "--repeats", cfg.s_repeats, "--deliver-timeout", 20])
            runs = [x["all_delivered_ms"] for x in j["fanout"]]
            ok = [x for x in runs if x is not None]
            r.update({"fanout_ms_each": runs, "fanout_ms_first": runs[0] if runs else None,
                      "fanout_ms": statistics.median(ok) if len(ok) == len(runs) and ok else None,
                      "first_ms": statistics.median([x["first_ms"] for x in j["fanout"] if x["first_ms"]] or [0])})
            R.log(f"stream_fanout_{proto} {srv.kind} run {i + 1}: {r['established']}/{n} subscribed, "
                  f"all delivered in {runs} ms (median {r['fanout_ms']}), delivered {r['delivered']}/"
                  f"{r['expected']}, dup {r['duplicates']}, errors {r['error_kinds']}, "
                  f"{r['kb_per_conn_pss']:.2f} KB/conn PSS, redis conns {r['redis_conns_before']}->"
                  f"{r['redis_conns_held']}, loadgen share {r['loadgen_core_share_publish']:.2f}")
            return r
        return each_target(cfg, targets, rundir, f"stream_fanout_{proto}", body, proto)
    return wl


wl_fanout_sse, wl_fanout_ws = fanout("sse"), fanout("ws")


def per_proto(cfg, targets, rundir, label, body):
    """body(srv, d, i, proto) on a fresh server per protocol (memory an earlier
    protocol's connections left in the allocator must not count), merged per run."""
    parts = {p: each_target(cfg, targets, rundir, f"{label}-{p}", lambda srv, d, i, p=p: body(srv, d, i, p), p)
             for p in ("sse", "ws")}
    res = {}
    for p, r in parts.items():
        for t, runs in r.items():
            if t == "skipped":  # per protocol: the daemon may have SSE before WebSocket
                res.setdefault("skipped", {}).update({f"{k}/{p}": v for k, v in runs.items()})
                continue
            merged = res.setdefault(t, [{} for _ in runs])
            for m, x in zip(merged, runs):
                m.update({k if k == "machine_busy_before" else f"{p}_{k}": v for k, v in x.items()})
    return res


def wl_many(cfg, targets, rundir):
    n = cfg.s_many

    def body(srv, d, i, proto):
        j, r = gated_run(srv, d, "many", ["--proto", proto, "--count", n, "--streams", n, "--publish", "paced",
                                          "--rate", cfg.s_rate, "--publish-count", n, "--deliver-timeout", 10])
        R.log(f"stream_many {proto} {srv.kind} run {i + 1}: {r['established']}/{n} subscribed, p50 "
              f"{r['p50_ms']} p99 {r['p99_ms']} max {r['max_ms']} ms, delivered {r['delivered']}/{r['expected']}"
              f", dup {r['duplicates']}, errors {r['error_kinds']}, redis conns {r['redis_conns_before']}->"
              f"{r['redis_conns_held']}, loadgen share {r['loadgen_core_share_publish']:.2f}")
        return r
    return per_proto(cfg, targets, rundir, "stream_many", body)


def wl_memory(cfg, targets, rundir):
    n = cfg.s_memory

    def body(srv, d, i, proto):
        j, r = gated_run(srv, d, "memory", ["--proto", proto, "--count", n, "--streams", n, "--publish", "none"],
                         settle=3.0)
        R.log(f"stream_memory {proto} {srv.kind} run {i + 1}: {r['established']}/{n} idle, "
              f"{r['kb_per_conn_rss']:.2f} KB RSS {r['kb_per_conn_pss']:.2f} KB PSS per conn, redis conns "
              f"{r['redis_conns_before']}->{r['redis_conns_held']}, errors {r['error_kinds']}")
        return r
    return per_proto(cfg, targets, rundir, "stream_memory", body)


# ------------------------------------------------------------------ table
def rows_for(name, res, cfg, row, ours):
    """Rows through bench/run's row(metric, key, peer, target, met, fmt), once per Nchan variant."""
    med = R.med
    skipped = res.get("skipped", {})
    plain = row

    def row(metric, *a, **kw):  # a skipped daemon is named rather than a silent dash
        key = "daemon/" + metric.split(":")[0].lower() if metric[:3] in ("SSE", "WS:") else "daemon"
        plain(metric + (f" (daemon skipped: {skipped[key]})" if key in skipped else ""), *a, **kw)
    for peer in ("nchan_mem", "nchan_redis"):
        if name.startswith("stream_fanout"):
            n = cfg.s_fanout
            row(f"{n} subscribers, 1 stream: all delivered ms (median of 3 publishes)", "fanout_ms", peer,
                "<= 0.25 x Nchan", lambda o, r: r is not None and r <= 0.25, "{:.1f}")
            row("first publish only: all delivered ms", "fanout_ms_first", peer, fmt="{:.1f}")
            row(f"delivered of {cfg.s_repeats * n}", "delivered", peer, f"{cfg.s_repeats * n}",
                lambda o, r: o >= cfg.s_repeats * n and (med(ours, "duplicates") or 0) == 0, "{:.0f}")
            row("publish-to-client p99 ms", "p99_ms", peer, fmt="{:.1f}")
            row("KB per subscriber (PSS), 1 stream", "kb_per_conn_pss", peer, fmt="{:.2f}")
            row("Redis connections added by the subscribers", "redis_conns_delta", peer, "0",
                lambda o, r: o == 0, "{:.0f}")
        elif name == "stream_many":
            n = cfg.s_many
            for p in ("sse", "ws"):
                row(f"{p.upper()}: {n} streams, {n} publishes @{cfg.s_rate}/s: p50 ms", f"{p}_p50_ms", peer,
                    fmt="{:.2f}")
                row(f"{p.upper()}: p99 ms", f"{p}_p99_ms", peer, "<= Nchan", lambda o, r: r is not None and r <= 1.0,
                    "{:.2f}")
                row(f"{p.upper()}: delivered of {n}", f"{p}_delivered", peer, f"{n}", lambda o, r: o >= n, "{:.0f}")
        elif name == "stream_memory":
            n = cfg.s_memory
            for p in ("sse", "ws"):
                row(f"{p.upper()}: KB per idle subscriber (RSS), {n} on {n} streams", f"{p}_kb_per_conn_rss", peer,
                    "<= 4 KB", lambda o, r: o <= 4.0)
                row(f"{p.upper()}: KB per idle subscriber (PSS)", f"{p}_kb_per_conn_pss", peer, "<= 4 KB",
                    lambda o, r: o <= 4.0)
                row(f"{p.upper()}: Redis connections added by {n} subscribers", f"{p}_redis_conns_delta", peer, "0",
                    lambda o, r: o == 0, "{:.0f}")


# ------------------------------------------------------------------ plots
def plots(allres, cfg):
    med = R.med
    for proto in ("sse", "ws"):
        r = allres.get(f"stream_fanout_{proto}")
        if r:
            R.bars(f"stream-fanout-{proto}", f"{proto.upper()} fan-out: {cfg.s_fanout} subscribers, one publish, "
                   "until all have it (median)", "ms", [(NAMES[t], med(r[t], "fanout_ms")) for t in PEERS if t in r])
    r = allres.get("stream_many")
    if r:
        for proto in ("sse", "ws"):
            R.cdf(f"stream-many-{proto}", f"{proto.upper()}: {cfg.s_many} streams, publishes paced at "
                  f"{cfg.s_rate}/s (median run)", "ms from publish written to message read",
                  [(t, (R.median_run(r[t], f"{proto}_p99_ms") or {}).get(f"{proto}_samples"))
                   for t in PEERS if t in r], 0)
    r = allres.get("stream_memory")
    if r:
        items = []
        for t in PEERS:
            if t in r:
                items += [(NAMES[t] + " SSE", med(r[t], "sse_kb_per_conn_pss")),
                          (NAMES[t] + " WS", med(r[t], "ws_kb_per_conn_pss"))]
        R.bars("stream-memory", f"Memory per idle stream subscriber, {cfg.s_memory} on {cfg.s_memory} streams "
               "(PSS, median)", "KB per subscriber", items)


def table_md(rows):
    """One line per metric: the daemon, both Nchan variants, the ratios daemon/Nchan."""
    fmtv = R.fmtv
    out = ["| workload | metric | daemon | Nchan (memory) | Nchan (Redis) | daemon / Nchan mem | daemon / Nchan Redis "
           "| target | met (mem / Redis) |", "|---|---|---:|---:|---:|---:|---:|---|---|"]
    groups = {}
    for r in rows:
        groups.setdefault((r["workload"], r["metric"]), {})[r["peer_name"]] = r
    for (w, metric), g in groups.items():
        any_r = next(iter(g.values()))
        fmt = any_r["fmt"]
        m, rd = g.get("nchan_mem", {}), g.get("nchan_redis", {})
        met = " / ".join("" if x.get("met") is None else ("yes" if x["met"] else "**no**") for x in (m, rd))
        out.append(f"| {w} | {metric} | {fmtv(any_r['ours'], fmt)} | {fmtv(m.get('peer'), fmt)} | "
                   f"{fmtv(rd.get('peer'), fmt)} | {fmtv(m.get('ratio'), '{:.2f}')} | {fmtv(rd.get('ratio'), '{:.2f}')} | "
                   f"{any_r['target'] or ''} | {met.strip(' /') and met} |")
    return "\n".join(out)
