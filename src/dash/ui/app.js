/*
 * Meridian console. Everything comes from this node's JSON API (/api/v1/,
 * docs/api.md) as the signed-in org; nothing is fetched from anywhere else.
 *
 * Every string shown comes from someone else's STIX object and may be
 * hostile. So the DOM is built with createElement and textContent only
 * (never innerHTML: the page's CSP requires Trusted Types, so an
 * accidental innerHTML would throw), links are made only from http(s)
 * URLs, bidirectional-override and control characters are shown as
 * visible escapes, text runs sit in <bdi dir="auto">, and long strings are
 * cut with a button to show more.
 */
"use strict";

const state = { who: null, csrf: null };
const LIST_MAX = 300;       /* characters of a string in tables */
const FIELD_MAX = 4000;     /* characters of a field before "show more" */

/* ---- safe text -------------------------------------------------------- */

/* Bidi controls (LRE RLE PDF LRO RLO, LRI RLI FSI PDI, LRM RLM ALM) and
 * C0/C1 controls become visible escapes, so no string can reorder or hide
 * the text around it. */
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;
const CTRL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

function clean(s) {
  s = String(s);
  return s.replace(BIDI, (c) => "\u27e6U+" + c.charCodeAt(0).toString(16).toUpperCase()
    .padStart(4, "0") + "\u27e7").replace(CTRL, "\ufffd");
}

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = clean(v);
    else if (k === "href") el.setAttribute("href", v);
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(clean(kid)));
  }
  return el;
}

/* Untrusted text: isolated direction, cut at max with a button for more. */
function ut(s, max) {
  const full = clean(s);
  const b = h("bdi", { dir: "auto" });
  if (max && full.length > max) {
    b.textContent = full.slice(0, max) + "\u2026";
    const more = h("button", { type: "button", class: "quiet more", text: "show all " +
      full.length.toLocaleString() + " characters" });
    more.addEventListener("click", () => { b.textContent = full; more.remove(); });
    return h("span", {}, b, " ", more);
  }
  b.textContent = full;
  return b;
}

/* Only absolute http(s) URLs become links; anything else (javascript:,
 * data:, relative) stays text. */
function safeUrl(u) {
  try {
    const url = new URL(String(u));
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch (e) {
    return null;
  }
}

function extLink(u) {
  const ok = safeUrl(u);
  if (!ok) return h("span", { class: "mono" }, ut(u, LIST_MAX));
  return h("a", { href: ok, rel: "noopener noreferrer nofollow", target: "_blank",
    class: "mono" }, ut(u, LIST_MAX));
}

function isStixId(s) {
  return typeof s === "string" && /^[a-z0-9-]{1,250}--[0-9a-fA-F-]{36}$/.test(s);
}

function objLink(id, label) {
  if (!isStixId(id)) return ut(id, LIST_MAX);
  return h("a", { href: "#/object/" + encodeURIComponent(id), class: "mono" },
    ut(label || id, LIST_MAX));
}

function tlp(t) {
  const name = String(t || "unknown");
  return h("span", { class: "tlp tlp-" + name.replace(/[^a-z+]/g, ""),
    text: "TLP:" + name.toUpperCase() });
}

function when(ts) {
  return ts ? String(ts).replace("T", " ").replace(/\.\d+Z$/, "Z") : "";
}

/* ---- the API ---------------------------------------------------------- */

class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || ("HTTP " + status));
    this.status = status;
  }
}

/* One request to the JSON API (the CSRF header on every change); a failure
 * throws ApiError with the server's message, a 401 shows the sign-in. */
async function send(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    if (state.csrf) headers["X-CSRF-Token"] = state.csrf;
  }
  const r = await fetch("/api/v1/" + path, { method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
  if (r.ok) return r;
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (r.status === 401 && path !== "session") {
    state.who = null;
    state.csrf = null;
    renderSignin("Your session has ended: sign in again.");
  }
  throw new ApiError(r.status, data);
}

async function api(method, path, body) {
  const r = await send(method, path, body);
  try { return await r.json(); } catch (e) { return null; }
}

/* A POST whose answer is a file: saved under name through a link. */
async function download(path, body, name) {
  const blob = await (await send("POST", path, body)).blob();
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  return blob.size;
}

/* ---- frame ------------------------------------------------------------ */

const main = () => document.getElementById("main");

function show(...nodes) {
  main().replaceChildren(...nodes.filter((n) => n !== null && n !== undefined && n !== false));
}

function setWho() {
  const who = document.getElementById("who");
  const out = document.getElementById("signout");
  if (state.who) {
    who.textContent = clean(state.who.org + " (" + state.who.relation + ")");
    out.hidden = !state.who.session;
  } else {
    who.textContent = "";
    out.hidden = true;
  }
  document.getElementById("nav").hidden = !state.who;
}

function markNav(page) {
  for (const a of document.querySelectorAll("#nav a")) {
    a.classList.toggle("current", a.dataset.page === page);
    if (a.dataset.page === page) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

function own() {
  return !!state.who && state.who.relation === "own";
}

function failure(e) {
  if (e instanceof ApiError && e.status === 401) return;
  show(h("h1", { text: "Something went wrong" }), h("p", { class: "error", text: e.message }));
}

/* ---- sign-in ---------------------------------------------------------- */

function renderSignin(msg) {
  setWho();
  markNav("");
  const input = h("input", { type: "password", id: "token", name: "token",
    autocomplete: "current-password", required: true, spellcheck: "false" });
  const err = h("p", { class: "error", id: "signin-error", role: "alert" });
  if (msg) err.textContent = msg;
  const form = h("form", { class: "panel signin", id: "signin" },
    h("h1", { text: "Sign in" }),
    h("p", { class: "hint", text: "Use an API token of your organisation (meridian token " +
      "create). It opens a session on this node; the token itself is not kept in the browser." }),
    h("label", { for: "token", text: "API token" }), input, err,
    h("p", {}, h("button", { type: "submit", id: "signin-button", text: "Sign in" })));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const who = await api("POST", "session", { token: input.value });
      input.value = "";
      state.who = who;
      state.csrf = who.csrf;
      setWho();
      if (!location.hash || location.hash === "#/" || location.hash === "#/signin")
        location.hash = "#/overview";
      else route();
    } catch (e) {
      err.textContent = e.status === 401 ? "That token was not accepted." : e.message;
    }
  });
  show(form);
  input.focus();
}

async function signout() {
  try { await api("DELETE", "session"); } catch (e) { /* gone already */ }
  state.who = null;
  state.csrf = null;
  location.hash = "#/";
  renderSignin("Signed out.");
}

/* ---- overview --------------------------------------------------------- */

