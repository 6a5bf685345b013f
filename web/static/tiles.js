// Dense layers drawn from the server's vector tiles (OGC API – Tiles,
// MVT) on a canvas, by protomaps-leaflet: at the zooms where their
// features are too many to load as GeoJSON. Same colours, status and
// confidence styling as the GeoJSON layers (style.js); a click finds the
// tiled features under it by id, and the popup fetches each whole.

import { config } from './config.js';
import { TileSource } from './mvt.js';
import { symbolOf } from './style.js';

// The protomaps-leaflet bundle (web/static/vendor) defines this global.
const P = window.protomapsL;

function tileURL(col) {
  return `${location.origin}${config.base}/collections/${encodeURIComponent(col.id)}/tiles/WebMercatorQuad/{z}/{y}/{x}`;
}

// paintRules draw col's features that pass the filter as symbolOf styles
// them. A canvas cannot hatch or dash per feature here: status shows in
// the fill's opacity.
function paintRules(col, passes) {
  // symbolOf depends on these three properties only: one symbol per
  // combination, not per feature and paint call (a tile holds thousands).
  // A symbol's rank is the order of its making: every tile draws its
  // symbols in that order, so that where two meet at a tile's edge the
  // same one lies on top on both sides.
  const symbols = new Map();
  const sym = (f) => {
    const p = f.props || {};
    const key = `${p.landuse_gb50137}|${p.status}|${p.position_confidence}`;
    let s = symbols.get(key);
    if (!s) {
      s = symbolOf(col, p);
      s.fill = withAlpha(s.fillColor, s.fillOpacity);
      s.edge = withAlpha(s.color, outlineOpacity);
      s.lowEdge = withAlpha(s.fillColor, outlineOpacity);
      s.rank = symbols.size;
      symbols.set(key, s);
    }
    return s;
  };
  const filter = (z, f) => passes(col, f.props || {});
  // Features are drawn by symbol: the paths of a tile's features of one
  // symbol make one path, filled once and stroked once. (A fill and a
  // stroke a feature were most of the drawing of a dense tile.) A second
  // rule draws what the first gathered, once it has been through the
  // tile's features: protomaps-leaflet calls a symbolizer's before() for
  // each tile and rule, but nothing after. Its own symbolizers could not
  // draw these features anyway: their geometries are mvt.js's Shapes.
  const batched = new Batched(sym);
  return [
    { dataLayer: col.id, filter, symbolizer: batched },
    { dataLayer: col.id, filter: () => false, symbolizer: { before: (ctx) => batched.flush(ctx), draw() {} } },
  ];
}

// The geometry types of an MVT feature; one of another type is drawn and
// found as an area.
const pointType = 1;
const lineType = 2;
const areaType = 3;

function typeOf(f) {
  return f.geomType === pointType || f.geomType === lineType ? f.geomType : areaType;
}

// pointRadius is the radius of a tiled point's fill, in pixels; its
// outline, a pixel wide, lies around it.
const pointRadius = 4;

// Batched gathers a tile's features by symbol (sym's, with fill, the
// fill's colour at its opacity, lowEdge and edge, the outline's colours,
// and rank) and by geometry type, and draws each gathering with one fill
// and one stroke: an area filled and outlined, a line stroked, a point a
// circle filled and ringed. Areas of one symbol that overlap are filled
// once, not once each. Symbols are drawn by rank, each symbol's areas,
// then lines, then points. The painter hands draw a feature's geom
// untransformed, as a tiled layer is drawn at its tiles' own zoom
// (levelDiff 0, and a maxDataZoom past every zoom the map tiles at).
class Batched {
  constructor(sym) {
    this.sym = sym;
    // One entry a tile drawn: {ctx, z, matrix, paths}, paths a Map of
    // symbol to a Map of geometry type to {path, ring} (Path2Ds; ring, a
    // point's outline, for points only).
    this.tiles = [];
  }

