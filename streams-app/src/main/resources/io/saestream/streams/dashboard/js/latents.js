// Top firing latents of the latest window, and one latent's detail: density over windows,
// activation histogram and top contexts.

import { histogramChart, timeChart } from "./charts.js";
import { renderContext } from "./context.js";
import { count, num, percent, time } from "./format.js";

function cell(text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  if (text instanceof Node) td.append(text);
  else td.textContent = text;
  return td;
}

/**
 * Fills the top-latents table; clicking a row calls onPick(latent).
 * @param {HTMLTableElement} table
 * @param {object} top the /latents/top answer
 * @param {number|null} selected the latent shown in the detail view
 * @param {(latent: number) => void} onPick
 */
export function renderTopLatents(table, top, selected, onPick) {
  const rows = (top.latents || []).map((l) => {
    const tr = document.createElement("tr");
    tr.dataset.latent = String(l.latent);
    if (l.latent === selected) tr.classList.add("selected");
    tr.append(
      cell(String(l.latent), "num"),
      cell(count(l.firings), "num"),
      cell(percent(l.density), "num"),
      cell(num(l.mean_activation), "num"),
      cell(num(l.max_activation), "num"),
      cell(renderContext(l.top_context || null)),
    );
    tr.addEventListener("click", () => onPick(l.latent));
    return tr;
  });
  table.tBodies[0].replaceChildren(...rows);
  return rows.length;
}

/** The latent detail view: two charts and a list, created once, filled on every poll. */
export class LatentDetail {
  constructor(root) {
    this.density = timeChart(root.querySelector("#chart-latent-density"), [{ label: "density" }], percent);
    this.histogram = histogramChart(root.querySelector("#chart-latent-histogram"), num);
    this.contexts = root.querySelector("#latent-contexts");
    this.note = root.querySelector("#latent-note");
  }

  clear(message) {
    this.density.set([], []);
    this.histogram.set([], []);
    this.contexts.replaceChildren();
    this.note.textContent = message;
  }

  /** @param {object} detail the /latents/{latent} answer */
  show(detail) {
    const windows = detail.windows || [];
    this.density.set(
      windows.map((w) => w.window_start / 1000),
      windows.map((w) => w.density),
    );
    const edges = (detail.histogram && detail.histogram.edges) || [];
    const counts = (detail.histogram && detail.histogram.counts) || [];
    const centres = counts.map((c, i) => (edges[i] + edges[i + 1]) / 2);
    this.histogram.set(centres, counts);
    const firings = windows.reduce((sum, w) => sum + (w.firings || 0), 0);
    this.note.textContent =
      `${count(firings)} firings in ${windows.length} window${windows.length === 1 ? "" : "s"}`;
    this.contexts.replaceChildren(
      ...(detail.contexts || []).map((c) => {
        const li = document.createElement("li");
        const meta = document.createElement("div");
        meta.className = "meta";
        meta.textContent =
          `${num(c.activation)} · ${c.sequence_id} @ ${c.position} · ${time(c.window_start)}`;
        li.append(renderContext(c), meta);
        return li;
      }),
    );
  }
}
