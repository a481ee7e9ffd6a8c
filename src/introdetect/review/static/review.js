// The review page: plain JS, no build step. The server draws the timelines (SVG); this draws the current
// boundaries and the playhead over them, keeps the list, and saves every decision at once.
"use strict";

const state = { episodes: [], current: null, cur: null, reviewer: "", stopAt: null, zoomSpan: null, kind: "intro" };
const KINDS = ["intro", "ident", "recap", "credits", "preview"];  // the order of an episode
const $ = (id) => document.getElementById(id);
const player = $("player");

function fmt(t) {
  if (t === null || t === undefined) return "–";
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
  return `${h}:${String(m).padStart(2, "0")}:${s.toFixed(2).padStart(5, "0")}`;
}

// the intro's decision names an episode's status; one whose other parts only were decided is "reviewed"
function statusOf(ep) { return ep.review ? (ep.review.decision || "reviewed") : "unreviewed"; }

function decidedKinds(ep) {
  if (!ep.review) return [];
  return KINDS.filter((k) => (k === "intro" ? "decision" in ep.review : ep.review.reviews && k in ep.review.reviews));
}

function visible() {
  const series = $("filter-series").value, status = $("filter-status").value;
  const matches = (ep) => {
    if (!status) return true;
    if (status === "reviewed") return ep.review !== null;
    if (status === "parts") return decidedKinds(ep).some((k) => k !== "intro");
    return statusOf(ep) === status;
  };
  return state.episodes.filter((ep) => (!series || ep.series === series) && matches(ep));
}

function seconds(text) {  // "H:MM:SS.mmm" (the label files' times) in seconds
  return text.split(":").reduce((total, field) => total * 60 + parseFloat(field), 0);
}

function say(text, error) {
  const el = $("status");
  el.textContent = text;
  el.className = error ? "error" : "";
}

async function api(path, options) {
  const response = await fetch(path, options);
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  return { ok: response.ok, status: response.status, body };
}

async function load() {
  const { ok, body } = await api("api/episodes");
  if (!ok) { say((body && body.error) || "cannot load the episodes", true); return; }
  state.reviewer = localStorage.getItem("introdetect-reviewer") || body.reviewer;
  $("reviewer").value = state.reviewer;
  $("file").textContent = "saving to " + body.file;
  state.episodes = body.episodes.sort((a, b) =>
    (a.confidence === null ? -1 : a.confidence) - (b.confidence === null ? -1 : b.confidence) || a.id.localeCompare(b.id));
  const names = [...new Set(state.episodes.map((ep) => ep.series))].sort();
  for (const name of names) {
    const option = document.createElement("option");
    option.value = option.textContent = name;
    $("filter-series").appendChild(option);
  }
  renderList();
  const first = state.episodes.find((ep) => !ep.review) || state.episodes[0];
  if (first) select(first.id);
}

function renderList() {
  const list = $("episodes");
  list.innerHTML = "";
  for (const ep of visible()) {
    const li = document.createElement("li");
    li.dataset.id = ep.id;
    if (state.current && ep.id === state.current.id) li.className = "current";
    const name = document.createElement("span");
    name.textContent = ep.id + " ";
    const badge = document.createElement("span");
    badge.className = "badge " + statusOf(ep);
    badge.textContent = statusOf(ep).replace("_", " ");
    name.appendChild(badge);
    const conf = document.createElement("span");
    conf.className = "conf";
    conf.textContent = ep.confidence === null ? "–" : ep.confidence.toFixed(2);
    li.append(name, conf);
    li.addEventListener("click", () => select(ep.id));
    list.appendChild(li);
  }
  const done = state.episodes.filter((ep) => ep.review).length;
  $("progress").textContent = `${done} of ${state.episodes.length} reviewed`;
}

