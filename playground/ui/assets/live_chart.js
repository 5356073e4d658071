// The live chart's browser side (see live_chart.py): one Plotly div per chart, redrawn in place with
// Plotly.react, so a chart that was drawn never disappears between frames and a user's zoom survives
// (layout.uirevision). plotly.js is loaded once per page, by URL, guarded by one promise on window.
// This file is served as a file (live_chart.py) and imported by a tiny inline loader, once per page:
// its default export takes the component and plotly.js's URL.
//
// A chart with a `replay` spec (playground/replay.py) gets a player under it: Play and a scrubber
// over the run's kept frames, played here in the browser (no rerun). While the run trains, the frames
// are the ones this chart drew (at most MOST_FRAMES, thinned evenly); once it has ended, the run's own
// timeline. Scrubbing holds the chart on that frame (new live frames wait) until "Latest". The replayed
// epoch is announced as a "pg-replay" event; a chart with `follow` = that chart's key marks it.
//
// Static traces (the data points) come once as "static_traces" and then only as "static": {key, at};
// the window keeps them by key (STATIC_KEPT entries, least recently used out first; remounts within
// the page keep them) and each frame is rebuilt whole before Plotly.react. A key not kept (a cleared or
// evicted cache) is drawn with the points' places empty and reported with the trigger "miss", after
// which the server sends the traces again.
const MOST_FRAMES = 120;
const PLAY_MS = 6000; // a whole replay takes about this long ...
const MIN_STEP_MS = 50; // ... and shows at most 20 frames a second
const STATIC_KEPT = 8;
const MISS_AGAIN_MS = 1000; // a miss of the same key is reported again only after this long
const TYPES = { u1: Uint8Array, i1: Int8Array, u2: Uint16Array, i2: Int16Array, u4: Uint32Array,
  i4: Int32Array, f4: Float32Array, f8: Float64Array };

let plotlyUrl = null; // given by the loader with each frame

function loadPlotly() {
  if (!window.__pgPlotly) {
    window.__pgPlotly = window.Plotly ? Promise.resolve(window.Plotly) : new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = new URL(plotlyUrl, document.baseURI).href;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => { window.__pgPlotly = null; reject(new Error("plotly.js did not load")); };
      document.head.appendChild(script);
    });
  }
  return window.__pgPlotly;
}

function decode(data) {
  if (typeof data === "string") return JSON.parse(data);
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return JSON.parse(new TextDecoder().decode(data));
  return data;
}

// --- static traces, kept per window -----------------------------------------------------------

function staticCache() {
  if (!(window.__pgStatic instanceof Map)) window.__pgStatic = new Map(); // oldest first
  return window.__pgStatic;
}

function keepStatic(key, traces) {
  const cache = staticCache();
  cache.delete(key);
  cache.set(key, traces);
  while (cache.size > STATIC_KEPT) cache.delete(cache.keys().next().value);
}

function keptStatic(key) {
  const cache = staticCache(), traces = cache.get(key);
  if (traces) { cache.delete(key); cache.set(key, traces); } // now the most recently used
  return traces || null;
}

// The whole figure: the static traces (kept, or sent now) put back at their places among the others.
// Plotly may write into the traces it is given, so each frame gets its own copy of the kept ones.
function withStatic(figure, miss) {
  const part = figure.static;
  if (!part) return figure;
  if (Array.isArray(figure.static_traces)) keepStatic(part.key, figure.static_traces);
  const kept = keptStatic(part.key);
  if (!kept) miss(part.key);
  const traces = kept ? structuredClone(kept)
    : part.at.map(() => ({ type: "scatter", x: [], y: [], showlegend: false, hoverinfo: "skip" }));
  const data = new Array(figure.data.length + part.at.length), changing = figure.data[Symbol.iterator]();
  part.at.forEach((place, i) => { data[place] = traces[i]; });
  for (let i = 0; i < data.length; i += 1) if (data[i] === undefined) data[i] = changing.next().value;
  return { ...figure, data, static_traces: undefined, staticMissing: !kept };
}

// The div's data-misses counts the misses reported (a signal for tests, as data-epoch is).
function reportMiss(component, div, key) {
  const state = div.pg, now = Date.now();
  if (state.missed && state.missed.key === key && now - state.missed.at < MISS_AGAIN_MS) return;
  state.missed = { key, at: now };
  div.dataset.misses = String(Number(div.dataset.misses || 0) + 1);
  if (typeof component.setTriggerValue === "function") component.setTriggerValue("miss", key);
}

// {dtype, shape, bdata} (plotly's typed-array spec) -> {values, shape}; plain arrays pass through.
function unpack(value) {
  if (!value || typeof value.bdata !== "string" || !TYPES[value.dtype]) return null;
  const bytes = Uint8Array.from(atob(value.bdata), (c) => c.charCodeAt(0));
  const shape = typeof value.shape === "string" ? value.shape.split(",").map(Number) : (value.shape || []);
  return { values: new TYPES[value.dtype](bytes.buffer), shape };
}

