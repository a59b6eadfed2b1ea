// End-to-end test of examples/browser in headless Debian Chromium:
// redis-server + redis-push-daemon + examples/worker/worker.sh + the page.
//
//   node demo.test.mjs --daemon PATH [--serve daemon|node] [--artifacts DIR] [--demo-png PATH]
//
// --serve daemon (default): the daemon serves examples/browser itself
//   (http.static_dir); --serve node: a small static server on a second
//   loopback port serves it and the daemon allows that origin
//   (http.cors_origins). The cross-origin case always uses the second way.
// --artifacts: where screenshots and logs go (default tests/artifacts/browser).
// --demo-png: also copy the screenshot of the first case there (docs/demo.png).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { freePort, httpGet, processes, sleep, waitFor } from "./harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const pageDir = path.join(root, "examples/browser");
const worker = path.join(root, "examples/worker/worker.sh");

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const daemonBin = path.resolve(arg("--daemon", process.env.RPD_DAEMON_BIN || path.join(root, "build/release/src/redis-push-daemon")));
const serveMode = arg("--serve", "daemon");
const artifacts = path.resolve(arg("--artifacts", path.join(root, "tests/artifacts/browser")));
const demoPng = arg("--demo-png", "");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
if (!["daemon", "node"].includes(serveMode)) throw new Error(`--serve must be daemon or node, not ${serveMode}`);
if (!fs.existsSync(daemonBin)) throw new Error(`no daemon binary at ${daemonBin} (pass --daemon PATH)`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rpd-browser-"));
fs.mkdirSync(artifacts, { recursive: true });
const { start, stop, stopAll, running } = processes(artifacts);

// ---- redis ---------------------------------------------------------------
let redisPort;
let redis;
const redisCli = (...args) => execFileSync("redis-cli", ["-h", "127.0.0.1", "-p", String(redisPort), ...args], { encoding: "utf8" }).trim();

// ---- daemon --------------------------------------------------------------
let daemonRuns = 0;
function writeConfig(port, extra = {}) {
  const cfg = {
    http: { address: "127.0.0.1", port, ...(extra.http || {}) },
    redis: { host: "127.0.0.1", port: redisPort },
    watch: { keepalive_seconds: 1, ...(extra.watch || {}) },
    log: { level: "info" },
  };
  const file = path.join(tmp, `push-${port}.json`);
  fs.writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}
async function startDaemon(config, port) {
  const d = start(`daemon-${port}-${++daemonRuns}`, [daemonBin, "--config", config]);
  await waitFor(`daemon on port ${port} healthy`, async () => {
    if (!running(d)) throw new Error("daemon exited");
    return (await httpGet(port, "/healthz")).status === 200;
  }, 15000);
  return d;
}

// ---- static server for the page on a second origin ------------------------
const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css", ".png": "image/png" };
function staticServer(port) {
  const srv = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url, "http://x").pathname).replace(/^\/+/, "") || "index.html";
    const file = path.join(pageDir, rel);
    if (!file.startsWith(pageDir + path.sep) || !fs.existsSync(file)) { res.writeHead(404); return res.end("not found"); }
    res.writeHead(200, { "Content-Type": types[path.extname(file)] || "application/octet-stream" });
    res.end(fs.readFileSync(file));
  });
  return new Promise((resolve) => srv.listen(port, "127.0.0.1", () => resolve(srv)));
}

// ---- browser -------------------------------------------------------------
let context;
async function openPage(url) {
  const page = await context.newPage();
  page.on("console", (m) => fs.appendFileSync(path.join(artifacts, "console.log"), `[${m.type()}] ${m.text()}\n`));
  page.on("pageerror", (e) => fs.appendFileSync(path.join(artifacts, "console.log"), `[pageerror] ${e.message}\n`));
  await page.goto(url);
  // Every text #status showed, however briefly.
  await page.evaluate(() => {
    const el = document.getElementById("status");
    window.statusLog = [el.textContent];
    new MutationObserver(() => window.statusLog.push(el.textContent))
      .observe(el, { childList: true, characterData: true, subtree: true });
  });
  return page;
}
const statusLog = (page) => page.evaluate(() => window.statusLog);
const statusOf = (page) => page.textContent("#status");
const percentOf = async (page) => Number(await page.getAttribute("#bar", "aria-valuenow"));

// Collects every distinct progress value the page shows until it says done.
async function followToDone(page, timeoutMs) {
  const seen = [];
  await waitFor("the page to show done", async () => {
    const p = await percentOf(page);
    if (seen[seen.length - 1] !== p) seen.push(p);
    return (await statusOf(page)) === "done";
  }, timeoutMs, 40);
  return seen;
}

function runWorker(id, { delay = 0.3, step = 10 } = {}) {
  return start(`worker-${id}`, [worker, "-h", "127.0.0.1", "-p", String(redisPort), "-d", String(delay), "-k", String(step), id]);
}

// ---- fixtures --------------------------------------------------------------
let pageServer;
let pagePort;
let daemonPort;
let daemon;
let pageUrl; // page URL without the query

function daemonExtra() {
  return serveMode === "daemon"
    ? { http: { static_dir: pageDir } }
    : { http: { cors_origins: [`http://127.0.0.1:${pagePort}`] } };
}

