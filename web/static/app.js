// The web map of Haimen Port New Area: the planned land use, layer by
// layer, from planmap's own feature API. Nothing is loaded from elsewhere
// unless the operator configured a tile base map.

import * as api from './api.js';
import { config } from './config.js';
import { el } from './dom.js';
import { defaultLang, failure, lang, nameOf, pick, setLang, t, translate } from './i18n.js';
import { addControls, relabel } from './controls.js';
import * as filters from './filter.js';
import { Identify, background } from './identify.js';
import { Labels } from './labels.js';
import { Live } from './live.js';
import { Measure } from './measure.js';
import { PrintLayout } from './print.js';
import { StatsPanel } from './stats.js';
import { Editing } from './edit.js';
import { Drawn, renderLegend as drawLegend, swatch } from './legend.js';
import { kindOf, shadeOf, styleOf as symbolStyle, symbolOf } from './style.js';
import { Table, clean, download } from './table.js';
import { Tiled } from './tiles.js';

const $ = (id) => document.getElementById(id);

const state = {
  collections: [], // from /collections, in drawing order
  layers: new Map(), // id → { col, group, byId: Map(fid → layer), covered: [LatLngBounds] }
  visible: new Set(),
  busy: 0,
  pending: 0,
  error: '', // what failed in the last load, shown until a load succeeds
  notice: '', // what the view leaves out ("zoom in to see")
  snapNotice: '', // what an editor's vertex cannot snap to here (snap.js)
  linkError: '', // what the link asked for that does not exist
  countError: '', // the layers the filter could not count
  drawn: new Drawn(), // what the map draws, for the legend
  filter: filters.emptyFilter(), // mirrored in the link: status=…&class=…
  all: new Map(), // id → Promise of all the layer's features, for counts and the table
  cells: new Map(), // id → Promise of a big layer's counts by stage and class (api.cells)
  attribution: '',
};

// A layer this big is loaded as GeoJSON only from this zoom on: below it a
// view holds more features than a browser draws well, and it is drawn from
// the server's vector tiles instead (tiles.js), from the zoom the tiles
// hold it.
const bigLayer = 20000;
const bigLayerMinZoom = 13;

// A dense layer (more features than this) is drawn on a canvas, not as
// one SVG element per feature; what leaves the view is released, and no
// more than maxShapes of its features are drawn at once (beyond that the
// map asks to zoom in). This keeps a layer of 200,000 parcels responsive
// where it is loaded as GeoJSON.
const denseLayer = 5000;
const maxShapes = 5000;

// ---- the URL holds the view: #map=zoom/lat/lon&layers=a,b&lang=zh ----

function readHash() {
  const h = new URLSearchParams(location.hash.slice(1));
  const out = {};
  const m = (h.get('map') || '').split('/').map(Number);
  if (m.length === 3 && m.every(Number.isFinite)) out.view = { zoom: m[0], center: [m[1], m[2]] };
  if (h.has('layers')) out.layers = h.get('layers').split(',').filter(Boolean);
  if (h.has('lang')) out.lang = h.get('lang');
  out.filter = filters.fromHash(h);
  return out;
}

function writeHash() {
  const c = map.getCenter().wrap();
  const h = new URLSearchParams();
  h.set('map', `${map.getZoom()}/${c.lat.toFixed(5)}/${c.lng.toFixed(5)}`);
  h.set('layers', state.collections.filter((col) => state.visible.has(col.id)).map((col) => col.id).join(','));
  h.set('lang', lang());
  filters.toHash(state.filter, h);
  history.replaceState(null, '', `#${h.toString().replace(/%2C/g, ',').replace(/%2F/g, '/')}`);
}

// ---- the map ----

const map = L.map('map', {
  fadeAnimation: false,
  zoomSnap: 0.5,
  keyboard: true,
  attributionControl: true,
  // Panning past ±180° brings the map back to the same world.
  worldCopyJump: true,
});
map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
map.createPane('measure').style.zIndex = 650;
// Big layers at low zoom, drawn from vector tiles (tiles.js).
const tiled = new Tiled(map, (col, props) => filters.passes(state.filter, col, props), () => refreshLegend());
if (config.tiles) {
  // The site sends no Referer elsewhere (Referrer-Policy: same-origin),
  // but tile providers such as OpenStreetMap refuse tiles without one: they
  // get the site's origin, never the page's address.
  L.tileLayer(config.tiles, { attribution: config.attribution || '', maxZoom: 18, referrerPolicy: 'strict-origin' }).addTo(map);
}

const labels = new Labels(map, state, setPending);
addControls(map, () => fitDistrict(true));

// fitDistrict shows the whole district: its boundary layer, else
// everything there is.
function fitDistrict(animate = false) {
  const boundary = state.collections.find((c) => c.id === 'boundary');
  const withExtent = boundary && boundary.extent ? [boundary] : state.collections.filter((c) => c.extent && c.id !== 'context');
  let b = null;
  for (const c of withExtent) {
    const [x0, y0, x1, y1] = c.extent.spatial.bbox[0];
    const cb = L.latLngBounds([y0, x0], [y1, x1]);
    b = b ? b.extend(cb) : cb;
  }
  if (b) map.fitBounds(b, { padding: [10, 10], animate });
  else map.setView([32.1, 121.47], 11);
}

// setAttribution says, in the current language, what the positions are.
function setAttribution() {
  if (state.attribution) map.attributionControl.removeAttribution(state.attribution);
  state.attribution = t('approx');
  map.attributionControl.addAttribution(state.attribution);
}

