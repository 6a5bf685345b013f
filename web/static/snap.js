// Snapping, while an editor draws or edits, to the features the map
// shows. Leaflet-Geoman snaps to the Leaflet layers on the map, and picks
// the layer to snap to among all within 5 pixels of the nearest by their
// order, not their distance: among thousands of parcels a few pixels wide
// that drifts to a corner farther than the nearest, or far from the
// pointer. So no shape the map shows is snapped to (each says
// snapIgnore): while editing is on, one shape that draws nothing and
// takes no clicks holds every area shown, one every line, and Geoman's
// choice within one layer is the nearest edge, and that edge's vertex
// when near.
//
// The features of layers drawn as GeoJSON are copied from the map, as it
// shows them (filter, layers on and off, live edits). Those of layers
// drawn from vector tiles are pixels on a canvas, their shapes rounded to
// the tile's grid: they are read from the items API, exact, for the view,
// again when it moves. A view holding more of those than snapMost snaps
// to none of them: the status line asks to zoom in. Nothing is fetched,
// and nothing copied, when no one edits.

import * as api from './api.js';
import { failure, pick, t } from './i18n.js';

// snapMost is how many features of tiled layers a view may hold for them
// to be snappable. Geoman measures the pointer's distance to every
// snappable edge on each move: a few thousand parcels keep that quick,
// and their GeoJSON a few MB at most.
export const snapMost = 3000;

// The view, a little larger, is what is read: a vertex dragged just past
// the edge still snaps.
const snapPad = 0.1;

// Snaps keeps the snappable copies of the features shown.
// opts: map; layers, the map's layers drawn as GeoJSON (id → {col, group},
// a group's layers each a feature's L.geoJSON, with .feature); tiled
// (tiles.js); viewBox(pad), the view as the API's bbox; say(text) to put
// a notice in the status line ('' clears it).
export class Snaps {
  constructor(opts) {
    Object.assign(this, opts);
    this.active = false;
    this.skip = null; // {col, fid}: the feature being edited, whose old copy is not snapped to
    this.tiledFeatures = new Map(); // "col/fid" → {id, f}: what was read of the tiled layers in view
    this.shapes = new Set(); // "col/fid" of the features snappable now
    this.group = null;
    this.renderer = null;
    this.tooMany = []; // the collections too many in view to snap to
    this.failed = [];
    this.run = 0; // the newest refresh: an older one's answer is dropped
    // A move, a tiled layer shown or hidden, a filter: read again, once
    // for all that happens in one task.
    this.onMove = () => {
      if (this.due) return;
      this.due = true;
      setTimeout(() => { this.due = false; this.refresh(); }, 0);
    };
    // A shape shown or hidden: a feature loaded, released, filtered,
    // changed by someone, a layer turned on or off. The copies are made
    // again, once for all that happens in one task: a page of a thousand
    // features is one copy.
    this.onShown = (e) => {
      if (this.copyDue || !e.layer.options || e.layer.options.snapIgnore !== true) return;
      this.copyDue = true;
      setTimeout(() => { this.copyDue = false; this.copy(); }, 0);
    };
  }

  // start makes the features around the view snappable, but for skip
  // ({col, fid}) when one feature is edited.
  start(skip = null) {
    this.skip = skip;
    if (!this.active) {
      this.active = true;
      // Shapes with neither stroke nor fill: a canvas draws nothing of
      // them, where SVG would make an element of each.
      // Its own pane, which lets the mouse through: a canvas renderer
      // passes the mouse moves over it on to the map (and Geoman) at most
      // once in 32 ms, and drops the others, the last one too.
      if (!this.map.getPane('pm-snap')) this.map.createPane('pm-snap').style.pointerEvents = 'none';
      this.renderer = L.canvas({ padding: 0, pane: 'pm-snap' });
      this.group = L.layerGroup([], { pmIgnore: true, snapIgnore: false }).addTo(this.map);
      this.map.on('moveend', this.onMove);
      this.map.on('layeradd layerremove', this.onShown);
      this.tiled.watchers.add(this.onMove);
    }
    this.copy();
    this.refresh();
  }

  // stop lets go of every copy and stops reading.
  stop() {
    if (!this.active) return;
    this.active = false;
    this.run++;
    if (this.abort) this.abort.abort();
    this.map.off('moveend', this.onMove);
    this.map.off('layeradd layerremove', this.onShown);
    this.tiled.watchers.delete(this.onMove);
    this.group.remove();
    this.group = null;
    this.renderer.remove();
    this.renderer = null;
    this.tiledFeatures.clear();
    this.shapes.clear();
    this.tooMany = [];
    this.failed = [];
    this.skip = null;
    delete document.body.dataset.snap;
    this.say('');
  }

