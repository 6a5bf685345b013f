// The legend lists what is drawn now: the land-use classes and subclasses
// of the features on the map, the project stages and position confidences
// among them, and the symbol of each visible layer drawn without a class.
// Swatches are drawn from the same symbols as the map (style.js).

import { el } from './dom.js';
import { pick, t } from './i18n.js';
import { classes, dashes, statuses } from './style.js';

// swatch draws a symbol small: a filled box for an area, a stroke for a
// line, a disc for a point.
export function swatch(sym, kind) {
  const sw = el('span', { class: `swatch swatch-${kind}`, 'aria-hidden': 'true' });
  if (kind === 'line') {
    sw.style.borderTopColor = sym.color;
    sw.style.borderTopWidth = `${Math.min(sym.weight || 3, 5)}px`;
    sw.style.borderTopStyle = sym.dashArray ? 'dashed' : 'solid';
    return sw;
  }
  const fill = sym.fillColor || '#999999';
  const alpha = Math.round(Math.max(0, Math.min(1, sym.fillOpacity ?? 0.6)) * 255).toString(16).padStart(2, '0');
  sw.style.background = sym.hatch
    ? `repeating-linear-gradient(45deg, ${fill} 0 3px, ${fill}4d 3px 6px)`
    : `${fill}${alpha}`;
  sw.style.borderColor = sym.color || '#333333';
  sw.style.borderWidth = `${Math.min(Math.max(sym.weight || 1, 1), 3)}px`;
  sw.style.borderStyle = !sym.dashArray ? 'solid' : sym.dashArray.startsWith('2') ? 'dotted' : 'dashed';
  return sw;
}

// Drawn records what the map draws, for the legend.
export class Drawn {
  constructor() { this.clear(); }

  clear() {
    this.shades = new Set(); // class and subclass codes
    this.statuses = new Set();
    this.confidences = new Set();
  }
}

// renderLegend fills the legend from what is drawn; plain lists the
// visible layers drawn without a class: [{col, sym, kind}].
export function renderLegend(box, drawn, plain) {
  box.replaceChildren();
  const head = (key) => el('li', { class: 'legend-head', text: t(key) });
  const classItems = [];
  for (const c of classes) {
    const subs = (c.subclasses || []).filter((s) => drawn.shades.has(s.code));
    if (!drawn.shades.has(c.code) && !subs.length) continue;
    classItems.push(el('li', { 'data-class': c.code }, swatch({ fillColor: c.color, fillOpacity: 0.8, color: '#555' }, 'area'),
      el('span', { text: `${c.code} ${pick(c.name)}` })));
    for (const s of subs) {
      classItems.push(el('li', { class: 'sub', 'data-shade': s.code }, swatch({ fillColor: s.color, fillOpacity: 0.8, color: '#555' }, 'area'),
        el('span', { text: `${s.code} ${pick(s.name)}` })));
    }
  }
  if (classItems.length) box.append(head('landuse'), ...classItems);
  const st = statuses.filter((s) => drawn.statuses.has(s.code));
  if (st.length) {
    box.append(head('status'));
    for (const s of st) {
      box.append(el('li', { 'data-status': s.code },
        swatch({ fillColor: '#8a8a8a', fillOpacity: 0.7 * s.fillOpacity, color: '#333', weight: 1 + (s.weight || 0), hatch: s.hatch }, 'area'),
        el('span', { text: pick(s.name) })));
    }
  }
  const conf = ['high', 'medium', 'low'].filter((c) => drawn.confidences.has(c));
  if (conf.length) {
    box.append(head('position'));
    for (const c of conf) {
      box.append(el('li', { 'data-confidence': c }, swatch({ fillColor: '#ffffff', fillOpacity: 1, color: '#333', weight: 2, dashArray: dashes[c] || null }, 'area'),
        el('span', { text: t('confidence')[c] })));
    }
  }
  if (plain.length) {
    box.append(head('otherSymbols'));
    for (const { col, sym, kind } of plain) {
      box.append(el('li', { 'data-layer': col.id }, swatch(sym, kind), el('span', { text: pick(col.titles) })));
    }
  }
}
