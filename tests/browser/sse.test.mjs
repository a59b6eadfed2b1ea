// A task over server-sent events in headless Debian Chromium: the
// browser's own EventSource (examples/browser/sse.html) against the real
// daemon and redis-server (MODES.md 3 and 6, "Tasks over SSE").
//
//   node sse.test.mjs --daemon PATH [--artifacts DIR]
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { freePort, httpGet, processes, sleep, waitFor } from "./harness.mjs";

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

// Short, so that a page that forgets to close its EventSource on done
// reconnects well within the test's observation window.
const retryMs = 200;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rpd-browser-sse-"));
fs.mkdirSync(artifacts, { recursive: true });
const consoleLog = path.join(artifacts, "sse-console.log");
const { start, stop, stopAll, running } = processes(artifacts, "sse-");

let redisPort;
const redisCli = (...args) => execFileSync("redis-cli", ["-h", "127.0.0.1", "-p", String(redisPort), ...args], { encoding: "utf8" }).trim();

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
    sse: { retry_ms: retryMs, keepalive_seconds: 1 },
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
    viewport: { width: 900, height: 640 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  if (context) await context.close().catch(() => {});
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function openPage(url) {
  const page = await context.newPage();
  page.on("console", (m) => fs.appendFileSync(consoleLog, `[${m.type()}] ${m.text()}\n`));
  page.on("pageerror", (e) => fs.appendFileSync(consoleLog, `[pageerror] ${e.message}\n`));
  page.watchRequests = [];
  page.on("request", (r) => { if (/\/task\/[^/?]+\?watch$/.test(r.url())) page.watchRequests.push(r.url()); });
  await page.goto(url);
  return page;
}
const eventsOf = (page) => page.evaluate(() => window.taskEvents);

// Waits until the page received its n-th state and returns them all; the
// failure message says what the page got instead.
async function waitForEvents(page, n, what) {
  let seen = [];
  try {
    await waitFor(what, async () => (seen = await eventsOf(page)).length >= n, 10000);
  } catch (e) {
    throw new Error(`${e.message}; the page received ${JSON.stringify(seen)}, status "${await page.textContent("#status")}"`);
  }
  return seen;
}

test("EventSource gets the current value, an update, a multi-line value byte for byte and done, then closes", { timeout: 60000 }, async () => {
  const id = "sse1";
  const first = '{"status":"running","progress":0}';
  redisCli("SET", `RA_D_${id}`, first);
  const page = await openPage(`http://127.0.0.1:${daemonPort}/sse.html?task=${id}`);

  let evs = await waitForEvents(page, 1, "the current value");
  assert.deepEqual(evs[0], { type: "update", data: first }, "the first event is the current value");

  const second = '{"status":"running","progress":40}';
  redisCli("SET", `RA_D_${id}`, second);
  redisCli("PUBLISH", `RA_SC_${id}`, '{"status":"update"}');
  evs = await waitForEvents(page, 2, "an update");
  assert.deepEqual(evs[1], { type: "update", data: second });

  // LF line breaks: an empty line inside and one at the end, which a
  // framing that is not one data: line per line would lose or end early on.
  const multi = '{\n  "status": "running",\n\n  "progress": 70,\n  "note": "two\\nlines"\n}\n';
  redisCli("SET", `RA_D_${id}`, multi);
  redisCli("PUBLISH", `RA_SC_${id}`, '{"status":"update"}');
  evs = await waitForEvents(page, 3, "the multi-line value");
  assert.equal(evs[2].type, "update");
  assert.equal(evs[2].data, multi, "the multi-line value rebuilt byte for byte");
  const shown = await page.evaluate(() => document.querySelectorAll("#events pre")[2].textContent);
  assert.equal(shown, multi, "the page shows the value as received");

  const fin = '{"status":"done","progress":100}';
  redisCli("SET", `RA_D_${id}`, fin);
  redisCli("PUBLISH", `RA_SC_${id}`, '{"status":"done"}');
  evs = await waitForEvents(page, 4, "done");
  assert.deepEqual(evs[3], { type: "done", data: fin });
  assert.equal(await page.textContent("#status"), "done");
  assert.equal(await page.evaluate(() => window.taskSource.readyState), 2, "EventSource.CLOSED after done");

  // A page that left the EventSource open would reconnect after retry_ms
  // (200 ms) once the daemon ended the response; ten of those periods is
  // the window in which a reconnection would have shown.
  await sleep(10 * retryMs);
  assert.deepEqual(page.watchRequests, [`http://127.0.0.1:${daemonPort}/task/${id}?watch`], "one watch request, no reconnection after done");
  evs = await eventsOf(page);
  assert.equal(evs.length, 4, `nothing after done: ${JSON.stringify(evs.slice(4))}`);
  await page.screenshot({ path: path.join(artifacts, "sse-done.png") });
  await page.close();
});