  get count() {
    return this.shapes.size;
  }

  // skipped reports whether feature fid of layer id is the one edited.
  skipped(id, fid) {
    return !!this.skip && this.skip.col === id && String(this.skip.fid) === String(fid);
  }

  // refresh reads the features of the tiled layers in view, the layers'
  // counts first: none is read when the view holds more than snapMost.
  async refresh() {
    if (!this.active) return;
    const run = ++this.run;
    if (this.abort) this.abort.abort();
    const abort = new AbortController();
    this.abort = abort;
    const box = this.viewBox(snapPad);
    const cols = [...this.tiled.layers.values()].map((l) => l.col);
    document.body.dataset.snap = 'loading';
    const got = new Map(); // "col/fid" → {id, f}
    const tooMany = [];
    const failed = [];
    let budget = snapMost;
    try {
      const counts = await Promise.all(cols.map((col) => api.page(col.id, box, 1, {}, abort.signal)));
      for (const [i, col] of cols.entries()) {
        const n = counts[i].matched ?? Infinity;
        if (n > budget) {
          tooMany.push(col);
          continue;
        }
        budget -= n;
        if (n === 0) continue;
        try {
          const { features } = await api.page(col.id, box, Math.max(1, n), {}, abort.signal);
          for (const f of features) {
            if (!f.geometry) continue;
            // What the filter hides on the map is not snapped to either.
            if (!this.tiled.passes(col, f.properties || {})) continue;
            got.set(`${col.id}/${f.id}`, { id: col.id, f });
          }
        } catch (err) {
          if (abort.signal.aborted) return;
          failed.push(`${pick(col.titles)} (${failure(err)})`);
        }
      }
    } catch (err) {
      if (abort.signal.aborted || run !== this.run) return;
      failed.push(failure(err));
    }
    if (run !== this.run || !this.active) return;
    this.tiledFeatures = got;
    this.tooMany = tooMany;
    this.failed = failed;
    this.copy();
    document.body.dataset.snap = tooMany.length ? 'zoom-in' : failed.length ? 'failed' : 'ready';
    this.relabel();
  }

  // copy makes the snappable shapes again: one of every area, one of
  // every line, from the features of the tiled layers last read and
  // those the map shows as GeoJSON now, but the feature being edited.
  copy() {
    if (!this.active) return;
    const features = new Map(); // "col/fid" → geometry
    for (const [key, { id, f }] of this.tiledFeatures) {
      if (!this.skipped(id, f.id)) features.set(key, f.geometry);
    }
    for (const [id, entry] of this.layers) {
      if (!this.map.hasLayer(entry.group)) continue;
      for (const layer of entry.group.getLayers()) {
        const f = layer.feature;
        if (f && f.geometry && !this.skipped(id, f.id)) features.set(`${id}/${f.id}`, f.geometry);
      }
    }
    const areas = [];
    const lines = [];
    const points = [];
    for (const { type, coordinates: c } of features.values()) {
      if (type === 'Polygon') areas.push(L.GeoJSON.coordsToLatLngs(c, 1));
      else if (type === 'MultiPolygon') areas.push(...L.GeoJSON.coordsToLatLngs(c, 2));
      else if (type === 'LineString') lines.push(L.GeoJSON.coordsToLatLngs(c, 0));
      else if (type === 'MultiLineString') lines.push(...L.GeoJSON.coordsToLatLngs(c, 1));
      else if (type === 'Point') points.push(L.GeoJSON.coordsToLatLng(c));
      else if (type === 'MultiPoint') points.push(...L.GeoJSON.coordsToLatLngs(c, 0));
    }
    const options = { pmIgnore: true, snapIgnore: false, interactive: false, stroke: false, fill: false, renderer: this.renderer };
    this.group.clearLayers();
    if (areas.length) this.group.addLayer(L.polygon(areas, options));
    if (lines.length) this.group.addLayer(L.polyline(lines, options));
    for (const ll of points) this.group.addLayer(L.circleMarker(ll, { ...options, radius: 1 }));
    this.shapes = new Set(features.keys());
  }

  // relabel says in the status line, in the current language, what does
  // not snap and why.
  relabel() {
    if (!this.active) return;
    const parts = [];
    if (this.tooMany.length) parts.push(`${t('snapZoomIn')}: ${this.tooMany.map((c) => pick(c.titles)).join(', ')}`);
    if (this.failed.length) parts.push(`${t('snapFailed')}: ${this.failed.join('; ')}`);
    this.say(parts.join(' · '));
  }
}
