// The web map of Haimen Port New Area: the planned land use, layer by
// layer, from planmap's own feature API. Nothing is loaded from elsewhere
// unless the operator configured a tile base map.

import * as api from './api.js';
import { defaultLang, lang, pick, setLang, t, translate } from './i18n.js';
import { Measure, formatArea, formatLength } from './measure.js';

const config = JSON.parse(document.getElementById('config').textContent);
const $ = (id) => document.getElementById(id);

// Land-use colours by GB 50137 class, after CJJ/T 97 CAD practice: what
// Chinese planners expect on a land-use map.
const classColours = {
  R: '#FFFF00', A: '#FF00FF', B: '#FF0000', M: '#7F5F3F', W: '#5F3F7F',
  S: '#808080', H: '#666666', U: '#005F7F', G: '#00C000', E: '#7FBFFF',
};
const dashes = { high: null, medium: '8 4', low: '2 4' };

function landClass(props) {
  const code = (props.landuse_gb50137 || '').trim().toUpperCase();
  return classColours[code[0]] ? code[0] : null;
}

// el makes an element whose text is set as text, never as markup: every
// name and sentence on this map was typed by someone.
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c) e.append(c);
  return e;
}

const state = {
  collections: [], // from /collections, in drawing order
  layers: new Map(), // id → { col, group, byId: Map(fid → layer), covered: [LatLngBounds] }
  visible: new Set(),
  busy: 0,
};

// ---- the URL holds the view: #map=zoom/lat/lon&layers=a,b&lang=zh ----

function readHash() {
  const h = new URLSearchParams(location.hash.slice(1));
  const out = {};
  const m = (h.get('map') || '').split('/').map(Number);
  if (m.length === 3 && m.every(Number.isFinite)) out.view = { zoom: m[0], center: [m[1], m[2]] };
  if (h.has('layers')) out.layers = h.get('layers').split(',').filter(Boolean);
  if (h.has('lang')) out.lang = h.get('lang');
  return out;
}

function writeHash() {
  const c = map.getCenter();
  const h = new URLSearchParams();
  h.set('map', `${map.getZoom()}/${c.lat.toFixed(5)}/${c.lng.toFixed(5)}`);
  h.set('layers', state.collections.filter((col) => state.visible.has(col.id)).map((col) => col.id).join(','));
  h.set('lang', lang());
  history.replaceState(null, '', `#${h.toString().replace(/%2C/g, ',').replace(/%2F/g, '/')}`);
}

// ---- the map ----

const map = L.map('map', {
  fadeAnimation: false,
  zoomSnap: 0.5,
  keyboard: true,
  attributionControl: true,
});
map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
map.createPane('measure').style.zIndex = 650;
if (config.tiles) {
  L.tileLayer(config.tiles, { attribution: config.attribution || '', maxZoom: 18 }).addTo(map);
} else {
  map.attributionControl.addAttribution(t('approx'));
}

function setBusy(delta) {
  state.busy += delta;
  document.body.dataset.busy = String(state.busy);
  $('status').textContent = state.busy > 0 ? t('loading') : '';
  $('status').classList.toggle('shown', state.busy > 0);
}

function styleOf(col, props) {
  const s = col.style || {};
  const cls = landClass(props);
  const conf = props.position_confidence;
  const line = col.geometryType.includes('Line');
  return {
    color: line && cls ? classColours[cls] : s.color || '#333333',
    weight: s.weight ?? (line ? 3 : 1),
    opacity: s.opacity ?? 1,
    fillColor: cls && !line ? classColours[cls] : s.fillColor || s.color || '#999999',
    fillOpacity: s.fillOpacity ?? 0.6,
    // Confidence shows in the outline of areas; a line keeps its own look
    // (a road solid, a railway as drawn), and says it in its popup.
    dashArray: s.dashArray || (line ? null : dashes[conf]) || null,
    className: `pm-f pm-${col.id} pm-${col.id}-${props.__id}`,
    pane: `pm-${col.id}`,
  };
}

function figure(label, value) {
  return [el('dt', { text: label }), el('dd', { text: value })];
}

