// Stream history in headless Debian Chromium (examples/browser/history.html)
// against the real daemon and redis-server (MODES.md 3 "History pages",
// "Flow-controlled fetch"): the page walks the pages with `next` until
// `end`, ascending and newest first, with a filter, shows the gap notice
// from X-Stream-Gap, and fetches over the browser's own WebSocket,
// accepting each row, until `end`; an early stop is answered with `end`.
//
//   node history.test.mjs --daemon PATH [--artifacts DIR]
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

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rpd-browser-history-"));
fs.mkdirSync(artifacts, { recursive: true });
const consoleLog = path.join(artifacts, "history-console.log");
const { start, stopAll, running } = processes(artifacts, "history-");

let redisPort;
const redisCli = (...args) => execFileSync("redis-cli", ["-h", "127.0.0.1", "-p", String(redisPort), ...args], { encoding: "utf8" }).trim();
const key = (name) => `RA_S_${name}`;
// n entries i=1..n (kind alternating a / b) in one pipeline; their offsets.
function fill(name, n) {
  const lines = Array.from({ length: n }, (_, i) => `XADD ${key(name)} * i ${i + 1} kind ${i % 2 ? "b" : "a"}`).join("\n") + "\n";
  return execFileSync("redis-cli", ["-h", "127.0.0.1", "-p", String(redisPort)], { input: lines, encoding: "utf8" }).trim().split("\n");
}

let daemonPort;
let context;

before(async () => {
  redisPort = await freePort();
  start("redis", ["redis-server", "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp]);
  await waitFor("redis-server", () => redisCli("PING") === "PONG");
  daemonPort = await freePort();
  const config = path.join(tmp, "push.json");
  fs.writeFileSync(config, JSON.stringify({
    http: { address: "127.0.0.1", port: daemonPort, static_dir: pageDir },
    redis: { host: "127.0.0.1", port: redisPort },
    history: { accept_timeout_seconds: 5 },
    log: { level: "info" },
  }, null, 2));
  const d = start("daemon", [daemonBin, "--config", config]);
  await waitFor(`daemon on port ${daemonPort} healthy`, async () => {
    if (!running(d)) throw new Error("daemon exited");
    return (await httpGet(daemonPort, "/healthz")).status === 200;
  }, 15000);
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

async function openPage(query) {
  const page = await context.newPage();
  page.on("console", (m) => fs.appendFileSync(consoleLog, `[${m.type()}] ${m.text()}\n`));
  page.on("pageerror", (e) => fs.appendFileSync(consoleLog, `[pageerror] ${e.message}\n`));
  page.wsSent = [];
  const parse = (p) => { try { return JSON.parse(p); } catch { return p; } };
  page.on("websocket", (ws) => ws.on("framesent", (f) => page.wsSent.push(parse(f.payload))));
  await page.goto(`http://127.0.0.1:${daemonPort}/history.html?${query}`);
  return page;
}

const stateOf = (page) => page.evaluate(() => {
  const h = window.historyPage;
  return { messages: h.messages, pages: h.pages, gaps: h.gaps, end: h.end, rows: h.rows, fetchEnd: h.fetchEnd,
           pageStatus: document.getElementById("page-status").textContent };
});

async function waitForState(page, what, pred, timeoutMs = 10000) {
  let seen;
  try {
    await waitFor(what, async () => pred((seen = await stateOf(page))), timeoutMs);
  } catch (e) {
    throw new Error(`${e.message}; the page had ${JSON.stringify(seen).slice(0, 2000)}`);
  }
  return seen;
}

// Clicks "Next page" until the page says end; the number of clicks.
async function pageToTheEnd(page) {
  let clicks = 0;
  for (; clicks < 100 && !(await stateOf(page)).end; clicks++) {
    const before = (await stateOf(page)).pages.length;
    await page.click("#next-page");
    await waitForState(page, `page ${before + 1}`, (s) => s.pages.length > before);
  }
  return clicks;
}

test("the page walks the history with next until end, ascending and newest first, and with a filter", { timeout: 60000 }, async () => {
  const ids = fill("pages1", 25);
  let page = await openPage("stream=pages1&limit=10");
  assert.equal(await pageToTheEnd(page), 3);
  let s = await stateOf(page);
  assert.deepEqual(s.messages.map((m) => m.offset), ids, "every entry once, in order");
  assert.deepEqual(s.messages[0], { offset: ids[0], i: 1, kind: "a" });
  assert.deepEqual(s.pages.map((p) => p.end), [false, false, true]);
  assert.deepEqual(s.pages.map((p) => p.next), [ids[9], ids[19], ids[24]]);
  assert.match(s.pageStatus, /end of history/);
  assert.equal(await page.locator("#pages li").count(), 25);
  assert.ok(await page.isDisabled("#next-page"));
  await page.screenshot({ path: path.join(artifacts, "history-pages.png") });
  await page.close();

  page = await openPage("stream=pages1&limit=10&order=desc&where=kind:b");
  await pageToTheEnd(page);
  s = await stateOf(page);
  const bs = ids.filter((_, i) => i % 2 === 1).reverse();
  assert.deepEqual(s.messages.map((m) => m.offset), bs, "newest first, only kind b");
  await page.close();
});

test("a page whose after was trimmed away shows the gap notice", { timeout: 30000 }, async () => {
  const ids = fill("gap1", 10);
  redisCli("XTRIM", key("gap1"), "MAXLEN", "4");
  const page = await openPage(`stream=gap1&limit=3&after=${ids[1]}`);
  await page.click("#next-page");
  const s = await waitForState(page, "the first page", (s) => s.pages.length === 1);
  assert.deepEqual(s.gaps, [ids[6]]);
  assert.deepEqual(s.messages.map((m) => m.offset), ids.slice(6, 9));
  assert.ok(await page.locator(".gap").isVisible());
  await page.close();
});

test("WebSocket fetch: each row accepted, then end; Stop ends a fetch early", { timeout: 60000 }, async () => {
  const ids = fill("fetch1", 30);
  let page = await openPage(`stream=fetch1&after=${ids[4]}&where=kind:a`);
  await page.click("#fetch");
  let s = await waitForState(page, "the fetch's end", (s) => s.fetchEnd !== null);
  assert.deepEqual(s.fetchEnd, { type: "end" });
  const want = ids.slice(5).filter((_, i) => (i + 5) % 2 === 0);
  assert.deepEqual(s.rows.map((r) => r.offset), want, "rows after `after`, filtered, in order");
  assert.deepEqual(page.wsSent[0], { type: "fetch", id: 1, stream: "fetch1", after: ids[4], where: { kind: "a" } });
  const accepts = page.wsSent.filter((f) => f.type === "accepted");
  assert.equal(accepts.length, want.length, "one acceptance per row");
  assert.equal(await page.textContent("#fetch-status"), `end after ${want.length} rows`);
  await page.screenshot({ path: path.join(artifacts, "history-fetch.png") });
  await page.close();

  // Slow acceptance, stopped after the first rows.
  page = await openPage("stream=fetch1&accept_ms=300");
  await page.click("#fetch");
  await waitForState(page, "two rows", (s) => s.rows.length >= 2);
  await page.click("#stop");
  s = await waitForState(page, "the end of the stopped fetch", (s) => s.fetchEnd !== null);
  assert.deepEqual(s.fetchEnd, { type: "end" });
  assert.ok(s.rows.length < 30, `stopped early: ${s.rows.length} rows`);
  await page.close();
});
