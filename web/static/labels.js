// Names on the map: one label per feature, placed inside its shape (an
// area's pole of inaccessibility, a line's longest stretch in view, beside
// a point), never overlapping another label, and shown only when it fits
// the shape at the current zoom. Labels are text, set as text.

import { nameOf } from './i18n.js';

const font = 12; // px, as in style.css .pm-label
const lineHeight = 15;
const maxLines = 8;
const maxLabels = 400; // in one view; beyond that the view is too busy to read

// textWidth estimates the width of a text in pixels: a CJK character is
// about a font size wide, anything else about 0.6 of it. Estimating spares
// a layout per label on every move.
function textWidth(s, size = font) {
  let w = 0;
  for (const ch of s) w += /[\u2e80-\u9fff\uff00-\uffef\u3000-\u303f]/.test(ch) ? size : size * 0.6;
  return w;
}

// wrap breaks a text into lines no wider than width: between words, and
// between any two CJK characters.
function wrap(text, width, size = font) {
  const tokens = text.match(/[\u2e80-\u9fff\uff00-\uffef\u3000-\u303f]|[^\s\u2e80-\u9fff\uff00-\uffef\u3000-\u303f]+\s*|\s+/g) || [];
  const lines = [];
  let line = '';
  for (const tok of tokens) {
    if (line && textWidth(line + tok.trimEnd(), size) > width) {
      lines.push(line.trimEnd());
      line = tok.trimStart();
    } else {
      line += tok;
    }
  }
  if (line.trim()) lines.push(line.trimEnd());
  return lines;
}

// ---- pole of inaccessibility (after Mapbox's polylabel) ----

function pointToSegment(px, py, a, b) {
  let [x, y] = a;
  let dx = b[0] - x;
  let dy = b[1] - y;
  if (dx !== 0 || dy !== 0) {
    const k = ((px - x) * dx + (py - y) * dy) / (dx * dx + dy * dy);
    if (k > 1) { [x, y] = b; } else if (k > 0) { x += dx * k; y += dy * k; }
  }
  dx = px - x;
  dy = py - y;
  return dx * dx + dy * dy;
}

// signedDistance is the distance from (x, y) to the polygon's outline,
// negative outside it.
function signedDistance(x, y, rings) {
  let inside = false;
  let min = Infinity;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const a = ring[i];
      const b = ring[j];
      if ((a[1] > y) !== (b[1] > y) && x < ((b[0] - a[0]) * (y - a[1])) / (b[1] - a[1]) + a[0]) inside = !inside;
      min = Math.min(min, pointToSegment(x, y, a, b));
    }
  }
  return (inside ? 1 : -1) * Math.sqrt(min);
}

// pole returns the point inside the polygon (rings of [x, y]) farthest
// from its outline, to within precision, and that distance.
export function pole(rings, precision) {
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of rings[0]) {
    minX = Math.min(minX, x); minY = Math.min(minY, y);
    maxX = Math.max(maxX, x); maxY = Math.max(maxY, y);
  }
  // Cells no smaller than a 64th of the longer side: a long thin shape
  // would otherwise start with thousands of them.
  const size = Math.max(Math.min(maxX - minX, maxY - minY), Math.max(maxX - minX, maxY - minY) / 64);
  if (!(size > 0)) return { x: minX, y: minY, d: 0 };
  const cell = (x, y, h) => ({ x, y, h, d: signedDistance(x, y, rings), max: 0 });
  const withMax = (c) => { c.max = c.d + c.h * Math.SQRT2; return c; };
  const queue = [];
  let h = size / 2;
  for (let x = minX; x < maxX; x += size) for (let y = minY; y < maxY; y += size) queue.push(withMax(cell(x + h, y + h, h)));
  // The centre of the box is a good first guess for a convex shape.
  let best = withMax(cell((minX + maxX) / 2, (minY + maxY) / 2, 0));
  for (let n = 0; queue.length && n < 2000; n++) {
    queue.sort((a, b) => a.max - b.max);
    const c = queue.pop();
    if (c.d > best.d) best = c;
    if (c.max - best.d <= precision) continue;
    h = c.h / 2;
    queue.push(withMax(cell(c.x - h, c.y - h, h)), withMax(cell(c.x + h, c.y - h, h)),
      withMax(cell(c.x - h, c.y + h, h)), withMax(cell(c.x + h, c.y + h, h)));
  }
  return { x: best.x, y: best.y, d: best.d };
}

