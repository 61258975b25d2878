// Token contexts (of alerts and of top activations): the tokens around a firing position, the
// firing token highlighted. Text goes through textContent only: tokens are model input, not HTML.

/**
 * @param {{tokens?: string[], highlight?: number, position?: number}|null} context
 * @returns {HTMLElement}
 */
export function renderContext(context) {
  const element = document.createElement("span");
  element.className = "context";
  const tokens = context && Array.isArray(context.tokens) ? context.tokens : [];
  if (tokens.length === 0) {
    element.classList.add("muted");
    element.textContent =
      context && context.position !== undefined
        ? `position ${context.position} (tokens redacted or not sent)`
        : "(no tokens)";
    return element;
  }
  tokens.forEach((token, i) => {
    const span = document.createElement("span");
    span.className = i === context.highlight ? "tok hl" : "tok";
    // Line breaks would break the layout of a one-line context: show them.
    span.textContent = String(token).replace(/\n/g, "⏎");
    element.append(span);
  });
  return element;
}
