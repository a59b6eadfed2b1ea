// What every browser test needs besides the browser: free loopback ports,
// waiting on a condition with a deadline, child processes (redis-server,
// the daemon) that are stopped by PID and logged into the artifacts
// folder, and a plain HTTP GET.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

export async function waitFor(what, pred, timeoutMs = 10000, everyMs = 50) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try { if (await pred()) return; } catch {}
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function httpGet(port, target, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: target, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

// The processes a test started; each logs to <artifacts>/<logPrefix><name>.log
// and is killed if the test process exits first.
export function processes(artifacts, logPrefix = "") {
  const children = new Set();
  process.on("exit", () => { for (const c of children) try { c.kill("SIGKILL"); } catch {} });

  function start(name, argv, opts = {}) {
    const log = fs.openSync(path.join(artifacts, `${logPrefix}${name}.log`), "a");
    const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", log, log], ...opts });
    fs.closeSync(log);
    children.add(child);
    child.exited = new Promise((resolve) => child.on("exit", (code, sig) => { children.delete(child); resolve(code ?? 128 + os.constants.signals[sig]); }));
    return child;
  }

  async function stop(child, sig = "SIGTERM", timeoutMs = 10000) {
    if (!children.has(child)) return child.exited;
    child.kill(sig);
    const code = await Promise.race([child.exited, sleep(timeoutMs).then(() => "timeout")]);
    if (code === "timeout") { child.kill("SIGKILL"); await child.exited; throw new Error(`pid ${child.pid} ignored ${sig}`); }
    return code;
  }

  async function stopAll() {
    for (const c of [...children]) await stop(c).catch(() => {});
  }

  return { start, stop, stopAll, running: (child) => children.has(child) };
}
