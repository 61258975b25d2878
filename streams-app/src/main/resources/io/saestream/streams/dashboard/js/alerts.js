// The alert feed: one list item per alert, newest first, rebuilt only when the set changes.

import { renderContext } from "./context.js";
import { num, time } from "./format.js";

function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

function severityClass(severity) {
  const s = String(severity || "info").toLowerCase();
  return ["info", "warning", "critical"].includes(s) ? `sev-${s}` : "sev-info";
}

function renderAlert(alert) {
  const item = el("li", `alert ${severityClass(alert.severity)}`);
  item.dataset.alertId = alert.alert_id;
  item.dataset.ruleId = alert.rule_id;

  const head = el("div", "alert-head");
  head.append(
    el("span", "alert-sev", String(alert.severity || "INFO")),
    el("span", "alert-rule", alert.rule_id),
    el("span", "muted", alert.rule_type || ""),
    el("time", "alert-time", time(alert.created_at)),
  );
  item.append(head);

  const meta = [];
  if (alert.sae_id) meta.push(`${alert.sae_id}${alert.sae_version != null ? ` v${alert.sae_version}` : ""}`);
  if (alert.sequence_id) meta.push(`sequence ${alert.sequence_id}`);
  if (alert.value != null) meta.push(`value ${num(alert.value)} vs threshold ${num(alert.threshold)}`);
  if (Array.isArray(alert.latents) && alert.latents.length > 0) {
    meta.push(`latent${alert.latents.length > 1 ? "s" : ""} ${alert.latents.join(", ")}`);
  }
  if (alert.window_start != null) {
    meta.push(`window ${time(alert.window_start)}–${time(alert.window_end)}`);
  }
  item.append(el("div", "alert-meta", meta.join(" · ")));
  if (alert.message) item.append(el("div", "alert-msg", alert.message));
  for (const context of (alert.contexts || []).slice(0, 3)) {
    const line = el("div");
    line.append(renderContext(context));
    item.append(line);
  }
  return item;
}

/**
 * @param {HTMLUListElement} list
 * @param {HTMLElement} empty shown when there is no alert
 * @param {object[]} alerts newest first
 */
export function renderAlerts(list, empty, alerts) {
  const key = alerts.map((a) => a.alert_id).join("|");
  if (list.dataset.key === key) {
    return;
  }
  list.dataset.key = key;
  list.replaceChildren(...alerts.map(renderAlert));
  empty.hidden = alerts.length > 0;
}