// showStatus says what the map is doing: loading; else what failed (an
// error, in red, each failure named); else a notice (such as "zoom in to
// see"), which is not an error.
function showStatus() {
  const error = [state.error, state.countError, state.linkError].filter(Boolean).join(' · ');
  const notice = [state.notice, state.snapNotice].filter(Boolean).join(' · ');
  const text = state.busy > 0 ? t('loading') : error || notice;
  $('status').textContent = text;
  $('status').classList.toggle('shown', text !== '');
  $('status').classList.toggle('error', state.busy === 0 && error !== '');
  $('status').dataset.kind = state.busy > 0 ? 'loading' : error ? 'error' : notice ? 'notice' : '';
}

function setBusy(delta) {
  state.busy += delta;
  document.body.dataset.busy = String(state.busy + state.pending);
  showStatus();
}

// setPending counts redraws waiting (labels, legend): not worth a
// "loading" notice, but the map is not settled until they are done.
function setPending(delta) {
  state.pending += delta;
  document.body.dataset.busy = String(state.busy + state.pending);
}

function setError(text) {
  state.error = text;
  showStatus();
}

function setNotice(text) {
  state.notice = text;
  showStatus();
}

// viewBox is the map's view, a little larger, as the bbox the API takes:
// longitudes wrapped into -180..180 (minx > maxx when the view crosses the
// antimeridian), the whole world when the view is wider than it.
function viewBox(pad = 0.25) {
  const b = map.getBounds().pad(pad);
  const south = Math.max(-90, b.getSouth());
  const north = Math.min(90, b.getNorth());
  if (b.getEast() - b.getWest() >= 360) return [-180, south, 180, north];
  const wrap = (x) => ((((x + 180) % 360) + 360) % 360) - 180;
  let west = wrap(b.getWest());
  let east = wrap(b.getEast());
  if (east === -180 && b.getEast() > b.getWest()) east = 180;
  return [west, south, east, north];
}

// covers reports whether box a holds box b (neither crossing the antimeridian).
function covers(a, b) {
  return a[0] <= a[2] && b[0] <= b[2] && a[0] <= b[0] && a[1] <= b[1] && a[2] >= b[2] && a[3] >= b[3];
}

// styleOf is how a feature is drawn on this map.
function styleOf(col, props) {
  const entry = state.layers.get(col.id);
  return {
    ...symbolStyle(col, props, !!entry.renderer),
    renderer: entry.renderer || undefined,
    // The shapes take no clicks: identify finds what lies under a click on
    // the map (identify.js).
    interactive: false,
    // Nor snaps: an editor's vertex snaps to their copies (snap.js).
    snapIgnore: true,
    className: `pm-f pm-${col.id} pm-${col.id}-${props.__id}`,
    pane: `pm-${col.id}`,
  };
}

// pointStyle is how a point feature is drawn on this map: a circle.
function pointStyle(col, props) {
  return { ...styleOf(col, props), radius: (col.style && col.style.radius) || 6 };
}

function addFeatures(entry, features) {
  const { col, group, byId } = entry;
  for (const f of features) {
    if (byId.has(f.id)) continue; // already on the map
    f.properties = f.properties || {};
    f.properties.__id = f.id;
    const layer = L.geoJSON(f, {
      style: (feat) => styleOf(col, feat.properties),
      pointToLayer: (feat, latlng) => L.circleMarker(latlng, pointStyle(col, feat.properties)),
    });
    layer.feature = f;
    byId.set(f.id, layer);
    if (filters.passes(state.filter, col, f.properties)) group.addLayer(layer);
    else entry.hidden.add(f.id);
  }
  labels.update();
  refreshLegend();
}

// load fetches what the view needs of each visible layer, unless a box
// loaded or loading already covers it; features already shown are not
// added twice.
async function load() {
  const box = viewBox();
  const jobs = [];
  const tooBig = [];
  const failed = [];
  // A big layer is drawn from vector tiles where it is too big to load,
  // from the zoom its tiles hold it (below, the map asks to zoom in).
  for (const [id, entry] of state.layers) {
    const tiledHere = state.visible.has(id) && entry.col.itemCount > bigLayer && map.getZoom() < bigLayerMinZoom &&
      map.getZoom() >= (entry.tileMinZoom ?? Infinity);
    if (tiledHere) tiled.show(entry.col);
    else tiled.hide(id);
  }
  for (const id of state.visible) {
    const entry = state.layers.get(id);
    if (entry.col.itemCount > bigLayer && map.getZoom() < bigLayerMinZoom) {
      if (!tiled.has(id)) tooBig.push(pick(entry.col.titles));
      continue;
    }
    if (entry.dense) release(entry, box);
    if (entry.covered.some((c) => covers(c, box))) continue;
    if (entry.dense && entry.byId.size >= maxShapes) {
      tooBig.push(pick(entry.col.titles));
      continue;
    }
    entry.covered.push(box); // loading: no second request for the same view
    jobs.push((async () => {
      setBusy(1);
      try {
        for await (const page of api.features(id, box)) {
          let fresh = page;
          if (entry.dense) {
            fresh = page.filter((f) => !entry.byId.has(f.id));
            fresh = fresh.slice(0, Math.max(0, maxShapes - entry.byId.size));
          }
          addFeatures(entry, fresh);
          if (entry.dense && entry.byId.size >= maxShapes) {
            // Enough for one view: the rest waits for a closer one.
            entry.covered.splice(entry.covered.indexOf(box), 1);
            tooBig.push(pick(entry.col.titles));
            break;
          }
        }
        return true;
      } catch (err) {
        entry.covered.splice(entry.covered.indexOf(box), 1);
        failed.push(`${pick(entry.col.titles)} (${failure(err)})`);
        return false;
      } finally {
        setBusy(-1);
      }
    })());
  }
  await Promise.all(jobs);
  // Every layer that failed is named, not only the last.
  setNotice(tooBig.length ? `${t('zoomIn')}: ${tooBig.join(', ')}` : '');
  if (jobs.length) setError(failed.length ? `${t('loadFailed')}: ${failed.join('; ')}` : '');
}

