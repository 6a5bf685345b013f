// Measuring a distance or an area by clicking points on the map.

import { t } from './i18n.js';

const R = 6371008.8; // mean Earth radius, metres

// sphericalArea is the area of a ring of L.LatLng on the sphere
// (Chamberlain & Duquette 2007), in square metres.
function sphericalArea(pts) {
  let sum = 0;
  for (let i = 0; i < pts.length; i++) {
    const a = pts[i];
    const b = pts[(i + 1) % pts.length];
    sum += ((b.lng - a.lng) * Math.PI / 180) *
      (2 + Math.sin(a.lat * Math.PI / 180) + Math.sin(b.lat * Math.PI / 180));
  }
  return Math.abs(sum * R * R / 2);
}

export function formatLength(m) {
  return m >= 1000 ? `${(m / 1000).toFixed(2)} ${t('km')}` : `${m.toFixed(0)} ${t('metres')}`;
}

export function formatArea(m2) {
  return `${(m2 / 1e4).toFixed(2)} ${t('hectares')} · ${(m2 / (1e4 / 15)).toFixed(1)} ${t('mu')}`;
}

// Measure measures a distance or an area from points clicked (or tapped)
// on the map. While it measures, the map's clicks are its own: the
// caller turns identify off (onChange). The figure is shown on the map,
// next to the line or the area, and in the output element.
export class Measure {
  constructor(map, output, onChange) {
    this.map = map;
    this.output = output;
    this.onChange = onChange;
    this.mode = null;
    this.points = [];
    this.shape = null;
    this.label = null;
    this.onClick = (e) => {
      // The two clicks of a double-click land on the same spot: one point.
      const last = this.points[this.points.length - 1];
      if (last && this.map.latLngToContainerPoint(last).distanceTo(e.containerPoint || this.map.latLngToContainerPoint(e.latlng)) < 3) return;
      this.points.push(e.latlng);
      this.draw();
    };
    this.onDouble = (e) => { L.DomEvent.stop(e); this.finish(); };
    this.onKey = (e) => {
      if (e.key === 'Escape') this.stop();
      if (e.key === 'Enter') {
        // Finish, and do not also press the focused button (which would
        // start measuring again).
        e.preventDefault();
        this.finish();
      }
    };
  }

  start(mode) {
    this.stop();
    this.mode = mode;
    this.map.closePopup();
    this.map.doubleClickZoom.disable();
    this.map.on('click', this.onClick);
    this.map.on('dblclick', this.onDouble);
    document.addEventListener('keydown', this.onKey);
    this.map.getContainer().classList.add('measuring');
    this.output.textContent = t('measureHint');
    this.onChange(mode);
  }

  draw() {
    if (this.shape) this.shape.remove();
    const opts = { color: '#d7263d', weight: 3, dashArray: '6 4', interactive: false, pane: 'measure' };
    const area = this.mode === 'area' && this.points.length > 2;
    this.shape = area ? L.polygon(this.points, { ...opts, fillOpacity: 0.15 }) : L.polyline(this.points, opts);
    this.shape.addTo(this.map);
    const text = this.text();
    this.output.textContent = text || t('measureHint');
    if (this.label) this.label.remove();
    this.label = null;
    if (text) {
      const at = area ? this.shape.getCenter() : this.points[this.points.length - 1];
      this.label = L.tooltip({ permanent: true, direction: area ? 'center' : 'right', offset: area ? [0, 0] : [10, 0], className: 'pm-measure-label', pane: 'measure', interactive: false })
        .setLatLng(at).setContent(text).addTo(this.map);
    }
  }

  text() {
    if (this.mode === 'area') {
      return this.points.length > 2 ? `${t('area')}: ${formatArea(sphericalArea(this.points))}` : '';
    }
    let d = 0;
    for (let i = 1; i < this.points.length; i++) d += this.points[i - 1].distanceTo(this.points[i]);
    return this.points.length > 1 ? `${t('distance')}: ${formatLength(d)}` : '';
  }

  // finish keeps the shape and its figure on screen and leaves measuring.
  finish() {
    const result = this.text();
    this.detach();
    this.output.textContent = result;
  }

  // stop removes the measurement and leaves measuring.
  stop() {
    this.detach();
    if (this.shape) this.shape.remove();
    if (this.label) this.label.remove();
    this.shape = null;
    this.label = null;
    this.points = [];
    this.output.textContent = '';
  }

  detach() {
    if (!this.mode) return;
    this.map.off('click', this.onClick);
    this.map.off('dblclick', this.onDouble);
    document.removeEventListener('keydown', this.onKey);
    // Re-enabled after the double-click that ended it has passed.
    setTimeout(() => this.map.doubleClickZoom.enable(), 0);
    this.map.getContainer().classList.remove('measuring');
    this.mode = null;
    this.points = [];
    this.onChange(null);
  }
}
