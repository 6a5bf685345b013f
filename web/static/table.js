// The table: one layer's features in a sortable, searchable table. A row
// chosen highlights the feature on the map and zooms to it; a feature
// chosen on the map selects its row. Rows ticked can be compared side by
// side and exported as GeoJSON. The table follows the filter.

import { $, el } from './dom.js';
import { lang, nameOf, pick, t } from './i18n.js';
import { details } from './identify.js';
import { shadeOf } from './style.js';

const collator = () => new Intl.Collator(lang() === 'zh' ? 'zh-Hans-CN' : 'en', { numeric: true });

// columns are the table's columns: a header and a value per feature.
function columns(col) {
  const line = col.geometryType.includes('Line');
  const area = col.geometryType.includes('Polygon');
  const cols = [
    { key: 'name', head: () => t('name'), value: (f) => nameOf(f.properties) || `#${f.id}` },
    { key: 'class', head: () => t('landuse'), value: (f) => f.properties.landuse_gb50137 || '' },
    { key: 'status', head: () => t('status'), value: (f) => (t('statuses')[f.properties.status] || f.properties.status || '') },
  ];
  if (area) {
    cols.push({ key: 'ha', head: () => t('hectares'), num: true, value: (f) => (f.properties.geodesic_area_m2 || 0) / 1e4, text: (v) => v.toFixed(2) });
    cols.push({ key: 'mu', head: () => t('mu'), num: true, value: (f) => (f.properties.geodesic_area_m2 || 0) / (1e4 / 15), text: (v) => v.toFixed(1) });
  }
  if (line) cols.push({ key: 'km', head: () => t('km'), num: true, value: (f) => (f.properties.geodesic_length_m || 0) / 1000, text: (v) => v.toFixed(2) });
  return cols;
}

export class Table {
  // opts: state, features(id) → Promise<{features, matched, first}> (for a
  // layer too big to fetch whole: the first features in the view, how
  // many in the view pass the filter, whether there are more than
  // listed), passes(col, props),
  // onPick(col, f) when a row is chosen.
  constructor(opts) {
    Object.assign(this, opts);
    this.layer = null;
    this.sort = { key: 'name', dir: 1 };
    this.query = '';
    this.ticked = new Map(); // "layer/id" → {col, f}
    this.rows = [];
    this.selected = null; // "layer/id"
    $('table-layer').addEventListener('change', (e) => { this.layer = e.target.value; this.render(); });
    $('table-q').addEventListener('input', (e) => { this.query = e.target.value.trim().toLowerCase(); this.draw(); });
    $('table-compare').addEventListener('click', () => this.compare());
    $('table-export').addEventListener('click', () => this.exportTicked());
    $('compare-close').addEventListener('click', () => { $('compare').hidden = true; });
  }

  get open() { return !$('table-panel').hidden; }

  // render fills the layer list and draws the current layer's rows.
  async render() {
    const sel = $('table-layer');
    const cols = this.state.collections;
    if (!this.layer || !cols.some((c) => c.id === this.layer)) {
      const first = cols.find((c) => this.state.visible.has(c.id) && c.id !== 'boundary') || cols[0];
      this.layer = first && first.id;
    }
    sel.replaceChildren(...cols.map((c) => {
      const o = el('option', { value: c.id, text: pick(c.titles) });
      o.selected = c.id === this.layer;
      return o;
    }));
    if (!this.layer) return;
    const col = cols.find((c) => c.id === this.layer);
    const want = this.layer;
    const { features, matched, first } = await this.features(col.id);
    if (want !== this.layer) return; // another layer was chosen meanwhile
    this.col = col;
    this.all = features;
    this.matched = matched;
    this.first = first;
    this.draw();
  }

