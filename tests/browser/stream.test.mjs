// Streams in headless Debian Chromium: the browser's own EventSource and
// WebSocket (examples/browser/stream.html) against the real daemon and
// redis-server (MODES.md 3 and 4): live messages in order and each once,
// EventSource's own reconnection with Last-Event-ID across a daemon
// restart, the gap notice after MAXLEN trimmed past the stored offset, and
// the WebSocket subscribe / messages / publish / error frames.
//
//   node stream.test.mjs --daemon PATH [--artifacts DIR]
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { freePort, httpGet, processes, waitFor } from "./harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const pageDir = path.join(root, "examples/browser");

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const daemonBin = path.resolve(arg("--daemon", process.env.RPD_DAEMON_BIN || path.join(root, "build/release/src/redis-push-daemon")));
const artifacts = path.resolve(arg("--artifacts", path.join(root, "tests/artifacts/browser")));
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
if (!fs.existsSync(daemonBin)) throw new Error(`no daemon binary at ${daemonBin} (pass --daemon PATH)`);

// Short, so that EventSource's reconnection after the daemon's restart
// comes well within the deadlines below.
const retryMs = 200;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rpd-browser-stream-"));
fs.mkdirSync(artifacts, { recursive: true });
const consoleLog = path.join(artifacts, "stream-console.log");
const { start, stop, stopAll, running } = processes(artifacts, "stream-");

let redisPort;
const redisCli = (...args) => execFileSync("redis-cli", ["-h", "127.0.0.1", "-p", String(redisPort), ...args], { encoding: "utf8" }).trim();
const key = (name) => `RA_S_${name}`;
// XADD <key> * field value ...; returns the new offset.
const xadd = (name, ...fields) => redisCli("XADD", key(name), "*", ...fields);

let daemonPort;
let daemonConfig;
let daemon;
let context;

async function startDaemon() {
  const d = start("daemon", [daemonBin, "--config", daemonConfig]);
  await waitFor(`daemon on port ${daemonPort} healthy`, async () => {
    if (!running(d)) throw new Error("daemon exited");
    return (await httpGet(daemonPort, "/healthz")).status === 200;
  }, 15000);
  return d;
}

