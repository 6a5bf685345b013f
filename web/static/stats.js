// The 统计 panel: how many features and how many mu of land, per land-use
// class or per project stage, for the whole district, the current view,
// the features the filter shows, or the selection (the table's ticked
// rows, else the feature chosen on the map), with a bar per group.
// The district and the view are asked of the statistics API (/stats and
// /collections/{id}/stats), which measures the exact shapes and counts of
// a feature cut by the view only its part inside it; the filter and the
// selection add up the areas of whole features the map has loaded, which
// are the API's own figures for each feature.

import { config } from './config.js';
import { el } from './dom.js';
import { background } from './identify.js';
import { pick, t } from './i18n.js';
import { classOf, classes, statuses } from './style.js';

const mu = 1e4 / 15; // m² in a mu

async function getJSON(url, signal) {
  const res = await fetch(url, { headers: { Accept: 'application/json' }, signal });
  if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
  return res.json();
}

export class StatsPanel {
  // features(id) resolves to all the features of a layer; selection()
  // lists the selected [{col, f}]; passes(col, props) applies the filter;
  // busy(delta) counts work under way.
  constructor({ map, state, box, features, selection, passes, busy }) {
    Object.assign(this, { map, state, box, features, selection, passes, busy });
    this.scope = el('select', { id: 'stats-scope' });
    this.group = el('select', { id: 'stats-group' });
    this.out = el('div', { id: 'stats-out', 'aria-live': 'polite' });
    this.labelScope = el('span');
    this.labelGroup = el('span');
    box.append(el('div', { class: 'stats-controls' },
      el('label', {}, this.labelScope, ' ', this.scope), el('label', {}, this.labelGroup, ' ', this.group)), this.out);
    this.scope.addEventListener('change', () => this.update());
    this.group.addEventListener('change', () => this.update());
    map.on('moveend', () => { if (this.scope.value === 'view') this.update(); });
    document.addEventListener('planmap:ticked', () => { if (this.scope.value === 'selection') this.update(); });
    this.timer = null;
    this.abort = null;
    this.relabel();
  }

  relabel() {
    const fill = (sel, opts) => {
      const v = sel.value;
      sel.replaceChildren(...opts.map(([value, key]) => el('option', { value, text: t(key) })));
      if (v) sel.value = v;
    };
    this.labelScope.textContent = t('statsScope');
    this.labelGroup.textContent = t('statsGroup');
    fill(this.scope, [['district', 'scopeDistrict'], ['view', 'scopeView'], ['filter', 'scopeFilter'], ['selection', 'scopeSelection']]);
    fill(this.group, [['class', 'byClass'], ['status', 'byStatus']]);
  }

  // layers are the visible area layers counted: those with a land-use
  // class, as /stats counts, and not the background.
  layers() {
    return this.state.collections.filter((c) => this.state.visible.has(c.id) && !background.has(c.id) &&
      c.geometryType.includes('Polygon') && (c.schema || []).some((fd) => fd.name === 'landuse_gb50137'));
  }

  // selected tells the panel that the feature chosen on the map changed.
  selected() { if (this.scope.value === 'selection') this.update(); }