function barChart(rows, title) {
  const W = 640, rowH = 24, left = 330, top = 8;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const svgNS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("class", "chart");
  svg.setAttribute("viewBox", "0 0 " + W + " " + (top * 2 + rows.length * rowH));
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", title);
  const t = document.createElementNS(svgNS, "title");
  t.textContent = title;
  svg.append(t);
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const g = document.createElementNS(svgNS, "g");
    const label = document.createElementNS(svgNS, "text");
    label.setAttribute("x", "0");
    label.setAttribute("y", String(y + 16));
    label.textContent = clean(r.label).slice(0, 48);
    const bar = document.createElementNS(svgNS, "rect");
    bar.setAttribute("class", "bar");
    bar.setAttribute("x", String(left));
    bar.setAttribute("y", String(y + 3));
    bar.setAttribute("height", String(rowH - 7));
    bar.setAttribute("width", String(Math.max(1, (W - left - 60) * r.value / max)));
    const tip = document.createElementNS(svgNS, "title");
    tip.textContent = clean(r.label) + ": " + r.value.toLocaleString();
    bar.append(tip);
    const num = document.createElementNS(svgNS, "text");
    num.setAttribute("x", String(left + 6 + (W - left - 60) * r.value / max));
    num.setAttribute("y", String(y + 16));
    num.textContent = r.value.toLocaleString();
    g.append(label, bar, num);
    svg.append(g);
  });
  return svg;
}

const TLP_COLORS = { clear: "#9aa5b1", green: "#2f9e44", amber: "#f08c00",
  "amber+strict": "#d9480f", red: "#c92a2a" };
const PALETTE = ["#1c7ed6", "#f59f00", "#37b24d", "#ae3ec9", "#e8590c", "#0ca678", "#d6336c",
  "#495057", "#74c0fc", "#a9e34b"];

