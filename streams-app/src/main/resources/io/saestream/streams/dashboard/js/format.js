// Number and time formatting shared by the views.

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const threeSignificant = new Intl.NumberFormat(undefined, { maximumSignificantDigits: 3 });

function missing(v) {
  return v === null || v === undefined || Number.isNaN(v);
}

/** 1234567 -> "1,234,567" (locale grouping). */
export function count(v) {
  return missing(v) ? "–" : integer.format(v);
}

/** A rate: one decimal below 1000, none above. */
export function rate(v) {
  if (missing(v)) return "–";
  return Math.abs(v) >= 1000 ? integer.format(v) : oneDecimal.format(v);
}

/** Three significant digits, for errors and activations. */
export function num(v) {
  return missing(v) ? "–" : threeSignificant.format(v);
}

/** A fraction as a percentage with three significant digits. */
export function percent(v) {
  return missing(v) ? "–" : `${threeSignificant.format(v * 100)} %`;
}

/** Seconds as "3 d 4 h", "2 h 5 min", "4 min 7 s" or "12 s". */
export function duration(seconds) {
  if (missing(seconds)) return "–";
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s % 60} s`;
  return `${s} s`;
}

/** Epoch milliseconds as local time of day, with the date when it is not today. */
export function time(ms) {
  if (missing(ms)) return "–";
  const date = new Date(ms);
  const today = new Date();
  const sameDay = date.toDateString() === today.toDateString();
  return sameDay ? date.toLocaleTimeString() : date.toLocaleString();
}
