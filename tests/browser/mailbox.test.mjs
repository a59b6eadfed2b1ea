// Mailboxes in headless Debian Chromium: the browser's own WebSocket
// (examples/browser/mailbox.html) against the real daemon and redis-server
// (MODES.md 2 and 4), configured the redis-ws-alerts way
// (mailbox.key_prefix "", mailbox.notify_list "watch") and fed by unchanged
// redis-ws-alerts publishers (RPUSH <identity> <json>, RPUSH watch <identity>):
// alerts queued before the page identified and after arrive once each, in
// order, as raw frames; the watch list is consumed back to empty; a second
// page identifying as the same identity makes the first one show "replaced".
//
//   node mailbox.test.mjs --daemon PATH [--artifacts DIR]
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

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rpd-browser-mailbox-"));
fs.mkdirSync(artifacts, { recursive: true });
const consoleLog = path.join(artifacts, "mailbox-console.log");
const { start, stopAll, running } = processes(artifacts, "mailbox-");

let redisPort;
const redisCli = (...args) => execFileSync("redis-cli", ["-h", "127.0.0.1", "-p", String(redisPort), ...args], { encoding: "utf8" }).trim();
// A redis-ws-alerts publisher: the alert onto the identity's own list, then
// the identity onto the well-known watch list.
function publish(identity, alert) {
  const text = typeof alert === "string" ? alert : JSON.stringify(alert);
  redisCli("RPUSH", identity, text);
  redisCli("RPUSH", "watch", identity);
  return text;
}
// Many at once, in one redis-cli pipeline (each alert followed by its doorbell).
function publishBurst(identity, alerts) {
  const texts = alerts.map((a) => JSON.stringify(a));
  const quote = (s) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  const script = texts.map((t) => `RPUSH ${identity} ${quote(t)}\nRPUSH watch ${identity}\n`).join("");
  execFileSync("redis-cli", ["-h", "127.0.0.1", "-p", String(redisPort)], { input: script, encoding: "utf8" });
  return texts;
}
const llen = (key) => Number(redisCli("LLEN", key));

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
    mailbox: { key_prefix: "", notify_list: "watch" },
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

// A page with its WebSocket frames recorded (the raw text, as sent and received).
async function openPage(query = "") {
  const page = await context.newPage();
  page.on("console", (m) => fs.appendFileSync(consoleLog, `[${m.type()}] ${m.text()}\n`));
  page.on("pageerror", (e) => fs.appendFileSync(consoleLog, `[pageerror] ${e.message}\n`));
  page.wsSent = [];
  page.wsReceived = [];
  page.on("websocket", (ws) => {
    ws.on("framesent", (f) => page.wsSent.push(f.payload));
    ws.on("framereceived", (f) => page.wsReceived.push(f.payload));
  });
  await page.goto(`http://127.0.0.1:${daemonPort}/mailbox.html${query ? `?${query}` : ""}`);
  return page;
}

const inboxOf = (page) => page.evaluate(() => {
  const b = window.inbox;
  return { identity: b.identity, frames: b.frames, alerts: b.alerts, errors: b.errors, replaced: b.replaced,
           opens: b.opens, readyState: b.socket ? b.socket.readyState : null,
           status: document.getElementById("status").textContent };
});

// Waits until pred(inbox) holds; the failure says what the page had then.
async function waitForInbox(page, what, pred, timeoutMs = 10000) {
  let seen;
  try {
    await waitFor(what, async () => pred((seen = await inboxOf(page))), timeoutMs);
  } catch (e) {
    throw new Error(`${e.message}; the page had ${JSON.stringify(seen)}`);
  }
  return seen;
}
const waitForAlerts = (page, n, what, timeoutMs) => waitForInbox(page, what, (b) => b.frames.length >= n, timeoutMs);