/* A stacked bar chart: series {name: [count per bucket]} over labels. */
function stackedChart(labels, series, colors, title, hourly) {
  const svgNS = "http://www.w3.org/2000/svg";
  const W = 560, H = 220, L = 44, B = 28, T = 10, R = 8;
  const names = Object.keys(series);
  const totals = labels.map((_, i) => names.reduce((a, n) => a + (series[n][i] || 0), 0));
  const raw = Math.max(1, ...totals);
  const mag = Math.pow(10, Math.floor(Math.log10(raw / 4)));
  const step = raw <= 4 ? 1 : [1, 2, 5, 10].map((m) => m * mag).find((x) => raw / x <= 4) ||
    10 * mag;
  const ticks = Math.max(1, Math.ceil(raw / step));
  const max = ticks * step;
  const svg = document.createElementNS(svgNS, "svg");
  const el = (tag, attrs) => {
    const e = document.createElementNS(svgNS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    return e;
  };
  svg.setAttribute("class", "chart");
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", title);
  const tt = el("title", {});
  tt.textContent = title;
  svg.append(tt);
  const plotW = W - L - R, plotH = H - T - B, bw = plotW / Math.max(1, labels.length);
  for (let k = 0; k <= ticks; k++) {
    const y = T + plotH - plotH * k / ticks;
    svg.append(el("line", { x1: L, x2: W - R, y1: y, y2: y, class: "axis" }));
    const tx = el("text", { x: L - 6, y: y + 4, "text-anchor": "end" });
    tx.textContent = (step * k).toLocaleString();
    svg.append(tx);
  }
  labels.forEach((lab, i) => {
    let y = T + plotH;
    names.forEach((n, j) => {
      const v = series[n][i] || 0;
      if (!v) return;
      const hgt = plotH * v / max;
      y -= hgt;
      const r = el("rect", { x: L + i * bw + 1, y, width: Math.max(1, bw - 2), height: hgt,
        fill: colors[n] || PALETTE[j % PALETTE.length] });
      const tip = el("title", {});
      tip.textContent = clean(n) + " \u2013 " + when(lab) + ": " + v.toLocaleString();
      r.append(tip);
      svg.append(r);
    });
    const every = Math.ceil(labels.length / 8);
    if (i % every === 0) {
      const tx = el("text", { x: L + i * bw + bw / 2, y: H - 8, "text-anchor": "middle" });
      tx.textContent = hourly ? String(lab).slice(11, 16) : String(lab).slice(5, 10);
      svg.append(tx);
    }
  });
  const legend = h("ul", { class: "legend" }, names.map((n, j) => h("li", {},
    h("span", { class: "swatch swatch-" + (j % PALETTE.length) +
      (colors[n] ? " tlp-sw-" + n.replace(/[^a-z]/g, "") : "") }),
    ut(n, 60), " ",
    h("span", { class: "hint", text: series[n].reduce((a, x) => a + x, 0).toLocaleString() }))));
  const table = h("details", {}, h("summary", { text: "Figures" }), h("table", {},
    h("thead", {}, h("tr", {}, h("th", { text: hourly ? "Hour" : "Day" }),
      names.map((n) => h("th", {}, ut(n, 40))))),
    h("tbody", {}, labels.map((lab, i) => h("tr", {}, h("td", { text: when(lab) }),
      names.map((n) => h("td", { class: "num", text: String(series[n][i] || 0) })))))));
  return h("div", {}, svg, legend, table);
}

async function renderOverview(params) {
  markNav("overview");
  const days = ["1", "7", "30"].includes(params.get("days")) ? params.get("days") : "7";
  const pick = h("select", { id: "days", "aria-label": "Window" },
    [["1", "last 24 hours"], ["7", "last 7 days"], ["30", "last 30 days"]].map(([v, t]) =>
      h("option", { value: v, selected: v === days, text: t })));
  pick.addEventListener("change", () => { location.hash = "#/overview?days=" + pick.value; });
  const grid = h("div", { class: "grid", id: "overview-grid" },
    h("p", { class: "hint", text: "Loading\u2026" }));
  const sightPanel = h("section", { class: "panel", id: "top-sighted" },
    h("h2", { text: "Most-sighted indicators" }));
  const peerPanel = h("section", { class: "panel", id: "peer-health" },
    h("h2", { text: "Peer health" }), h("p", { class: "hint", text: "Loading\u2026" }));
  show(h("div", { class: "head" }, h("h1", { text: "Overview" }), pick), grid);
  try {
    const o = await api("GET", "overview?days=" + days);
    const hourly = o.bucket === "hour";
    const rec = h("section", { class: "panel", id: "received-tlp" },
      h("h2", {}, "Objects received by TLP ", h("span", { class: "hint",
        text: o.received.total.toLocaleString() + " in the window" })),
      stackedChart(o.buckets, o.received.by_tlp, TLP_COLORS, "Objects received per " +
        o.bucket + " by TLP", hourly));
    const src = h("section", { class: "panel", id: "received-source" },
      h("h2", { text: "Objects received by source" }),
      stackedChart(o.buckets, o.received.by_source, {}, "Objects received per " + o.bucket +
        " by source (local or peer)", hourly));
    const sentTlp = h("section", { class: "panel", id: "sent-tlp" },
      h("h2", {}, "Objects sent by TLP ", h("span", { class: "hint",
        text: o.sent.total.toLocaleString() + " to partners and peers" })),
      stackedChart(o.buckets, o.sent.by_tlp, TLP_COLORS, "Objects sent per " + o.bucket +
        " by TLP (partners' TAXII reads and pushes to peers)", hourly));
    const sentDest = h("section", { class: "panel", id: "sent-destination" },
      h("h2", { text: "Objects sent by destination" }),
      stackedChart(o.buckets, o.sent.by_destination, {}, "Objects sent per " + o.bucket +
        " by destination (partner or peer)", hourly));
    const sig = h("section", { class: "panel", id: "sightings" },
      h("h2", {}, "Sightings by reporter ", h("span", { class: "hint",
        text: o.sightings.total.toLocaleString() + " sighted" })),
      stackedChart(o.buckets, o.sightings.by_reporter, {}, "Sighting counts per " + o.bucket +
        " by reporting organisation", hourly));
    const top = o.top_sighted;
    sightPanel.append(...[top.length === 0 ? h("p", { class: "empty",
      text: "No sightings you may read in this window." })
      : barChart(top.map((x) => ({ label: x.label || x.indicator, value: x.count })),
        "Sighting counts of the most-sighted indicators"),
    top.length ? h("table", {}, h("tbody", {}, top.map((x) => h("tr", {},
      h("td", {}, objLink(x.indicator, x.label || x.indicator)),
      h("td", { class: "num", text: x.count.toLocaleString() }),
      h("td", { class: "hint", text: x.sightings + " sighting" + (x.sightings === 1 ? "" :
        "s") }))))) : null].filter((x) => x !== null));
    const fresh = h("section", { class: "panel", id: "new-partner" },
      h("h2", {}, "New from partners, not sighted here ", h("span", { class: "hint",
        text: o.partner_indicators.toLocaleString() + " partner indicators in the window" })),
      o.new_partner_indicators.length === 0 ? h("p", { class: "empty", text: "None." })
        : h("table", {}, h("tbody", {}, o.new_partner_indicators.map((x) => h("tr", {},
          h("td", {}, tlp(x.tlp)), h("td", {}, objLink(x.id, x.label || x.id)),
          h("td", {}, ut(x.source, 64)), h("td", { text: when(x.date_added) }))))));
    const own = state.who && state.who.relation === "own";
    grid.replaceChildren(...[rec, src, own ? sentTlp : null, own ? sentDest : null, sig,
      sightPanel, fresh, peerPanel].filter((x) => x !== null));
  } catch (e) {
    grid.replaceChildren(h("p", { class: "error", text: e.message }));
    return;
  }
  if (!state.who || state.who.relation !== "own") {
    peerPanel.replaceChildren(h("h2", { text: "Peer health" }),
      h("p", { class: "hint", text: "Peer state is shown to the node's own organisation." }));
    return;
  }
  try {
    const p = await api("GET", "peers");
    peerPanel.replaceChildren(h("h2", { text: "Peer health" }), peerTable(p.peers || [], true));
  } catch (e) {
    peerPanel.replaceChildren(h("h2", { text: "Peer health" }),
      h("p", { class: "error", text: e.message }));
  }
}

/* ---- federation --------------------------------------------------------- */

function lag(s) {
  if (s === undefined || s === null || s < 0) return "never";
  if (s < 120) return Math.round(s) + " s";
  if (s < 7200) return Math.round(s / 60) + " min";
  return Math.round(s / 3600) + " h";
}

function peerTable(peers, brief) {
  if (peers.length === 0) return h("p", { class: "empty", text: "No peers configured." });
  const cols = brief ? ["Peer", "Last good sync", "Lag", "State"]
    : ["Peer", "Direction", "Community", "Cursor", "Last good sync", "Lag", "Pulled", "Pushed",
      "Rejected", "State"];
  return h("table", {}, h("thead", {}, h("tr", {}, cols.map((c) => h("th", { text: c })))),
    h("tbody", {}, peers.map((p) => {
      const st = !p.enabled ? h("span", { class: "tag warn", text: "disabled" })
        : p.failures > 0 ? h("span", {}, h("span", { class: "tag bad",
          text: "failing \u00d7" + p.failures + " (backing off)" }), " ", ut(p.last_error, 200))
          : h("span", { class: "tag good", text: "ok" });
      const cells = brief
        ? [ut(p.name, 64), when(p.last_ok) || "never", lag(p.lag_seconds), st]
        : [ut(p.name, 64), p.direction, ut(p.community, 64), when(p.pull_cursor) || "\u2013",
          when(p.last_ok) || "never", lag(p.lag_seconds), String(p.pulled), String(p.pushed),
          String(p.rejected), st];
      return h("tr", {}, cells.map((c) => h("td", {}, c)));
    })));
}

async function renderFederation() {
  markNav("federation");
  show(h("h1", { text: "Federation" }), h("p", { class: "hint", text: "Loading\u2026" }));
  try {
    const p = await api("GET", "peers");
    show(h("h1", { text: "Federation" }), h("section", { class: "panel" },
      peerTable(p.peers || [], false)));
  } catch (e) {
    if (e.status === 404)
      show(h("h1", { text: "Federation" }), h("p", { class: "hint",
        text: "Peer state is shown to the node's own organisation only." }));
    else failure(e);
  }
}

/* ---- search ------------------------------------------------------------- */

function resultsTable(results, pickable) {
  return h("table", { class: "results" }, h("thead", {}, h("tr", {},
    (pickable ? ["Hold"] : []).concat(["TLP", "Object", "Type", "Match", "Source", "Collection",
      "Version", "Referenced by / related"]).map((c) => h("th", { text: c })))),
  h("tbody", {}, results.map((r) => h("tr", {},
    pickable ? h("td", {}, h("input", { type: "checkbox", class: "pick", value: r.id,
      "aria-label": "Select for a hold" })) : null,
    h("td", {}, tlp(r.tlp)),
    h("td", {}, objLink(r.id, r.label || r.id), r.revoked ? h("span", { class: "tag warn",
      text: "revoked" }) : null),
    h("td", { text: r.type }),
    h("td", {}, h("span", { class: "tag", text: r.match }), h("span", { class: "hint",
      text: r.via === "pattern" ? "in pattern " : r.via === "url-host" ? "URL host "
        : r.via === "text" ? "name or description" : "" }),
    r.matched ? h("span", { class: "mono" }, ut(r.matched, 80)) : null),
    h("td", {}, ut(r.source, 64)),
    h("td", {}, ut(r.collection, 80)),
    h("td", { text: when(r.version || r.date_added) }),
    h("td", { class: "context" }, context(r))))));
}

/* The reports/notes referencing a hit and its based-on / indicates
 * relationships: only what the server says the reader may read. */
function context(r) {
  const items = (r.referenced_by || []).map((c) => h("li", { class: "ref" },
    h("span", { class: "hint", text: c.type + " " }), objLink(c.id, c.label || c.id)))
    .concat((r.related || []).map((e) => h("li", { class: "rel" },
      h("span", { class: "hint" }, ut(e.relationship_type || "", 64),
        e.direction === "out" ? " \u2192 " : " \u2190 "),
      objLink(e.other.id, e.other.label || e.other.id))));
  return items.length ? h("ul", { class: "plain" }, items) : "";
}

function edgeTable(edges, id) {
  if (!edges.length) return h("p", { class: "empty", text: "None you may read." });
  return h("table", { id }, h("thead", {}, h("tr", {}, ["Edge", "Type", "Object", "TLP",
    "Source"].map((c) => h("th", { text: c })))),
  h("tbody", {}, edges.map((e) => h("tr", {},
    h("td", {}, objLink(e.id, e.edge)),
    h("td", {}, ut(e.relationship_type || e.type, 64)),
    h("td", {}, e.other ? [h("span", { class: "hint", text: e.other.type + " " }),
      objLink(e.other.id, e.other.label || e.other.id)] : objLink(e.id, e.label || e.id)),
    h("td", {}, tlp(e.other ? e.other.tlp : e.tlp)),
    h("td", {}, ut(e.source, 64))))));
}

async function renderSearch(params) {
  markNav("search");
  const q = params.get("q") || "";
  const input = h("input", { type: "search", id: "q", name: "q", value: q,
    placeholder: "203.0.113.7, 10.0.0.0/8, evil.example, https://\u2026, a@b.example, hash, words",
    maxlength: 512, "aria-label": "Value or words to search for" });
  const form = h("form", { class: "row", id: "search-form", role: "search" }, input,
    h("button", { type: "submit", text: "Search" }));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    location.hash = "#/search?q=" + encodeURIComponent(input.value.trim());
  });
  const out = h("div", { id: "search-results", "aria-live": "polite" });
  show(h("h1", { text: "Search" }), h("p", { class: "hint", text: "Exact values, CIDR " +
    "containment both ways (an address inside an indicator's range; the records inside a " +
    "range) and domain suffixes both ways (evil.example finds a.evil.example, never " +
    "notevil.example); then words in names and descriptions (all of them, the last one " +
    "as a prefix)." }), form, out);
  if (!q) { input.focus(); return; }
  out.replaceChildren(h("p", { class: "hint", text: "Searching\u2026" }));
  try {
    const r = await api("GET", "search?q=" + encodeURIComponent(q));
    const n = r.results.length;
    const put = (...nodes) => out.replaceChildren(...nodes.filter((x) => x));
    put(
      h("p", {}, h("strong", { text: n + (r.more ? "+" : "") + " object" + (n === 1 ? "" : "s") }),
        n === 1 && !r.more ? " mentions " : " mention ", h("span", { class: "mono" },
          ut(r.kind === "text" ? r.query : r.value, 200)), " (" + r.kind + ")"),
      n ? resultsTable(r.results, own()) : h("p", { class: "empty", text: "Not known here." }),
      n && own() ? h("p", {}, h("button", { type: "button", id: "hold-selected",
        text: "Hold selected objects\u2026", onclick: () => {
          const ids = [...document.querySelectorAll("input.pick:checked")].map((c) => c.value);
          location.hash = "#/holds?objects=" + encodeURIComponent(ids.join(","));
        } })) : null);
  } catch (e) {
    if (e.status === 401) return;
    out.replaceChildren(h("p", { class: "error", text: e.message }));
  }
}

