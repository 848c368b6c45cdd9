// The elements' own styles, inside each shadow root. .root sets every
// inherited property itself, so the page's styles on the host element
// (color, font, line-height…) do not reach in; nothing here reaches out.

export const BASE_CSS = `
:host { display: block; contain: content; }
:host([hidden]) { display: none; }
.root {
  all: initial; display: block; box-sizing: border-box; position: relative;
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ld-fg); background: var(--ld-bg); border: 1px solid var(--ld-border);
  border-radius: 8px; padding: 10px 12px; min-width: 8rem; text-align: left;
  --ld-fg: #111827; --ld-muted: #6b7280; --ld-bg: #ffffff; --ld-border: #e5e7eb; --ld-grid: rgba(0,0,0,.06);
  --ld-accent: #2563eb; --ld-ok: #16a34a; --ld-warn: #d97706; --ld-crit: #dc2626;
}
.root.dark {
  --ld-fg: #e5e7eb; --ld-muted: #9ca3af; --ld-bg: #111827; --ld-border: #374151; --ld-grid: rgba(255,255,255,.08);
  --ld-accent: #60a5fa; --ld-ok: #4ade80; --ld-warn: #fbbf24; --ld-crit: #f87171;
}
.root * { box-sizing: border-box; }
.head { display: flex; align-items: center; gap: 6px; font-size: 12px; color: var(--ld-muted); margin: 0 0 4px; }
.label { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.dot { width: 7px; height: 7px; border-radius: 50%; background: var(--ld-muted); flex: none; }
.dot.live { background: var(--ld-ok); }
.dot.reconnecting { background: var(--ld-warn); }
.dot.closed { background: var(--ld-crit); }
.note { font-size: 12px; color: var(--ld-muted); margin: 4px 0 0; }
.note:empty { display: none; }
.note.error { color: var(--ld-crit); }
.value { display: block; font-size: 32px; font-weight: 600; line-height: 1.15; font-variant-numeric: tabular-nums; color: var(--ld-fg); }
.chart { position: relative; width: 100%; height: var(--ld-chart-height, 180px); }
.list { list-style: none; margin: 0; padding: 0; max-height: var(--ld-list-height, 240px); overflow: auto; }
.list li { display: flex; gap: 8px; padding: 4px 0; border-top: 1px solid var(--ld-border); font-size: 13px; }
.list li:first-child { border-top: 0; }
.time { color: var(--ld-muted); font-variant-numeric: tabular-nums; flex: none; }
.text { flex: 1; overflow-wrap: anywhere; }
.sev { flex: none; font-size: 11px; font-weight: 600; text-transform: uppercase; padding: 1px 6px; border-radius: 4px; color: #fff; background: var(--ld-muted); }
.sev.info { background: var(--ld-accent); }
.sev.warning { background: var(--ld-warn); }
.sev.critical { background: var(--ld-crit); }
.uplot { font-family: inherit; }
.u-legend { font-size: 12px; color: var(--ld-fg); }
`;

/** Adopts css into root: a constructed sheet where supported (no inline <style>, so a page CSP without 'unsafe-inline' allows it), else a <style>. */
export function adopt(root: ShadowRoot, css: string): void {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  } catch {
    const s = document.createElement('style');
    s.textContent = css;
    root.prepend(s);
  }
}
