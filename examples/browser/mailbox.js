// The script of mailbox.html: one identity's alerts over WebSocket
// (identify, then one raw frame per alert; "replaced" when another socket
// identified as the same identity). See the comment at the top of
// mailbox.html for what the page does.
"use strict";
(() => {
  const params = new URLSearchParams(location.search);
  const base = (params.get("base") || "").replace(/\/$/, "");
  const wsPath = params.get("path") || "/ws";
  const $ = (id) => document.getElementById(id);

  // Everything the page saw, for the console and for tests.
  const inbox = {
    identity: null,
    frames: [],     // every alert frame's text as it arrived, in order
    alerts: [],     // the alerts (parsed JSON, or the text when it is not JSON)
    errors: [],     // error events other than "replaced"
    replaced: false,
    opens: 0,       // WebSocket objects the page created
    socket: null,
  };
  window.inbox = inbox;

  function status(text, cls = "") { $("status").textContent = text; $("status").className = cls; }
  function log(text, cls = "") {
    const p = document.createElement("div");
    p.textContent = `${new Date().toLocaleTimeString()} ${text}`;
    p.className = cls;
    $("log").prepend(p);
  }

  function show(alert, text) {
    inbox.alerts.push(alert);
    $("count").textContent = String(inbox.alerts.length);
    const li = document.createElement("li");
    if (alert && typeof alert === "object" && !Array.isArray(alert)) {
      const level = document.createElement("span");
      level.className = `level ${String(alert.level || "info").toLowerCase()}`;
      level.textContent = alert.level || "alert";
      li.append(level);
      const rest = Object.entries(alert).filter(([k]) => k !== "level");
      const main = alert.text ?? alert.message ?? alert.title;
      li.append(main !== undefined ? String(main)
                                   : rest.map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`).join(", "));
    } else {
      li.textContent = text;
    }
    $("alerts").append(li);
  }

  function onReplaced() {
    inbox.replaced = true;
    status("replaced", "error");
    const div = document.createElement("div");
    div.className = "replaced";
    div.id = "replaced";
    div.textContent = "replaced: this identity was opened in another tab or browser; alerts go there now. " +
                      "Connect to take over again.";
    $("notices").replaceChildren(div);
  }

  function connect(identity) {
    if (inbox.socket) {
      const old = inbox.socket;
      inbox.socket = null; // its close event must not reconnect
      old.close();
    }
    inbox.identity = identity;
    inbox.replaced = false;
    $("notices").replaceChildren();
    $("who").textContent = identity;
    const url = base ? `${base.replace(/^http/, "ws")}${wsPath}`
                     : `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${wsPath}`;
    status("connecting");
    const socket = new WebSocket(url);
    inbox.socket = socket;
    inbox.opens++;
    socket.addEventListener("open", () => {
      socket.send(JSON.stringify({ event: "identify", queue: identity }));
      status("identified", "identified");
    });
    socket.addEventListener("message", (e) => {
      if (inbox.socket !== socket) return;
      let frame = e.data;
      try { frame = JSON.parse(e.data); } catch {}
      if (frame && typeof frame === "object" && frame.event === "error") {
        if (frame.error === "replaced") return onReplaced();
        inbox.errors.push(frame);
        log(`error: ${frame.error}`, "problem");
        return;
      }
      inbox.frames.push(e.data);
      show(frame, e.data);
    });
    socket.addEventListener("close", (e) => {
      if (inbox.socket !== socket) return;
      if (inbox.replaced) { status("replaced (closed)", "error"); return; }
      status(`closed (${e.code}); reconnecting in 1 s`, "error");
      setTimeout(() => { if (inbox.socket === socket) connect(identity); }, 1000);
    });
  }
  inbox.connect = connect;

  $("connect").addEventListener("submit", (e) => {
    e.preventDefault();
    const identity = $("identity").value.trim();
    if (identity) connect(identity);
  });

  const given = params.get("identity");
  if (given) {
    $("identity").value = given;
    connect(given);
  }
})();