async function renderBulk() {
  markNav("bulk");
  const ta = h("textarea", { id: "bulk-text", name: "text", spellcheck: "false",
    placeholder: "One value per line, or paste an incident report: addresses, domains, " +
      "URLs, e-mail addresses and hashes are picked out (defanged forms too)." });
  const out = h("div", { id: "bulk-results", "aria-live": "polite" });
  const form = h("form", { id: "bulk-form" }, h("label", { for: "bulk-text",
    text: "Values or text (up to 10,000 values)" }), ta,
  h("p", {}, h("button", { type: "submit", text: "Look up" })));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    out.replaceChildren(h("p", { class: "hint", text: "Looking up\u2026" }));
    try {
      const t0 = performance.now();
      const r = await api("POST", "search", { text: ta.value });
      const ms = Math.round(performance.now() - t0);
      out.replaceChildren(
        h("p", {}, h("strong", { text: r.known + " known" }), ", " + r.unknown + " unknown, " +
          (r.known + r.unknown) + " values in " + ms + " ms" +
          (r.truncated ? " (only the first 10,000 values were looked up)" : "")),
        h("table", {}, h("thead", {}, h("tr", {}, ["Value", "Kind", "Known as"].map((c) =>
          h("th", { text: c })))),
        h("tbody", {}, r.values.map((v) => h("tr", {},
          h("td", {}, h("a", { href: "#/search?q=" + encodeURIComponent(v.value),
            class: "mono" }, ut(v.value, 200))),
          h("td", { text: v.kind }),
          h("td", {}, v.found === 0 ? h("span", { class: "empty", text: "not known" })
            : v.results.map((x) => h("div", {}, tlp(x.tlp), " ", objLink(x.id, x.label || x.id),
              " ", h("span", { class: "hint", text: x.type + ", " + x.match })))
              .concat(v.more ? [h("div", { class: "hint", text: "and more\u2026" })] : [])))))));
    } catch (e) {
      if (e.status !== 401) out.replaceChildren(h("p", { class: "error", text: e.message }));
    }
  });
  show(h("h1", { text: "Bulk lookup" }), form, out);
  ta.focus();
}

/* ---- object pages ------------------------------------------------------- */

function value(v, key) {
  if (v === null || v === undefined) return h("span", { class: "empty", text: "null" });
  if (typeof v === "string") {
    if (isStixId(v) && (key.endsWith("_ref") || key.endsWith("_refs"))) return objLink(v);
    return ut(v, FIELD_MAX);
  }
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) {
    if (key === "external_references")
      return h("ul", {}, v.map((r) => h("li", {}, ut(r && r.source_name || "", 200),
        r && r.external_id ? [" ", h("span", { class: "mono" }, ut(r.external_id, 200))] : null,
        r && r.url ? [" ", extLink(r.url)] : null,
        r && r.description ? [" \u2013 ", ut(r.description, 500)] : null)));
    if (v.every((x) => typeof x !== "object" || x === null))
      return h("ul", {}, v.slice(0, 500).map((x) => h("li", {}, value(x, key))),
        v.length > 500 ? h("li", { class: "hint", text: (v.length - 500) + " more" }) : null);
  }
  return h("pre", {}, ut(JSON.stringify(v, null, 2), FIELD_MAX));
}