// popup builds the popup of a feature from its properties and the layer's
// schema, in the current language.
function popup(col, f) {
  const p = f.properties || {};
  const box = el('div', { class: 'pm-popup' });
  box.append(el('h3', { text: p.name_zh || p.name_en || `#${f.id}`, lang: 'zh-Hans' }));
  if (p.name_en) box.append(el('p', { class: 'en', text: p.name_en, lang: 'en' }));
  const dl = el('dl');
  const cls = landClass(p);
  if (p.landuse_code || p.landuse_gb50137) {
    const name = cls ? t('classes')[cls] : '';
    dl.append(...figure(t('landuse'), `${name} ${p.landuse_code || ''} / ${p.landuse_gb50137 || ''}`.trim()));
  }
  if (p.status) dl.append(...figure(t('status'), t('statuses')[p.status] || p.status));
  const skip = new Set(['name_zh', 'name_en', 'landuse_code', 'landuse_gb50137', 'status', 'source', 'position_confidence', 'position_note']);
  for (const fd of col.schema || []) {
    if (skip.has(fd.name) || p[fd.name] === undefined || p[fd.name] === null) continue;
    const v = p[fd.name];
    dl.append(...figure(pick(fd.description) || fd.name, typeof v === 'number' ? v.toLocaleString(lang() === 'zh' ? 'zh-CN' : 'en') : String(v)));
  }
  if (p.geodesic_area_m2 !== undefined) dl.append(...figure(t('areaLabel'), formatArea(p.geodesic_area_m2)));
  if (p.geodesic_length_m !== undefined) dl.append(...figure(t('lengthLabel'), formatLength(p.geodesic_length_m)));
  if (p.position_confidence) {
    dl.append(...figure(t('position'), `${t('confidence')[p.position_confidence] || p.position_confidence}${p.position_note ? ` — ${p.position_note}` : ''}`));
  }
  box.append(dl);
  if (p.source) {
    box.append(el('p', { class: 'src-label', text: t('source') }), el('blockquote', { text: p.source, lang: 'zh-Hans' }));
  }
  return box;
}

function addFeatures(entry, features) {
  const { col, group, byId } = entry;
  for (const f of features) {
    if (byId.has(f.id)) continue; // already on the map
    f.properties = f.properties || {};
    f.properties.__id = f.id;
    const layer = L.geoJSON(f, {
      style: (feat) => styleOf(col, feat.properties),
      pointToLayer: (feat, latlng) => L.circleMarker(latlng, {
        ...styleOf(col, feat.properties), radius: (col.style && col.style.radius) || 6,
      }),
    });
    layer.bindPopup(() => popup(col, f), { maxWidth: 340, autoPanPadding: [24, 24] });
    layer.feature = f;
    byId.set(f.id, layer);
    group.addLayer(layer);
  }
}

// load fetches what the view needs of each visible layer, unless a box
// already loaded covers it; features already shown are not added twice.
async function load() {
  const b = map.getBounds().pad(0.25);
  const box = L.latLngBounds(
    [Math.max(-90, b.getSouth()), Math.max(-180, b.getWest())],
    [Math.min(90, b.getNorth()), Math.min(180, b.getEast())],
  );
  const jobs = [];
  for (const id of state.visible) {
    const entry = state.layers.get(id);
    if (entry.covered.some((c) => c.contains(box))) continue;
    jobs.push((async () => {
      setBusy(1);
      try {
        for await (const page of api.features(id, [box.getWest(), box.getSouth(), box.getEast(), box.getNorth()])) {
          addFeatures(entry, page);
        }
        entry.covered.push(box);
      } catch (err) {
        $('status').textContent = `${t('loadFailed')}: ${pick(entry.col.titles)} (${err.message})`;
        console.warn('planmap: loading', id, err);
      } finally {
        setBusy(-1);
      }
    })());
  }
  await Promise.all(jobs);
}

// ---- the panel: layers, legend, downloads ----