  // update recomputes soon: many changes in a row compute once.
  update() {
    if (this.timer) clearTimeout(this.timer); else this.busy(1);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.compute().catch((err) => {
        if (err.name !== 'AbortError') this.out.replaceChildren(el('p', { class: 'note', text: `${t('loadFailed')}: ${err.message}` }));
      }).finally(() => this.busy(-1));
    }, 100);
  }

  async compute() {
    if (this.abort) this.abort.abort();
    this.abort = new AbortController();
    const { signal } = this.abort;
    const scope = this.scope.value;
    const by = this.group.value;
    const cols = this.layers();
    let groups; // Map key → {n, m2}
    let api = '';
    if (scope === 'district' || scope === 'view') {
      const bbox = scope === 'view' ? this.map.getBounds() : null;
      const b = bbox ? `&bbox=${[bbox.getWest(), bbox.getSouth(), bbox.getEast(), bbox.getNorth()].map((v) => v.toFixed(6)).join(',')}` : '';
      groups = new Map();
      const add = (key, g) => {
        const v = groups.get(key) || { n: 0, m2: 0 };
        v.n += g.count;
        v.m2 += g.geodesic_area_m2 || 0;
        groups.set(key, v);
      };
      if (by === 'class') {
        if (cols.length) {
          api = `${config.base}/stats?collections=${cols.map((c) => encodeURIComponent(c.id)).join(',')}${b}`;
          const doc = await getJSON(api, signal);
          for (const g of doc.groups) add(g.key, g);
        }
      } else {
        const withStatus = cols.filter((c) => (c.schema || []).some((fd) => fd.name === 'status'));
        const docs = await Promise.all(withStatus.map((c) =>
          getJSON(`${config.base}/collections/${encodeURIComponent(c.id)}/stats?groupby=status${b}`, signal)));
        for (const doc of docs) for (const g of doc.groups) add(g.key, g);
      }
    } else {
      let items = [];
      if (scope === 'filter') {
        const all = await Promise.all(cols.map(async (col) => ({ col, fs: await this.features(col.id) })));
        for (const { col, fs } of all) for (const f of fs) if (this.passes(col, f.properties || {})) items.push({ col, f });
      } else {
        const counted = new Set(cols.map((c) => c.id));
        items = this.selection().filter(({ col }) => counted.has(col.id));
      }
      groups = new Map();
      for (const { f } of items) {
        const p = f.properties || {};
        const key = by === 'class' ? (classOf(p) || {}).code || null : p.status || null;
        const v = groups.get(key) || { n: 0, m2: 0 };
        v.n++;
        v.m2 += p.geodesic_area_m2 || 0;
        groups.set(key, v);
      }
    }
    if (signal.aborted) return;
    this.show(groups, by, api);
  }

  show(groups, by, api) {
    const order = by === 'class' ? classes.map((c) => c.code) : statuses.map((s) => s.code);
    const keys = [...groups.keys()].sort((a, b) => {
      const i = order.indexOf(a); const j = order.indexOf(b);
      return (i < 0 ? 1e9 : i) - (j < 0 ? 1e9 : j);
    });
    const max = Math.max(0, ...[...groups.values()].map((g) => g.m2));
    let n = 0;
    let m2 = 0;
    const rows = keys.map((key) => {
      const g = groups.get(key);
      n += g.n;
      m2 += g.m2;
      let label = t('statsNone');
      let colour = '#9aa5b1';
      if (by === 'class' && key) {
        const c = classes.find((x) => x.code === key);
        label = c ? `${c.code} ${pick(c.name)}` : key;
        if (c) colour = c.color;
      } else if (key) {
        const s = statuses.find((x) => x.code === key);
        label = s ? pick(s.name) : key;
      }
      const bar = el('span', { class: 'stats-bar' });
      bar.style.width = `${max ? (100 * g.m2) / max : 0}%`;
      bar.style.background = colour;
      return el('li', { 'data-key': key || '' },
        el('span', { class: 'stats-label', text: label }),
        el('span', { class: 'stats-track' }, bar),
        el('span', { class: 'stats-value', text: `${(g.m2 / mu).toFixed(1)} ${t('mu')} (${g.n})` }));
    });
    const total = el('p', { class: 'stats-total' },
      el('strong', { text: `${t('statsTotal')}: ${(m2 / mu).toFixed(1)} ${t('mu')} · ${(m2 / 1e4).toFixed(2)} ${t('hectares')} · ${n}` }));
    this.out.replaceChildren(rows.length ? el('ul', { class: 'stats-list' }, ...rows) : el('p', { class: 'note', text: t('statsEmpty') }), total);
    if (api) this.out.append(el('p', { class: 'note' }, el('a', { href: `${api}&f=csv`, text: 'CSV' }), ' · ', el('a', { href: api, text: 'JSON' })));
    this.out.append(el('p', { class: 'note', text: t(this.scope.value === 'view' ? 'statsNoteView' : 'statsNote') }));
    this.box.dataset.totalMu = (m2 / mu).toFixed(2);
    this.box.dataset.count = String(n);
  }
}