async function renderObject(id) {
  markNav("");
  show(h("h1", {}, ut(id, 200)), h("p", { class: "hint", text: "Loading\u2026" }));
  let r;
  try {
    r = await api("GET", "objects/" + encodeURIComponent(id));
  } catch (e) {
    if (e.status === 404)
      show(h("h1", { text: "Not found" }), h("p", { text: "No object with that id that you " +
        "may read." }));
    else failure(e);
    return;
  }
  const o = r.object;
  const label = o.name || o.value || o.pattern || id;
  const sig = r.signature || {};
  const signedBy = sig.verdict === "valid"
    ? h("span", {}, h("span", { class: "tag good", text: "verifies here" }), " signed by ",
      h("strong", {}, ut(sig.signer_name || sig.signer, 80)))
    : sig.verdict === "unsigned" ? h("span", { class: "tag warn", text: "unsigned" })
      : h("span", {}, h("span", { class: sig.verdict === "invalid" ? "tag bad" : "tag warn",
        text: sig.verdict }), sig.signer ? [" key ", h("span", { class: "mono" },
        ut(sig.signer, 80))] : null);
  const prov = h("dl", { class: "prov", id: "provenance" },
    h("dt", { text: "Created by" }), h("dd", {}, r.created_by ? ut(r.created_by, 200)
      : o.created_by_ref ? objLink(o.created_by_ref) : h("span", { class: "empty",
        text: "not stated" })),
    h("dt", { text: "Signature" }), h("dd", { id: "signature" }, signedBy),
    h("dt", { text: "Received from" }), h("dd", { id: "received-from" },
      r.received_from.length ? r.received_from.map((p) => h("span", { class: "tag" }, ut(p, 64)))
        : h("span", { text: "created on this node or posted to it directly" })));
  const skip = new Set(["type", "id", "spec_version"]);
  const fields = h("table", { class: "fields" }, h("tbody", {},
    Object.keys(o).filter((k) => !skip.has(k) && k !== "extensions").map((k) =>
      h("tr", {}, h("th", { scope: "row" }, ut(k, 100)), h("td", {}, value(o[k], k))))));
  const versions = h("table", {}, h("thead", {}, h("tr", {},
    ["Version", "Added", "TLP", "Source", "Collection"].map((c) => h("th", { text: c })))),
  h("tbody", {}, r.versions.map((v) => h("tr", {}, h("td", { text: when(v.version) }),
    h("td", { text: when(v.date_added) }), h("td", {}, tlp(v.tlp)),
    h("td", {}, ut(v.source, 64)), h("td", {}, ut(v.collection, 80))))));
  show(
    h("h1", {}, h("span", { class: "hint", text: o.type + " " }), ut(label, 300)),
    h("p", {}, tlp(r.tlp), " ", o.revoked ? h("span", { class: "tag warn", text: "revoked" })
      : null, h("span", { class: "mono" }, ut(id, 200))),
    r.truncated ? h("p", { class: "hint", text: "Very long strings are cut here; the raw " +
      "JSON has them whole." }) : null,
    h("section", { class: "panel" }, h("h2", { text: "Provenance" }), prov),
    h("section", { class: "panel" }, h("h2", { text: "Fields" }), fields),
    h("section", { class: "panel", id: "relationships" }, h("h2", { text: "Relationships" }),
      h("h3", { text: "Pointing here" }), edgeTable(r.relationships.in, "rel-in"),
      h("h3", { text: "From here" }), edgeTable(r.relationships.out, "rel-out")),
    h("section", { class: "panel" }, h("h2", { text: "Versions you may read" }), versions),
    h("details", { class: "panel", id: "raw" }, h("summary", { text: "Raw JSON" }),
      h("p", {}, h("a", { href: "/api/v1/objects/" + encodeURIComponent(id) + "/raw",
        target: "_blank", rel: "noopener", text: "open as stored" })),
      h("pre", {}, ut(JSON.stringify(o, null, 2), 200000))));
}

/* ---- holds ----------------------------------------------------------------- */

async function renderHolds(params) {
  markNav("holds");
  if (!own()) {
    show(h("h1", { text: "Holds" }), h("p", { class: "hint",
      text: "Legal holds are managed by the node's own organisation." }));
    return;
  }
  const picked = (params.get("objects") || "").split(",").filter(isStixId);
  const field = (id, label, attrs) => [h("label", { for: id, text: label }),
    h(attrs && attrs.rows ? "textarea" : "input", Object.assign({ id, name: id }, attrs || {}))];
  const msg = h("p", { id: "hold-msg", role: "status" });
  const form = h("form", { class: "panel", id: "hold-form" },
    h("h2", { text: "New hold" }),
    h("p", { class: "hint", text: "Preserves every stored version of the objects (no deletion " +
      "until released or lapsed), records the order in the ledger: the same as meridian hold " +
      "create --object." }),
    ...field("hold-case", "Case", { required: true, maxlength: 128 }),
    ...field("hold-authority", "Authority", { required: true }),
    ...field("hold-reason", "Reason", { required: true }),
    ...field("hold-days", "Days (1\u201390)", { type: "number", min: 1, max: 90, value: 90,
      required: true }),
    ...field("hold-objects", "Object ids, one per line", { rows: 4, required: true,
      class: "mono" }),
    msg, h("p", {}, h("button", { type: "submit", id: "hold-create", text: "Create hold" })));
  form.querySelector("#hold-objects").value = picked.join("\n");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = (id) => form.querySelector("#" + id).value.trim();
    try {
      const r = await api("POST", "holds", { case: v("hold-case"), authority: v("hold-authority"),
        reason: v("hold-reason"), days: parseInt(v("hold-days"), 10),
        objects: v("hold-objects").split(/\s+/).filter((x) => x) });
      msg.className = "";
      msg.textContent = clean("Hold " + r.id + " preserves " + r.objects +
        " object versions until " + when(r.expires) + ".");
      loadList();
    } catch (e) {
      if (e.status !== 401) { msg.className = "error"; msg.textContent = clean(e.message); }
    }
  });
  const list = h("section", { class: "panel", id: "hold-list" }, h("h2", { text: "Holds" }));
  const exportMsg = h("p", { id: "export-msg", role: "status" });
  async function exportCase(c) {
    exportMsg.className = "";
    exportMsg.textContent = clean("Building the package of case " + c + "\u2026");
    try {
      const name = "evidence-" + c.replace(/[^A-Za-z0-9._-]/g, "_") + ".tar";
      const size = await download("holds/export", { case: c }, name);
      exportMsg.textContent = clean("Saved " + name + " (" + size + " bytes).");
    } catch (e) {
      if (e.status !== 401) { exportMsg.className = "error"; exportMsg.textContent = clean(e.message); }
    }
  }
  async function loadList() {
    try {
      const r = await api("GET", "holds");
      list.replaceChildren(h("h2", { text: "Holds" }), r.holds.length === 0
        ? h("p", { class: "empty", text: "No holds." })
        : h("table", {}, h("thead", {}, h("tr", {}, ["Case", "State", "Authority", "Objects",
          "Created", "Expires", "Evidence"].map((c) => h("th", { text: c })))),
        h("tbody", {}, r.holds.map((x) => h("tr", {}, h("td", {}, ut(x.case, 128)),
          h("td", {}, h("span", { class: x.state === "active" ? "tag good" : "tag warn",
            text: x.state })), h("td", {}, ut(x.authority, 200)),
          h("td", { class: "num", text: String(x.objects) }), h("td", { text: when(x.created) }),
          h("td", { text: when(x.expires) }),
          h("td", {}, x.state === "active" ? h("button", { type: "button", class: "export",
            "data-case": x.case, text: "Export package", onclick: () => exportCase(x.case) })
            : null))))),
      exportMsg,
      h("p", { class: "hint", text: "An evidence package holds the exact bytes of every " +
        "version the case's active holds preserve, a proof of each into a checkpoint signed " +
        "now, and a signed manifest; the export is recorded in the ledger. The same as " +
        "meridian evidence export --case CASE; check it with meridian evidence verify." }));
    } catch (e) {
      if (e.status !== 401) list.replaceChildren(h("p", { class: "error", text: e.message }));
    }
  }
  show(h("h1", { text: "Holds" }), form, list);
  loadList();
}

/* ---- routing alerts ------------------------------------------------------- */

const ROUTING_KINDS = [["hijack", "Hijacks"], ["leak", "Route leaks"], ["outage", "Outages"],
  ["rpki-invalid", "RPKI-invalid routes"]];
const ROUTING_COLORS = { hijack: "#c92a2a", leak: "#f08c00", outage: "#1c7ed6",
  "rpki-invalid": "#ae3ec9" };
