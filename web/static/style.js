// How features are drawn. The colours and rules come from the server
// (layers.Classes, layers.Statuses, layers.ConfidenceDash and
// layers.Layer.Symbol in layers/style.go), which also styles the QGIS and
// KML downloads, so the three look alike. styleOf is Layer.Symbol followed
// by Layer.WithStatus.

import { config } from './config.js';

export const classes = config.classes;
export const statuses = config.statuses || [];
export const dashes = config.dashes || {};
const byCode = new Map(classes.map((c) => [c.code, c]));

// classOf returns the major GB 50137 class of a feature ("R2" → R), or null.
export function classOf(props) {
  const code = String((props && props.landuse_gb50137) || '').trim().toUpperCase();
  return byCode.get(code[0]) || null;
}

// shadeOf returns the class or subclass a feature is coloured by: the
// subclass when its class lists it ("R21" → R2), else the major class.
export function shadeOf(props) {
  const c = classOf(props);
  if (!c) return null;
  const code = String(props.landuse_gb50137).trim().toUpperCase();
  return (c.subclasses || []).find((s) => code.startsWith(s.code)) || c;
}

export function kindOf(col) {
  if (col.geometryType.includes('Line')) return 'line';
  if (col.geometryType.includes('Point')) return 'point';
  return 'area';
}

// hatchDefs holds the stripe patterns of hatched fills, one per colour.
let hatchDefs = null;

// hatch returns the fill that draws stripes of a colour: an SVG pattern,
// made the first time the colour is needed.
export function hatch(colour) {
  const id = `pm-hatch-${colour.replace('#', '').toLowerCase()}`;
  if (!hatchDefs) {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('class', 'pm-defs');
    svg.setAttribute('width', '0');
    svg.setAttribute('height', '0');
    svg.style.position = 'absolute';
    hatchDefs = document.createElementNS(ns, 'defs');
    svg.append(hatchDefs);
    document.body.append(svg);
  }
  if (!document.getElementById(id)) {
    const ns = 'http://www.w3.org/2000/svg';
    const p = document.createElementNS(ns, 'pattern');
    p.id = id;
    p.setAttribute('patternUnits', 'userSpaceOnUse');
    p.setAttribute('width', '8');
    p.setAttribute('height', '8');
    p.setAttribute('patternTransform', 'rotate(45)');
    const bg = document.createElementNS(ns, 'rect');
    bg.setAttribute('width', '8');
    bg.setAttribute('height', '8');
    bg.setAttribute('fill', colour);
    bg.setAttribute('fill-opacity', '0.3');
    const stripe = document.createElementNS(ns, 'rect');
    stripe.setAttribute('width', '4');
    stripe.setAttribute('height', '8');
    stripe.setAttribute('fill', colour);
    p.append(bg, stripe);
    hatchDefs.append(p);
  }
  return `url(#${id})`;
}

// symbolOf is Layer.Symbol then Layer.WithStatus: the plain values, before
// a renderer turns a hatch into a pattern.
export function symbolOf(col, props) {
  const s = col.style || {};
  const shade = shadeOf(props);
  const kind = kindOf(col);
  const line = kind === 'line';
  const sym = {
    color: line && shade ? shade.color : s.color || '#333333',
    weight: s.weight ?? (line ? 3 : 1),
    opacity: s.opacity ?? 1,
    fillColor: shade && !line ? shade.color : s.fillColor || s.color || '#999999',
    fillOpacity: s.fillOpacity ?? 0.6,
    dashArray: s.dashArray || (line ? null : dashes[props.position_confidence]) || null,
    hatch: false,
  };
  if (!line) {
    const st = statuses.find((x) => x.code === props.status);
    if (st) {
      sym.fillOpacity *= st.fillOpacity;
      sym.weight += st.weight || 0;
      sym.hatch = !!st.hatch;
    }
  }
  return sym;
}

// styleOf is symbolOf as Leaflet path options; a canvas cannot hatch, so
// there the fill stays plain.
export function styleOf(col, props, canvas = false) {
  const { hatch: hatched, ...sym } = symbolOf(col, props);
  if (hatched && !canvas) {
    sym.fillColor = hatch(sym.fillColor);
    sym.fillOpacity = 1;
  }
  return sym;
}