// Frame `index` of packed frames (N, G, W) as rows of views, or (N, G) as one view.
function frameOf(values, shape, index) {
  const size = shape.slice(1).reduce((a, b) => a * b, 1);
  const flat = values.subarray(index * size, (index + 1) * size);
  if (shape.length < 3) return flat;
  return Array.from({ length: shape[1] }, (_, r) => flat.subarray(r * shape[2], (r + 1) * shape[2]));
}

// The value a live figure's replayed trace shows, as a frame (a 2-D z as rows).
function liveFrame(value) {
  const packed = unpack(value);
  if (!packed) return Array.isArray(value) ? value : null;
  return frameOf(packed.values, [1, ...packed.shape], 0);
}

function epochOf(figure) {
  const title = figure.layout.title;
  const match = /epoch (\d+)/.exec(typeof title === "string" ? title : (title && title.text) || "");
  return match ? Number(match[1]) : null;
}

function chartDiv(parent) {
  let div = parent.querySelector(":scope > .pg-live-chart");
  if (!div) {
    div = document.createElement("div");
    div.className = "pg-live-chart";
    parent.appendChild(div);
    div.pg = { frames: [], index: null, marker: null, timer: null, latest: null, drawn: null };
  }
  return div;
}

// --- the player's frames ----------------------------------------------------------------------

// A new run: another run name, or live frames after a finished run's timeline (a name can repeat).
function startRun(state, spec, force = false) {
  if (!force && state.run === spec.run && !(spec.live && state.runFrames)) return;
  state.run = spec.run;
  state.frames = [];
  state.runFrames = null;
  state.index = null;
}

function keepLiveFrame(state, figure) {
  const spec = figure.replay, epoch = epochOf(figure);
  if (epoch !== null && state.frames.length && epoch < state.frames[state.frames.length - 1].epoch) {
    startRun(state, spec, true); // the epochs went back: a new run under the same name
  }
  const last = state.frames[state.frames.length - 1];
  if (epoch === null || (last && epoch <= last.epoch)) return;
  const value = liveFrame(figure.data[spec.trace] && figure.data[spec.trace][spec.attr]);
  if (value === null) return;
  state.frames.push({ epoch, value });
  if (state.frames.length > MOST_FRAMES) { // thin evenly, keeping the first and the newest
    state.frames = state.frames.filter((_, i, all) => i % 2 === 0 || i === all.length - 1);
  }
}

// The run's own timeline replaces the frames drawn live; a held frame stays at (about) its epoch. The
// frames come once per chart; after that the spec names them (frames_key) without them: a chart that
// lacks them (its div was remounted) reports the key as missing, and the rerun that starts sends them.
function useRunFrames(state, spec, miss) {
  const name = spec.frames_key || (spec.frames && spec.frames.bdata);
  if (!name || state.runFrames === name) return;
  const packed = unpack(spec.frames);
  if (!packed) { if (!spec.frames && spec.frames_key) miss(spec.frames_key); return; }
  if (packed.shape[0] !== spec.epochs.length) return;
  const held = state.index === null ? null : state.frames[state.index].epoch;
  state.runFrames = name;
  state.frames = spec.epochs.map((epoch, i) => ({ epoch, value: frameOf(packed.values, packed.shape, i) }));
  state.index = held === null ? null : Math.max(0, spec.epochs.filter((epoch) => epoch <= held).length - 1);
}

// --- drawing ------------------------------------------------------------------------------------

function markerShape(epoch) {
  return { type: "line", xref: "x", yref: "paper", x0: epoch, x1: epoch, y0: 0, y1: 1,
    line: { color: "#31333f", width: 2, dash: "dot" } };
}

function draw(Plotly, div) {
  const state = div.pg, figure = state.latest, spec = figure.replay;
  let data = figure.data, layout = figure.layout;
  const shown = spec && state.index !== null ? state.frames[state.index] : null;
  if (shown) {
    data = data.slice();
    data[spec.trace] = { ...data[spec.trace], [spec.attr]: shown.value };
    layout = { ...layout, title: { ...(layout.title || {}), text: `${spec.title} — epoch ${shown.epoch}` } };
  }
  if (state.marker !== null) layout = { ...layout, shapes: [...(layout.shapes || []), markerShape(state.marker)] };
  state.drawn = shown ? shown.epoch : epochOf(figure);
  div.dataset.epoch = state.drawn === null ? "" : String(state.drawn);
  div.dataset.points = figure.staticMissing ? "missing" : "drawn"; // the static traces, when it has some
  Plotly.react(div, data, layout, figure.config);
}

function redraw(div) {
  loadPlotly().then((Plotly) => draw(Plotly, div));
}

function announce(key, epoch) {
  document.dispatchEvent(new CustomEvent("pg-replay", { detail: { key, epoch } }));
}

