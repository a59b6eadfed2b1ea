// The script of history.html: pages through a stream's history over HTTP
// and fetches it row by row over WebSocket, accepting each row. See the
// comment at the top of history.html.
"use strict";
(() => {
  const params = new URLSearchParams(location.search);
  const name = params.get("stream") || "news";
  const limit = params.get("limit") || "10";
  const desc = params.get("order") === "desc";
  const where = params.getAll("where");
  const acceptMs = Number(params.get("accept_ms") || 0);
  const base = (params.get("base") || "").replace(/\/$/, "");
  const $ = (id) => document.getElementById(id);

  // Everything the page saw, for the console and for tests.
  const history = {
    name,
    pages: [],      // every page body as it came
    messages: [],   // the pages' messages, in page order
    gaps: [],       // X-Stream-Gap values
    next: params.get("after"),
    end: false,
    rows: [],       // fetched rows' messages, in order
    frames: [],     // every frame the fetch socket received
    fetchEnd: null, // "end", "timeout", "error" (with .error) once the fetch is over
    socket: null,
  };
  window.historyPage = history;
  $("stream").textContent = name;

  function show(list, m) {
    const li = document.createElement("li");
    const code = document.createElement("code");
    code.textContent = m.offset;
    li.append(code, JSON.stringify(Object.fromEntries(Object.entries(m).filter(([k]) => k !== "offset"))));
    $(list).append(li);
  }

  // One page: ascending after `next`, or newest first before it.
  async function nextPage() {
    const q = new URLSearchParams({ limit });
    if (desc) {
      if (history.next) q.set("before", history.next); else q.set("order", "desc");
    } else if (history.next) {
      q.set("after", history.next);
    }
    for (const w of where) q.append("where", w);
    const res = await fetch(`${base}/stream/${encodeURIComponent(name)}/history?${q}`);
    const body = await res.json();
    if (!res.ok) {
      $("page-status").textContent = `error ${res.status}: ${body.error_message}`;
      $("page-status").className = "problem";
      return body;
    }
    const gap = res.headers.get("X-Stream-Gap");
    if (gap) {
      history.gaps.push(gap);
      const n = document.createElement("div");
      n.className = "gap";
      n.textContent = `Entries after ${history.next} were trimmed away; the history goes on at ${gap}.`;
      $("notices").append(n);
    }
    history.pages.push(body);
    for (const m of body.messages) { history.messages.push(m); show("pages", m); }
    if (body.next !== null) history.next = body.next;
    history.end = body.end;
    $("page-status").textContent = body.end
      ? `end of history (${history.messages.length} messages)`
      : `${history.messages.length} messages so far, next after ${history.next}`;
    $("page-status").className = body.end ? "end" : "";
    $("next-page").disabled = body.end;
    return body;
  }
  history.nextPage = nextPage;

  // The flow-controlled fetch: each row is accepted once shown.
  let fetchId = 0;
  function startFetch() {
    const id = ++fetchId;
    const url = (base || location.origin).replace(/^http/, "ws") + "/ws";
    const socket = new WebSocket(url);
    history.socket = socket;
    history.rows = [];
    history.fetchEnd = null;
    $("rows").textContent = "";
    $("stop").disabled = false;
    $("fetch-status").textContent = "fetching";
    socket.onopen = () => {
      const req = { type: "fetch", id, stream: name };
      if (params.get("after")) req.after = params.get("after");
      if (where.length) req.where = Object.fromEntries(where.map((w) => [w.slice(0, w.indexOf(":")), w.slice(w.indexOf(":") + 1)]));
      socket.send(JSON.stringify(req));
    };
    socket.onmessage = (e) => {
      const f = JSON.parse(e.data);
      history.frames.push(f);
      if (f.id !== id) return;
      if (f.type === "row") {
        history.rows.push(f.message);
        show("rows", f.message);
        $("fetch-status").textContent = `${history.rows.length} rows`;
        setTimeout(() => socket.send(JSON.stringify({ type: "accepted", id })), acceptMs);
        return;
      }
      history.fetchEnd = f.type === "error" ? { type: "error", error: f.error } : { type: f.type };
      $("fetch-status").textContent = f.type === "error" ? `error: ${f.error}` : `${f.type} after ${history.rows.length} rows`;
      $("fetch-status").className = f.type === "end" ? "end" : "problem";
      $("stop").disabled = true;
    };
  }
  history.startFetch = startFetch;
  function stopFetch() {
    if (history.socket) history.socket.send(JSON.stringify({ type: "end", id: fetchId }));
  }
  history.stopFetch = stopFetch;

  $("next-page").addEventListener("click", () => nextPage());
  $("fetch").addEventListener("click", () => startFetch());
  $("stop").addEventListener("click", () => stopFetch());
})();