// ---- placing ----

function overlaps(a, b) {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

// Labels draws the names of the visible layers' features.
export class Labels {
  constructor(map, state, busy = () => {}) {
    this.busy = busy;
    this.map = map;
    this.state = state;
    this.pane = map.createPane('labels');
    this.pane.style.zIndex = 630;
    this.pane.style.pointerEvents = 'none';
    this.layer = L.layerGroup().addTo(map);
    this.timer = null;
    this.ready = false;
    map.whenReady(() => { this.ready = true; this.update(); });
    map.on('zoomend moveend', () => this.update());
  }

  // update redraws the labels soon: several calls in a row draw once.
  update() {
    if (this.timer) clearTimeout(this.timer); else this.busy(1);
    this.timer = setTimeout(() => {
      this.timer = null;
      try { this.draw(); } finally { this.busy(-1); }
    }, 30);
  }

  // candidates lists what could be labelled in view, most important first:
  // places (points), then lines, then areas from the largest on screen.
  candidates() {
    const map = this.map;
    const view = map.getBounds();
    const points = [];
    const lines = [];
    const areas = [];
    for (const col of this.state.collections) {
      if (!this.state.visible.has(col.id)) continue;
      const entry = this.state.layers.get(col.id);
      if (entry.dense) continue; // a dense layer's names would bury the map
      for (const layer of entry.byId.values()) {
        const f = layer.feature;
        if (entry.hidden && entry.hidden.has(f.id)) continue;
        const name = nameOf(f.properties);
        if (!name) continue;
        const g = f.geometry;
        if (!g) continue;
        if (g.type === 'Point' || g.type === 'MultiPoint') {
          const c = g.type === 'Point' ? g.coordinates : g.coordinates[0];
          if (view.contains([c[1], c[0]])) points.push({ col, f, name, kind: 'point', at: L.latLng(c[1], c[0]) });
          continue;
        }
        const b = layer.getBounds();
        if (!view.intersects(b)) continue;
        if (g.type.includes('Line')) lines.push({ col, f, name, kind: 'line', layer });
        else if (g.type.includes('Polygon') && col.id !== 'boundary') {
          const nw = map.latLngToLayerPoint(b.getNorthWest());
          const se = map.latLngToLayerPoint(b.getSouthEast());
          areas.push({ col, f, name, kind: 'area', size: (se.x - nw.x) * (se.y - nw.y) });
        }
      }
    }
    areas.sort((a, b) => b.size - a.size);
    return [...points, ...lines, ...areas];
  }

  draw() {
    const map = this.map;
    if (!this.ready) return;
    this.layer.clearLayers();
    const placed = [];
    const size = map.getSize();
    const fits = (box) => box.x1 > 0 && box.y1 > 0 && box.x0 < size.x && box.y0 < size.y && !placed.some((p) => overlaps(p, box));
    let n = 0;
    for (const c of this.candidates()) {
      if (n >= maxLabels) break;
      const spot = this[c.kind](c);
      if (!spot || !fits(spot.box)) continue;
      placed.push(spot.box);
      n++;
      const div = L.DomUtil.create('div', `pm-label pm-label-${c.kind} pm-label-${c.col.id}${spot.small ? ' pm-label-small' : ''}`);
      div.dataset.layer = c.col.id;
      div.dataset.id = String(c.f.id);
      for (const [i, text] of spot.lines.entries()) {
        if (i) div.append(document.createElement('br'));
        div.append(document.createTextNode(text));
      }
      const icon = L.divIcon({ html: div, className: 'pm-label-anchor', iconSize: [0, 0] });
      // A label is no place to snap a vertex to.
      const marker = L.marker(spot.at, { icon, pane: 'labels', interactive: false, keyboard: false, snapIgnore: true });
      this.layer.addLayer(marker);
      if (spot.angle) div.style.transform = `translate(-50%, -50%) rotate(${spot.angle}deg)`;
    }
    document.body.dataset.labels = String(n);
  }

  // point puts a place's name to the right of it.
  point(c) {
    const p = this.map.latLngToContainerPoint(c.at);
    const w = textWidth(c.name);
    const x0 = p.x + 8;
    return { at: c.at, lines: [c.name], box: { x0, y0: p.y - lineHeight / 2, x1: x0 + w + 4, y1: p.y + lineHeight / 2 }, kind: 'point' };
  }

  // line puts a road's or river's name along its longest stretch in view,
  // if the name fits along it.
  line(c) {
    const map = this.map;
    const size = map.getSize();
    const g = c.f.geometry;
    const parts = g.type === 'LineString' ? [g.coordinates] : g.coordinates;
    let best = null;
    for (const part of parts) {
      for (let i = 1; i < part.length; i++) {
        const a = map.latLngToContainerPoint([part[i - 1][1], part[i - 1][0]]);
        const b = map.latLngToContainerPoint([part[i][1], part[i][0]]);
        const mid = a.add(b).divideBy(2);
        if (mid.x < 0 || mid.y < 0 || mid.x > size.x || mid.y > size.y) continue;
        const len = a.distanceTo(b);
        if (!best || len > best.len) best = { a, b, mid, len };
      }
    }
    const w = textWidth(c.name);
    if (!best || best.len < w + 16) return null;
    let angle = (Math.atan2(best.b.y - best.a.y, best.b.x - best.a.x) * 180) / Math.PI;
    if (angle > 90) angle -= 180;
    if (angle < -90) angle += 180;
    // The box around the turned label.
    const rad = (angle * Math.PI) / 180;
    const hw = (Math.abs(Math.cos(rad)) * w + Math.abs(Math.sin(rad)) * lineHeight) / 2;
    const hh = (Math.abs(Math.sin(rad)) * w + Math.abs(Math.cos(rad)) * lineHeight) / 2;
    return {
      at: map.containerPointToLatLng(best.mid), lines: [c.name], angle,
      box: { x0: best.mid.x - hw, y0: best.mid.y - hh, x1: best.mid.x + hw, y1: best.mid.y + hh },
    };
  }

  // area puts a name at the pole of inaccessibility of its largest part,
  // wrapped to the shape's width there; a name that does not fit inside
  // is left out until the map is zoomed in far enough.
  area(c) {
    const map = this.map;
    if (c.size < 400) return null; // under 20 × 20 pixels: no room for a name
    const g = c.f.geometry;
    const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
    let best = null;
    for (const rings of polys) {
      const px = rings.map((r) => r.map(([x, y]) => { const p = map.latLngToContainerPoint([y, x]); return [p.x, p.y]; }));
      const p = pole(px, 1);
      if (!best || p.d > best.d) best = { ...p, px };
    }
    if (!best || best.d < 6) return null;
    const width = span(best.px, best, 0);
    const height = span(best.px, best, 1);
    // The normal size if the name fits, else a smaller one.
    for (const [size, small] of [[font, false], [font * 0.85, true]]) {
      const lines = wrap(c.name, width * 0.9, size);
      const lw = Math.max(...lines.map((l) => textWidth(l, size)));
      const lh = lines.length * lineHeight * (size / font);
      if (lines.length > maxLines || lw > width * 0.95 || lh > height * 0.92) continue;
      return {
        at: map.containerPointToLatLng([best.x, best.y]), lines, small,
        box: { x0: best.x - lw / 2 - 2, y0: best.y - lh / 2, x1: best.x + lw / 2 + 2, y1: best.y + lh / 2 },
      };
    }
    return null;
  }
}

// span is the length of the chord through the point at along axis 0
// (horizontal) or 1 (vertical), inside the rings (pixel coordinates).
function span(rings, at, axis) {
  const o = 1 - axis;
  const c = [at.x, at.y];
  let lo = -Infinity;
  let hi = Infinity;
  for (const ring of rings) {
    for (let i = 1; i < ring.length; i++) {
      const a = ring[i - 1];
      const b = ring[i];
      if ((a[o] > c[o]) === (b[o] > c[o])) continue;
      const v = a[axis] + ((c[o] - a[o]) * (b[axis] - a[axis])) / (b[o] - a[o]);
      if (v <= c[axis]) lo = Math.max(lo, v); else hi = Math.min(hi, v);
    }
  }
  return hi - lo;
}