  before(ctx, z) {
    this.tiles.push({ ctx, z, matrix: null, paths: new Map() });
  }

  draw(ctx, geom, z, f) {
    const t = this.tiles[this.tiles.length - 1];
    // The painter has moved the canvas to the tile's place by now, and
    // puts it back before the rule that flushes.
    if (!t.matrix) t.matrix = ctx.getTransform();
    const s = this.sym(f);
    const type = typeOf(f);
    let byType = t.paths.get(s);
    if (!byType) {
      byType = new Map();
      t.paths.set(s, byType);
    }
    let g = byType.get(type);
    if (!g) {
      g = { path: new Path2D(), ring: type === pointType ? new Path2D() : null };
      byType.set(type, g);
    }
    if (type === pointType) {
      geom.points((x, y) => {
        g.path.moveTo(x + pointRadius, y);
        g.path.arc(x, y, pointRadius, 0, 2 * Math.PI);
        g.ring.moveTo(x + pointRadius + 0.5, y);
        g.ring.arc(x, y, pointRadius + 0.5, 0, 2 * Math.PI);
      });
    } else {
      geom.trace(g.path);
    }
  }

  // flush draws what was gathered for ctx. A painting that threw half-way
  // leaves its gatherings behind: they are let go, not drawn.
  flush(ctx) {
    const tiles = this.tiles;
    this.tiles = [];
    for (const t of tiles) {
      if (t.ctx !== ctx || !t.matrix) continue;
      ctx.save();
      ctx.setTransform(t.matrix);
      for (const [s, byType] of [...t.paths].sort((a, b) => a[0].rank - b[0].rank)) {
        for (const type of [areaType, lineType, pointType]) {
          const g = byType.get(type);
          if (!g) continue;
          if (type === lineType) {
            ctx.globalAlpha = s.opacity;
            ctx.strokeStyle = s.color;
            ctx.lineWidth = s.weight;
            ctx.stroke(g.path);
            continue;
          }
          ctx.globalAlpha = 1;
          if (type === pointType) {
            ctx.fillStyle = s.fillColor;
            ctx.fill(g.path);
            ctx.strokeStyle = s.color;
            ctx.lineWidth = 1;
            ctx.stroke(g.ring);
            continue;
          }
          ctx.fillStyle = s.fill;
          ctx.fill(g.path);
          const w = Math.min(1, s.weight);
          if (w > 0) {
            // Below z14 a parcel is a few pixels wide and its 1-pixel
            // outline is most of what shows: drawn in the land-use colour
            // there, so that the class reads (a planned parcel's fill
            // alone is too faint).
            ctx.strokeStyle = t.z < 14 ? s.lowEdge : s.edge;
            ctx.lineWidth = w;
            ctx.stroke(g.path);
          }
        }
      }
      ctx.restore();
    }
  }
}

// outlineOpacity is the opacity of a tiled polygon's outline.
const outlineOpacity = 0.8;

// withAlpha returns CSS colour c at opacity a, as rgba(), normalised by a
// canvas (to #rrggbb, or rgba() when it has an alpha of its own, which a
// multiplies). Layers and classes declare #rrggbb colours only (the
// server checks); a colour the canvas cannot read is black, as
// protomaps-leaflet's default, and one it writes another way (oklch())
// keeps its own opacity.
const colourCanvas = document.createElement('canvas').getContext('2d');
function withAlpha(c, a) {
  colourCanvas.fillStyle = '#000000';
  colourCanvas.fillStyle = c;
  const n = colourCanvas.fillStyle;
  let m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(n);
  if (m) return `rgba(${parseInt(m[1], 16)}, ${parseInt(m[2], 16)}, ${parseInt(m[3], 16)}, ${a})`;
  m = /^rgba\((\d+), (\d+), (\d+), ([\d.]+)\)$/.exec(n);
  if (m) return `rgba(${m[1]}, ${m[2]}, ${m[3]}, ${Number(m[4]) * a})`;
  return n;
}