test("alerts queued before the page identified and after arrive once each, in order, as raw frames; the watch list is consumed", { timeout: 60000 }, async () => {
  const id = "user-42";
  const sent = [];
  // Queued while nobody is connected: they wait in Redis.
  for (let i = 1; i <= 5; i++) sent.push(publish(id, { id: i, level: i === 3 ? "critical" : "warning", text: `queued ${i}` }));
  assert.equal(llen(id), 5);

  const page = await openPage(`identity=${id}`);
  let b = await waitForAlerts(page, 5, "the five queued alerts");
  assert.deepEqual(JSON.parse(page.wsSent[0]), { event: "identify", queue: id }, "the redis-ws-alerts identify");
  assert.equal(b.status, "identified");

  // Live: one at a time, then a burst of 40 in one pipeline, then a non-JSON one.
  for (let i = 6; i <= 10; i++) {
    sent.push(publish(id, { id: i, level: "info", text: `live ${i}` }));
    await waitForAlerts(page, i, `live alert ${i}`);
  }
  sent.push(...publishBurst(id, Array.from({ length: 40 }, (_, k) => ({ id: 11 + k, level: "info", text: `burst ${11 + k}`, tags: ["a", "b"] }))));
  sent.push(publish(id, "plain text, not JSON"));
  b = await waitForAlerts(page, sent.length, `all ${sent.length} alerts`, 15000);

  assert.deepEqual(b.frames, sent, "every alert once, in order, each frame the stored string verbatim");
  assert.deepEqual(page.wsReceived, sent, "nothing else on the wire");
  assert.deepEqual(b.alerts.slice(0, -1).map((a) => a.id), Array.from({ length: 50 }, (_, k) => k + 1));
  assert.equal(b.alerts.at(-1), "plain text, not JSON");
  assert.deepEqual(b.errors, []);
  assert.equal(b.opens, 1);
  assert.equal(await page.locator("#alerts li").count(), sent.length);
  assert.equal(await page.textContent("#count"), String(sent.length));

  // The mailbox was drained and the daemon consumed every doorbell.
  await waitFor("the mailbox list empty", () => llen(id) === 0, 5000);
  await waitFor("LLEN watch back to 0", () => llen("watch") === 0, 5000);
  await page.screenshot({ path: path.join(artifacts, "mailbox-inbox.png") });

  // Alerts for another identity do not reach this page; they wait in Redis.
  publish("someone-else", { text: "not for user-42" });
  await waitFor("that doorbell consumed", () => llen("watch") === 0, 5000);
  const last = publish(id, { id: 52, text: "after the other identity's" });
  b = await waitForAlerts(page, sent.length + 1, "the next own alert");
  assert.deepEqual(b.frames.slice(sent.length), [last], "only its own alert");
  assert.equal(llen("someone-else"), 1, "another identity's alert waits for it");
  await page.close();
});

test("a second page identifying as the same identity: the first shows replaced, its socket stays open, alerts go to the second", { timeout: 60000 }, async () => {
  const id = "ops-team";
  const first = await openPage(`identity=${id}`);
  // No acknowledgement of identify in the protocol: an alert arriving proves it.
  const a1 = publish(id, { level: "info", text: "for the first tab" });
  await waitForAlerts(first, 1, "the first tab's alert");

  // The second tab identifies through the page's form.
  const second = await openPage();
  await second.fill("#identity", id);
  await second.click("#connect button");
  let b1 = await waitForInbox(first, "the first tab replaced", (b) => b.replaced);
  assert.equal(b1.status, "replaced");
  assert.deepEqual(first.wsReceived.map((f) => JSON.parse(f)), [JSON.parse(a1), { event: "error", error: "replaced" }],
    "the replaced notice is the redis-ws-alerts error event");
  const notice = first.locator("#replaced");
  assert.ok(await notice.isVisible());
  assert.match(await notice.textContent(), /replaced/);
  assert.equal(b1.readyState, 1, "the replaced socket stays open (WebSocket.OPEN)");
  await first.screenshot({ path: path.join(artifacts, "mailbox-replaced.png") });

  // New alerts go to the second tab only.
  const a2 = publish(id, { level: "warning", text: "for the second tab" });
  const b2 = await waitForAlerts(second, 1, "the second tab's alert");
  assert.deepEqual(b2.frames, [a2]);
  assert.deepEqual(JSON.parse(second.wsSent[0]), { event: "identify", queue: id });
  b1 = await inboxOf(first);
  assert.deepEqual(b1.frames, [a1], "nothing more for the replaced tab");
  await waitFor("LLEN watch back to 0", () => llen("watch") === 0, 5000);
  assert.equal(llen(id), 0);

  // The first tab takes over again with its Connect button.
  await first.click("#connect button");
  const b2r = await waitForInbox(second, "the second tab replaced", (b) => b.replaced);
  assert.equal(b2r.status, "replaced");
  await waitForInbox(first, "the first tab identified again", (b) => b.status === "identified" && !b.replaced);
  const a3 = publish(id, { level: "info", text: "back to the first tab" });
  b1 = await waitForAlerts(first, 2, "the first tab's next alert");
  assert.deepEqual(b1.frames, [a1, a3]);
  assert.deepEqual((await inboxOf(second)).frames, [a2]);
  await first.close();
  await second.close();
});
