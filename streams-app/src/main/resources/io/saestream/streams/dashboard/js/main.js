// The dashboard: polls the app's JSON API every POLL_MS and renders the live numbers, charts,
// alert feed and latent views. The URL fragment carries the settings:
//   #token=<bearer token>&sae=<sae id>&latent=<index>
// (a fragment never reaches the server, so the token stays out of access logs).

import { renderAlerts } from "./alerts.js";
import { Api, ApiError } from "./api.js";
import { timeChart } from "./charts.js";
import { count, duration, num, rate, time } from "./format.js";
import { LatentDetail, renderTopLatents } from "./latents.js";

const POLL_MS = 2000;
const THROUGHPUT_POINTS = 180; // six minutes at one point per poll
const WINDOWS = 60;
const TOP_LATENTS = 20;
const LATENT_WINDOWS = 30;
const ALERTS = 50;

const $ = (selector) => document.querySelector(selector);

const fragment = new URLSearchParams(location.hash.slice(1));
const api = new Api(fragment.get("token"));
const state = {
  sae: fragment.get("sae"),
  latent: parseLatent(fragment.get("latent")),
  throughput: { at: [], value: [] },
};

const charts = {
  throughput: timeChart($("#chart-throughput"), [{ label: "tokens/s" }], rate),
  error: timeChart(
    $("#chart-error"),
    [{ label: "FVU" }, { label: "mean relative error" }],
    num,
  ),
  l0: timeChart($("#chart-l0"), [{ label: "L0" }], num),
};
const detail = new LatentDetail($("#latent-detail"));

function parseLatent(text) {
  if (text === null || text === "") return null;
  const n = Number(text);
  return Number.isInteger(n) && n >= 0 ? n : null;
}

/** Writes sae and latent back into the fragment, keeping the token. */
function saveFragment() {
  const next = new URLSearchParams(location.hash.slice(1));
  for (const [key, value] of [["sae", state.sae], ["latent", state.latent]]) {
    if (value === null) next.delete(key);
    else next.set(key, String(value));
  }
  history.replaceState(null, "", `#${next.toString()}`);
}

function setNumber(selector, value, format) {
  const element = $(selector);
  element.textContent = format(value);
  // The raw value, for tests and for anyone scraping the page.
  element.dataset.value = value === null || value === undefined ? "" : String(value);
}

function renderOverview(overview) {
  $("#instance").textContent = overview.instance || "";
  const badge = $("#state");
  badge.textContent = overview.state || "?";
  badge.className = `badge ${overview.state === "RUNNING" ? "running" : "down"}`;
  setNumber("#tokens-per-s", overview.tokens_per_s, rate);
  setNumber("#tokens-total", overview.tokens_total, count);
  setNumber("#records-total", overview.records_total, count);
  setNumber("#dead-letters-total", overview.dead_letters_total, count);
  setNumber("#alerts-total", overview.alerts_total, count);
  setNumber("#uptime", overview.uptime_s, duration);

  const throughput = state.throughput;
  throughput.at.push(Date.now() / 1000);
  throughput.value.push(overview.tokens_per_s ?? null);
  if (throughput.at.length > THROUGHPUT_POINTS) {
    throughput.at.shift();
    throughput.value.shift();
  }
  charts.throughput.set(throughput.at, throughput.value);

  const saes = overview.saes || [];
  renderSaes(saes);
  if (!saes.some((s) => s.sae_id === state.sae)) {
    state.sae = saes.length > 0 ? saes[0].sae_id : null;
    saveFragment();
  }
  const select = $("#sae-select");
  const ids = saes.map((s) => s.sae_id);
  if (select.dataset.key !== ids.join("|")) {
    select.dataset.key = ids.join("|");
    select.replaceChildren(
      ...ids.map((id) => {
        const option = document.createElement("option");
        option.value = id;
        option.textContent = id;
        return option;
      }),
    );
  }
  select.value = state.sae ?? "";
}