// tileBuffer is how far beyond its edges a tile holds features, as a
// share of its side: the server keeps 64 of 4,096 units (web/tiles), and
// this is a little more, to be sure.
const tileBuffer = 1 / 32;

// worldXY is where a longitude and latitude lie on the Web Mercator
// world, from 0 to 1 across and down.
function worldXY(lon, lat) {
  const s = Math.sin((Math.max(-85.0511, Math.min(85.0511, lat)) * Math.PI) / 180);
  return [(lon + 180) / 360, 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)];
}

// meets reports whether tile x, y, z holds (with its buffer) some of a box
// [west, south, east, north].
function meets(box, x, y, z) {
  const n = 2 ** z;
  const [x0, y1] = worldXY(box[0], box[1]);
  const [x1, y0] = worldXY(box[2], box[3]);
  return x0 * n < x + 1 + tileBuffer && x1 * n > x - tileBuffer && y0 * n < y + 1 + tileBuffer && y1 * n > y - tileBuffer;
}

// coordsOf reads a tile key of protomaps-leaflet and Leaflet, "x:y:z".
function coordsOf(key) {
  const [x, y, z] = key.split(':').map(Number);
  return { x, y, z };
}

// Tiled holds the tiled layers of a map, one per collection shown so;
// passes(col, props) says whether the map's filter shows a feature.
export class Tiled {
  // onLoad is called when the tiles in view have been drawn.
  constructor(map, passes, onLoad = () => {}) {
    this.map = map;
    this.passes = passes;
    this.onLoad = onLoad;
    this.layers = new Map(); // collection id → {col, layer}
    this.watchers = new Set(); // called when the layers drawn from tiles, their features or the filter change
  }

  changed() {
    for (const f of this.watchers) f();
  }

  // show draws col from tiles, in its pane.
  show(col) {
    if (this.layers.has(col.id) || !P) return;
    const url = tileURL(col);
    const layer = P.leafletLayer({
      url, paintRules: paintRules(col, this.passes), labelRules: [],
      // A tile of the map's own zoom, 256 pixels: the server thins by zoom.
      levelDiff: 0, maxDataZoom: 22, pane: `pm-${col.id}`,
      // Our own data: not the Protomaps basemap it would otherwise credit.
      attribution: '',
    });
    // The tiles are read by our own reader (mvt.js), which reads each
    // feature once; the source protomaps-leaflet made from url is never
    // asked.
    for (const view of layer.views.values()) view.tileCache.source = new TileSource(url);
    layer.on('load', () => this.onLoad());
    layer.addTo(this.map);
    this.layers.set(col.id, { col, layer });
    this.changed();
  }

  hide(id) {
    const t = this.layers.get(id);
    if (!t) return;
    t.layer.remove();
    this.layers.delete(id);
    this.changed();
  }

  has(id) {
    return this.layers.has(id);
  }

  // at lists the tiled features under latlng: [{col, id}]: the areas it
  // lies in, and the lines and points within a few pixels of it, of the
  // tiles of the map's zoom that are in.
  at(latlng) {
    const out = [];
    const z = Math.round(this.map.getZoom());
    const [wx, wy] = worldXY(latlng.lng, latlng.lat);
    const n = 2 ** z;
    const x = Math.floor(wx * n);
    const y = Math.floor(wy * n);
    for (const { col, layer } of this.layers.values()) {
      for (const view of layer.views.values()) {
        const cache = view.tileCache;
        const c = cache.cache.get(`${x}:${y}:${z}`);
        const fs = c && c.data.get(col.id);
        if (!fs) continue;
        // The place in the tile's pixels, and how near a line or point
        // must be: 4 screen pixels (a tile of zoom z is drawn larger or
        // smaller at the half zooms between).
        const px = (wx * n - x) * cache.tileSize;
        const py = (wy * n - y) * cache.tileSize;
        const near = (4 * cache.tileSize) / 256 / 2 ** (this.map.getZoom() - z);
        for (const f of fs) {
          const b = f.bbox;
          if (px < b.minX - near || px > b.maxX + near || py < b.minY - near || py > b.maxY + near) continue;
          const hit = typeOf(f) === areaType ? f.geom.contains(px, py) : f.geom.distance(px, py) < near;
          if (hit && f.id !== undefined && this.passes(col, f.props || {})) out.push({ col, id: f.id });
        }
      }
    }
    return out;
  }