// release drops a dense layer's features that lie wholly outside box,
// and forgets the boxes loaded, but the one that holds the view: panning
// back fetches them again.
function release(entry, box) {
  const view = L.latLngBounds([box[1], box[0]], [box[3], box[2]]);
  for (const [id, layer] of entry.byId) {
    if (view.intersects(layer.getBounds())) continue;
    entry.group.removeLayer(layer);
    entry.byId.delete(id);
    entry.hidden.delete(id);
  }
  entry.covered = entry.covered.filter((c) => covers(c, box));
}

// ---- live: what others change shows without a reload ----

// liveOneByOne: a layer with more changed features than this at once is
// read again for the view rather than feature by feature.
const liveOneByOne = 100;

// sameFeature reports whether two versions of a feature draw and read the
// same.
function sameFeature(a, b) {
  return JSON.stringify([a.geometry, a.properties]) === JSON.stringify([b.geometry, b.properties]);
}

// putFeature draws a feature as it is now: a new one is added, a changed
// one redrawn in place (its popup, if open, shows the new version), an
// unchanged one left alone. It returns whether anything changed.
function putFeature(entry, f) {
  f.properties = f.properties || {};
  f.properties.__id = f.id;
  const layer = entry.byId.get(f.id);
  if (!layer) {
    if (entry.dense && entry.byId.size >= maxShapes) return false;
    addFeatures(entry, [f]);
    return true;
  }
  if (sameFeature(layer.feature, f)) return false;
  layer.clearLayers();
  layer.addData(f);
  layer.feature = f;
  const pass = filters.passes(state.filter, entry.col, f.properties);
  if (pass && entry.hidden.has(f.id)) { entry.hidden.delete(f.id); entry.group.addLayer(layer); }
  if (!pass && !entry.hidden.has(f.id)) { entry.hidden.add(f.id); entry.group.removeLayer(layer); }
  identify.refresh(entry.col, f);
  return true;
}

// dropFeature takes a feature off the map, and closes its popup.
function dropFeature(entry, fid) {
  const layer = entry.byId.get(fid);
  if (!layer) return false;
  entry.group.removeLayer(layer);
  entry.byId.delete(fid);
  entry.hidden.delete(fid);
  const sel = identify.selected;
  if (sel && sel.col.id === entry.col.id && sel.f.id === fid) { map.closePopup(); identify.clear(); }
  return true;
}

// rereadView reads a visible layer again for the view, and keeps what
// did not change as it is.
async function rereadView(entry) {
  const { col } = entry;
  const box = viewBox();
  const seen = new Set();
  for await (const page of api.features(col.id, box, undefined, true)) {
    for (const f of page) {
      seen.add(f.id);
      putFeature(entry, f);
    }
  }
  // What is gone from the view, and what lay outside it (read again
  // when the map goes there).
  for (const fid of [...entry.byId.keys()]) if (!seen.has(fid)) dropFeature(entry, fid);
  entry.covered = [box];
}

// refreshTiles shows what changed in a layer drawn from tiles: the tiles
// that held the changed features, or hold them now, are fetched and drawn
// again (all of the layer's, for a change of the whole layer). Where a
// feature is now comes from the API; an open popup shows it as it is now,
// or closes when it is gone.
async function refreshTiles(entry, change, whole) {
  const { col } = entry;
  if (whole) {
    await tiled.refresh(col.id, { whole: true });
    return;
  }
  const sel = identify.selected;
  const boxes = [];
  await Promise.all([...change.ids].map(async ([fid, op]) => {
    const f = op === 'delete' ? null : await api.feature(col.id, fid);
    if (f && f.geometry) {
      const b = L.geoJSON(f).getBounds();
      boxes.push([b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]);
    }
    if (!sel || sel.col.id !== col.id || String(sel.f.id) !== String(fid)) return;
    if (f && filters.passes(state.filter, col, f.properties || {})) identify.refresh(col, f);
    else { map.closePopup(); identify.clear(); }
  }));
  await tiled.refresh(col.id, { ids: [...change.ids.keys()], boxes });
}

