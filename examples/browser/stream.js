// The script of stream.html: a live feed of one Redis stream over SSE
// (EventSource) or WebSocket, resuming after the last offset it showed.
// See the comment at the top of stream.html for what the page does.
"use strict";
(() => {
  const params = new URLSearchParams(location.search);
  const name = params.get("stream") || "news";
  const transport = params.get("transport") === "ws" ? "ws" : "sse";
  const base = (params.get("base") || "").replace(/\/$/, "");
  const storageKey = `rpd-stream-offset:${name}`;
  const $ = (id) => document.getElementById(id);

  // Everything the page saw, for the console and for tests.
  const feed = {
    name, transport,
    received: [],   // every message as it arrived, duplicates included
    shown: [],      // the messages shown: each offset once, ascending
    duplicates: 0,  // messages that arrived again and were not shown
    gaps: [],       // the "first" of every gap notice
    errors: [],     // error frames (WebSocket) and failed publishes
    opens: 0,       // EventSource / WebSocket objects the page created
    last: null,     // the last offset shown
    source: null, socket: null,
  };
  window.feed = feed;

  // A stream id is "<ms>-<seq>" (or "<ms>"); compares numerically.
  function parseOffset(o) {
    const [ms, seq = "0"] = String(o).split("-");
    return [BigInt(ms), BigInt(seq)];
  }
  function compareOffsets(a, b) {
    const [am, as] = parseOffset(a), [bm, bs] = parseOffset(b);
    return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
  }

  function status(text, cls = "") { $("status").textContent = text; $("status").className = cls; }
  function log(text, cls = "") {
    const p = document.createElement("div");
    p.textContent = `${new Date().toLocaleTimeString()} ${text}`;
    p.className = cls;
    $("log").prepend(p);
  }

  // Where to start: the stored offset (this tab already saw up to there),
  // or ?after= when it is later or nothing is stored.
  function startOffset() {
    let stored = null;
    try { stored = sessionStorage.getItem(storageKey); } catch {}
    const given = params.get("after");
    if (stored && given && given !== "$" && compareOffsets(given, stored) > 0) return given;
    return stored || given || null;
  }
  feed.last = (() => { try { return sessionStorage.getItem(storageKey); } catch { return null; } })();
  if (feed.last) $("last").textContent = feed.last;

  // One message {"offset": ..., <field>: <value>, ...}: shown unless an
  // offset at or before the last one shown (then it is counted, not shown).
  function deliver(message) {
    feed.received.push(message);
    if (feed.last && compareOffsets(message.offset, feed.last) <= 0) {
      feed.duplicates++;
      return;
    }
    feed.shown.push(message);
    feed.last = message.offset;
    try { sessionStorage.setItem(storageKey, message.offset); } catch {}
    $("last").textContent = message.offset;

    const li = document.createElement("li");
    li.dataset.offset = message.offset;
    const code = document.createElement("code");
    code.textContent = message.offset;
    li.append(code);
    const fields = Object.entries(message).filter(([k]) => k !== "offset")
      .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
    li.append(fields.join(", "));
    $("messages").append(li);
  }

  function gap(first) {
    feed.gaps.push(first);
    const div = document.createElement("div");
    div.className = "gap";
    div.textContent = `Messages were lost (trimmed from the stream before this page saw them); ` +
                      `going on with the first one still there, ${first}.`;
    div.dataset.first = first;
    $("notices").append(div);
  }

  // ---- SSE: GET /stream/<name> through the browser's own EventSource ----
  function openSse() {
    const after = startOffset();
    const url = `${base}/stream/${encodeURIComponent(name)}` + (after ? `?after=${encodeURIComponent(after)}` : "");
    status("connecting");
    const source = new EventSource(url);
    feed.source = source;
    feed.opens++;
    source.addEventListener("open", () => status("live", "live"));
    source.addEventListener("message", (e) => deliver(JSON.parse(e.data)));
    source.addEventListener("gap", (e) => gap(JSON.parse(e.data).first));
    source.addEventListener("error", (e) => {
      if (e instanceof MessageEvent) { // an `event: error` from the daemon
        feed.errors.push(e.data);
        log(`daemon: ${e.data}`, "problem");
        return;
      }
      if (source.readyState === EventSource.CLOSED) {
        // Not a stream (404, 503 ...): EventSource gives up; try again
        // later from the stored offset.
        status("closed; opening again in 3 s", "error");
        setTimeout(() => { if (feed.source === source) openSse(); }, 3000);
      } else {
        status("reconnecting", "error"); // EventSource retries by itself, with Last-Event-ID
      }
    });
  }

  // ---- WebSocket: /ws, subscribe / messages / gap / published / error ----
  let nextId = 0;
  const pending = new Map(); // publish id -> {resolve, reject}
  function openWs() {
    const url = base ? `${base.replace(/^http/, "ws")}/ws`
                     : `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
    status("connecting");
    const socket = new WebSocket(url);
    feed.socket = socket;
    feed.opens++;
    socket.addEventListener("open", () => {
      status("subscribing");
      socket.send(JSON.stringify({ type: "subscribe", stream: name, offset: startOffset() || "$", id: ++nextId }));
    });
    socket.addEventListener("message", (e) => {
      let frame;
      try { frame = JSON.parse(e.data); } catch { log(`not JSON: ${e.data}`, "problem"); return; }
      switch (frame.type) {
        case "subscribed": status("live", "live"); break;
        case "messages": frame.messages.forEach(deliver); break;
        case "gap": gap(frame.first); break;
        case "published": settle(frame.id, (p) => p.resolve(frame.offset)); break;
        case "error":
          feed.errors.push(frame);
          log(`error frame: ${frame.error}${frame.id !== undefined ? ` (id ${frame.id})` : ""}`, "problem");
          settle(frame.id, (p) => p.reject(new Error(frame.error)));
          break;
        default: log(`frame: ${e.data}`);
      }
    });
    socket.addEventListener("close", (e) => {
      if (feed.socket !== socket) return;
      status(`closed (${e.code}); reconnecting in 1 s`, "error");
      for (const p of pending.values()) p.reject(new Error("connection closed"));
      pending.clear();
      setTimeout(() => { if (feed.socket === socket) openWs(); }, 1000);
    });
  }
  function settle(id, f) {
    if (id === undefined || !pending.has(id)) return;
    f(pending.get(id));
    pending.delete(id);
  }

  // Publishes one message (an object of fields); resolves with its offset.
  feed.publish = (fields) => {
    if (transport === "ws") {
      const id = ++nextId;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        feed.socket.send(JSON.stringify({ type: "publish", stream: name, fields, id }));
      });
    }
    return fetch(`${base}/stream/${encodeURIComponent(name)}`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(fields),
    }).then(async (r) => {
      const body = await r.json().catch(() => ({}));
      if (r.status !== 201) throw new Error(body.error_message || `HTTP ${r.status}`);
      return body.offset;
    });
  };

  $("publish").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("text").value;
    if (!text) return;
    feed.publish({ text }).then(
      (offset) => { log(`published at ${offset}`); $("text").value = ""; },
      (err) => { if (transport !== "ws") feed.errors.push(String(err.message)); log(`publish failed: ${err.message}`, "problem"); });
  });

  $("stream").textContent = name;
  $("transport").textContent = transport === "ws" ? "WebSocket" : "server-sent events";
  if (transport === "ws") openWs(); else openSse();
})();
