// redis-push.js: a small client for redis-push-daemon (no framework).
//
//   const w = RedisPush.watch("abc123", {
//     base: "",                          // daemon origin; "" = the page's own
//     onState(data) {},                  // current task data (poll, every update)
//     onDone(data) {},                   // final data ("status":"done"); stops
//     onKilled() {},                     // another watcher took the task over; stops
//     onRetry(ms, why) {},               // waiting ms before the next attempt
//     onError(err) {},                   // a permanent error (bad id, ...); stops
//   });
//   w.stop();
//
// Bodies may start with keepalive "\n"s: JSON.parse skips them. A task that
// does not exist yet (404) is retried like a network error, with backoff.
(function (global) {
  "use strict";
  const KILLED = "Killed due to another concurrent request for this task";
  const RETRY = new Set(["Watch timed out", "Server shutting down", "Redis unavailable",
                         "Invalid JSON in task data", "Not Found"]);

  function watch(id, opts = {}) {
    const base = (opts.base || "").replace(/\/$/, "");
    const url = `${base}/task/${encodeURIComponent(id)}`;
    const baseDelay = opts.baseDelay ?? 250, maxDelay = opts.maxDelay ?? 8000;
    const noop = () => {};
    const on = { state: opts.onState || noop, done: opts.onDone || noop, killed: opts.onKilled || noop,
                 retry: opts.onRetry || noop, error: opts.onError || noop };
    const ctl = new AbortController();
    let failures = 0;

    const sleep = (ms) => new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      ctl.signal.addEventListener("abort", () => { clearTimeout(t); resolve(); }, { once: true });
    });
    // Exponential backoff with full jitter: random in [0, min(max, base * 2^n)).
    const backoff = (why) => {
      const ms = Math.round(Math.random() * Math.min(maxDelay, baseDelay * 2 ** failures++));
      on.retry(ms, why);
      return sleep(ms);
    };
    const get = async (query) => {
      const res = await fetch(url + query, { cache: "no-store", signal: ctl.signal });
      return JSON.parse(await res.text());
    };

    async function run() {
      let fresh = true; // after a start or an error: poll first to show the current state
      while (!ctl.signal.aborted) {
        let body;
        try {
          if (fresh) {
            body = await get("");
            if (body.status !== "error") { on.state(body); if (body.status === "done") return on.done(body); }
            fresh = false;
          }
          body = await get("?watch");
        } catch (err) {
          if (ctl.signal.aborted) return;
          fresh = true;
          await backoff(`network error: ${err.message}`);
          continue;
        }
        if (body.status === "done") { on.state(body); return on.done(body); }
        if (body.status !== "error") { failures = 0; on.state(body); continue; } // update: watch again at once
        if (body.error_message === KILLED) return on.killed();
        if (!RETRY.has(body.error_message)) return on.error(new Error(body.error_message));
        fresh = true; // timed out, shutting down, Redis away, not created yet: back off, poll, watch
        await backoff(body.error_message);
      }
    }

    run().catch((err) => { if (!ctl.signal.aborted) on.error(err); });
    return { stop: () => ctl.abort() };
  }

  // Progress in percent from a task body: the data key's value
  // ({"status":"running","progress":40}) or a message carrying the answer
  // ({"status":"update","data":{"progress":40}}). null if none.
  function progressOf(body) {
    const d = body && typeof body.data === "object" && body.data !== null ? body.data : body;
    const p = Number(d && d.progress);
    return Number.isFinite(p) ? Math.max(0, Math.min(100, p)) : null;
  }

  global.RedisPush = { watch, progressOf, KILLED };
})(typeof window !== "undefined" ? window : globalThis);