// applyChanges brings the map up to date with what others changed: the
// list of layers first (syncLayers), then changed features are fetched
// one by one, a layer changed as a whole is read again for the view, and
// a layer not drawn forgets what changed.
async function applyChanges(byLayer, reset) {
  setPending(1);
  const told = [];
  let said = [];
  try {
    // The layers themselves first, when one may have been created,
    // dropped or redeclared (a change of a whole layer, or of one this
    // map does not know): it is set up, taken off or redrawn before its
    // features are read. Edits of features alone need no such wait.
    const layersMayChange = reset || [...byLayer].some(([id, c]) => c.whole || !state.layers.has(id));
    let fresh = layersMayChange ? await api.collections(true) : null;
    const synced = fresh ? await syncLayers(fresh) : { added: new Set(), said: [] };
    said = synced.said;
    if (reset) byLayer = new Map(state.collections.map((c) => [c.id, { ids: new Map(), whole: true }]));
    const jobs = [];
    // A layer added is loaded for the view as at start.
    if (synced.added.size) jobs.push(load());
    for (const [id, change] of byLayer) {
      const entry = state.layers.get(id);
      if (!entry || synced.added.has(id)) continue; // dropped, or just loaded
      state.all.delete(id);
      state.cells.delete(id);
      const whole = change.whole || change.ids.size > liveOneByOne;
      told.push(`${pick(entry.col.titles)}${whole ? '' : ` (${change.ids.size})`}`);
      // A hidden layer, or one too big to draw at this zoom, forgets what
      // changed and reads it when it is drawn.
      if (!state.visible.has(id) || (entry.col.itemCount > bigLayer && map.getZoom() < bigLayerMinZoom)) {
        if (whole) for (const fid of [...entry.byId.keys()]) dropFeature(entry, fid);
        else for (const fid of change.ids.keys()) dropFeature(entry, fid);
        entry.covered = [];
        // Drawn from tiles: the tiles it changed are fetched again.
        if (tiled.has(id)) jobs.push(refreshTiles(entry, change, whole));
        continue;
      }
      if (whole) {
        jobs.push(rereadView(entry));
        continue;
      }
      for (const [fid, op] of change.ids) {
        if (op === 'delete') { dropFeature(entry, fid); continue; }
        jobs.push(api.feature(id, fid).then((f) => (f ? putFeature(entry, f) : dropFeature(entry, fid))));
      }
    }
    const done = await Promise.allSettled(jobs);
    const failed = done.filter((d) => d.status === 'rejected');
    if (failed.length) setError(`${t('loadFailed')}: ${failure(failed[0].reason)}`);
    // The counts and extents in the panel.
    if (!fresh) fresh = await api.collections(true);
    for (const col of fresh) {
      const known = state.collections.find((c) => c.id === col.id);
      if (!known) continue;
      known.itemCount = col.itemCount;
      known.extent = col.extent;
      const count = document.querySelector(`#layer-list label[for="layer-${CSS.escape(col.id)}"] .count`);
      if (count) count.textContent = ` ${col.itemCount}`;
    }
    labels.update();
    refreshLegend();
    renderFilterPanel();
    // The table of a layer too big to fetch whole asks the API again.
    if (table.open) { if (table.col && tooBig(table.col)) table.render(); else table.draw(); }
  } catch (err) {
    setError(`${t('loadFailed')}: ${failure(err)}`);
  } finally {
    setPending(-1);
  }
  if (told.length) said.push(`${t('liveUpdated')}: ${told.join(', ')}`);
  if (said.length) live.notice(said.join(' · '));
}

const live = new Live(applyChanges);

// ---- the panel: layers, legend, downloads ----

function renderPanel() {
  const list = $('layer-list');
  list.replaceChildren();
  const other = lang() === 'zh' ? 'en' : 'zh';
  for (const col of state.collections) {
    const id = `layer-${col.id}`;
    const box = el('input', { type: 'checkbox', id, 'data-layer': col.id });
    box.checked = state.visible.has(col.id);
    box.addEventListener('change', () => setVisible(col.id, box.checked));
    const sw = swatch(layerSymbol(col), kindOf(col));
    list.append(el('li', {}, box, el('label', { for: id }, sw,
      el('span', { class: 'title', text: pick(col.titles) }),
      el('span', { class: 'other', text: ` ${(col.titles && col.titles[other]) || ''}`, lang: other === 'zh' ? 'zh-Hans' : 'en' }),
      el('span', { class: 'count', text: ` ${col.itemCount}` }))));
  }
  renderLegend();

  const dl = $('downloads');
  dl.replaceChildren();
  for (const col of state.collections) {
    const view = el('button', { type: 'button', class: 'link', text: t('inView'), 'data-download-view': col.id });
    view.addEventListener('click', () => downloadView(col));
    dl.append(el('li', {},
      el('span', { class: 'title', text: pick(col.titles) }), ' ',
      el('a', { href: api.downloadURL(col.id, 'geojson'), download: `haimen-${col.id}.geojson`, text: 'GeoJSON' }), ' · ',
      el('a', { href: api.downloadURL(col.id, 'gpkg'), download: `haimen-${col.id}.gpkg`, text: 'GPKG' }), ' · ',
      el('a', { href: api.downloadURL(col.id, 'kml'), download: `haimen-${col.id}.kml`, text: 'KML' }), ' · ',
      view));
  }
}

// layerSymbol is how most of a layer's features on the map are drawn
// (their most common class, loaded or in its tiles on the map), for the
// layer list's swatch.
function layerSymbol(col) {
  const counts = new Map();
  const props = [...state.layers.get(col.id).byId.values()].map((l) => l.feature.properties).concat(tiled.props(col.id));
  for (const p of props) {
    const shade = shadeOf(p);
    if (shade) counts.set(shade.code, (counts.get(shade.code) || 0) + 1);
  }
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
  return symbolOf(col, top ? { landuse_gb50137: top[0] } : {});
}

// refreshLegend lists what the visible layers draw now, soon: a load of
// many pages redraws it once.
// While one is pending the map counts as busy, so that nobody (a test)
// reads a legend about to change.
let legendTimer = null;
let lastPlain = [];
function refreshLegend() {
  if (legendTimer) clearTimeout(legendTimer); else setPending(1);
  legendTimer = setTimeout(() => {
    legendTimer = null;
    try { renderLegend(); } finally { setPending(-1); }
  }, 50);
}

