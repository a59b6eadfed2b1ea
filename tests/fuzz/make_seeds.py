#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/<target>/ (committed; run
again after changing the seeds here). File names are the seeds' SHA-1, as
libFuzzer names its own units, so re-running is idempotent."""
import hashlib
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, seeds):
    folder = os.path.join(HERE, "corpus", target)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for seed in seeds:
        if isinstance(seed, str):
            seed = seed.encode("utf-8", "surrogateescape")
        name = hashlib.sha1(seed).hexdigest()
        with open(os.path.join(folder, name), "wb") as f:
            f.write(seed)
    print(f"{target}: {len(set(seeds))} seeds")


# ---- router: byte 0 = method (bits 0-1) and validator (bits 2-3) ----------
GET, HEAD, OPTIONS, OTHER = 0, 1, 2, 3
FAST, SLOW, UUID, DOTTED = 0, 4, 8, 12
router_targets = [
    "/task/abc123", "/task/abc123?watch", "/task/abc123?poll", "/task/abc123?",
    "/task/abc?foo", "/task/abc?watch=1", "/task/abc?watch&watch", "/task/",
    "/task", "/task/a/b", "/task/a.b", "/task/%41", "/task/..", "/task/.",
    "/task/" + "a" * 32, "/task/" + "a" * 33, "/healthz", "/healthz?x", "/metrics",
    "/", "/index.html", "/task/abc_DEF_09", "/task/12345678-1234-1234-1234-123456789abc",
    "/task/report.v2.final", "/task/\u00e9t\u00e9", "/task/ab\udcffc", "*", "http://x/task/abc",
    "/task/abc#frag", "/task/abc?watch#x", "/TASK/abc", "//task/abc",
]
router_seeds = []
for i, t in enumerate(router_targets):
    for m in (GET, HEAD, OPTIONS, OTHER):
        v = (FAST, SLOW, UUID, DOTTED)[i % 4]
        if m == GET or i % 3 == 0:
            router_seeds.append(bytes([0x40 | m | v]) + t.encode("utf-8", "surrogateescape"))
write("router", router_seeds)

# ---- config: the text of a config file ------------------------------------
with open(os.path.join(HERE, "..", "..", "config", "push.json"), "rb") as f:
    full = f.read()
doc = json.loads(full)


def variant(**sections):
    d = json.loads(full)
    for sec, kv in sections.items():
        if kv is None:
            del d[sec]
        else:
            d.setdefault(sec, {}).update(kv)
    return json.dumps(d, separators=(",", ":"))


config_seeds = [
    full, "{}", "", "[]", "null", "1", "{\"http\":{}}", "{\"http\":1}", "{\"nope\":{}}",
    "{\"redis\":{\"prot\":1}}", "{\"http\":{\"port\":0}}", "{\"http\":{\"port\":65536}}",
    "{\"http\":{\"port\":\"8888\"}}", "{\"http\":{\"port\":8888.0}}",
    "{\"http\":{\"port\":-1}}", "{\"http\":{\"port\":18446744073709551615}}",
    "{\"http\":{\"address\":\"::1\"}}", "{\"http\":{\"address\":\"localhost\"}}",
    "{\"http\":{\"address\":\"0.0.0.0\",\"port\":80}}",
    "{\"http\":{\"cors_origins\":[\"*\"]}}", "{\"http\":{\"cors_origins\":[1]}}",
    "{\"http\":{\"cors_origins\":\"*\"}}", "{\"http\":{\"always_200\":true}}",
    "{\"http\":{\"always_200\":1}}", "{\"redis\":{\"host\":\"\"}}",
    "{\"redis\":{\"unix_socket\":\"/run/redis.sock\",\"db\":3}}",
    "{\"redis\":{\"db\":2147483648}}", "{\"redis\":{\"subscriber_connections\":257}}",
    "{\"task\":{\"id_pattern\":\"^[a-f0-9-]{36}$\",\"max_id_length\":36}}",
    "{\"task\":{\"id_pattern\":\"([a-z]+\"}}", "{\"task\":{\"id_pattern\":\"a{2,1}\"}}",
    "{\"task\":{\"id_pattern\":\"(a|b)*c\"}}", "{\"task\":{\"max_id_length\":1025}}",
    "{\"watch\":{\"keepalive_seconds\":0,\"timeout_seconds\":604800}}",
    "{\"log\":{\"level\":\"debug\",\"file\":\"/var/log/x.log\"}}",
    "{\"log\":{\"level\":\"verbose\"}}", "{\"http\":{\"port\":1},\"http\":{\"port\":2}}",
    "{\"http\":{\"port\":1", "{\"http\":{\"port\":1}} trailing", "\ufeff{}",
    "{\"redis\":{\"password\":\"s\\u00e9cr\\u0000et\"}}", "{\"http\":{\"static_dir\":\"www\"}}",
    variant(log=None, watch=None),
    variant(http={"max_header_bytes": 1023}), variant(http={"max_header_bytes": 1048576}),
    variant(redis={"connect_timeout_ms": 600001}), variant(http={"idle_timeout_seconds": 86400}),
]
write("config", config_seeds)

# ---- message: a channel message or a data key's value ----------------------
message_seeds = [
    '{"status":"done"}', '{"status":"update"}', '{"status":"update","data":{"progress":50}}',
    '{"status":"done","data":{"url":"/r.pdf"}}', '{"status":"done","data":null}',
    '{"status":"update","data":[1,2,3]}', '{"status":"update","data":"text"}',
    '{"status":"kill","src":"0f8a2c3e-1b2d-4e5f-8a9b-0c1d2e3f4a5b"}', '{"status":"kill"}',
    '{"status":"kill","src":42}', '{"status":"running","progress":10}', '{"status":1}',
    '{"status":null}', '{"status":["done"]}', '{"status":{"x":"done"}}', '{}', '[]',
    '[{"status":"done"}]', '"done"', 'null', 'true', '42', '-1.5e10', '', ' ', 'done',
    '{"status":"done"', '{"status":"done"} x', '{"status":"done","status":"update"}',
    '{"status":"update","status":1}', '{"data":1,"data":null,"status":"update"}',
    '{"a":{"status":"done"},"status":"update"}', '{"status":"d\\u006fne"}',
    '{"status":"done\\u0000"}', '{"st\\u0061tus":"done"}', '{"status":"\udcff"}',
    '{"status":"update","data":{"nested":{"deep":[[[[{}]]]]}}}', '\ufeff{"status":"done"}',
    '{"status":"done","result":42,"url":"/reports/abc123.pdf"}', '[' * 64 + ']' * 64,
    '{"status":"kill","src":"a","src":null}', '{"status":"update","data":1e400}',
    '{"status":"done"}\0junk', '{"status":"do\0ne"}',
]
write("message", message_seeds)

# ---- session: byte 0 = flags, then the client's bytes, 0x1E = next write ----
REDIS_UP, ALWAYS_200, CORS, SMALL_HEAD, STATIC = 1, 2, 4, 8, 16
CLOSE, SHUTDOWN, ABORT, TASKS_SHUTDOWN = 0, 32, 64, 96
ANY_ORIGIN = 128
SEP = "\x1e"
session_seeds = [
    (0, "GET /task/abc HTTP/1.1\r\nHost: x\r\n\r\n"),
    (0, "GET /task/abc?watch HTTP/1.1\r\nHost: x\r\n\r\n"),
    (0, "HEAD /task/abc?watch HTTP/1.1\r\n\r\n"),
    (0, "GET /task/abc?poll HTTP/1.1\r\n\r\nGET /task/abc?watch HTTP/1.1\r\n\r\n"),
    (0, "GET /task/a.b HTTP/1.1\r\n\r\n"),
    (0, "GET /task/abc?foo HTTP/1.1\r\n\r\n"),
    (0, "DELETE /task/abc HTTP/1.1\r\n\r\n"),
    (0, "PUT /healthz HTTP/1.1\r\n\r\n"),
    (REDIS_UP, "GET /healthz HTTP/1.1\r\n\r\nHEAD /healthz HTTP/1.1\r\n\r\n"),
    (0, "GET /metrics HTTP/1.1\r\n\r\n"),
    (0, "GET /nope HTTP/1.1\r\n\r\n"),
    (0, "GET /task/abc HTTP/1.0\r\n\r\n"),
    (0, "GET /task/abc HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /healthz HTTP/1.0\r\n\r\n"),
    (0, "GET /task/abc HTTP/1.1\r\nConnection: close\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n"),
    (0, "GET /task/abc HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"),
    (0, "POST /task/abc HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
    (0, "GET /task/abc HTTP/1.1\r\nHo" + SEP + "st: x\r\n" + SEP + "\r\n"),
    (0, "G" + SEP + "ET /ta" + SEP + "sk/abc?wa" + SEP + "tch HTTP/1.1\r\n\r\n"),
    (0, "GET /task/abc HTTP/1.1\r\n\r\n" + SEP + "GET /task/def?watch HTTP/1.1\r\n\r\n"),
    (SHUTDOWN, "GET /task/abc HTTP/1.1\r\n\r\nGET /task/ab"),
    (ABORT, "GET /task/abc?watch HTTP/1.1\r\n\r\n"),
    (TASKS_SHUTDOWN, "GET /task/abc?watch HTTP/1.1\r\n\r\n"),
    (ALWAYS_200, "GET /task/abc HTTP/1.1\r\n\r\nGET /task/a.b HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n"),
    (CORS, "OPTIONS /task/abc?watch HTTP/1.1\r\nOrigin: https://app.example\r\n"
           "Access-Control-Request-Method: GET\r\n"
           "Access-Control-Request-Headers: X-Requested-With\r\n\r\n"),
    (CORS, "GET /task/abc HTTP/1.1\r\nOrigin: https://app.example\r\n\r\n"),
    (CORS, "GET /task/abc HTTP/1.1\r\nOrigin: https://evil.example\r\n\r\n"),
    (ANY_ORIGIN, "OPTIONS /task/x HTTP/1.1\r\nOrigin: null\r\n"
                 "Access-Control-Request-Headers: a,\r\n b\r\n\r\n"),
    (ANY_ORIGIN, "GET /task/abc HTTP/1.1\r\nOrigin: https://a\r\n folded\r\n\r\n"),
    (SMALL_HEAD, "GET /task/abc HTTP/1.1\r\nX-Big: " + "a" * 1100 + "\r\n\r\n"),
    (0, "GET /task/abc HTTP/1.1\r\nX-Big: " + "a" * 2000 + SEP + "b" * 2000 + "\r\n\r\n"),
    (STATIC, "GET / HTTP/1.1\r\n\r\nGET /app.js HTTP/1.1\r\n\r\nHEAD /index.html HTTP/1.1\r\n\r\n"),
    (STATIC, "GET /sub/data.json?x=1 HTTP/1.1\r\n\r\nGET /sub/ HTTP/1.1\r\n\r\n"),
    (STATIC, "GET /../secret.txt HTTP/1.1\r\n\r\nGET /.hidden HTTP/1.1\r\n\r\n"
             "GET /%2e%2e/secret.txt HTTP/1.1\r\n\r\nGET //etc/passwd HTTP/1.1\r\n\r\n"),
    (STATIC, "GET /sub/..\\secret.txt HTTP/1.1\r\n\r\nPOST /index.html HTTP/1.1\r\n\r\n"),
    (0, "GARBAGE\r\n\r\n"),
    (0, "GET /task/abc HTTP/2.0\r\n\r\n"),
    (0, "GET /task/abc HTTP/1.1\n\n"),
    (0, "\r\n\r\nGET /task/abc HTTP/1.1\r\n\r\n"),
    (0, "GET  /task/abc HTTP/1.1\r\n\r\n"),
    (0, "GET /task/abc HTTP/1.1\r\nHost: x\r\nHost: y\r\nBad Header\r\n\r\n"),
    (0, "GET /task/abc HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
    (0, "GET /task/abc HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n"),
    (0, "CONNECT x:443 HTTP/1.1\r\n\r\n"),
    (0, "GET * HTTP/1.1\r\n\r\nOPTIONS * HTTP/1.1\r\n\r\n"),
    (0, "GET http://x/task/abc HTTP/1.1\r\n\r\n"),
    (0, "GET /task/abc HTTP/1.1\r\n\r\n" * 5),
    (REDIS_UP | ALWAYS_200 | CORS | STATIC, "GET /task/abc?watch HTTP/1.1\r\nOrigin: https://app.example\r\n\r\n"
                                            "GET / HTTP/1.1\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n"),
]
write("session", [bytes([f]) + s.encode("latin-1") for f, s in session_seeds])

# ---- ws_message: byte 0 = flags (fuzz_ws_message.cpp), then messages cut at 0x1E --
import base64
import hmac

WS_OFF, WS_SIGNED, WS_PUBLISH, WS_FEW, WS_POLL = 1, 2, 4, 8, 16
WS_SECRET = b"fuzz-secret"


def ws_sig(data, size):
    mac = hmac.new(WS_SECRET, data.encode(), hashlib.sha256).digest()[:size]
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def ws(*messages):
    return SEP.join(json.dumps(m, separators=(",", ":")) if not isinstance(m, str) else m
                    for m in messages)


signed = "orders." + ws_sig("stream:orders", 8)
token = ws_sig("publish:orders", 32)
ws_message_seeds = [
    (0, ws({"type": "subscribe", "stream": "orders", "offset": "$", "id": 1})),
    (WS_POLL, ws({"type": "subscribe", "stream": "orders", "offset": "0", "id": "a"},
                 {"type": "unsubscribe", "stream": "orders", "id": "b"})),
    (WS_POLL, ws({"type": "subscribe", "stream": "orders", "offset": "1700000000000-3"},
                 {"type": "subscribe", "stream": "orders"})),
    (0, ws({"type": "subscribe", "stream": "orders", "offset": 0},
           {"type": "subscribe", "stream": "x", "offset": "-1"},
           {"type": "subscribe", "stream": "y", "offset": "1-2-3"},
           {"type": "subscribe", "stream": "z", "offset": "18446744073709551616"})),
    (0, ws({"type": "subscribe", "stream": "orders", "group": "g", "consumer": "c", "start": "0",
            "id": [1, 2]},
           {"type": "subscribe", "stream": "o2", "group": "g"},
           {"type": "subscribe", "stream": "o3", "group": "", "consumer": "c"})),
    (WS_FEW, ws({"type": "subscribe", "stream": "a"}, {"type": "subscribe", "stream": "b"},
                {"type": "subscribe", "stream": "c", "id": None})),
    (WS_PUBLISH, ws({"type": "publish", "stream": "orders", "fields": {"a": 1, "b": "x",
                                                                      "c": {"d": [1]}},
                     "maxlen": 10, "id": 7})),
    (WS_PUBLISH, ws({"type": "publish", "stream": "orders", "fields": [1]},
                    {"type": "publish", "stream": "orders", "fields": {}, "maxlen": -1},
                    {"type": "publish", "stream": "orders", "fields": {}, "maxlen": 1.5})),
    (0, ws({"type": "publish", "stream": "orders", "fields": {"a": 1}})),
    (WS_SIGNED | WS_PUBLISH, ws({"type": "publish", "stream": signed, "fields": {"a": 1},
                                 "token": token},
                                {"type": "publish", "stream": signed, "fields": {"a": 1},
                                 "token": "bad"},
                                {"type": "subscribe", "stream": signed},
                                {"type": "subscribe", "stream": "orders"},
                                {"type": "subscribe", "stream": "orders.AAAAAAAAAAA"})),
    (WS_POLL, ws({"type": "ack", "stream": "orders", "group": "g", "offsets": ["1-1", "2"],
                  "id": {"k": "v"}},
                 {"type": "ack", "stream": "orders", "group": "g", "offsets": []},
                 {"type": "ack", "stream": "orders", "group": "g", "offsets": [1]},
                 {"type": "ack", "stream": "orders", "offsets": ["1-1"]})),
    (WS_OFF, ws({"type": "subscribe", "stream": "orders", "id": 1},
                {"type": "unsubscribe", "stream": "orders"})),
    (0, ws({"type": "unsubscribe", "stream": "nope"}, {"type": "fetch", "stream": "orders"},
           {"event": "identify", "queue": "me"}, {"type": 1}, {"id": 3}, {})),
    (0, ws("not json", "[1,2]", "\"s\"", "null", "{", "{\"type\":\"subscribe\"", "",
           "{\"type\":\"subscribe\",\"stream\":\"a\"} trailing", "\xff\xfe",
           "{\"type\":\"subscribe\",\"stream\":\"\\u00e9\"}",
           "{\"type\":\"subscribe\",\"stream\":\"a\u0000b\"}")),
    (0, ws({"type": "subscribe", "stream": "a/b:c@d.e-f_g"},
           {"type": "subscribe", "stream": "a" * 201},
           {"type": "subscribe", "stream": "%41"},
           {"type": "subscribe", "stream": ""})),
    (WS_POLL, ws({"type": "subscribe", "stream": "s", "offset": "$", "id": 1.5},
                 {"type": "subscribe", "stream": "s", "id": -0.0},
                 {"type": "unsubscribe", "stream": "s", "id": 1e300})),
]
write("ws_message", [bytes([f]) + s.encode("utf-8", "surrogateescape") for f, s in ws_message_seeds])