function boundsOf(ep, kind) {
  if (decidedKinds(ep).includes(kind)) {
    const r = ep.review;
    if (kind === "intro") return r.start_sec === null ? null : { start: r.start_sec, end: r.end_sec };
    const start = r[kind + "_start"], end = r[kind + "_end"];
    return start === null || start === undefined ? null : { start: seconds(start), end: seconds(end) };
  }
  const span = ep.parts[kind].span;
  return span ? { start: span[0], end: span[1] } : null;
}

function describe(ep, kind) {  // what was detected of the part, and what was decided
  const part = ep.parts[kind];
  const found = part.span ? `${fmt(part.span[0])} – ${fmt(part.span[1])}` : (part.method ? `no ${kind}` : "not looked for");
  const conf = part.confidence === null ? "" : `, confidence ${part.confidence.toFixed(2)}`;
  const how = part.method ? ` (${part.method}${conf})` : "";
  let reviewed = "";
  if (decidedKinds(ep).includes(kind)) {
    const r = kind === "intro" ? ep.review : ep.review.reviews[kind];
    reviewed = ` · reviewed: ${r.decision.replace("_", " ")} by ${r.reviewed_by} at ${r.reviewed_at}`;
  }
  return `${kind} detected: ${found}${how}${reviewed}`;
}

function renderKinds() {
  const ep = state.current, box = $("kinds");
  box.innerHTML = "";
  for (const kind of KINDS) {
    const button = document.createElement("button");
    button.dataset.kind = kind;
    button.textContent = kind;
    button.setAttribute("role", "tab");
    button.setAttribute("aria-selected", String(kind === state.kind));
    button.className = [kind === state.kind ? "current" : "", ep.parts[kind].span ? "found" : "",
                        decidedKinds(ep).includes(kind) ? "decided" : ""].join(" ").trim();
    button.addEventListener("click", () => choose(kind));
    box.appendChild(button);
  }
  $("no-intro").textContent = `no ${state.kind} (n)`;
}

async function choose(kind) {  // the part under review
  const ep = state.current;
  if (!ep || !KINDS.includes(kind)) return;
  state.kind = kind;
  state.cur = boundsOf(ep, kind);
  $("answer").textContent = describe(ep, kind);
  $("note").textContent = ep.parts[kind].note || "";
  renderKinds();
  showBounds();  // the part's boundaries at once; the close view follows them when it has loaded
  await loadTimeline("zoom", true);
  showBounds();
  if (state.cur && !player.hidden && player.readyState > 0) player.currentTime = Math.max(0, state.cur.start - 3);
}

async function select(id) {
  const ep = state.episodes.find((e) => e.id === id);
  if (!ep) return;
  state.current = ep;
  state.cur = boundsOf(ep, state.kind);
  state.zoomSpan = null;
  $("detail").hidden = false;
  $("title").textContent = `${ep.id} — ${ep.series}`;
  $("answer").textContent = describe(ep, state.kind);
  $("note").textContent = ep.parts[state.kind].note || "";
  renderKinds();
  $("media-note").textContent = ep.media ? "" : "no media file for this episode: decide from the timeline";
  player.dataset.fallback = "";
  if (ep.media) {
    player.src = "media/" + encodeURIComponent(ep.id);
    player.hidden = false;
  } else {
    player.removeAttribute("src");
    player.hidden = true;
  }
  say("");
  renderList();
  await Promise.all([loadTimeline("full", false), loadTimeline("zoom", true)]);
  showBounds();
}

async function loadTimeline(where, zoom) {
  const ep = state.current;
  let url = `api/episodes/${encodeURIComponent(ep.id)}/timeline.svg`;
  if (zoom) {
    url += "?zoom=true";
    if (state.cur) url += `&start=${state.cur.start}&end=${state.cur.end}`;
  }
  const response = await fetch(url);
  if (!response.ok || state.current !== ep) return;
  $(where).innerHTML = await response.text();
  const svg = $(where).querySelector("svg");
  if (zoom) state.zoomSpan = [parseFloat(svg.dataset.t0), parseFloat(svg.dataset.t1)];
  svg.addEventListener("click", (event) => {
    const t = timeAt(svg, event);
    if (ep.media) { player.currentTime = t; } else { say(`${fmt(t)} (no media to play)`); }
  });
}