function renderSaes(saes) {
  $("#saes").tBodies[0].replaceChildren(
    ...saes.map((s) => {
      const tr = document.createElement("tr");
      for (const [text, numeric] of [
        [s.sae_id, false],
        [`${s.model_id} · ${s.hook_name}`, false],
        [String(s.version), true],
        [count(s.d_sae), true],
        [String(s.k ?? "–"), true],
      ]) {
        const td = document.createElement("td");
        td.textContent = text;
        if (numeric) td.className = "num";
        tr.append(td);
      }
      return tr;
    }),
  );
}

function renderWindows(answer) {
  const windows = answer.windows || [];
  const xs = windows.map((w) => w.window_start / 1000);
  charts.error.set(
    xs,
    windows.map((w) => w.fvu ?? null),
    windows.map((w) => w.mean_relative_error ?? null),
  );
  charts.l0.set(
    xs,
    windows.map((w) => w.mean_l0 ?? null),
  );
  $("#error-window").textContent = answer.window_ms
    ? `per ${duration(answer.window_ms / 1000)} window`
    : "";
}

function renderTop(top) {
  if (state.latent === null && top.latents && top.latents.length > 0) {
    // Something to look at from the start: the most active latent.
    state.latent = top.latents[0].latent;
    $("#latent-input").value = String(state.latent);
  }
  const shown = renderTopLatents($("#top-latents"), top, state.latent, pickLatent);
  $("#top-empty").hidden = shown > 0;
  $("#top-window").textContent =
    top.window_start != null ? `window from ${time(top.window_start)}, ${count(top.tokens)} tokens` : "";
}

function pickLatent(latent) {
  state.latent = latent;
  $("#latent-input").value = String(latent);
  saveFragment();
  refresh();
}

$("#latent-input").addEventListener("change", (event) => {
  state.latent = parseLatent(event.target.value);
  saveFragment();
  refresh();
});

$("#sae-select").addEventListener("change", (event) => {
  state.sae = event.target.value || null;
  state.latent = null;
  $("#latent-input").value = "";
  saveFragment();
  refresh();
});

/** Fills the latent detail; an unknown or bad latent is said there, not in the status line. */
async function showLatent(sae, latent, errors) {
  if (latent === null) {
    detail.clear("pick one from the table, or type its index");
    return;
  }
  try {
    detail.show(await api.latent(sae, latent, LATENT_WINDOWS));
  } catch (error) {
    detail.clear(describe(error));
    if (error.status !== 400 && error.status !== 404) {
      errors.push(error);
    }
  }
}

/** The message the status line shows for a failed call. */
function describe(error) {
  if (!(error instanceof ApiError)) {
    console.error(error);
    return `dashboard error: ${error.message}`;
  }
  if (error.status === 401) return "unauthorized: open the page with #token=<bearer token>";
  if (error.status === 0) return error.message;
  return `${error.status}: ${error.message}`;
}

let pending = null;

/** One round of requests; overlapping calls share the round in flight. */
function refresh() {
  if (!pending) {
    pending = poll().finally(() => {
      pending = null;
    });
  }
  return pending;
}

async function poll() {
  const errors = [];
  const attempt = async (call, render) => {
    try {
      render(await call());
    } catch (error) {
      errors.push(error);
    }
  };

  await Promise.all([
    attempt(() => api.overview(), renderOverview),
    attempt(
      () => api.alerts(ALERTS),
      (answer) => renderAlerts($("#alerts-list"), $("#alerts-empty"), answer.alerts || []),
    ),
  ]);
  if (state.sae !== null) {
    const sae = state.sae;
    await Promise.all([
      attempt(() => api.windows(sae, WINDOWS), renderWindows),
      attempt(() => api.topLatents(sae, TOP_LATENTS), renderTop),
      showLatent(sae, state.latent, errors),
    ]);
  }

  const status = $("#status");
  status.classList.toggle("error", errors.length > 0);
  status.textContent =
    errors.length > 0 ? describe(errors[0]) : `live · updated ${new Date().toLocaleTimeString()}`;
}

async function loop() {
  try {
    await refresh();
  } finally {
    setTimeout(loop, POLL_MS);
  }
}

if (state.latent !== null) {
  $("#latent-input").value = String(state.latent);
}
loop();
