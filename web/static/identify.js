// Identify: a click on the map lists every feature under it, from every
// visible layer, top layer first and the background layers (the district
// boundary, the regional context) last; the chosen one is highlighted and
// its details shown. The shapes themselves take no clicks: a click on
// empty land inside the district is a click on the map, which finds only
// the boundary and so opens nothing.

import * as api from './api.js';
import { config } from './config.js';
import { el } from './dom.js';
import { lang, nameOf, pick, t } from './i18n.js';
import { formatArea, formatLength } from './measure.js';
import { classOf } from './style.js';

// Background layers frame the map: listed after everything else, and
// never identified alone.
export const background = new Set(['boundary', 'context']);

// Pixels of slack around a line or a point: a finger is not a pixel.
const slack = 6;

// pointInRing reports whether [x, y] is inside the ring (even-odd rule).
function pointInRing(x, y, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function inPolygon(x, y, rings) {
  if (!rings.length || !pointInRing(x, y, rings[0])) return false;
  for (let i = 1; i < rings.length; i++) if (pointInRing(x, y, rings[i])) return false;
  return true;
}

// segmentDistance is the distance in pixels from p to the segment ab.
function segmentDistance(p, a, b) {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len = dx * dx + dy * dy;
  let k = len ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / len : 0;
  k = Math.max(0, Math.min(1, k));
  return Math.hypot(p.x - (a.x + k * dx), p.y - (a.y + k * dy));
}

// hits reports whether the geometry lies under the click: inside an area,
// within a few pixels of a line or a point.
function hits(map, g, latlng, pt, tol) {
  if (!g) return false;
  const px = (c) => map.latLngToContainerPoint([c[1], c[0]]);
  const nearLine = (line) => {
    for (let i = 1; i < line.length; i++) if (segmentDistance(pt, px(line[i - 1]), px(line[i])) <= tol) return true;
    return false;
  };
  switch (g.type) {
    case 'Polygon': return inPolygon(latlng.lng, latlng.lat, g.coordinates);
    case 'MultiPolygon': return g.coordinates.some((rings) => inPolygon(latlng.lng, latlng.lat, rings));
    case 'LineString': return nearLine(g.coordinates);
    case 'MultiLineString': return g.coordinates.some(nearLine);
    case 'Point': return px(g.coordinates).distanceTo(pt) <= tol;
    case 'MultiPoint': return g.coordinates.some((c) => px(c).distanceTo(pt) <= tol);
    case 'GeometryCollection': return g.geometries.some((h) => hits(map, h, latlng, pt, tol));
    default: return false;
  }
}

// featuresAt lists what lies under a point of the map: [{col, f}], in the
// order the identify list shows them.
export function featuresAt(map, state, latlng) {
  const pt = map.latLngToContainerPoint(latlng);
  const cols = state.collections.filter((c) => state.visible.has(c.id)).reverse();
  const ordered = [...cols.filter((c) => !background.has(c.id)), ...cols.filter((c) => background.has(c.id))];
  const out = [];
  for (const col of ordered) {
    const entry = state.layers.get(col.id);
    const area = col.geometryType.includes('Polygon');
    const tol = slack + ((col.style && col.style.radius) || (area ? 0 : 3));
    // A box of the tolerance around the click, for the cheap test first.
    const d = map.containerPointToLatLng(pt.add([tol, tol]));
    const dLat = Math.abs(d.lat - latlng.lat);
    const dLng = Math.abs(d.lng - latlng.lng);
    for (const layer of entry.byId.values()) {
      if (entry.hidden && entry.hidden.has(layer.feature.id)) continue;
      const b = layer.getBounds ? layer.getBounds() : null;
      if (b && b.isValid() && (latlng.lat < b.getSouth() - dLat || latlng.lat > b.getNorth() + dLat ||
        latlng.lng < b.getWest() - dLng || latlng.lng > b.getEast() + dLng)) continue;
      if (hits(map, layer.feature.geometry, latlng, pt, tol)) out.push({ col, f: layer.feature });
    }
  }
  return out;
}

function figure(label, value) {
  return [el('dt', { text: label }), el('dd', { text: value })];
}

function number(v) {
  return v.toLocaleString(lang() === 'zh' ? 'zh-CN' : 'en');
}

// details describes a feature from its properties and its layer's schema,
// in the current language.
export function details(col, f) {
  const p = f.properties || {};
  const box = el('div', { class: 'pm-popup' });
  const zh = p.name_zh || '';
  const en = p.name_en || '';
  const first = lang() === 'en' ? en || zh : zh || en;
  const second = first === zh ? en : zh;
  box.append(el('h3', { text: first || `#${f.id}`, lang: first === en ? 'en' : 'zh-Hans' }));
  if (second) box.append(el('p', { class: 'other-name', text: second, lang: second === en ? 'en' : 'zh-Hans' }));
  box.append(el('p', { class: 'layer-name', text: pick(col.titles) }));
  const dl = el('dl');
  const cls = classOf(p);
  if (p.landuse_code || p.landuse_gb50137) {
    const name = cls ? pick(cls.name) : '';
    dl.append(...figure(t('landuse'), `${name} ${p.landuse_code || ''} / ${p.landuse_gb50137 || ''}`.trim()));
  }
  if (p.status) dl.append(...figure(t('status'), t('statuses')[p.status] || p.status));
  const skip = new Set(['name_zh', 'name_en', 'landuse_code', 'landuse_gb50137', 'status', 'source',
    'position_confidence', 'position_note', 'position_note_zh']);
  for (const fd of col.schema || []) {
    if (skip.has(fd.name) || p[fd.name] === undefined || p[fd.name] === null) continue;
    const v = p[fd.name];
    dl.append(...figure(pick(fd.description) || fd.name, typeof v === 'number' ? number(v) : String(v)));
  }
  if (p.geodesic_area_m2 !== undefined) dl.append(...figure(t('areaLabel'), formatArea(p.geodesic_area_m2)));
  if (p.geodesic_length_m !== undefined) dl.append(...figure(t('lengthLabel'), formatLength(p.geodesic_length_m)));
  if (p.position_confidence) {
    const note = lang() === 'zh' ? p.position_note_zh || p.position_note : p.position_note || p.position_note_zh;
    dl.append(...figure(t('position'), `${t('confidence')[p.position_confidence] || p.position_confidence}${note ? ` — ${note}` : ''}`));
  }
  box.append(dl);
  if (p.source) {
    box.append(el('p', { class: 'src-label', text: t('source') }), el('blockquote', { text: p.source, lang: 'zh-Hans' }));
  }
  box.append(el('p', { class: 'sheet-link' }, el('a', {
    href: `${config.base}/collections/${encodeURIComponent(col.id)}/items/${encodeURIComponent(f.id)}/sheet`,
    target: '_blank', rel: 'noopener', text: t('plotSheet'),
  })));
  return box;
}

// Identify opens the list of what lies under a click, and highlights the
// feature chosen from it.
export class Identify {
  constructor(map, state, onSelect) {
    this.map = map;
    this.state = state;
    this.onSelect = onSelect || (() => {});
    this.enabled = true;
    this.highlight = null;
    this.selected = null; // {col, f}
    // decorate(col, f) returns what else a feature's details show (its
    // history; an editor's buttons), or null.
    this.decorate = null;
    map.createPane('highlight').style.zIndex = 640;
    map.on('click', (e) => { if (this.enabled) this.at(e.latlng); });
    map.on('popupclose', (e) => { if (e.popup === this.popup) this.clear(); });
  }

  // at identifies what lies under latlng; background layers alone open
  // nothing.
  at(latlng) {
    const found = featuresAt(this.map, this.state, latlng);
    const tiledHits = this.tiled ? this.tiled.at(latlng) : [];
    if (tiledHits.length) {
      // Features drawn from tiles: each fetched whole, then listed first.
      Promise.all(tiledHits.map(({ col, id }) => api.item(col.id, id).then((f) => ({ col, f }))))
        .then((more) => this.open(latlng, [...more, ...found], 0))
        .catch(() => { /* the feature went away meanwhile: nothing to show */ });
      return found;
    }
    if (!found.some((h) => !background.has(h.col.id))) {
      this.map.closePopup();
      this.clear();
      return found;
    }
    this.open(latlng, found, 0);
    return found;
  }

  // show opens one feature's details, as chosen from the table or search.
  show(col, f, latlng) {
    this.open(latlng, [{ col, f }], 0);
  }

  open(latlng, found, index) {
    const box = el('div', { class: 'pm-identify' });
    const detail = el('div', { class: 'pm-detail' });
    let list = null;
    this.found = found;
    this.detail = detail;
    const choose = (i) => {
      this.index = i;
      const { col, f } = found[i];
      this.fill(col, f);
      if (list) {
        list.querySelectorAll('button').forEach((b, j) => b.setAttribute('aria-pressed', String(i === j)));
      }
      this.select(col, f);
      if (this.popup) this.popup.update();
    };
    if (found.length > 1) {
      list = el('ol', { class: 'pm-hits', 'aria-label': t('underPoint') });
      found.forEach(({ col, f }, i) => {
        const b = el('button', { type: 'button', 'data-layer': col.id, 'data-id': String(f.id) },
          el('span', { text: nameOf(f.properties) || `#${f.id}` }), el('small', { text: ` ${pick(col.titles)}` }));
        b.addEventListener('click', () => choose(i));
        list.append(el('li', {}, b));
      });
      box.append(el('p', { class: 'pm-hits-title', text: `${t('underPoint')} (${found.length})` }), list);
    }
    box.append(detail);
    // On a phone the popup, its close button included, fits the screen:
    // no wider than the map less a margin, and scrolling when tall.
    // The controls on the left (the zoom buttons hide on a phone, the
    // whole-district button stays) are kept clear of the close button.
    const size = this.map.getSize();
    const width = Math.min(340, size.x - 100);
    this.popup = L.popup({
      maxWidth: width, minWidth: Math.min(220, width), maxHeight: Math.max(160, size.y - 140),
      autoPanPaddingTopLeft: [48, 12], autoPanPaddingBottomRight: [12, 40], className: 'pm-identify-popup',
    })
      .setLatLng(latlng).setContent(box);
    this.popup.openOn(this.map);
    choose(index);
  }

  // refresh shows a new version of a feature listed in the open popup, in
  // place: the popup stays open and the map does not pan. It reports
  // whether the feature was there.
  refresh(col, f) {
    if (!this.popup || !this.map.hasLayer(this.popup) || !this.found) return false;
    const i = this.found.findIndex((h) => h.col.id === col.id && h.f.id === f.id);
    if (i < 0) return false;
    this.found[i] = { col, f };
    const b = this.popup.getElement() &&
      this.popup.getElement().querySelector(`.pm-hits button[data-layer="${CSS.escape(col.id)}"][data-id="${CSS.escape(String(f.id))}"] span`);
    if (b) b.textContent = nameOf(f.properties) || `#${f.id}`;
    if (i === this.index) {
      this.fill(col, f);
      this.select(col, f);
    }
    this.update();
    return true;
  }

  // fill shows a feature's details in the open popup.
  fill(col, f) {
    const extra = this.decorate ? this.decorate(col, f) : null;
    this.detail.replaceChildren(details(col, f), ...(extra ? [extra] : []));
  }

  // refreshOpen draws the open popup's details again (after signing in
  // or out, which changes what they offer).
  refreshOpen() {
    if (!this.popup || !this.map.hasLayer(this.popup) || !this.found) return;
    const { col, f } = this.found[this.index];
    this.fill(col, f);
    this.update();
  }

  // update fits the open popup to what it shows, without panning unless
  // pan says to (what it shows grew at the reader's request).
  update(pan = false) {
    if (!this.popup || !this.map.hasLayer(this.popup)) return;
    const { autoPan } = this.popup.options;
    this.popup.options.autoPan = pan && autoPan;
    this.popup.update();
    this.popup.options.autoPan = autoPan;
  }

  // select highlights a feature and tells the others (the table).
  select(col, f) {
    this.clearHighlight();
    this.selected = { col, f };
    this.highlight = L.geoJSON(f.geometry, {
      pane: 'highlight',
      interactive: false,
      style: { color: '#00b3ff', weight: 4, opacity: 1, fill: false, className: `pm-highlight pm-highlight-${col.id}-${f.id}` },
      pointToLayer: (_, ll) => L.circleMarker(ll, { radius: 11 }),
    }).addTo(this.map);
    this.onSelect(col, f);
  }

  clearHighlight() {
    if (this.highlight) this.highlight.remove();
    this.highlight = null;
  }

  clear() {
    this.clearHighlight();
    if (this.selected) {
      this.selected = null;
      this.onSelect(null, null);
    }
  }
}