const PLOT_BUCKETS = 24;

function asn(v) {
  return v === undefined || v === null ? "\u2013" : "AS" + v;
}

/* How many alerts of each kind were active in each of PLOT_BUCKETS slices
 * from the first first_seen to the last last_seen. */
function routingPlot(alerts) {
  const t = (s) => Date.parse(s);
  const spans = alerts.filter((a) => a.first_seen).map((a) => ({ kind: a.kind,
    from: t(a.first_seen), to: t(a.ended || a.last_seen || a.first_seen) }));
  if (spans.length === 0) return null;
  const lo = Math.min(...spans.map((s) => s.from));
  const hi = Math.max(lo + 60000, ...spans.map((s) => s.to));
  const size = (hi - lo) / PLOT_BUCKETS;
  const labels = [], series = {};
  for (let i = 0; i < PLOT_BUCKETS; i++) labels.push(new Date(lo + i * size).toISOString());
  for (const [k] of ROUTING_KINDS) series[k] = new Array(PLOT_BUCKETS).fill(0);
  for (const s of spans) {
    const a = Math.min(PLOT_BUCKETS - 1, Math.floor((s.from - lo) / size));
    const b = Math.min(PLOT_BUCKETS - 1, Math.floor((s.to - lo) / size));
    for (let i = a; i <= b; i++) series[s.kind][i]++;
  }
  return stackedChart(labels, series, ROUTING_COLORS, "Routing alerts active over time",
    hi - lo <= 2 * 86400000);
}

function sensorPanel(sensor) {
  const sources = (sensor && sensor.sources) || [];
  const rows = sources.map((s) => {
    const st = s.expired ? h("span", {}, h("span", { class: "tag bad", text: "VRPs expired" }),
      " ", ut(s.last_error, 300))
      : !s.connected ? h("span", {}, h("span", { class: "tag bad",
        text: "failing \u00d7" + s.failures + " (retrying)" }), " ", ut(s.last_error, 300))
        : h("span", { class: "tag good", text: "ok" });
    return h("tr", {}, [ut(s.source, 120), String(s.vrps), s.has_data ? String(s.serial) : "\u2013",
      "v" + s.version + " / " + s.session, when(s.updated) || "never", lag(s.age_seconds),
      s.refresh + " / " + s.retry + " / " + s.expire + " s", st].map((c) => h("td", {}, c)));
  });
  return h("section", { class: "panel", id: "sensor" }, h("h2", { text: "Sensor" }),
    sources.length === 0 ? h("p", { class: "empty", text: "No live VRP source: start serve " +
      "with --rtr HOST:PORT (VRP files are used by 'meridian bgp scan')." })
      : h("table", {}, h("thead", {}, h("tr", {}, ["VRP source", "VRPs", "Serial",
        "Version / session", "Updated", "Age", "Refresh / retry / expire", "State"]
        .map((c) => h("th", { text: c })))), h("tbody", {}, rows)),
    bmpSessions(sensor && sensor.bmp));
}

// The BMP listener's open sessions: one row per router streaming to it.
function bmpSessions(bmp) {
  if (!bmp) {
    return h("p", { class: "hint", id: "bmp-sessions", text: "BMP: no listener in this server " +
      "(start serve with --bmp-listen HOST:PORT)." });
  }
  const sessions = bmp.sessions || [];
  const head = "BMP sessions on " + bmp.listen + " (" + sessions.length + " of at most " +
    bmp.max_sessions + ")";
  if (sessions.length === 0) {
    return h("div", { id: "bmp-sessions" }, h("h3", { text: head }),
      h("p", { class: "empty", text: "No router is streaming BMP to this node now." }));
  }
  const rows = sessions.map((s) => h("tr", {}, [ut(s.router, 80),
    ut(s.sys_name || "\u2013", 80), ut(s.sys_descr || "\u2013", 120), String(s.peers_up),
    s.peer_ups + " / " + s.peer_downs, String(s.messages) + " (" + s.route_monitoring +
    " routes)", when(s.connected) || "\u2013", when(s.last_message) || "never",
    lag(s.idle_seconds)].map((c) => h("td", {}, c))));
  return h("div", { id: "bmp-sessions" }, h("h3", { text: head }),
    h("table", {}, h("thead", {}, h("tr", {}, ["Router", "sysName", "sysDescr", "Peers up",
      "Peer Up / Down", "Messages", "Connected", "Last message", "Idle"]
      .map((c) => h("th", { text: c })))), h("tbody", {}, rows)));
}

function alertTable(list) {
  if (list.length === 0) return h("p", { class: "empty", text: "None you may read." });
  return h("table", { class: "results" }, h("thead", {}, h("tr", {}, ["TLP", "Alert",
    "Victim prefix", "Victim AS", "Culprit AS", "Type", "First seen", "Last seen", "Ended",
    "Peers"].map((c) => h("th", { text: c })))),
  h("tbody", {}, list.map((a) => h("tr", {}, [tlp(a.tlp), objLink(a.id, a.event),
    ut(a.victim_prefix || a.group || "\u2013", 60), asn(a.victim_as), asn(a.culprit_as),
    ut(a.type || a.reason || a.rov || a.event, 40), when(a.first_seen), when(a.last_seen),
    a.ended ? when(a.ended) : h("span", { class: "tag warn", text: "ongoing" }),
    String(a.peers !== undefined ? a.peers : "\u2013")].map((c) => h("td", {}, c))))));
}

async function renderRouting() {
  markNav("routing");
  show(h("h1", { text: "Routing" }), h("p", { class: "hint", text: "Loading\u2026" }));
  const r = await api("GET", "routing");
  const alerts = r.alerts || [];
  const plot = routingPlot(alerts);
  show(h("h1", { text: "Routing" }),
    r.sensor ? sensorPanel(r.sensor) : null,
    h("section", { class: "panel", id: "routing-plot" }, h("h2", { text: "Alerts over time" }),
      plot || h("p", { class: "empty", text: "No routing alert you may read." }),
      r.more ? h("p", { class: "hint", text: "Only the newest alerts are shown." }) : null),
    ...ROUTING_KINDS.map(([k, title]) => h("section", { class: "panel", id: "routing-" + k },
      h("h2", { text: title + " (" + (r.by_kind[k] || 0) + ")" }),
      alertTable(alerts.filter((a) => a.kind === k)))));
}

/* ---- DNS ------------------------------------------------------------------ */

const DNS_KINDS = [["delegation", "Delegation changes"], ["injection", "Injected answers"],
  ["divergence", "Diverging answers"], ["dnssec", "DNSSEC failures"], ["outage", "Outages"]];

function short(v) {
  if (v === undefined || v === null) return "\u2013";
  return ut(typeof v === "string" ? v : JSON.stringify(v), 120);
}

/* The alert, zone, name, vantage and time columns hold words (names): a word
 * there widens its column instead of breaking letter by letter. */
const DNS_WORD_COLS = new Set([1, 2, 3, 4, 9, 10]);

/* What the node's routing sensor says of a finding (docs/dns.md, "With the
 * routing sensor"): links to the routing alerts its addresses fall under,
 * and for an outage the visibility of the name servers' prefixes. */