before(async () => {
  redisPort = await freePort();
  start("redis", ["redis-server", "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp]);
  await waitFor("redis-server", () => redisCli("PING") === "PONG");

  daemonPort = await freePort();
  daemonConfig = path.join(tmp, "push.json");
  fs.writeFileSync(daemonConfig, JSON.stringify({
    http: { address: "127.0.0.1", port: daemonPort, static_dir: pageDir },
    redis: { host: "127.0.0.1", port: redisPort },
    sse: { retry_ms: retryMs, keepalive_seconds: 1 },
    stream: { allow_publish: true },
    log: { level: "info" },
  }, null, 2));
  daemon = await startDaemon();

  context = await chromium.launchPersistentContext(path.join(tmp, "chromium-profile"), {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 900, height: 720 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  if (context) await context.close().catch(() => {});
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

// A page with its /stream/ requests (URL and headers, failed or not) and
// its WebSocket frames (parsed JSON, or the raw text) recorded.
async function openPage(query) {
  const page = await context.newPage();
  page.on("console", (m) => fs.appendFileSync(consoleLog, `[${m.type()}] ${m.text()}\n`));
  page.on("pageerror", (e) => fs.appendFileSync(consoleLog, `[pageerror] ${e.message}\n`));
  page.streamRequests = [];
  page.failedRequests = [];
  page.on("request", (r) => {
    if (!/\/stream\//.test(r.url())) return;
    const entry = { url: r.url(), method: r.method(), headers: r.headers() };
    page.streamRequests.push(entry);
    r.allHeaders().then((h) => (entry.headers = h), () => {});
  });
  page.on("requestfailed", (r) => { if (/\/stream\//.test(r.url())) page.failedRequests.push(r.url()); });
  page.wsSent = [];
  page.wsReceived = [];
  const parse = (p) => { try { return JSON.parse(p); } catch { return p; } };
  page.on("websocket", (ws) => {
    ws.on("framesent", (f) => page.wsSent.push(parse(f.payload)));
    ws.on("framereceived", (f) => page.wsReceived.push(parse(f.payload)));
  });
  await page.goto(`http://127.0.0.1:${daemonPort}/stream.html?${query}`);
  return page;
}

const feedOf = (page) => page.evaluate(() => {
  const f = window.feed;
  return { received: f.received, shown: f.shown, duplicates: f.duplicates, gaps: f.gaps, errors: f.errors,
           opens: f.opens, last: f.last, status: document.getElementById("status").textContent };
});

// Waits until pred(feed) holds; the failure says what the page had then.
async function waitForFeed(page, what, pred, timeoutMs = 10000) {
  let seen;
  try {
    await waitFor(what, async () => pred((seen = await feedOf(page))), timeoutMs);
  } catch (e) {
    throw new Error(`${e.message}; the page had ${JSON.stringify(seen)}`);
  }
  return seen;
}
const waitForShown = (page, n, what, timeoutMs) => waitForFeed(page, what, (f) => f.shown.length >= n, timeoutMs);
const waitForLive = (page) => waitForFeed(page, "the page live", (f) => f.status === "live");

test("EventSource receives the messages XADDed after it opened, in order, each exactly once", { timeout: 60000 }, async () => {
  const name = "live1";
  xadd(name, "text", "before the page"); // not for a page that starts at $
  const page = await openPage(`stream=${name}`);
  await waitForLive(page);

  const ids = [xadd(name, "text", "hello", "n", "42", "obj", '{"a":[1,2]}')];
  for (let i = 1; i < 5; i++) ids.push(xadd(name, "i", String(i)));
  // A burst of 20 in one pipeline.
  const burst = Array.from({ length: 20 }, (_, i) => `XADD ${key(name)} * i ${5 + i}`).join("\n") + "\n";
  ids.push(...execFileSync("redis-cli", ["-h", "127.0.0.1", "-p", String(redisPort)], { input: burst, encoding: "utf8" }).trim().split("\n"));
  assert.equal(ids.length, 25);

  const f = await waitForShown(page, ids.length, "25 messages");
  assert.deepEqual(f.received.map((m) => m.offset), ids, "every message once, in order, nothing older");
  assert.equal(f.duplicates, 0);
  assert.deepEqual(f.received[0], { offset: ids[0], text: "hello", n: 42, obj: { a: [1, 2] } }, "redistribute's message shape");
  for (let i = 1; i < 25; i++) assert.deepEqual(f.received[i], { offset: ids[i], i }, `message ${i}`);
  assert.equal(f.opens, 1);
  assert.equal(await page.evaluate(() => sessionStorage.getItem("rpd-stream-offset:live1")), ids.at(-1), "the last offset kept");
  assert.equal(await page.locator("#messages li").count(), 25);
  assert.equal(await page.textContent("#last"), ids.at(-1));
  const req = page.streamRequests[0];
  assert.equal(req.url, `http://127.0.0.1:${daemonPort}/stream/${name}`, "a first visit opens at $ (no ?after)");
  assert.match(req.headers.accept ?? "", /text\/event-stream/);
  await page.screenshot({ path: path.join(artifacts, "stream-sse-live.png") });
  await page.close();
});

test("EventSource reconnects by itself after a daemon restart and resumes with Last-Event-ID: every message once, in order", { timeout: 90000 }, async () => {
  const name = "resume1";
  const page = await openPage(`stream=${name}`);
  await waitForLive(page);
  const ids = [1, 2, 3].map((i) => xadd(name, "i", String(i)));
  await waitForShown(page, 3, "the first three");

  await stop(daemon); // SIGTERM: the daemon ends the SSE response
  await waitForFeed(page, "EventSource reconnecting", (f) => f.status === "reconnecting");
  for (let i = 4; i <= 8; i++) ids.push(xadd(name, "i", String(i)));
  // The browser retries (and fails) while the daemon is down.
  await waitFor("a failed reconnection attempt", () => page.failedRequests.length >= 1, 10000);
  const requestsBefore = page.streamRequests.length;

  daemon = await startDaemon();
  let f = await waitForShown(page, 8, "the five published while the daemon was down", 15000);
  for (let i = 9; i <= 10; i++) ids.push(xadd(name, "i", String(i)));
  f = await waitForShown(page, 10, "two live after the reconnection");

  assert.deepEqual(f.received.map((m) => m.offset), ids, "every message exactly once, in order");
  assert.deepEqual(f.received.map((m) => m.i), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(f.duplicates, 0);
  assert.equal(f.opens, 1, "the page's one EventSource reconnected by itself");
  const later = page.streamRequests.slice(1);
  assert.ok(later.length >= 1, "reconnection requests");
  for (const r of later)
    assert.equal(r.headers["last-event-id"], ids[2], `${r.url} resumes after the last id received`);
  assert.ok(page.streamRequests.length > requestsBefore, "a request after the restart");
  await page.screenshot({ path: path.join(artifacts, "stream-sse-resumed.png") });
  await page.close();
});

test("a reload resumes with ?after=<stored offset>; trimmed past it, the page shows the gap notice with the first offset left", { timeout: 60000 }, async () => {
  const name = "gap1";
  const page = await openPage(`stream=${name}`);
  await waitForLive(page);
  const first = [1, 2, 3].map((i) => xadd(name, "i", String(i)));
  await waitForShown(page, 3, "the first three");

  // Away (the page's EventSource closed), one message; the reload resumes
  // after the stored offset: that one and nothing else, no gap.
  await page.evaluate(() => window.feed.source.close());
  const m4 = xadd(name, "i", "4");
  await page.reload();
  let f = await waitForShown(page, 1, "the message published while away");
  assert.equal(page.streamRequests.at(-1).url, `http://127.0.0.1:${daemonPort}/stream/${name}?after=${first[2]}`);
  assert.deepEqual(f.received.map((m) => m.offset), [m4]);
  assert.deepEqual(f.gaps, []);

  // Away again; five more with MAXLEN 2 trim everything up to the fourth
  // of them, past the stored offset m4.
  await page.evaluate(() => window.feed.source.close());
  const trimmed = [5, 6, 7, 8, 9].map((i) => redisCli("XADD", key(name), "MAXLEN", "2", "*", "i", String(i)));
  assert.equal(redisCli("XLEN", key(name)), "2");
  await page.reload();
  f = await waitForFeed(page, "the gap notice", (f) => f.gaps.length >= 1);
  assert.equal(page.streamRequests.at(-1).url, `http://127.0.0.1:${daemonPort}/stream/${name}?after=${m4}`);
  assert.deepEqual(f.gaps, [trimmed[3]], "gap.first is the first offset still in the stream");
  f = await waitForShown(page, 2, "the two left after the gap");
  assert.deepEqual(f.received.map((m) => m.offset), trimmed.slice(3));
  const notice = page.locator(".gap");
  assert.equal(await notice.count(), 1);
  assert.ok(await notice.isVisible());
  assert.match(await notice.textContent(), new RegExp(trimmed[3].replace("-", "\\-")));
  await page.screenshot({ path: path.join(artifacts, "stream-gap.png") });
  await page.close();
});

test("WebSocket: subscribe with an offset replays then goes live, a publish from the page comes back, an invalid frame gets an error frame and the socket stays usable", { timeout: 60000 }, async () => {
  const name = "ws1";
  const ids = [1, 2, 3].map((i) => xadd(name, "i", String(i)));
  const page = await openPage(`stream=${name}&transport=ws&after=${ids[0]}`);
  let f = await waitForShown(page, 2, "the replay after the given offset");
  assert.equal(f.status, "live");
  assert.deepEqual(page.wsSent[0], { type: "subscribe", stream: name, offset: ids[0], id: 1 });
  assert.deepEqual(page.wsReceived[0], { type: "subscribed", stream: name, id: 1 });
  assert.equal(page.wsReceived[1].type, "messages");
  assert.deepEqual(f.received, [{ offset: ids[1], i: 2 }, { offset: ids[2], i: 3 }], "the replay, exclusive of the offset");

  ids.push(xadd(name, "i", "4"));
  f = await waitForShown(page, 3, "a live message");
  assert.deepEqual(f.received[2], { offset: ids[3], i: 4 });

  // Publish through the page's form.
  await page.fill("#text", "from the page");
  await page.click("#publish button");
  f = await waitForShown(page, 4, "the published message back");
  const published = page.wsReceived.find((m) => m.type === "published");
  assert.ok(published, `a published frame: ${JSON.stringify(page.wsReceived)}`);
  assert.equal(published.stream, name);
  assert.deepEqual(f.received[3], { offset: published.offset, text: "from the page" });
  assert.equal(redisCli("XRANGE", key(name), published.offset, published.offset).split("\n").at(-1), "from the page");
  ids.push(published.offset);

  // Invalid frames: not JSON (an error frame without id), an unknown type,
  // a second subscribe to the same stream; the socket stays open.
  await page.evaluate(() => window.feed.socket.send("this is not JSON"));
  f = await waitForFeed(page, "the error frame for invalid JSON", (f) => f.errors.length >= 1);
  assert.equal(f.errors[0].type, "error");
  assert.equal(typeof f.errors[0].error, "string");
  assert.ok(!("id" in f.errors[0]), `no id for unparsable JSON: ${JSON.stringify(f.errors[0])}`);
  await page.evaluate(() => window.feed.socket.send(JSON.stringify({ type: "no such type", id: 77 })));
  f = await waitForFeed(page, "the error frame for an unknown type", (f) => f.errors.length >= 2);
  assert.equal(f.errors[1].type, "error");
  assert.equal(f.errors[1].id, 77);
  await page.evaluate((n) => window.feed.socket.send(JSON.stringify({ type: "subscribe", stream: n, offset: "0", id: 78 })), name);
  f = await waitForFeed(page, "the error frame for a second subscribe", (f) => f.errors.length >= 3);
  assert.equal(f.errors[2].id, 78);
  assert.match(f.errors[2].error, /already subscribed/i);
  assert.equal(await page.evaluate(() => window.feed.socket.readyState), 1, "WebSocket.OPEN");

  // Still usable: live messages and a publish with a non-string field.
  ids.push(xadd(name, "i", "5"));
  const offset = await page.evaluate(() => window.feed.publish({ n: 6, tags: ["a", "b"] }));
  ids.push(offset);
  f = await waitForShown(page, 6, "live and published after the errors");
  assert.deepEqual(f.received.slice(4), [{ offset: ids[4], i: 5 }, { offset, n: 6, tags: ["a", "b"] }]);
  assert.deepEqual(f.received.map((m) => m.offset), ids.slice(1));
  assert.equal(f.duplicates, 0);
  assert.equal(f.opens, 1);
  await page.screenshot({ path: path.join(artifacts, "stream-ws.png") });

  // A reload subscribes again from the stored offset: nothing replayed.
  const sentBefore = page.wsSent.length;
  await page.reload();
  await waitForLive(page);
  assert.deepEqual(page.wsSent[sentBefore], { type: "subscribe", stream: name, offset, id: 1 });
  const m7 = xadd(name, "i", "7");
  f = await waitForShown(page, 1, "a live message after the reload");
  assert.deepEqual(f.received, [{ offset: m7, i: 7 }]);
  await page.close();
});
