// Thin wrappers over uPlot (served from its webjar): line charts over time and a bar histogram,
// coloured from the page's CSS variables, resized with their container.

import uPlot from "../vendor/uPlot.esm.js";

const PLOT_HEIGHT = 180;

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function axes(xTime, yFormat) {
  const stroke = cssVar("--fg-muted");
  const grid = { stroke: cssVar("--grid"), width: 1 };
  const y = { stroke, grid, ticks: grid, size: 56, values: (u, ticks) => ticks.map(yFormat) };
  const x = { stroke, grid, ticks: grid };
  if (!xTime) {
    x.values = (u, ticks) => ticks.map(yFormat);
  }
  return [x, y];
}

class Chart {
  constructor(element, options, seriesCount) {
    this.element = element;
    this.plot = new uPlot(
      { ...options, ...this.size() },
      [[], ...Array.from({ length: seriesCount }, () => [])],
      element,
    );
    new ResizeObserver(() => this.plot.setSize(this.size())).observe(element);
  }

  size() {
    // The plot has a fixed height; the legend, when shown, adds its own below it.
    return { width: Math.max(this.element.clientWidth, 120), height: PLOT_HEIGHT };
  }

  /** Replaces the data: xs ascending, one array of ys per series (null for a gap). */
  set(xs, ...ys) {
    this.plot.setData([xs, ...ys]);
  }
}

/**
 * A line chart over time (x in epoch seconds).
 * @param {HTMLElement} element
 * @param {{label: string}[]} series
 * @param {(v: number) => string} format y values
 */
export function timeChart(element, series, format) {
  return new Chart(
    element,
    {
      scales: { x: { time: true } },
      legend: { show: series.length > 1 },
      cursor: { drag: { x: false, y: false } },
      axes: axes(true, format),
      series: [
        { label: "time", value: "{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}" },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: cssVar(`--series-${i + 1}`),
          fill: series.length === 1 ? cssVar(`--series-${i + 1}-fill`) : undefined,
          width: 2,
          points: { show: false },
          value: (u, v) => format(v),
        })),
      ],
    },
    series.length,
  );
}

/**
 * A histogram: bars over bin centres.
 * @param {HTMLElement} element
 * @param {(v: number) => string} xFormat bin centres
 */
export function histogramChart(element, xFormat) {
  return new Chart(
    element,
    {
      scales: { x: { time: false } },
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      axes: axes(false, xFormat),
      series: [
        {},
        {
          label: "count",
          stroke: cssVar("--series-1"),
          fill: cssVar("--series-1-fill"),
          paths: uPlot.paths.bars({ size: [0.9, 60] }),
          points: { show: false },
        },
      ],
    },
    1,
  );
}