function renderLegend() {
  const drawn = state.drawn;
  drawn.clear();
  const plain = [];
  for (const col of state.collections) {
    if (!state.visible.has(col.id)) continue;
    let unclassed = false;
    const entry = state.layers.get(col.id);
    // What the map draws: its loaded features that pass the filter, and
    // those of its tiles on the map.
    const drawnProps = [];
    for (const layer of entry.byId.values()) if (!entry.hidden.has(layer.feature.id)) drawnProps.push(layer.feature.properties);
    for (const p of tiled.props(col.id)) if (filters.passes(state.filter, col, p)) drawnProps.push(p);
    for (const p of drawnProps) {
      const shade = shadeOf(p);
      if (shade) drawn.shades.add(shade.code); else unclassed = true;
      if (!col.geometryType.includes('Line')) {
        if (p.status) drawn.statuses.add(p.status);
        if (p.position_confidence && !(col.style && col.style.dashArray)) drawn.confidences.add(p.position_confidence);
      }
    }
    if (unclassed) plain.push({ col, sym: symbolOf(col, {}), kind: kindOf(col) });
  }
  drawLegend($('legend'), drawn, plain);
  lastPlain = plain;
  printLayout.refresh();
  statsPanel.update();
  // The layer list's swatches follow what is loaded.
  for (const col of state.collections) {
    const old = document.querySelector(`#layer-list label[for="layer-${CSS.escape(col.id)}"] .swatch`);
    if (old) old.replaceWith(swatch(layerSymbol(col), kindOf(col)));
  }
}

// ---- filter and table ----

// A layer up to this size is fetched whole for the filter's counts, the
// table and the export; a bigger one (tooBig) is counted by the
// statistics API (countable), listed a page of the view at a time
// (tableFeatures) and exported page by page (passingFeatures).
const wholeLayer = 5000;

// tooBig says whether layer col is too big to fetch whole.
function tooBig(col) {
  return col.itemCount > wholeLayer;
}

// allFeatures returns all of the features of a layer small enough to fetch
// whole (not tooBig), fetched once.
function allFeatures(id) {
  if (!state.all.has(id)) {
    const p = (async () => {
      const out = [];
      for await (const page of api.features(id)) out.push(...page);
      return out;
    })();
    p.catch(() => state.all.delete(id)); // tried again next time
    state.all.set(id, p);
  }
  return state.all.get(id);
}

// countable returns what counts a layer's features: all of them, or, for
// a layer too big to fetch whole, cells from the statistics API that
// stand for them (api.cells), asked once until the layer changes.
function countable(id) {
  const entry = state.layers.get(id);
  if (!tooBig(entry.col)) return allFeatures(id);
  if (!state.cells.has(id)) {
    const p = api.cells(entry.col);
    p.catch(() => state.cells.delete(id)); // tried again next time
    state.cells.set(id, p);
  }
  return state.cells.get(id);
}

// tableRows is how many features the table lists of a layer too big to
// fetch whole: the first of those in the view.
const tableRows = 500;

// tableFeatures is what the table lists of a layer: all its features, or,
// for a layer too big to fetch whole, the first tableRows of those in the
// view from the API, with how many in the view pass the filter (matched),
// counted by the statistics API.
async function tableFeatures(id) {
  const entry = state.layers.get(id);
  if (!tooBig(entry.col)) return { features: await allFeatures(id) };
  const box = viewBox(0);
  // One stage chosen: the API selects it; more, the table does.
  const equals = state.filter.status.size === 1 ? { status: [...state.filter.status][0] } : {};
  const [page, cells] = await Promise.all([api.page(id, box, tableRows, equals), api.cells(entry.col, box)]);
  let matched = 0;
  for (const c of cells) if (filters.passes(state.filter, entry.col, c.properties)) matched += c.n;
  return { features: page.features, matched, first: page.features.length < page.matched };
}

// applyFilter shows on the map only the features that pass the filter,
// and brings the counts, the legend, the labels, the table and the link
// up to date.
function applyFilter() {
  for (const entry of state.layers.values()) {
    for (const [id, layer] of entry.byId) {
      const pass = filters.passes(state.filter, entry.col, layer.feature.properties);
      if (pass && entry.hidden.has(id)) { entry.hidden.delete(id); entry.group.addLayer(layer); }
      if (!pass && !entry.hidden.has(id)) { entry.hidden.add(id); entry.group.removeLayer(layer); }
    }
  }
  tiled.redraw();
  const sel = identify.selected;
  if (sel && !filters.passes(state.filter, sel.col, sel.f.properties)) { map.closePopup(); identify.clear(); }
  labels.update();
  refreshLegend();
  renderFilterPanel();
  if (table.open) table.draw();
  $('filter-downloads').hidden = !filters.isActive(state.filter);
  writeHash();
}

// renderFilterPanel counts every stage and class over the visible
// layers; a layer that cannot be fetched is named, and left out.
async function renderFilterPanel() {
  const cols = state.collections.filter((c) => state.visible.has(c.id));
  setPending(1);
  try {
    const got = await Promise.allSettled(cols.map(async (col) => ({ col, features: await countable(col.id) })));
    const failed = cols.filter((_, i) => got[i].status === 'rejected').map((c) => pick(c.titles));
    state.countError = failed.length ? `${t('countFailed')}: ${failed.join(', ')}` : '';
    showStatus();
    const entries = got.filter((g) => g.status === 'fulfilled').map((g) => g.value);
    filters.renderFilter($('filter'), state.filter, filters.tally(state.filter, entries), applyFilter);
  } finally {
    setPending(-1);
  }
}