function renderPanel() {
  const list = $('layer-list');
  list.replaceChildren();
  for (const col of state.collections) {
    const id = `layer-${col.id}`;
    const box = el('input', { type: 'checkbox', id, 'data-layer': col.id });
    box.checked = state.visible.has(col.id);
    box.addEventListener('change', () => setVisible(col.id, box.checked));
    const s = col.style || {};
    const sw = el('span', { class: 'swatch', 'aria-hidden': 'true' });
    sw.style.background = col.geometryType.includes('Line') ? 'transparent' : (s.fillColor || s.color || '#999');
    sw.style.borderColor = s.color || '#333';
    list.append(el('li', {}, box, el('label', { for: id }, sw,
      el('span', { class: 'title', text: pick(col.titles) }),
      el('span', { class: 'count', text: ` ${col.itemCount}` }))));
  }

  const legend = $('legend');
  legend.replaceChildren();
  const present = new Set(['R', 'A', 'B', 'M', 'S', 'H', 'U', 'G', 'E']);
  for (const [cls, colour] of Object.entries(classColours)) {
    if (!present.has(cls)) continue;
    const sw = el('span', { class: 'swatch', 'aria-hidden': 'true' });
    sw.style.background = colour;
    legend.append(el('li', {}, sw, el('span', { text: `${cls} ${t('classes')[cls]}` })));
  }
  legend.append(el('li', { class: 'conf', text: t('confidenceLegend') }));

  const dl = $('downloads');
  dl.replaceChildren();
  for (const col of state.collections) {
    const view = el('button', { type: 'button', class: 'link', text: t('inView'), 'data-download-view': col.id });
    view.addEventListener('click', () => downloadView(col));
    dl.append(el('li', {},
      el('span', { class: 'title', text: pick(col.titles) }), ' ',
      el('a', { href: api.downloadURL(col.id, 'geojson'), download: `haimen-${col.id}.geojson`, text: 'GeoJSON' }), ' · ',
      el('a', { href: api.downloadURL(col.id, 'gpkg'), download: `haimen-${col.id}.gpkg`, text: 'GPKG' }), ' · ',
      view));
  }
}

function setVisible(id, on) {
  const entry = state.layers.get(id);
  if (on) {
    state.visible.add(id);
    entry.group.addTo(map);
    load();
  } else {
    state.visible.delete(id);
    entry.group.remove();
  }
  writeHash();
}

// viewGeoJSON is the layer's features in the current view as a GeoJSON
// FeatureCollection QGIS opens: fetched from the API, so not only what is
// drawn.
async function viewGeoJSON(id) {
  const b = map.getBounds();
  const features = [];
  setBusy(1);
  try {
    for await (const page of api.features(id, [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()])) {
      for (const f of page) {
        const props = { ...f.properties };
        delete props.__id;
        features.push({ type: 'Feature', id: f.id, properties: props, geometry: f.geometry });
      }
    }
  } finally {
    setBusy(-1);
  }
  return { type: 'FeatureCollection', name: id, features };
}