before(async () => {
  redisPort = await freePort();
  redis = start("redis", ["redis-server", "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp]);
  await waitFor("redis-server", () => redisCli("PING") === "PONG");

  pagePort = await freePort();
  pageServer = await staticServer(pagePort);
  daemonPort = await freePort();
  daemon = await startDaemon(writeConfig(daemonPort, daemonExtra()), daemonPort);
  pageUrl = serveMode === "daemon"
    ? `http://127.0.0.1:${daemonPort}/`
    : `http://127.0.0.1:${pagePort}/index.html`;
  const base = serveMode === "daemon" ? "" : `&base=http://127.0.0.1:${daemonPort}`;
  pageUrl = { url: pageUrl, base };

  context = await chromium.launchPersistentContext(path.join(tmp, "chromium-profile"), {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 900, height: 480 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  if (context) await context.close().catch(() => {});
  if (pageServer) pageServer.close();
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const taskUrl = (id) => `${pageUrl.url}?task=${id}${pageUrl.base}`;

test(`the bar reaches 100 % and the page says done (page served by ${serveMode})`, { timeout: 60000 }, async () => {
  if (serveMode === "daemon") {
    const r = await httpGet(daemonPort, "/redis-push.js");
    assert.equal(r.status, 200, "static_dir serves redis-push.js");
    assert.match(r.headers["content-type"] || "", /javascript/);
  }
  redisCli("SET", "RA_D_demo1", '{"status":"queued","progress":0}');
  const page = await openPage(taskUrl("demo1"));
  await waitFor("the page to watch", async () => (await statusOf(page)) === "watching demo1");
  const w = runWorker("demo1", { delay: 0.4 });
  const seen = await followToDone(page, 30000);
  assert.equal(await w.exited, 0, "worker exit status");
  assert.equal(await percentOf(page), 100);
  assert.equal(await page.textContent("#percent"), "100 %");
  const steps = seen.filter((p) => p > 0 && p < 100);
  assert.ok(steps.length >= 3, `the page showed intermediate progress, saw ${JSON.stringify(seen)}`);
  await waitFor("the bar's animation to end", () => page.evaluate(() =>
    document.getElementById("fill").offsetWidth === document.getElementById("bar").clientWidth));
  const shot = path.join(artifacts, "demo-done.png");
  await page.screenshot({ path: shot });
  if (demoPng) fs.copyFileSync(shot, path.resolve(demoPng));
  await page.close();
});

test("the daemon restarts mid-task and the page still reaches 100 %", { timeout: 90000 }, async () => {
  redisCli("SET", "RA_D_demo2", '{"status":"queued","progress":0}');
  const page = await openPage(taskUrl("demo2"));
  await waitFor("the page to watch", async () => (await statusOf(page)) === "watching demo2");
  const w = runWorker("demo2", { delay: 0.5 });
  await waitFor("progress 30 %", async () => (await percentOf(page)) >= 30, 20000);

  assert.equal(await stop(daemon, "SIGTERM"), 0, "daemon exit status on SIGTERM");
  await waitFor("the page to retry", async () => (await statusLog(page)).some((t) => t.startsWith("reconnecting")), 5000);
  const downAt = await percentOf(page);
  await sleep(1200); // the worker keeps publishing while no daemon runs
  daemon = await startDaemon(writeConfig(daemonPort, daemonExtra()), daemonPort);

  const seen = await followToDone(page, 40000);
  assert.equal(await w.exited, 0, "worker exit status");
  assert.equal(await percentOf(page), 100);
  assert.ok(downAt < 100, `the task was still running when the daemon stopped (${downAt} %)`);
  await page.screenshot({ path: path.join(artifacts, "restart-done.png") });
  fs.writeFileSync(path.join(artifacts, "restart-progress.json"), JSON.stringify({ downAt, seen }));
  await page.close();
});

test("a page on another origin (CORS) outlives watch timeouts and reaches done", { timeout: 60000 }, async () => {
  // A second daemon that serves no files, allows the static server's
  // origin and ends every watch after 1 s.
  const port = await freePort();
  const d = await startDaemon(writeConfig(port, {
    http: { cors_origins: [`http://127.0.0.1:${pagePort}`] },
    watch: { timeout_seconds: 1 },
  }), port);
  try {
    redisCli("SET", "RA_D_demo3", '{"status":"queued","progress":0}');
    const page = await openPage(`http://127.0.0.1:${pagePort}/index.html?task=demo3&base=http://127.0.0.1:${port}`);
    await waitFor("the page to watch", async () => (await statusOf(page)) === "watching demo3");
    await waitFor("two watch timeouts", async () =>
      (await statusLog(page)).filter((t) => /Watch timed out/.test(t)).length >= 2, 10000);
    const w = runWorker("demo3", { delay: 0.2, step: 25 });
    await followToDone(page, 30000);
    assert.equal(await w.exited, 0);
    assert.equal(await percentOf(page), 100);
    await page.close();
  } finally {
    assert.equal(await stop(d), 0, "second daemon exit status on SIGTERM");
  }
});

test("a second watcher takes the task over and the page says so", { timeout: 60000 }, async () => {
  redisCli("SET", "RA_D_demo4", '{"status":"running","progress":50}');
  const page = await openPage(taskUrl("demo4"));
  await waitFor("the page to watch", async () => (await statusOf(page)) === "watching demo4");
  await waitFor("progress 50 %", async () => (await percentOf(page)) === 50);
  await waitFor("the page's watch to be established", async () =>
    /^redis_push_watches_active 1$/m.test((await httpGet(daemonPort, "/metrics")).body));
  const other = httpGet(daemonPort, "/task/demo4?watch", 30000); // a watcher elsewhere
  await waitFor("the page to give up", async () => /another watcher/.test(await statusOf(page)), 10000);
  // The page stopped: it does not come back and kill the other watcher.
  await sleep(1500);
  assert.match(await statusOf(page), /another watcher took this task over/);
  redisCli("SET", "RA_D_demo4", '{"status":"done","progress":100}');
  redisCli("PUBLISH", "RA_SC_demo4", '{"status":"done"}');
  const r = await other;
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body), { status: "done", progress: 100 }, "the other watcher was not killed");
  await page.screenshot({ path: path.join(artifacts, "killed.png") });
  await page.close();
});