// --- the player ---------------------------------------------------------------------------------

function show(div, index) {
  const state = div.pg;
  state.index = index;
  const frame = index === null ? null : state.frames[index];
  announce(state.latest.key, frame ? frame.epoch : null);
  syncControls(div);
  redraw(div);
}

function stop(div) {
  clearInterval(div.pg.timer);
  div.pg.timer = null;
}

function play(div) {
  const state = div.pg;
  if (state.timer !== null) { stop(div); syncControls(div); return; }
  if (!state.frames.length) return;
  const step = Math.max(MIN_STEP_MS, PLAY_MS / state.frames.length);
  let index = state.index === null || state.index >= state.frames.length - 1 ? 0 : state.index;
  show(div, index);
  state.timer = setInterval(() => {
    index += 1;
    if (index >= state.frames.length) { stop(div); show(div, null); return; } // the end: the newest again
    show(div, index);
  }, step);
}

function controls(parent, div) {
  let bar = parent.querySelector(":scope > .pg-player");
  if (bar) return bar;
  bar = document.createElement("div");
  bar.className = "pg-player";
  bar.style.cssText = "display:flex;flex-wrap:wrap;align-items:center;gap:0.4rem 0.6rem;padding:0.25rem 0 0.25rem 0.25rem;";
  bar.innerHTML = `<button type="button" class="pg-play" title="replay the run's frames">▶ Play</button>
    <input type="range" class="pg-scrub" min="0" max="0" value="0" step="1" style="flex:1;min-width:6em" aria-label="replayed epoch">
    <span class="pg-epoch" style="min-width:7.5em;font-variant-numeric:tabular-nums"></span>
    <button type="button" class="pg-latest" title="show the newest frame again">Latest</button>`;
  for (const button of bar.querySelectorAll("button")) {
    button.style.cssText = "font:inherit;padding:0.2rem 0.7rem;border:1px solid #d5dae5;border-radius:0.5rem;"
      + "background:#fff;color:#31333f;cursor:pointer;white-space:nowrap";
  }
  bar.querySelector(".pg-play").onclick = () => play(div);
  bar.querySelector(".pg-latest").onclick = () => { stop(div); show(div, null); };
  bar.querySelector(".pg-scrub").oninput = (event) => { stop(div); show(div, Number(event.target.value)); };
  parent.appendChild(bar);
  return bar;
}

function syncControls(div) {
  const state = div.pg, bar = state.bar;
  if (!bar) return;
  const count = state.frames.length, index = state.index === null ? count - 1 : state.index;
  const scrub = bar.querySelector(".pg-scrub");
  scrub.max = String(Math.max(count - 1, 0));
  scrub.value = String(Math.max(index, 0));
  scrub.disabled = count < 2;
  bar.querySelector(".pg-play").textContent = state.timer !== null ? "❚❚ Pause" : "▶ Play";
  bar.querySelector(".pg-play").disabled = count < 2;
  bar.querySelector(".pg-latest").disabled = state.index === null;
  const frame = count ? state.frames[Math.max(index, 0)] : null;
  bar.querySelector(".pg-epoch").textContent = frame ? `epoch ${frame.epoch.toLocaleString()}` : "";
  bar.dataset.frames = String(count);
}

function dropPlayer(div) {
  const state = div.pg;
  stop(div);
  state.bar.remove();
  state.bar = null;
  state.frames = [];
  state.run = undefined;
  state.runFrames = null;
  if (state.index !== null) announce(state.latest.key, null);
  state.index = null;
}

function follow(div, key) {
  const state = div.pg;
  if (state.following === key) return;
  if (state.listener) document.removeEventListener("pg-replay", state.listener);
  state.following = key;
  state.listener = (event) => {
    if (event.detail.key !== key) return;
    state.marker = event.detail.epoch;
    redraw(div);
  };
  document.addEventListener("pg-replay", state.listener);
}

export default function (component, plotly) {
  if (plotly) plotlyUrl = plotly;
  const { parentElement, data } = component;
  const div = chartDiv(parentElement);
  const state = div.pg;
  const miss = (key) => reportMiss(component, div, key);
  const figure = withStatic(decode(data), miss);
  div.style.height = `${figure.layout.height}px`;
  state.latest = figure; // frames that arrive while plotly.js loads: only the newest is drawn
  if (!figure.replay && state.bar) dropPlayer(div); // e.g. after Reset: the data alone, nothing to replay
  if (figure.replay) {
    startRun(state, figure.replay);
    if (figure.replay.live) keepLiveFrame(state, figure);
    else useRunFrames(state, figure.replay, miss);
    if (state.index !== null && state.index >= state.frames.length) state.index = null;
    state.bar = controls(parentElement, div);
    syncControls(div);
  }
  if (figure.follow) follow(div, figure.follow);
  loadPlotly().then((Plotly) => {
    if (state.latest === figure) draw(Plotly, div);
  });
}