// downloadView saves viewGeoJSON as a file.
async function downloadView(col) {
  const doc = await viewGeoJSON(col.id);
  const url = URL.createObjectURL(new Blob([JSON.stringify(doc)], { type: 'application/geo+json' }));
  const a = el('a', { href: url, download: `haimen-${col.id}-view.geojson` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// ---- search ----

let searchAbort = null;
let searchTimer = null;

async function runSearch(q) {
  const out = $('search-results');
  if (searchAbort) searchAbort.abort();
  if (!q.trim()) { out.hidden = true; out.replaceChildren(); return; }
  searchAbort = new AbortController();
  let hits;
  try {
    hits = await api.search(q, searchAbort.signal);
  } catch (err) {
    if (err.name !== 'AbortError') console.warn('planmap: search', err);
    return;
  }
  out.replaceChildren();
  if (!hits.length) out.append(el('li', { class: 'none', text: t('noResults') }));
  for (const f of hits) {
    const col = state.collections.find((c) => c.id === f.collection);
    const name = lang() === 'en' ? (f.properties.name_en || f.properties.name_zh) : (f.properties.name_zh || f.properties.name_en);
    const btn = el('button', { type: 'button', role: 'option' },
      el('span', { text: name }), el('small', { text: col ? ` ${pick(col.titles)}` : '' }));
    btn.addEventListener('click', () => goTo(f));
    out.append(el('li', {}, btn));
  }
  out.hidden = false;
}

// goTo shows a feature found by search: its layer on, the map over it,
// its popup open.
async function goTo(f) {
  $('search-results').hidden = true;
  if (!state.visible.has(f.collection)) {
    state.visible.add(f.collection);
    state.layers.get(f.collection).group.addTo(map);
    renderPanel();
  }
  const bounds = L.geoJSON(f).getBounds();
  map.flyToBounds(bounds, { maxZoom: 16, padding: [40, 40], duration: 0.6 });
  await new Promise((resolve) => map.once('moveend', resolve));
  await load();
  const entry = state.layers.get(f.collection);
  const layer = entry.byId.get(f.id);
  if (layer) layer.openPopup(bounds.getCenter());
}

// ---- start ----

async function start() {
  const h = readHash();
  setLang(h.lang || defaultLang());
  translate();
  $('lang').textContent = lang() === 'zh' ? 'English' : '中文';

  state.collections = (await api.collections()).sort((a, b) => a.order - b.order);
  for (const col of state.collections) {
    map.createPane(`pm-${col.id}`).style.zIndex = String(400 + col.order);
    state.layers.set(col.id, { col, group: L.featureGroup(), byId: new Map(), covered: [] });
  }
  const known = new Set(state.collections.map((c) => c.id));
  const wanted = h.layers ? h.layers.filter((id) => known.has(id)) : [...known];
  for (const id of wanted) {
    state.visible.add(id);
    state.layers.get(id).group.addTo(map);
  }
  renderPanel();

  if (h.view) {
    map.setView(h.view.center, h.view.zoom);
  } else {
    // Fit the district: its boundary layer, else everything there is.
    const boundary = state.collections.find((c) => c.id === 'boundary');
    const withExtent = boundary && boundary.extent ? [boundary] : state.collections.filter((c) => c.extent);
    let b = null;
    for (const c of withExtent) {
      const [x0, y0, x1, y1] = c.extent.spatial.bbox[0];
      const cb = L.latLngBounds([y0, x0], [y1, x1]);
      b = b ? b.extend(cb) : cb;
    }
    if (b) map.fitBounds(b, { padding: [10, 10] });
    else map.setView([32.1, 121.47], 11);
  }
  map.on('moveend', () => { writeHash(); load(); });
  writeHash();
  await load();
  document.body.dataset.ready = '1';
}

// ---- controls ----

const measure = new Measure(map, $('measure-result'), (mode) => {
  $('measure-distance').setAttribute('aria-pressed', String(mode === 'distance'));
  $('measure-area').setAttribute('aria-pressed', String(mode === 'area'));
  $('measure-distance').textContent = mode === 'distance' ? t('measureStop') : t('measureDistance');
  $('measure-area').textContent = mode === 'area' ? t('measureStop') : t('measureArea');
});
$('measure-distance').addEventListener('click', () => (measure.mode === 'distance' ? measure.stop() : measure.start('distance')));
$('measure-area').addEventListener('click', () => (measure.mode === 'area' ? measure.stop() : measure.start('area')));

$('copy-link').addEventListener('click', async () => {
  writeHash();
  const box = $('link-box');
  try {
    await navigator.clipboard.writeText(location.href);
    $('measure-result').textContent = t('copied');
    box.hidden = true;
  } catch (_) {
    // No clipboard (an insecure origin, or no permission): show the link.
    box.value = location.href;
    box.hidden = false;
    box.select();
    $('measure-result').textContent = t('copyFailed');
  }
});

$('lang').addEventListener('click', () => {
  setLang(lang() === 'zh' ? 'en' : 'zh');
  translate();
  $('lang').textContent = lang() === 'zh' ? 'English' : '中文';
  map.closePopup();
  renderPanel();
  writeHash();
});

$('search').addEventListener('submit', (e) => { e.preventDefault(); clearTimeout(searchTimer); runSearch($('search-q').value); });
$('search-q').addEventListener('input', (e) => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => runSearch(e.target.value), 250);
});
$('search-q').addEventListener('keydown', (e) => {
  if (e.key === 'ArrowDown') { const b = $('search-results').querySelector('button'); if (b) { e.preventDefault(); b.focus(); } }
  if (e.key === 'Escape') $('search-results').hidden = true;
});
$('search-results').addEventListener('keydown', (e) => {
  const items = [...$('search-results').querySelectorAll('button')];
  const i = items.indexOf(document.activeElement);
  if (e.key === 'ArrowDown' && i < items.length - 1) { e.preventDefault(); items[i + 1].focus(); }
  if (e.key === 'ArrowUp') { e.preventDefault(); (i > 0 ? items[i - 1] : $('search-q')).focus(); }
  if (e.key === 'Escape') { $('search-results').hidden = true; $('search-q').focus(); }
});

$('panel-toggle').addEventListener('click', () => {
  const open = document.body.classList.toggle('panel-closed') === false;
  $('panel-toggle').setAttribute('aria-expanded', String(open));
  setTimeout(() => map.invalidateSize(), 200);
});
if (window.matchMedia('(max-width: 700px)').matches) {
  document.body.classList.add('panel-closed');
  $('panel-toggle').setAttribute('aria-expanded', 'false');
}

start().catch((err) => {
  $('status').textContent = `${t('loadFailed')}: ${err.message}`;
  $('status').classList.add('shown');
  console.error('planmap: start', err);
});

// For tests and the curious: the map and its state.
window.planmap = { map, state, viewGeoJSON };