function dnsRouting(a) {
  const rows = (a.related || []).map((r) => h("div", { class: "dns-related" },
    objLink(r.id, r.kind + " " + (r.prefix || r.group || "")), " (", ut(r.address, 64), ")"));
  for (const v of a.routing || []) {
    const state = v.withdrawn ? v.withdrawn_prefix + " withdrawn " + (v.withdrawn_at || "")
      : v.routed ? v.prefix + " routed" : "no route seen";
    rows.push(h("div", { class: "dns-visibility" }, ut(v.address, 64), ": ",
      h("span", { class: "tag " + (v.withdrawn ? "bad" : v.routed ? "good" : "warn"),
        text: state })));
  }
  return rows.length ? h("div", {}, rows) : "\u2013";
}

function dnsTable(list) {
  if (list.length === 0) return h("p", { class: "empty", text: "None." });
  return h("table", { class: "results" }, h("thead", {}, h("tr", {}, ["TLP", "Alert", "Zone",
    "Name", "Vantage", "Field / cause", "Expected", "Observed", "Routing", "First seen",
    "Last seen", "State"].map((c) => h("th", { text: c })))),
  h("tbody", {}, list.map((a) => h("tr", {}, [tlp(a.tlp), objLink(a.id, a.kind),
    ut(a.zone, 80), ut(a.name, 80), ut(a.vantage, 64), ut(a.cause || a.field || "\u2013", 40),
    short(a.expected), short(a.observed), dnsRouting(a), when(a.first_seen), when(a.last_seen),
    a.open ? h("span", { class: "tag bad", text: "open" })
      : h("span", { class: "tag good", text: a.ended ? "ended " + when(a.ended) : "closed" })]
    .map((c, i) => h("td", DNS_WORD_COLS.has(i) ? { class: "words" } : {}, c))))));
}

async function renderDns() {
  markNav("dns");
  if (!own()) {
    show(h("h1", { text: "DNS" }), h("p", { class: "empty",
      text: "The DNS sensor's page is for this node's own organisation." }));
    return;
  }
  show(h("h1", { text: "DNS" }), h("p", { class: "hint", text: "Loading\u2026" }));
  const r = await api("GET", "dns");
  const alerts = r.alerts || [], zones = r.zones || [], sensor = r.sensor;
  const zoneRows = zones.map((z) => h("tr", {}, [ut(z.zone, 80),
    z.state === "ok" ? h("span", { class: "tag good", text: "ok" })
      : h("span", { class: "tag bad", text: z.open + " open: " + z.kinds.join(", ") }),
    z.last_check ? when(z.last_check) : "never"].map((c) => h("td", {}, c))));
  show(h("h1", { text: "DNS" }),
    h("section", { class: "panel", id: "dns-sensor" }, h("h2", { text: "Sensor" }),
      sensor ? h("p", {}, "Vantages: " + (sensor.vantages.join(", ") || "none") + "; every " +
        sensor.interval + " s; last round: ", sensor.last_round ? when(sensor.last_round)
        : "not yet", sensor.last_result ? h("span", { class: "hint" }, " \u2013 ",
        ut(sensor.last_result, 200)) : null)
        : h("p", { class: "empty", text: "No DNS sensor in this server: start serve with " +
          "--dns-config, --dns-baseline and --dns-collection (docs/dns.md)." })),
    h("section", { class: "panel", id: "dns-zones" }, h("h2", { text: "Watched zones" }),
      zones.length === 0 ? h("p", { class: "empty", text: "No zone." })
        : h("table", {}, h("thead", {}, h("tr", {}, ["Zone", "State", "Last check"]
          .map((c) => h("th", { text: c })))), h("tbody", {}, zoneRows))),
    h("section", { class: "panel", id: "dns-open" }, h("h2", { text: "Open findings (" +
      alerts.filter((a) => a.open).length + ")" }), dnsTable(alerts.filter((a) => a.open))),
    ...DNS_KINDS.map(([k, title]) => {
      const list = alerts.filter((a) => (a.kind === "outage-end" ? "outage" : a.kind) === k);
      return h("section", { class: "panel", id: "dns-" + k },
        h("h2", { text: title + " (" + list.length + ")" }), dnsTable(list));
    }),
    r.more ? h("p", { class: "hint", text: "Only the newest alerts are shown." }) : null);
}

/* ---- early warning ------------------------------------------------------------ */

/* The own org: every org's assets (pending claims first, with approve and
 * remove), a declaration form and a bulk upload that shows each line's
 * result; every org's notifications with filters. Another org: its own
 * assets and notifications only (the API decides, not this page). */
