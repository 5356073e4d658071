// The live chart's browser side (see live_chart.py): one Plotly div per chart, redrawn in place with
// Plotly.react, so a chart that was drawn never disappears between frames and a user's zoom survives
// (layout.uirevision). plotly.js is loaded once per page, by URL, guarded by one promise on window.
const PLOTLY_URL = "__PLOTLY_URL__";

function loadPlotly() {
  if (!window.__pgPlotly) {
    window.__pgPlotly = window.Plotly ? Promise.resolve(window.Plotly) : new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = new URL(PLOTLY_URL, document.baseURI).href;
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

export default function (component) {
  const { parentElement, data } = component;
  let div = parentElement.querySelector(":scope > .pg-live-chart");
  if (!div) {
    div = document.createElement("div");
    div.className = "pg-live-chart";
    parentElement.appendChild(div);
  }
  const figure = decode(data);
  div.style.height = `${figure.layout.height}px`;
  div.pgLatest = figure; // frames that arrive while plotly.js loads: only the newest is drawn
  loadPlotly().then((Plotly) => {
    if (div.pgLatest === figure) Plotly.react(div, figure.data, figure.layout, figure.config);
  });
}