  // draw lays out the rows: filtered, searched, sorted.
  draw() {
    if (!this.col) return;
    const col = this.col;
    const cols = columns(col);
    const q = this.query;
    let rows = this.all.filter((f) => this.passes(col, f.properties || {}));
    if (q) {
      rows = rows.filter((f) => {
        const p = f.properties || {};
        return [p.name_zh, p.name_en, p.landuse_gb50137, p.landuse_code, String(f.id)].some((v) => v && String(v).toLowerCase().includes(q));
      });
    }
    const c = cols.find((x) => x.key === this.sort.key) || cols[0];
    const cmp = collator();
    rows.sort((a, b) => this.sort.dir * (c.num ? c.value(a) - c.value(b) : cmp.compare(String(c.value(a)), String(c.value(b)))));
    this.rows = rows;

    const head = el('tr', {}, el('th', { scope: 'col', class: 'tick', text: '✓', 'aria-label': t('selected') }));
    for (const x of cols) {
      const b = el('button', { type: 'button', 'data-sort': x.key, text: x.head() });
      b.addEventListener('click', () => {
        this.sort = { key: x.key, dir: this.sort.key === x.key ? -this.sort.dir : 1 };
        this.draw();
      });
      const th = el('th', { scope: 'col', class: x.num ? 'num' : '' }, b);
      th.setAttribute('aria-sort', this.sort.key === x.key ? (this.sort.dir > 0 ? 'ascending' : 'descending') : 'none');
      head.append(th);
    }
    const body = el('tbody');
    for (const f of rows) {
      const key = `${col.id}/${f.id}`;
      const tick = el('input', { type: 'checkbox', 'aria-label': `${t('selected')}: ${nameOf(f.properties)}` });
      tick.checked = this.ticked.has(key);
      tick.addEventListener('change', () => {
        if (tick.checked) this.ticked.set(key, { col, f }); else this.ticked.delete(key);
        this.counts();
        // The statistics of the selection follow the ticks.
        document.dispatchEvent(new CustomEvent('planmap:ticked'));
      });
      const tr = el('tr', { 'data-id': String(f.id), 'data-layer': col.id }, el('td', { class: 'tick' }, tick));
      if (this.selected === key) tr.setAttribute('aria-selected', 'true');
      cols.forEach((x, i) => {
        const v = x.value(f);
        const text = x.text ? x.text(v) : String(v);
        if (i === 0) {
          // The name is a button: rows are reached by keyboard too.
          const b = el('button', { type: 'button', class: 'row-pick', text });
          const shade = shadeOf(f.properties);
          if (shade) b.prepend(el('span', { class: 'dot', 'aria-hidden': 'true' }));
          if (shade) b.firstChild.style.background = shade.color;
          b.addEventListener('click', () => this.onPick(col, f));
          tr.append(el('td', {}, b));
        } else {
          tr.append(el('td', { class: x.num ? 'num' : '', text }));
        }
      });
      body.append(tr);
    }
    $('feature-table').replaceChildren(el('thead', {}, head), body);
    // A layer too big to fetch whole lists the first features in the view
    // and says how many the view holds that pass the filter (matched).
    const count = $('table-count');
    count.dataset.rows = String(rows.length);
    if (this.matched === undefined) {
      delete count.dataset.matched;
      count.textContent = `${rows.length} ${t('features')}`;
    } else {
      count.dataset.matched = String(this.matched);
      count.textContent = this.first || q
        ? `${rows.length} / ${this.matched} ${t('features')} · ${t('tableFirst')}`
        : `${rows.length} ${t('features')}`;
    }
    this.counts();
  }

  counts() {
    $('table-compare').disabled = this.ticked.size < 2;
    $('table-export').disabled = this.ticked.size === 0;
    $('table-ticked').textContent = this.ticked.size ? `${t('selected')}: ${this.ticked.size}` : '';
  }

  // select marks the row of a feature chosen on the map, showing its
  // layer in the table if need be.
  async select(col, f) {
    this.selected = col && f ? `${col.id}/${f.id}` : null;
    if (!this.open) return;
    if (col && this.layer !== col.id) {
      this.layer = col.id;
      await this.render();
    }
    for (const tr of $('feature-table').querySelectorAll('tr[aria-selected]')) tr.removeAttribute('aria-selected');
    if (!this.selected) return;
    const tr = $('feature-table').querySelector(`tr[data-layer="${CSS.escape(col.id)}"][data-id="${CSS.escape(String(f.id))}"]`);
    if (tr) {
      tr.setAttribute('aria-selected', 'true');
      tr.scrollIntoView({ block: 'nearest' });
    }
  }

  // compare shows the ticked features side by side: one column each.
  compare() {
    const items = [...this.ticked.values()];
    const box = $('compare-body');
    box.replaceChildren(...items.map(({ col, f }) => el('div', { class: 'compare-item' }, details(col, f))));
    $('compare').hidden = false;
    $('compare-close').focus();
  }

  exportTicked() {
    const features = [...this.ticked.values()].map(({ col, f }) => clean(col, f));
    download({ type: 'FeatureCollection', name: 'selection', features }, 'haimen-selection.geojson');
  }
}

// clean is a feature as the API gave it, without the map's own __id, and
// with its layer named.
export function clean(col, f) {
  const props = { ...f.properties };
  delete props.__id;
  return { type: 'Feature', id: f.id, properties: { layer: col.id, ...props }, geometry: f.geometry };
}

// download saves a document as a GeoJSON file.
export function download(doc, name) {
  const url = URL.createObjectURL(new Blob([JSON.stringify(doc)], { type: 'application/geo+json' }));
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
