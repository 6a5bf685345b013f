// Dense layers drawn from the server's vector tiles (OGC API – Tiles,
// MVT) on a canvas, by protomaps-leaflet: at the zooms where their
// features are too many to load as GeoJSON. Same colours, status and
// confidence styling as the GeoJSON layers (style.js); a click finds the
// tiled features under it by id, and the popup fetches each whole.

import { config } from './config.js';
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
  const symbols = new Map();
  const sym = (f) => {
    const p = f.props || {};
    const key = `${p.landuse_gb50137}|${p.status}|${p.position_confidence}`;
    let s = symbols.get(key);
    if (!s) symbols.set(key, (s = symbolOf(col, p)));
    return s;
  };
  const filter = (z, f) => passes(col, f.props || {});
  if (col.geometryType.includes('Line')) {
    return [{ dataLayer: col.id, filter, symbolizer: new P.LineSymbolizer({ color: (z, f) => sym(f).color, width: (z, f) => sym(f).weight, opacity: (z, f) => sym(f).opacity }) }];
  }
  if (col.geometryType.includes('Point')) {
    return [{ dataLayer: col.id, filter, symbolizer: new P.CircleSymbolizer({ radius: 4, fill: (z, f) => sym(f).fillColor, stroke: (z, f) => sym(f).color, width: 1 }) }];
  }
  return [
    { dataLayer: col.id, filter, symbolizer: new P.PolygonSymbolizer({ fill: (z, f) => sym(f).fillColor, opacity: (z, f) => sym(f).fillOpacity }) },
    { dataLayer: col.id, filter, symbolizer: new P.LineSymbolizer({ color: (z, f) => sym(f).color, width: (z, f) => Math.min(1, sym(f).weight), opacity: 0.8 }) },
  ];
}

// Tiled holds the tiled layers of a map, one per collection shown so;
// passes(col, props) says whether the map's filter shows a feature.
export class Tiled {
  constructor(map, passes) {
    this.map = map;
    this.passes = passes;
    this.layers = new Map(); // collection id → {col, layer}
  }

  // show draws col from tiles, in its pane.
  show(col) {
    if (this.layers.has(col.id) || !P) return;
    const layer = P.leafletLayer({
      url: tileURL(col), paintRules: paintRules(col, this.passes), labelRules: [],
      // A tile of the map's own zoom, 256 pixels: the server thins by zoom.
      levelDiff: 0, maxDataZoom: 22, pane: `pm-${col.id}`,
      // Our own data: not the Protomaps basemap it would otherwise credit.
      attribution: '',
    });
    layer.addTo(this.map);
    this.layers.set(col.id, { col, layer });
  }

  hide(id) {
    const t = this.layers.get(id);
    if (!t) return;
    t.layer.remove();
    this.layers.delete(id);
  }

  has(id) {
    return this.layers.has(id);
  }

  // at lists the tiled features under latlng: [{col, id}].
  at(latlng) {
    const out = [];
    for (const { col, layer } of this.layers.values()) {
      for (const hits of layer.queryTileFeaturesDebug(latlng.lng, latlng.lat, 4).values()) {
        for (const h of hits) {
          if (h.layerName === col.id && h.feature.id !== undefined && this.passes(col, h.feature.props || {})) {
            out.push({ col, id: h.feature.id });
          }
        }
      }
    }
    return out;
  }

  // redraw draws the tiles again, as the filter now says.
  redraw() {
    for (const { layer } of this.layers.values()) layer.rerenderTiles();
  }
}