// exportFiltered saves the visible layers' features that pass the filter:
// all of them, also of a layer too big to fetch whole (passingFeatures).
async function exportFiltered() {
  $('export-filtered').disabled = true; // until this export is saved or failed
  setBusy(1);
  const features = [];
  try {
    for (const col of state.collections) {
      if (!state.visible.has(col.id)) continue;
      const all = tooBig(col) ? passingFeatures(col) : [await allFeatures(col.id)];
      for await (const page of all) {
        for (const f of page) {
          if (filters.passes(state.filter, col, f.properties || {})) features.push(clean(col, f));
        }
      }
    }
  } catch (err) {
    setError(`${t('loadFailed')}: ${failure(err)}`);
    return;
  } finally {
    setBusy(-1);
    $('export-filtered').disabled = false;
  }
  download({ type: 'FeatureCollection', name: 'filtered', features }, 'haimen-filtered.geojson');
}

// passingFeatures yields, page by page from the API, the features of a
// layer too big to fetch whole that may pass the filter: the API selects
// the stages ticked (one value of a field per request, so one series of
// pages per stage; the stages part the layer, so none comes twice), and
// filters.passes, as everywhere, decides the rest (the classes). A stage
// the layer's field does not allow is not asked: the API refuses it, and
// the layer holds none of it.
async function* passingFeatures(col) {
  const field = (col.schema || []).find((fd) => fd.name === 'status');
  if (!state.filter.status.size || background.has(col.id) || !field) {
    yield* api.matching(col.id);
    return;
  }
  for (const status of [...state.filter.status].sort()) {
    if (!field.values || field.values.includes(status)) yield* api.matching(col.id, { status });
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
    tiled.hide(id);
  }
  labels.update();
  refreshLegend();
  renderFilterPanel();
  writeHash();
}

