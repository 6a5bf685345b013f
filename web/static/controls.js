// Orientation on the map: a scale bar, a north arrow, the coordinates
// under the cursor (or of the map's centre), and a button that shows the
// whole district.

import { el } from './dom.js';
import { t } from './i18n.js';

// formatCoord writes a position as degrees with hemisphere letters.
function formatCoord(ll) {
  const lat = `${Math.abs(ll.lat).toFixed(5)}°${ll.lat >= 0 ? 'N' : 'S'}`;
  const lng = `${Math.abs(ll.lng).toFixed(5)}°${ll.lng >= 0 ? 'E' : 'W'}`;
  return `${lat} ${lng}`;
}

const North = L.Control.extend({
  options: { position: 'bottomright' },
  onAdd() {
    const box = el('div', { class: 'pm-north leaflet-bar', role: 'img' },
      el('span', { class: 'arrow', 'aria-hidden': 'true', text: '▲' }), el('span', { class: 'n', text: 'N' }));
    box.setAttribute('aria-label', t('north'));
    box.title = t('north');
    return box;
  },
});

const Coords = L.Control.extend({
  options: { position: 'bottomleft' },
  onAdd(map) {
    const box = el('div', { class: 'pm-coords', 'aria-hidden': 'true' });
    let over = null;
    const show = () => { box.textContent = formatCoord((over || map.getCenter()).wrap()); };
    map.on('mousemove', (e) => { over = e.latlng; show(); });
    map.on('mouseout', () => { over = null; show(); });
    map.on('move', () => { if (!over) show(); });
    map.whenReady(show);
    return box;
  },
});

const Whole = L.Control.extend({
  options: { position: 'topleft' },
  onAdd() {
    const a = el('a', { class: 'pm-whole', href: '#', role: 'button', 'data-i18n-title': 'wholeDistrict', 'data-i18n-aria': 'wholeDistrict', text: '⤢' });
    a.title = t('wholeDistrict');
    a.setAttribute('aria-label', t('wholeDistrict'));
    L.DomEvent.disableClickPropagation(a);
    L.DomEvent.on(a, 'click', (e) => { L.DomEvent.preventDefault(e); this.options.onClick(); });
    return el('div', { class: 'leaflet-bar' }, a);
  },
});

// addControls puts the orientation controls on the map; whole is called
// by the "whole district" button.
export function addControls(map, whole) {
  L.control.scale({ metric: true, imperial: false, maxWidth: 160, position: 'bottomleft' }).addTo(map);
  new Coords().addTo(map);
  new North().addTo(map);
  new Whole({ onClick: whole }).addTo(map);
}

// relabel puts the controls' words in the current language.
export function relabel(map) {
  const n = map.getContainer().querySelector('.pm-north');
  if (n) { n.title = t('north'); n.setAttribute('aria-label', t('north')); }
  const w = map.getContainer().querySelector('.pm-whole');
  if (w) { w.title = t('wholeDistrict'); w.setAttribute('aria-label', t('wholeDistrict')); }
}
