// How features are drawn. The colours and rules come from the server
// (layers.Classes and layers.Layer.Symbol in layers/style.go), which also
// styles the QGIS and KML downloads, so the three look alike.

import { config } from './config.js';

export const classes = config.classes;
const byCode = new Map(classes.map((c) => [c.code, c]));

// classOf returns the major GB 50137 class of a feature ("R2" → R), or null.
export function classOf(props) {
  const code = String((props && props.landuse_gb50137) || '').trim().toUpperCase();
  return byCode.get(code[0]) || null;
}

const dashes = { high: null, medium: '8 4', low: '2 4' };

// styleOf is Layer.Symbol: a feature's class colour (the stroke of a
// line, the fill of an area) over its layer's style; an area shows its
// position confidence in its outline, a line keeps its own dash.
export function styleOf(col, props) {
  const s = col.style || {};
  const cls = classOf(props);
  const line = col.geometryType.includes('Line');
  return {
    color: line && cls ? cls.color : s.color || '#333333',
    weight: s.weight ?? (line ? 3 : 1),
    opacity: s.opacity ?? 1,
    fillColor: cls && !line ? cls.color : s.fillColor || s.color || '#999999',
    fillOpacity: s.fillOpacity ?? 0.6,
    dashArray: s.dashArray || (line ? null : dashes[props.position_confidence]) || null,
  };
}