async function renderEarlyWarning(params) {
  markNav("notifications");
  const mine = !own();
  const orgFilter = mine ? "" : (params.get("org") || "");
  const q = (o) => Object.entries(o).filter(([, v]) => v !== "" && v !== null)
    .map(([k, v]) => encodeURIComponent(k) + "=" + encodeURIComponent(v)).join("&");
  const msg = h("p", { id: "ew-msg", role: "status" });
  const say = (text, bad) => { msg.className = bad ? "error" : ""; msg.textContent = clean(text); };

  const assets = h("section", { class: "panel", id: "ew-assets" }, h("h2", { text: "Assets" }));
  async function act(method, path, done) {
    try {
      const r = await api(method, path);
      say(done(r));
      loadAssets();
    } catch (e) { if (e.status !== 401) say(e.message, true); }
  }
  async function loadAssets() {
    try {
      const r = await api("GET", "assets" + (orgFilter ? "?" + q({ org: orgFilter }) : ""));
      const rows = r.assets.slice().sort((a, b) =>
        (a.status === "pending" ? 0 : 1) - (b.status === "pending" ? 0 : 1) || a.id - b.id);
      const head = ["#", "Org", "Kind", "Asset", "Status"].concat(mine ? [] : ["Overlaps", ""]);
      const row = (a) => h("tr", { class: a.status === "pending" ? "pending" : "",
        "data-asset": a.asset },
        h("td", { class: "num", text: String(a.id) }), h("td", {}, ut(a.org, 64)),
        h("td", { text: a.kind }), h("td", { class: "mono" }, ut(a.asset, 256)),
        h("td", {}, h("span", { class: a.status === "pending" ? "tag warn" : "tag good",
          text: a.status === "pending" ? "pending approval" : "active" })),
        mine ? null : h("td", {}, a.status === "pending" ? ut(a.overlaps, 300) : null),
        mine ? null : h("td", {},
          a.status === "pending" ? h("button", { type: "button", class: "approve",
            text: "Approve", onclick: () => act("POST", "assets/" + a.id + "/approve",
              (x) => "Approved " + x.asset + " for " + x.org + ".") }) : null, " ",
          h("button", { type: "button", class: "quiet remove", text: "Remove",
            onclick: () => act("DELETE", "assets/" + a.id,
              (x) => "Removed " + x.asset + " of " + x.org + ".") })));
      assets.replaceChildren(h("h2", { text: mine ? "Your assets" : "Assets" }),
        r.pending > 0 ? h("p", { class: "tag warn", id: "ew-pending",
          text: r.pending + (r.pending === 1 ? " claim waits" : " claims wait") +
            " for approval" }) : null,
        rows.length === 0 ? h("p", { class: "empty", text: "No assets declared." })
          : h("table", {}, h("thead", {}, h("tr", {}, head.map((c) => h("th", { text: c })))),
            h("tbody", {}, rows.map(row))),
        msg);
    } catch (e) { if (e.status !== 401) assets.replaceChildren(h("p", { class: "error",
      text: e.message })); }
  }

  let upload = null;
  if (!mine) {
    const result = h("div", { id: "ew-upload-result" });
    upload = h("form", { class: "panel", id: "ew-upload" },
      h("h2", { text: "Declare assets" }),
      h("p", { class: "hint", text: "One asset per line, ASSET or KIND,ASSET (kinds: asn, " +
        "prefix, domain, email, host); # starts a comment. The same as meridian asset import: " +
        "a claim overlapping another org's waits for approval." }),
      h("label", { for: "ew-org", text: "Org" }), h("input", { id: "ew-org", required: true,
        value: orgFilter }),
      h("label", { for: "ew-csv", text: "Assets (CSV)" }),
      h("textarea", { id: "ew-csv", rows: 6, class: "mono", required: true }),
      h("label", { for: "ew-file", text: "or a file" }),
      h("input", { id: "ew-file", type: "file", accept: ".csv,.txt,text/plain,text/csv" }),
      h("p", {}, h("button", { type: "submit", id: "ew-declare", text: "Declare" })), result);
    upload.querySelector("#ew-file").addEventListener("change", async (ev) => {
      const f = ev.target.files[0];
      if (f) upload.querySelector("#ew-csv").value = await f.text();
    });
    upload.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const r = await api("POST", "assets/import", { org: upload.querySelector("#ew-org")
          .value.trim(), csv: upload.querySelector("#ew-csv").value });
        result.replaceChildren(h("p", { role: "status", text: r.declared + " declared, " +
          r.refused + " refused" }),
        h("table", { id: "ew-lines" }, h("thead", {}, h("tr", {}, ["Line", "Asset", "Result"]
          .map((c) => h("th", { text: c })))),
        h("tbody", {}, r.lines.map((l) => h("tr", { class: l.status },
          h("td", { class: "num", text: String(l.line) }), h("td", { class: "mono" },
            ut(l.asset, 256)),
          h("td", {}, h("span", { class: l.status === "active" ? "tag good"
            : l.status === "pending" ? "tag warn" : "tag bad", text: l.status }), " ",
          ut(l.status === "refused" ? l.error : l.status === "pending"
            ? "overlaps " + l.overlaps + ": approve it above" : "", 300)))))));
        loadAssets();
      } catch (e) { if (e.status !== 401) result.replaceChildren(h("p", { class: "error",
        text: e.message })); }
    });
  }

  const filters = h("form", { class: "filters", id: "ew-filters" },
    mine ? null : h("label", {}, "Org ", h("input", { id: "f-org", size: 12, value: orgFilter })),
    h("label", {}, "Type ", h("input", { id: "f-type", size: 12,
      value: params.get("type") || "" })),
    h("label", {}, "Asset ", h("input", { id: "f-asset", size: 18,
      value: params.get("asset") || "" })),
    h("label", {}, h("input", { type: "checkbox", id: "f-new",
      checked: params.get("squelched") === "0" }), " new only"),
    h("button", { type: "submit", text: "Filter" }));
  filters.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const v = (id) => { const e = filters.querySelector("#" + id); return e ? e.value.trim() : ""; };
    location.hash = "#/notifications?" + q({ org: v("f-org"), type: v("f-type"),
      asset: v("f-asset"), squelched: filters.querySelector("#f-new").checked ? "0" : "" });
  });
  const notes = h("section", { class: "panel", id: "ew-notes" },
    h("h2", { text: "Recent notifications" }));
  async function loadNotes() {
    try {
      const r = await api("GET", "notifications?" + q({ org: orgFilter,
        type: params.get("type") || "", asset: params.get("asset") || "",
        squelched: params.get("squelched") || "", limit: "1000" }));
      const rows = r.notifications.slice().reverse();
      notes.replaceChildren(h("h2", { text: "Recent notifications" }), filters,
        rows.length === 0 ? h("p", { class: "empty", text: "No notifications." })
          : h("table", {}, h("thead", {}, h("tr", {}, ["#", "Time", "Org", "Asset", "Type",
            "Value", "Object", ""].map((c) => h("th", { text: c })))),
          h("tbody", {}, rows.map((x) => h("tr", { "data-n": String(x.n) },
            h("td", { class: "num", text: String(x.n) }), h("td", { text: when(x.time) }),
            h("td", {}, ut(x.org, 64)), h("td", { class: "mono" }, ut(x.asset, 256)),
            h("td", { text: x.type }),
            h("td", { class: "mono" }, x.withheld ? h("span", { class: "tag warn",
              text: "withheld" }) : ut(x.value, 256)),
            h("td", {}, x.object_id ? objLink(x.object_id) : null),
            h("td", {}, x.squelched ? h("span", { class: "tag", text: "squelched" })
              : h("span", { class: "tag good", text: "new" })))))));
    } catch (e) { if (e.status !== 401) notes.replaceChildren(h("p", { class: "error",
      text: e.message })); }
  }
  show(h("h1", { text: "Early warning" }),
    h("p", { class: "hint", text: mine
      ? "What your organisation declared it owns, and what this node told it. Each " +
        "notification is also in your early-warning collection over TAXII (API root " +
        "early-warning)."
      : "Each constituent's declared assets and the notifications routed to it " +
        "(docs/notify.md). A claim that overlaps another org's routes nothing until approved." }),
    assets, upload, notes);
  loadAssets();
  loadNotes();
}

/* ---- later pages -------------------------------------------------------- */

function renderLater(page, title, what) {
  markNav(page);
  show(h("h1", { text: title }), h("p", { class: "later-page", text: what }));
}

/* ---- routing ------------------------------------------------------------ */

function route() {
  if (!state.who) { renderSignin(); return; }
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, query] = hash.split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/");
  main().focus({ preventScroll: true });
  switch (parts[0]) {
    case "": case "overview": renderOverview(params).catch(failure); break;
    case "search": renderSearch(params).catch(failure); break;
    case "bulk": renderBulk().catch(failure); break;
    case "federation": renderFederation().catch(failure); break;
    case "object": renderObject(decodeURIComponent(parts.slice(1).join("/"))).catch(failure);
      break;
    case "holds": renderHolds(params).catch(failure); break;
    case "routing": renderRouting().catch(failure); break;
    case "dns": renderDns().catch(failure); break;
    case "notifications": renderEarlyWarning(params).catch(failure); break;
    default: show(h("h1", { text: "Not found" }), h("p", { text: "No such page." }));
  }
}

async function start() {
  document.getElementById("signout").addEventListener("click", signout);
  window.addEventListener("hashchange", route);
  try {
    const r = await fetch("/api/v1/session", { credentials: "same-origin",
      headers: { "Accept": "application/json" }, cache: "no-store" });
    if (r.ok) {
      state.who = await r.json();
      state.csrf = state.who.csrf || null;
    }
  } catch (e) { /* offline: sign-in shows */ }
  setWho();
  route();
}

document.addEventListener("DOMContentLoaded", start);