// viewGeoJSON is the layer's features in the current view as a GeoJSON
// FeatureCollection QGIS opens: fetched from the API, so not only what is
// drawn.
async function viewGeoJSON(id) {
  const features = [];
  setBusy(1);
  try {
    const col = state.layers.get(id).col;
    for await (const page of api.features(id, viewBox(0))) {
      for (const f of page) {
        if (!filters.passes(state.filter, col, f.properties || {})) continue; // the download follows the filter
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
  let doc;
  try {
    doc = await viewGeoJSON(col.id);
  } catch (err) {
    setError(`${t('loadFailed')}: ${pick(col.titles)} (${failure(err)})`);
    return;
  }
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
let lastHits = null;

async function runSearch(q) {
  const out = $('search-results');
  if (searchAbort) searchAbort.abort();
  if (!q.trim()) { out.hidden = true; out.replaceChildren(); lastHits = null; return; }
  searchAbort = new AbortController();
  let hits;
  try {
    hits = await api.search(q, searchAbort.signal);
  } catch (err) {
    if (err.name === 'AbortError') return;
    // Said in the list, where the answer was expected.
    lastHits = null;
    out.replaceChildren(el('li', { class: 'none error', role: 'alert', text: `${t('searchFailed')}: ${failure(err)}` }));
    out.hidden = false;
    return;
  }
  lastHits = hits;
  renderHits();
  out.hidden = false;
}

function renderHits() {
  const out = $('search-results');
  const hits = lastHits || [];
  out.replaceChildren();
  if (!hits.length) out.append(el('li', { class: 'none', text: t('noResults') }));
  for (const f of hits) {
    const col = state.collections.find((c) => c.id === f.collection);
    const name = nameOf(f.properties);
    const btn = el('button', { type: 'button', role: 'option' },
      el('span', { text: name }), el('small', { text: col ? ` ${pick(col.titles)}` : '' }));
    btn.addEventListener('click', () => goTo(f));
    out.append(el('li', {}, btn));
  }
}

// goTo shows a feature found by search: its layer on, the map over it,
// its popup open.
async function goTo(f) {
  $('search-results').hidden = true;
  if (!state.visible.has(f.collection)) {
    state.visible.add(f.collection);
    state.layers.get(f.collection).group.addTo(map);
    renderPanel();
    writeHash();
  }
  const bounds = L.geoJSON(f).getBounds();
  map.flyToBounds(bounds, { maxZoom: 16, padding: [40, 40], duration: 0.6 });
  await new Promise((resolve) => map.once('moveend', resolve));
  await load();
  const entry = state.layers.get(f.collection);
  const layer = entry.byId.get(f.id);
  if (layer) identify.show(entry.col, layer.feature, bounds.getCenter());
}

// ---- the layers: set up at start, and when one is created, dropped or
// redeclared while the map is open ----

// addLayer sets a layer up on the map, not yet shown: its pane, above
// those of a smaller order, and its entry in state.layers; a dense layer
// is drawn on a canvas. The pane of a layer dropped and created again is
// used again.
function addLayer(col) {
  const name = `pm-${col.id}`;
  const pane = map.getPane(name) || map.createPane(name);
  pane.style.zIndex = String(400 + col.order);
  // The mouse goes through, to the map: the shapes take no clicks, and a
  // canvas (a dense layer's) passes the mouse moves over it on to the
  // map at most once in 32 ms, dropping the others, the last one too;
  // an editor's vertex would land where the mouse was before.
  pane.style.pointerEvents = 'none';
  const dense = col.itemCount > denseLayer;
  state.layers.set(col.id, {
    col, group: L.featureGroup(), byId: new Map(), covered: [], hidden: new Set(), dense,
    renderer: dense ? L.canvas({ pane: name, padding: 0.25 }) : null,
  });
}

// findTileZoom finds from which zoom the tiles hold a big layer (the
// server thins).
async function findTileZoom(col) {
  if (col.itemCount <= bigLayer) return;
  try {
    state.layers.get(col.id).tileMinZoom = Number((await api.tileset(col.id)).layers[0].minTileMatrix);
  } catch (_) { /* no tiles: the map asks to zoom in, as before */ }
}

// dropLayer takes a layer off the map, and everything of it: its shapes
// and tiles, its open popup, its rows in the table, a drawing or an edit
// of it (ended unsaved: the layer is gone).
function dropLayer(id) {
  const entry = state.layers.get(id);
  editing.layerDropped(id);
  const sel = identify.selected;
  if (sel && sel.col.id === id) { map.closePopup(); identify.clear(); }
  entry.group.remove();
  if (entry.renderer) entry.renderer.remove();
  tiled.hide(id);
  for (const key of [...table.ticked.keys()]) if (key.startsWith(`${id}/`)) table.ticked.delete(key);
  if (table.layer === id) { table.layer = null; table.col = null; }
  state.visible.delete(id);
  state.layers.delete(id);
  state.all.delete(id);
  state.cells.delete(id);
  state.collections = state.collections.filter((c) => c.id !== id);
}

// declaration is what a layer's declaration says of how it is drawn and
// read, as text to compare: not its counts or extent, which its features
// change.
function declaration(col) {
  return JSON.stringify([col.titles, col.descriptions, col.geometryType, col.order, col.style, col.schema]);
}

// redeclare gives a layer on the map its new declaration (title, style,
// fields, order): the object every module holds is updated in place, and
// its shapes drawn again.
function redeclare(col, now) {
  Object.assign(col, now);
  editing.layerRedeclared(col.id);
  const entry = state.layers.get(col.id);
  map.getPane(`pm-${col.id}`).style.zIndex = String(400 + col.order);
  const restyle = (f) => (f.geometry && f.geometry.type.includes('Point') ? pointStyle : styleOf)(col, f.properties);
  for (const layer of entry.byId.values()) layer.setStyle(restyle);
  tiled.redraw();
}

// syncLayers brings the map's layers up to date with the collections as
// they are now (fresh, from /collections): a layer created since is set
// up as at start and shown, a dropped one taken off, a redeclared one
// takes its new declaration. It returns the ids of the layers added, for
// the caller to load, and what happened, said in the current language
// (layer titles are text).
async function syncLayers(fresh) {
  const now = new Map(fresh.map((c) => [c.id, c]));
  const dropped = state.collections.filter((c) => !now.has(c.id));
  for (const col of dropped) dropLayer(col.id);
  const added = [];
  const redeclared = [];
  for (const col of fresh) {
    const known = state.collections.find((c) => c.id === col.id);
    if (!known) {
      addLayer(col);
      state.collections.push(col);
      added.push(col);
    } else if (declaration(known) !== declaration(col)) {
      redeclare(known, col);
      redeclared.push(known);
    }
  }
  const said = [];
  if (!added.length && !dropped.length && !redeclared.length) return { added: new Set(), said };
  await Promise.all(added.map(findTileZoom));
  for (const col of added) {
    state.visible.add(col.id);
    state.layers.get(col.id).group.addTo(map);
  }
  state.collections.sort((a, b) => a.order - b.order);
  renderPanel();
  editing.renderPanel();
  editing.layersAdded(added.map((c) => c.id));
  if (table.open) table.render();
  // An open popup names the layer, and its fields.
  if (redeclared.length) identify.refreshOpen();
  writeHash();
  const titles = (cols) => cols.map((c) => pick(c.titles)).join(', ');
  if (added.length) said.push(`${t('layerAdded')}: ${titles(added)}`);
  if (dropped.length) said.push(`${t('layerDropped')}: ${titles(dropped)}`);
  if (redeclared.length) said.push(`${t('layerRedeclared')}: ${titles(redeclared)}`);
  return { added: new Set(added.map((c) => c.id)), said };
}

// ---- start ----

async function start() {
  const h = readHash();
  setLang(h.lang || defaultLang());
  state.filter = h.filter;
  applyLang();

  state.collections = (await api.collections()).sort((a, b) => a.order - b.order);
  for (const col of state.collections) addLayer(col);
  await Promise.all(state.collections.map(findTileZoom));
  const known = new Set(state.collections.map((c) => c.id));
  const wanted = h.layers ? h.layers.filter((id) => known.has(id)) : [...known];
  const unknown = h.layers ? h.layers.filter((id) => !known.has(id)) : [];
  for (const id of wanted) {
    state.visible.add(id);
    state.layers.get(id).group.addTo(map);
  }
  renderPanel();

  if (h.view) {
    map.setView(h.view.center, h.view.zoom);
  } else {
    fitDistrict();
  }
  map.on('moveend', () => {
    writeHash();
    load();
    // The table of a layer too big to fetch whole lists the view.
    if (table.open && table.col && tooBig(table.col)) table.render();
  });
  writeHash();
  // A link pasted into this tab moves the map, as one opened anew would.
  window.addEventListener('hashchange', applyHash);
  await load();
  renderFilterPanel();
  $('filter-downloads').hidden = !filters.isActive(state.filter);
  // Said after the first load, which clears the status line.
  if (unknown.length) {
    state.linkError = `${t('unknownLayer')}: ${unknown.join(', ')}`;
    showStatus();
  }
  document.body.dataset.ready = '1';
  live.start();
  await editing.start();
  document.body.dataset.editReady = '1';
}

// applyHash follows the view, layers and language of the URL.
function applyHash() {
  const h = readHash();
  if (h.lang && h.lang !== lang()) {
    setLang(h.lang);
    applyLang();
    renderPanel();
  }
  if (h.layers) {
    const wanted = new Set(h.layers);
    for (const col of state.collections) {
      const entry = state.layers.get(col.id);
      if (wanted.has(col.id) && !state.visible.has(col.id)) { state.visible.add(col.id); entry.group.addTo(map); }
      if (!wanted.has(col.id) && state.visible.has(col.id)) { state.visible.delete(col.id); entry.group.remove(); tiled.hide(col.id); }
    }
    renderPanel();
    labels.update();
  }
  const f = h.filter;
  const same = (a, b) => a.size === b.size && [...a].every((x) => b.has(x));
  if (!same(f.status, state.filter.status) || !same(f.class, state.filter.class)) {
    state.filter.status = f.status;
    state.filter.class = f.class;
    applyFilter();
  }
  if (h.view) {
    const c = map.getCenter();
    if (h.view.zoom !== map.getZoom() || Math.abs(c.lat - h.view.center[0]) > 1e-5 || Math.abs(c.lng - h.view.center[1]) > 1e-5) {
      map.setView(h.view.center, h.view.zoom);
    }
  }
  load();
}

// applyLang puts every label of the page in the current language.
function applyLang() {
  translate();
  $('lang').textContent = lang() === 'zh' ? 'English' : '中文';
  $('lang').setAttribute('lang', lang() === 'zh' ? 'en' : 'zh-Hans');
  setAttribution();
  relabel(map);
  labels.update();
  if (lastHits) renderHits();
  if (table.open) table.render();
  editing.relabel();
  showStatus();
}

// ---- controls ----

const identify = new Identify(map, state, (col, f) => { table.select(col, f); statsPanel.selected(); });
identify.tiled = tiled;

// Editing: for editors who sign in; everyone sees a feature's history.
const editing = new Editing({
  map, state, identify, tiled,
  viewBox,
  snapNotice: (text) => { state.snapNotice = text; showStatus(); },
  put: (id, f) => { const entry = state.layers.get(id); if (entry) putFeature(entry, f); },
  drop: (id, fid) => { const entry = state.layers.get(id); if (entry) dropFeature(entry, fid); },
  show: (id) => { if (!state.visible.has(id)) { setVisible(id, true); renderPanel(); } },
});
identify.decorate = (col, f) => editing.decorate(col, f);

const table = new Table({
  state,
  features: tableFeatures,
  passes: (col, props) => filters.passes(state.filter, col, props),
  onPick: pickFeature,
});

// pickFeature shows a feature chosen in the table: its layer on, the map
// over it, highlighted, its details open.
function pickFeature(col, f) {
  if (!state.visible.has(col.id)) setVisible(col.id, true);
  const bounds = L.geoJSON(f).getBounds();
  map.fitBounds(bounds, { maxZoom: 16, padding: [40, 40], animate: false });
  identify.show(col, f, bounds.getCenter());
}

$('table-toggle').addEventListener('click', () => {
  const open = $('table-panel').hidden;
  $('table-panel').hidden = !open;
  $('table-toggle').setAttribute('aria-expanded', String(open));
  map.invalidateSize();
  if (open) table.render().then(() => $('table-q').focus());
});
$('table-close').addEventListener('click', () => {
  $('table-panel').hidden = true;
  $('table-toggle').setAttribute('aria-expanded', 'false');
  map.invalidateSize();
  $('table-toggle').focus();
});
$('export-filtered').addEventListener('click', exportFiltered);

// While measuring, a click on the map is a point of the measurement,
// never a popup.
const measure = new Measure(map, $('measure-result'), (mode) => {
  identify.enabled = mode === null;
  $('measure-distance').setAttribute('aria-pressed', String(mode === 'distance'));
  $('measure-area').setAttribute('aria-pressed', String(mode === 'area'));
  $('measure-distance').textContent = mode === 'distance' ? t('measureFinish') : t('measureDistance');
  $('measure-area').textContent = mode === 'area' ? t('measureFinish') : t('measureArea');
});
$('measure-distance').addEventListener('click', () => (measure.mode === 'distance' ? measure.finish() : measure.start('distance')));
$('measure-area').addEventListener('click', () => (measure.mode === 'area' ? measure.finish() : measure.start('area')));

// The statistics follow what the legend follows (layers, filter, loads).
const statsPanel = new StatsPanel({
  map, state, box: $('stats'), features: countable,
  passes: (col, props) => filters.passes(state.filter, col, props),
  selection: () => (table.ticked.size ? [...table.ticked.values()] : identify.selected ? [identify.selected] : []),
  busy: setPending,
});

const printLayout = new PrintLayout(map, { legend: (box) => drawLegend(box, state.drawn, lastPlain) });

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
  applyLang();
  map.closePopup();
  measure.stop();
  renderPanel();
  renderFilterPanel();
  printLayout.refresh();
  statsPanel.relabel();
  statsPanel.update();
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
  setError(`${t('loadFailed')}: ${failure(err)}`);
  console.error('planmap: start', err);
});

// For tests and the curious: the map and its state.
window.planmap = { map, state, viewGeoJSON, identify, measure, labels, table, statsPanel, live, editing, limits: { denseLayer, maxShapes, bigLayer } };