function mapping(svg) {
  const d = svg.dataset;
  return { t0: +d.t0, t1: +d.t1, x0: +d.x0, x1: +d.x1, y1: +d.y1 };
}

function timeAt(svg, event) {
  const m = mapping(svg), box = svg.getBoundingClientRect();
  const x = (event.clientX - box.left) * (svg.viewBox.baseVal.width / box.width);
  return Math.max(m.t0, Math.min(m.t1, m.t0 + (x - m.x0) / (m.x1 - m.x0) * (m.t1 - m.t0)));
}

function draw(svg) {
  const m = mapping(svg), ns = "http://www.w3.org/2000/svg";
  svg.querySelectorAll(".overlay").forEach((el) => el.remove());
  const x = (t) => m.x0 + (Math.max(m.t0, Math.min(m.t1, t)) - m.t0) / (m.t1 - m.t0) * (m.x1 - m.x0);
  const add = (tag, attrs) => {
    const el = document.createElementNS(ns, tag);
    el.setAttribute("class", "overlay");
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    svg.appendChild(el);
  };
  if (state.cur) {
    add("rect", { x: x(state.cur.start), y: 2, width: Math.max(1, x(state.cur.end) - x(state.cur.start)), height: m.y1 - 2,
                  fill: "#f5c400", "fill-opacity": 0.18 });
    add("line", { x1: x(state.cur.start), x2: x(state.cur.start), y1: 2, y2: m.y1, stroke: "#b38f00", "stroke-width": 2 });
    add("line", { x1: x(state.cur.end), x2: x(state.cur.end), y1: 2, y2: m.y1, stroke: "#b38f00", "stroke-width": 2 });
  }
  if (!player.hidden && player.readyState > 0) {
    add("line", { x1: x(player.currentTime), x2: x(player.currentTime), y1: 2, y2: m.y1, stroke: "#d0342c", "stroke-width": 1 });
  }
}

function showBounds() {
  $("start").textContent = state.cur ? fmt(state.cur.start) : `no ${state.kind}`;
  $("end").textContent = state.cur ? fmt(state.cur.end) : "";
  document.querySelectorAll(".timeline svg").forEach(draw);
  const z = state.zoomSpan;
  if (state.cur && z && (state.cur.start < z[0] || state.cur.end > z[1])) loadTimeline("zoom", true).then(showBounds);
}

function setBound(which, t) {
  t = Math.round(Math.max(0, t) * 1000) / 1000;
  if (!state.cur) state.cur = which === "start" ? { start: t, end: t + 10 } : { start: Math.max(0, t - 10), end: t };
  else state.cur[which] = t;
  if (state.cur.end - state.cur.start < 0.1) {
    if (which === "start") state.cur.end = state.cur.start + 0.1; else state.cur.start = Math.max(0, state.cur.end - 0.1);
  }
  showBounds();
}

function nudge(which, by) { if (state.cur) setBound(which, state.cur[which] + by); }

function playAround(t) {
  if (player.hidden || t === null) return;
  player.currentTime = Math.max(0, t - 3);
  state.stopAt = t + 3;
  player.play();
}

