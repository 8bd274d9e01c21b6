/* drover's dashboard: polls GET /status once a second, follows GET /logs
 * with a streaming fetch (EventSource cannot send an Authorization
 * header), and calls the admin API for the actions. Everything that comes
 * from drover, the apps or their clients is put in the page as text
 * (textContent), never as HTML. The token is kept in this closure only. */
"use strict";

(function () {
  const POLL_MS = 1000;
  const HISTORY = 600;          /* samples kept for the charts: ten minutes */
  const LOG_LINES = 1000;       /* lines kept in the log pane */
  const COLORS = ["#2457c5", "#c2410c", "#15803d", "#7c3aed", "#be185d", "#0e7490", "#a16207", "#4b5563"];

  let token = null;             /* the bearer token, once asked for */
  let polling = false;
  const history = new Map();    /* route -> [{t, rps, p99}] */
  const typeViews = new Map();  /* type -> {root, rows: Map(name -> row)} */
  let logAbort = null;
  let logFilter = "";

  const $ = (id) => document.getElementById(id);

  /* ---- the admin API ---------------------------------------------------- */

  function headers(extra) {
    const h = Object.assign({}, extra || {});
    if (token !== null) h["Authorization"] = "Bearer " + token;
    return h;
  }

  /* {status, body (parsed JSON or null), text} */
  async function call(method, path, body) {
    const init = { method: method, headers: headers(body !== undefined ? { "Content-Type": "application/json" } : {}),
                   cache: "no-store", credentials: "omit" };
    if (body !== undefined) init.body = JSON.stringify(body);
    const r = await fetch(path, init);
    const text = await r.text();
    let doc = null;
    try { doc = JSON.parse(text); } catch (e) { doc = null; }
    return { status: r.status, body: doc, text: text };
  }

  /* ---- small DOM helpers (text only) ----------------------------------- */

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  /* Sets a cell's text only when it changed: no layout work otherwise. */
  function put(cell, text, cls) {
    const s = text === undefined || text === null ? "-" : String(text);
    if (cell.textContent !== s) cell.textContent = s;
    if (cls !== undefined && cell.className !== cls) cell.className = cls;
  }

  function duration(s) {
    if (typeof s !== "number") return "-";
    s = Math.floor(s);
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m" + String(s % 60).padStart(2, "0") + "s";
    if (s < 86400) return Math.floor(s / 3600) + "h" + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + "m";
    return Math.floor(s / 86400) + "d" + Math.floor(s % 86400 / 3600) + "h";
  }

  function bytes(b) {
    if (typeof b !== "number" || b <= 0) return "-";
    if (b < 1024) return b + "B";
    if (b < 1048576) return (b / 1024).toFixed(1) + "K";
    if (b < 1073741824) return (b / 1048576).toFixed(1) + "M";
    return (b / 1073741824).toFixed(1) + "G";
  }

  function ms(v) {
    if (typeof v !== "number") return "-";
    if (v < 10) return v.toFixed(2) + "ms";
    if (v < 1000) return v.toFixed(0) + "ms";
    return (v / 1000).toFixed(1) + "s";
  }

  function rate(v) {
    return typeof v !== "number" ? "-" : v < 100 ? v.toFixed(1) : v.toFixed(0);
  }

  function lastExit(e) {
    if (!e) return "-";
    const how = e.signal ? e.signal : "code " + e.code;
    return how + ", " + duration(e.ago_s) + " ago";
  }

  /* ---- actions ---------------------------------------------------------- */

  async function act(label, method, path, body) {
    const out = $("answer");
    out.textContent = label + " ...";
    try {
      const r = await call(method, path, body);
      out.textContent = new Date().toLocaleTimeString() + "  " + label + "  →  " + r.status + "\n" + r.text;
      out.className = "answer" + (r.status >= 400 ? " bad" : "");
    } catch (e) {
      out.textContent = label + ": " + e;
      out.className = "answer bad";
    }
    poll();
  }

  function scale(type, n) {
    if (!Number.isInteger(n) || n < 0) return;
    const body = {};
    body[type] = n;
    act("scale " + type + "=" + n, "POST", "/scale", body);
  }

  function button(text, action, type, onclick) {
    const b = el("button", "", text);
    b.type = "button";
    b.dataset.action = action;
    b.dataset.type = type;
    b.addEventListener("click", onclick);
    return b;
  }

  /* ---- processes -------------------------------------------------------- */

  const INST_COLS = ["instance", "state", "pid", "port", "uptime", "restarts", "rss", "in-flight",
                     "req/s", "p50", "p95", "p99", "5xx", "gen", "last exit"];

  function typeView(t) {
    let v = typeViews.get(t.type);
    if (v) return v;
    const root = el("div", "type");
    const head = el("div", "typehead");
    const name = el("span", "name", t.type);
    const info = el("span", "muted");
    const count = el("input");
    count.type = "number";
    count.min = "0";
    count.max = "1000";
    count.dataset.type = t.type;
    count.setAttribute("aria-label", "instances of " + t.type);
    count.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") scale(t.type, parseInt(count.value, 10));
    });
    head.append(name, info,
      button("−", "scale-down", t.type, () => scale(t.type, Math.max(0, (v.want || 0) - 1))),
      count,
      button("+", "scale-up", t.type, () => scale(t.type, (v.want || 0) + 1)),
      button("set", "scale-set", t.type, () => scale(t.type, parseInt(count.value, 10))),
      button("restart", "restart", t.type, () => act("restart " + t.type, "POST", "/processes/" + t.type + "/restart")),
      button("stop", "stop", t.type, () => act("stop " + t.type, "POST", "/processes/" + t.type + "/stop")),
      button("start", "start", t.type, () => act("start " + t.type, "POST", "/processes/" + t.type + "/start")));
    const table = el("table", "instances");
    const hr = el("tr");
    for (const c of INST_COLS) hr.append(el("th", "", c));
    table.append(el("thead"), el("tbody"));
    table.tHead.append(hr);
    root.append(head, table);
    $("types").append(root);
    v = { root: root, info: info, count: count, tbody: table.tBodies[0], rows: new Map(), want: t.want };
    typeViews.set(t.type, v);
    return v;
  }

  function renderTypes(types) {
    const seen = new Set();
    for (const t of types) {
      seen.add(t.type);
      const v = typeView(t);
      v.want = t.want;
      let info = (t.stopped ? "stopped" : t.want + " wanted") + (t.configured !== t.want ? " (config: " + t.configured + ")" : "") +
                 " · generation " + t.generation + " · " + t.restarts + " restarts" + (t.rolling ? " · rolling" : "") +
                 (t.queued ? " · " + t.queued + " queued" : "") + " · " + t.command;
      put(v.info, info);
      if (document.activeElement !== v.count && v.count.value !== String(t.want)) v.count.value = String(t.want);
      renderInstances(v, t.instances || []);
    }
    for (const [name, v] of typeViews) {
      if (!seen.has(name)) { v.root.remove(); typeViews.delete(name); }
    }
  }

  function renderInstances(v, insts) {
    const seen = new Set();
    let prev = null;
    for (const i of insts) {
      seen.add(i.name);
      let row = v.rows.get(i.name);
      if (!row) {
        row = el("tr");
        row.dataset.instance = i.name;
        for (let k = 0; k < INST_COLS.length; k++) row.append(el("td", k >= 2 && k <= 13 ? "num" : ""));
        v.rows.set(i.name, row);
      }
      /* In the snapshot's order, moving only what is out of place. */
      const want = prev ? prev.nextSibling : v.tbody.firstChild;
      if (want !== row) v.tbody.insertBefore(row, want);
      prev = row;
      const c = row.cells, live = i.live || {};
      put(c[0], i.name);
      put(c[1], i.state, "state-" + i.state);
      put(c[2], i.pid);
      put(c[3], i.port);
      put(c[4], duration(i.uptime_s), "num");
      put(c[5], i.restarts, "num");
      put(c[6], bytes(i.rss_bytes), "num");
      put(c[7], i.inflight, "num");
      put(c[8], rate(live.rps), "num");
      put(c[9], ms(live.p50_ms), "num");
      put(c[10], ms(live.p95_ms), "num");
      put(c[11], ms(live.p99_ms), "num");
      put(c[12], live["5xx"], "num");
      put(c[13], i.generation, "num");
      put(c[14], lastExit(i.last_exit));
    }
    for (const [name, row] of v.rows) {
      if (!seen.has(name)) { row.remove(); v.rows.delete(name); }
    }
  }

  /* ---- routes and the charts --------------------------------------------- */

  function keyedRows(tbody, items, key, ncols, fill) {
    const rows = tbody._rows || (tbody._rows = new Map());
    const seen = new Set();
    for (const it of items) {
      const k = key(it);
      seen.add(k);
      let row = rows.get(k);
      if (!row) {
        row = el("tr");
        row.dataset.key = k;
        for (let n = 0; n < ncols; n++) row.append(el("td"));
        rows.set(k, row);
        tbody.append(row);
      }
      fill(row.cells, it);
    }
    for (const [k, row] of rows) {
      if (!seen.has(k)) { row.remove(); rows.delete(k); }
    }
  }

  function renderRoutes(routes, now) {
    keyedRows($("routes").tBodies[0], routes, (r) => r.route, 9, (c, r) => {
      const l = r.live || {};
      put(c[0], r.route);
      put(c[1], r.process || "backends");
      put(c[2], rate(l.rps), "num");
      put(c[3], ms(l.p50_ms), "num");
      put(c[4], ms(l.p95_ms), "num");
      put(c[5], ms(l.p99_ms), "num");
      put(c[6], l["5xx_1m"], "num");
      put(c[7], l["5xx"], "num");
      put(c[8], r.queued, "num");
    });
    for (const r of routes) {
      let h = history.get(r.route);
      if (!h) { h = []; history.set(r.route, h); }
      const l = r.live || {};
      h.push({ t: now, rps: typeof l.rps === "number" ? l.rps : 0, p99: typeof l.p99_ms === "number" ? l.p99_ms : null });
      if (h.length > HISTORY) h.shift();
    }
    for (const k of history.keys()) if (!routes.some((r) => r.route === k)) history.delete(k);
    renderLegend();
    chart($("chart-rps"), "rps");
    chart($("chart-p99"), "p99");
  }

  function renderLegend() {
    const legend = $("legend");
    const names = Array.from(history.keys());
    if (legend.dataset.names === names.join("\n")) return;
    legend.dataset.names = names.join("\n");
    legend.replaceChildren();
    names.forEach((n, k) => {
      const item = el("span");
      const sw = el("span", "swatch");
      sw.style.background = COLORS[k % COLORS.length];
      item.append(sw, document.createTextNode(n));
      legend.append(item);
    });
  }

  /* A line per route of field over the samples kept, hand-drawn. */
  function chart(canvas, field) {
    const dpr = window.devicePixelRatio || 1;
    const w = 560, h = 170, pad = { l: 44, r: 8, t: 8, b: 18 };
    if (canvas.width !== w * dpr) { canvas.width = w * dpr; canvas.height = h * dpr; }
    const g = canvas.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    let max = 0, tmax = 0;
    for (const s of history.values()) for (const p of s) {
      if (p[field] !== null && p[field] > max) max = p[field];
      if (p.t > tmax) tmax = p.t;
    }
    max = niceMax(max);
    const span = 300, tmin = tmax - span;  /* five minutes across */
    const x = (t) => pad.l + (w - pad.l - pad.r) * (t - tmin) / span;
    const y = (v) => h - pad.b - (h - pad.t - pad.b) * v / max;
    g.strokeStyle = "#d9dde5";
    g.fillStyle = "#6b7385";
    g.font = "10px system-ui, sans-serif";
    g.lineWidth = 1;
    for (let k = 0; k <= 4; k++) {
      const v = max * k / 4, yy = Math.round(y(v)) + 0.5;
      g.beginPath(); g.moveTo(pad.l, yy); g.lineTo(w - pad.r, yy); g.stroke();
      g.fillText(v >= 100 ? v.toFixed(0) : v.toFixed(1), 4, yy + 3);
    }
    for (let k = 0; k <= 5; k++) g.fillText("-" + (5 - k) + "m", x(tmin + k * 60) - 8, h - 4);
    let n = 0;
    for (const s of history.values()) {
      g.strokeStyle = COLORS[n++ % COLORS.length];
      g.lineWidth = 1.5;
      g.beginPath();
      let drawing = false;
      for (const p of s) {
        if (p.t < tmin || p[field] === null) { drawing = false; continue; }
        if (drawing) g.lineTo(x(p.t), y(p[field])); else g.moveTo(x(p.t), y(p[field]));
        drawing = true;
      }
      g.stroke();
    }
  }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
    return 10 * p;
  }

  /* ---- backends --------------------------------------------------------- */

  function renderBackends(backends) {
    keyedRows($("backends").tBodies[0], backends, (b) => b.name, 9, (c, b) => {
      const l = b.live || {};
      put(c[0], b.name);
      put(c[1], b.address);
      put(c[2], b.process || b.dns || "static");
      put(c[3], b.up ? "up" : "down", b.up ? "up" : "down");
      put(c[4], b.inflight, "num");
      put(c[5], b.requests, "num");
      put(c[6], b.failures, "num");
      put(c[7], rate(l.rps), "num");
      put(c[8], ms(l.p99_ms), "num");
    });
  }

  /* ---- the log pane ------------------------------------------------------ */

  function renderFilter(types) {
    const sel = $("log-filter");
    const want = [""];
    for (const t of types) {
      want.push("process=" + encodeURIComponent(t.type));
      for (const i of t.instances || []) want.push("instance=" + encodeURIComponent(i.name));
    }
    const have = Array.from(sel.options).map((o) => o.value);
    if (have.join("\n") === want.join("\n")) return;
    sel.replaceChildren();
    for (const v of want) {
      const o = el("option", "", v === "" ? "everything" : decodeURIComponent(v.replace("process=", "type ").replace("instance=", "instance ")));
      o.value = v;
      sel.append(o);
    }
    sel.value = want.includes(logFilter) ? logFilter : "";
  }

  function logLine(obj) {
    const pane = $("log");
    const atBottom = pane.scrollTop + pane.clientHeight >= pane.scrollHeight - 4;
    const row = el("div", obj.stream === "stderr" ? "err" : "");
    if (obj.error) {
      row.className = "err";
      row.append(el("span", "l", "[" + obj.error + "]"));
    } else {
      const t = typeof obj.time === "string" ? obj.time.slice(11, 19) : "";
      row.append(el("span", "t", t + " "), el("span", "i", obj.instance + (obj.stream === "stderr" ? " ! " : " | ")),
                 el("span", "l", obj.line));
    }
    pane.append(row);
    while (pane.childElementCount > LOG_LINES) pane.firstElementChild.remove();
    if (atBottom && $("log-follow").checked) pane.scrollTop = pane.scrollHeight;
  }

  /* GET /logs?follow=1 read as it streams, one JSON object a line; on its
   * end or an error it starts again after a pause. */
  async function followLogs() {
    if (logAbort) logAbort.abort();
    const ctl = new AbortController();
    logAbort = ctl;
    $("log").replaceChildren();
    const q = "/logs?follow=1&n=200" + (logFilter ? "&" + logFilter : "");
    try {
      const r = await fetch(q, { headers: headers(), cache: "no-store", credentials: "omit", signal: ctl.signal });
      if (r.status !== 200) {
        put($("log-state"), "logs: " + r.status + " " + (await r.text()));
        throw new Error("status " + r.status);
      }
      put($("log-state"), "following");
      const reader = r.body.getReader();
      const dec = new TextDecoder();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let nl;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line === "") continue;
          try { logLine(JSON.parse(line)); } catch (e) { /* not JSON: skipped */ }
        }
      }
      put($("log-state"), "the stream ended; again in 2 s");
    } catch (e) {
      if (ctl.signal.aborted) return;
      put($("log-state"), "logs: " + e.message + "; again in 2 s");
    }
    if (logAbort === ctl) setTimeout(() => { if (logAbort === ctl) followLogs(); }, 2000);
  }

  /* ---- the loop ----------------------------------------------------------- */

  /* Each render is timed as the user-timing measure "drover:render" (the
   * last one kept), so its cost can be read from outside the page. */
  function render(doc) {
    const t0 = performance.now();
    const d = doc.drover || {}, r = doc.router || {};
    put($("summary"), "pid " + d.pid + " · up " + duration(d.uptime_s) + " · " + r.connections + " connections · " +
        r.requests + " requests · " + (d.workers || 1) + " worker" + (d.workers === 1 ? "" : "s") + (d.draining ? " · draining" : ""));
    renderTypes(doc.processes || []);
    renderRoutes(doc.routes || [], Date.now() / 1000);
    renderBackends(doc.backends || []);
    renderFilter(doc.processes || []);
    performance.clearMeasures("drover:render");
    performance.measure("drover:render", { start: t0 });
  }

  async function poll() {
    if (polling) return;
    polling = true;
    try {
      const r = await call("GET", "/status");
      if (r.status === 401) { askToken("the token was refused"); return; }
      if (r.status !== 200 || !r.body) throw new Error("status " + r.status);
      put($("conn"), "live", "badge ok");
      render(r.body);
    } catch (e) {
      put($("conn"), "unreachable: " + e.message, "badge bad");
    } finally {
      polling = false;
    }
  }

  let timer = null;
  function start() {
    $("login").hidden = true;
    $("app").hidden = false;
    $("reload").hidden = false;
    if (timer === null) timer = setInterval(poll, POLL_MS);
    poll();
    followLogs();
  }

  function askToken(why) {
    if (timer !== null) { clearInterval(timer); timer = null; }
    if (logAbort) { logAbort.abort(); logAbort = null; }
    $("app").hidden = true;
    $("login").hidden = false;
    put($("login-error"), why || "");
    put($("conn"), "needs the token", "badge bad");
    $("token").focus();
  }

  async function login(ev) {
    ev.preventDefault();
    token = $("token").value;
    $("token").value = "";
    const r = await call("GET", "/status");
    if (r.status === 401) { token = null; askToken("wrong token: the admin API refused it"); return; }
    start();
  }

  document.addEventListener("DOMContentLoaded", async () => {
    $("login").addEventListener("submit", login);
    $("reload").addEventListener("click", () => act("reload", "POST", "/reload"));
    $("log-filter").addEventListener("change", (ev) => { logFilter = ev.target.value; followLogs(); });
    const r = await call("GET", "/status").catch(() => null);
    if (r && r.status === 401) askToken("");
    else start();
  });
})();