  // refresh makes a tiled layer show what changed in it: the tiles that
  // held a changed feature (ids) or hold one now (boxes, [west, south,
  // east, north] of where the changed features are now), or all of them
  // (whole), are dropped from protomaps-leaflet's own cache, fetched again
  // and drawn again. The server sends tiles with Cache-Control: no-cache
  // and an ETag, so the browser asks it again (a 304 when a tile did not
  // change) and never draws a stale copy from its HTTP cache. It resolves
  // once the new tiles on the map are in, with the number of tiles let go.
  // With levelDiff 0 (show), a tile on the map and the data drawn on it
  // have the same key, "x:y:z".
  async refresh(id, { ids = [], boxes = [], whole = false } = {}) {
    const t = this.layers.get(id);
    if (!t) return 0;
    const { layer } = t;
    const changed = new Set(ids.map(String));
    const stale = new Set(); // tile keys
    const holds = (data) => {
      for (const fs of data.values()) for (const f of fs) if (changed.has(String(f.id))) return true;
      return false;
    };
    for (const view of layer.views.values()) {
      const cache = view.tileCache;
      // A tile on its way may have left the server before the change:
      // wait for it, and judge it with the others.
      await Promise.allSettled([...cache.inflight.keys()].map((k) => cache.get(coordsOf(k))));
      for (const [k, c] of cache.cache) {
        const { x, y, z } = coordsOf(k);
        if (whole || boxes.some((b) => meets(b, x, y, z)) || holds(c.data)) {
          cache.cache.delete(k);
          stale.add(k);
        }
      }
    }
    // A tile on the map whose data the cache had already let go is drawn
    // again too, when the changes lie in it now.
    for (const k of Object.keys(layer._tiles)) {
      const { x, y, z } = coordsOf(k);
      if (whole || boxes.some((b) => meets(b, x, y, z))) stale.add(k);
    }
    if (!this.layers.has(id)) return 0; // hidden meanwhile
    for (const k of stale) if (layer._tiles[k]) layer.rerenderTile(k);
    // The drawing above asks for the tiles; waiting for the same tiles
    // joins those requests. The others, not on the map, are fetched when
    // the map shows them.
    const shown = [...stale].filter((k) => layer._tiles[k]);
    for (const view of layer.views.values()) {
      await Promise.allSettled(shown.map((k) => view.tileCache.get(coordsOf(k))));
    }
    this.changed(); // what snaps to the layer's features is read again too
    return stale.size;
  }

  // props lists the properties of the features of layer id in the tiles
  // on the map now: what it draws, for the legend.
  props(id) {
    const t = this.layers.get(id);
    const out = [];
    if (!t) return out;
    for (const view of t.layer.views.values()) {
      for (const k of Object.keys(t.layer._tiles)) {
        const c = view.tileCache.cache.get(k);
        const fs = c && c.data.get(id);
        if (fs) for (const f of fs) out.push(f.props || {});
      }
    }
    return out;
  }

  // redraw draws the tiles again, as the filter and the layers'
  // declarations now say: with new paint rules, whose symbols are made
  // anew from the declaration.
  redraw() {
    for (const { col, layer } of this.layers.values()) {
      layer.paintRules = paintRules(col, this.passes);
      layer.rerenderTiles();
    }
    this.changed();
  }
}