async function decide(action) {
  const ep = state.current, kind = state.kind;
  if (!ep) return;
  if (action === "save" && !state.cur) action = "none";
  const body = { action, kind, revision: ep.review ? ep.review.revision : null, reviewer: $("reviewer").value };
  if (action === "save") { body.start_sec = state.cur.start; body.end_sec = state.cur.end; }
  const { ok, status, body: reply } = await api(`api/episodes/${encodeURIComponent(ep.id)}/decision`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  if (status === 409) {
    ep.review = reply.review;
    await select(ep.id);
    say("another tab or reviewer changed this episode: showing their decision; decide again if needed", true);
    return;
  }
  if (!ok) { say((reply && (reply.error || reply.detail)) || `not saved (HTTP ${status})`, true); return; }
  ep.review = reply.review;
  renderList();
  if (action === "undo") { await select(ep.id); say(`decision on the ${kind} removed`); return; }
  const decided = (kind === "intro" ? reply.review : reply.review.reviews[kind]).decision.replace("_", " ");
  if (kind !== "intro") {  // another part: stay on the episode (its intro may still want a look)
    await choose(kind);
    say(`saved the ${kind}: ${decided}`);
    return;
  }
  say(`saved: ${decided}`);
  const list = visible(), at = list.findIndex((e) => e.id === ep.id);
  const next = list.slice(at + 1).find((e) => !e.review) || list.find((e) => !e.review);
  if (next) { await select(next.id); say(`saved ${ep.id}: ${decided}`); }
}

function step(by) {
  const list = visible(), at = list.findIndex((e) => state.current && e.id === state.current.id);
  const next = list[at + by];
  if (next) select(next.id);
}

player.addEventListener("timeupdate", () => {
  if (state.stopAt !== null && player.currentTime >= state.stopAt) { player.pause(); state.stopAt = null; }
  document.querySelectorAll(".timeline svg").forEach(draw);
});
player.addEventListener("loadedmetadata", () => {
  const t = state.cur ? state.cur.start : 0;
  player.currentTime = Math.max(0, t - 3);
});
player.addEventListener("error", () => {
  const ep = state.current;
  if (!ep || !ep.media || player.dataset.fallback) return;
  player.dataset.fallback = "1";  // the browser cannot play the file: the server's audio preview of the window
  $("media-note").textContent = "this browser cannot play the file: playing an audio preview of the analysed window";
  player.src = `media/${encodeURIComponent(ep.id)}/preview.webm`;
});

document.querySelectorAll("[data-nudge]").forEach((button) =>
  button.addEventListener("click", () => nudge(button.dataset.nudge, parseFloat(button.dataset.by))));
$("start-here").addEventListener("click", () => setBound("start", player.currentTime));
$("end-here").addEventListener("click", () => setBound("end", player.currentTime));
$("play-start").addEventListener("click", () => playAround(state.cur && state.cur.start));
$("play-end").addEventListener("click", () => playAround(state.cur && state.cur.end));
$("confirm").addEventListener("click", () => decide("save"));
$("no-intro").addEventListener("click", () => decide("none"));
$("undo").addEventListener("click", () => decide("undo"));
$("next").addEventListener("click", () => step(1));
$("prev").addEventListener("click", () => step(-1));
$("filter-series").addEventListener("change", renderList);
$("filter-status").addEventListener("change", renderList);
$("reviewer").addEventListener("change", () => localStorage.setItem("introdetect-reviewer", $("reviewer").value));

document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, select, textarea") || event.ctrlKey || event.metaKey || event.altKey) return;
  const keys = {
    " ": () => (player.paused ? player.play() : player.pause()),
    z: () => nudge("start", -0.1), x: () => nudge("start", 0.1), Z: () => nudge("start", -1), X: () => nudge("start", 1),
    c: () => nudge("end", -0.1), v: () => nudge("end", 0.1), C: () => nudge("end", -1), V: () => nudge("end", 1),
    "[": () => setBound("start", player.currentTime), "]": () => setBound("end", player.currentTime),
    1: () => playAround(state.cur && state.cur.start), 2: () => playAround(state.cur && state.cur.end),
    Enter: () => decide("save"), n: () => decide("none"), u: () => decide("undo"),
    j: () => step(1), k: () => step(-1),
    i: () => choose("intro"), d: () => choose("ident"), r: () => choose("recap"), e: () => choose("credits"),
    p: () => choose("preview"),
  };
  const action = keys[event.key];
  if (action) { event.preventDefault(); action(); }
});

load();
