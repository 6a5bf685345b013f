// The 统计 panel: how many features and how many mu of land, per land-use
// class or per project stage, for the whole district, the current view,
// the features the filter shows, or the selection (the table's ticked
// rows, else the feature chosen on the map), with a bar per group.
// The district and the view are asked of the statistics API (/stats and
// /collections/{id}/stats), which measures the exact shapes and counts of
// a feature cut by the view only its part inside it; the filter and the
// selection add up the areas of whole features, which are the API's own
// figures for each feature (for the filter, of a layer too big to fetch
// whole, the statistics API's counts by stage and class: api.cells).
// For the district and the view, "as of" a date asks the API for the plan
// as it was at the end of that day (as-of), and "compare with" an earlier
// date adds each group's change since and, by stage, the transitions: how
// many mu went from one stage to another (compare).

import { config } from './config.js';
import { el } from './dom.js';
import { background } from './identify.js';
import { failure, pick, t } from './i18n.js';
import { classOf, classes, statuses } from './style.js';

const mu = 1e4 / 15; // m² in a mu

async function getJSON(url, signal) {
  const res = await fetch(url, { headers: { Accept: 'application/json' }, signal });
  if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
  return res.json();
}

// dayEnd is the end of the day a date input names, in the browser's time
// zone (the start of the next day), as RFC 3339: "as of 30 November" is
// the plan once that day's edits were made.
function dayEnd(value) {
  const [y, m, d] = value.split('-').map(Number);
  return new Date(y, m - 1, d + 1).toISOString();
}

export class StatsPanel {
  // features(id) resolves to all the features of a layer (or, for a
  // layer too big to fetch, cells that stand for them: api.cells); selection()
  // lists the selected [{col, f}]; passes(col, props) applies the filter;
  // busy(delta) counts work under way.
  constructor({ map, state, box, features, selection, passes, busy }) {
    Object.assign(this, { map, state, box, features, selection, passes, busy });
    this.scope = el('select', { id: 'stats-scope' });
    this.group = el('select', { id: 'stats-group' });
    this.out = el('div', { id: 'stats-out', 'aria-live': 'polite' });
    this.labelScope = el('span');
    this.labelGroup = el('span');
    this.asOf = el('input', { type: 'date', id: 'stats-asof' });
    this.compare = el('input', { type: 'date', id: 'stats-compare' });
    this.labelAsOf = el('span');
    this.labelCompare = el('span');
    box.append(el('div', { class: 'stats-controls' },
      el('label', {}, this.labelScope, ' ', this.scope), el('label', {}, this.labelGroup, ' ', this.group),
      el('label', {}, this.labelAsOf, ' ', this.asOf), el('label', {}, this.labelCompare, ' ', this.compare)), this.out);
    for (const c of [this.scope, this.group, this.asOf, this.compare]) c.addEventListener('change', () => this.update());
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
    this.labelAsOf.textContent = t('statsAsOf');
    this.labelCompare.textContent = t('statsCompare');
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
        if (err.name !== 'AbortError') this.out.replaceChildren(el('p', { class: 'note', text: `${t('loadFailed')}: ${failure(err)}` }));
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
    if (!cols.length) {
      // Nothing is counted: say why rather than show a total of zero.
      this.asOf.disabled = true;
      this.compare.disabled = true;
      this.out.replaceChildren(el('p', { class: 'note', id: 'stats-no-layers', text: t('statsNoLayers') }));
      this.box.dataset.totalMu = '';
      this.box.dataset.count = '';
      return;
    }
    let groups; // Map key → {n, m2}
    let api = '';
    // The past comes from the API: for the district and the view only.
    const past = scope === 'district' || scope === 'view';
    this.asOf.disabled = !past;
    this.compare.disabled = !past;
    const at = past && this.asOf.value ? dayEnd(this.asOf.value) : '';
    let was = past && this.compare.value ? dayEnd(this.compare.value) : '';
    // Only an earlier date can be compared with: the API refuses a later
    // one (400), so the panel leaves the comparison out and says why.
    const compareLate = was !== '' && was >= (at || new Date().toISOString());
    if (compareLate) was = '';
    const asOf = at ? `&as-of=${encodeURIComponent(at)}` : '';
    let earlier = null; // Map key → {n, m2} at the compared date
    const transitions = new Map(); // "from→to" → {from, to, n, m2}
    if (past) {
      const bbox = scope === 'view' ? this.map.getBounds() : null;
      const b = bbox ? `&bbox=${[bbox.getWest(), bbox.getSouth(), bbox.getEast(), bbox.getNorth()].map((v) => v.toFixed(6)).join(',')}` : '';
      groups = new Map();
      const add = (key, g) => {
        const v = groups.get(key) || { n: 0, m2: 0 };
        v.n += g.count;
        v.m2 += g.geodesic_area_m2 || 0;
        groups.set(key, v);
      };
      if (was) earlier = new Map();
      const addTo = (m, key, g) => {
        const v = m.get(key) || { n: 0, m2: 0 };
        v.n += g.count;
        v.m2 += g.geodesic_area_m2 || 0;
        m.set(key, v);
      };
      if (by === 'class') {
        if (cols.length) {
          const all = `${config.base}/stats?collections=${cols.map((c) => encodeURIComponent(c.id)).join(',')}${b}`;
          api = all + asOf;
          const [doc, doc0] = await Promise.all([getJSON(api, signal),
            was ? getJSON(`${all}&as-of=${encodeURIComponent(was)}`, signal) : null]);
          for (const g of doc.groups) add(g.key, g);
          if (doc0) for (const g of doc0.groups) addTo(earlier, g.key, g);
        }
      } else {
        const withStatus = cols.filter((c) => (c.schema || []).some((fd) => fd.name === 'status'));
        const cmp = was ? `&compare=${encodeURIComponent(was)}` : '';
        const docs = await Promise.all(withStatus.map((c) =>
          getJSON(`${config.base}/collections/${encodeURIComponent(c.id)}/stats?groupby=status${b}${asOf}${cmp}`, signal)));
        for (const doc of docs) {
          for (const g of doc.groups) add(g.key, g);
          if (!doc.comparison) continue;
          for (const g of doc.comparison.groups) addTo(earlier, g.key, g.earlier);
          for (const tr of doc.comparison.transitions) {
            const k = `${tr.from}→${tr.to}`;
            const v = transitions.get(k) || { from: tr.from, to: tr.to, n: 0, m2: 0 };
            v.n += tr.count;
            v.m2 += tr.geodesic_area_m2 || 0;
            transitions.set(k, v);
          }
        }
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
        v.n += f.n ?? 1; // a cell of api.cells stands for n features
        v.m2 += p.geodesic_area_m2 || 0;
        groups.set(key, v);
      }
    }
    if (signal.aborted) return;
    this.show(groups, by, api, earlier, [...transitions.values()], compareLate);
  }

  // label is the name and colour of group key.
  label(by, key) {
    if (by === 'class' && key) {
      const c = classes.find((x) => x.code === key);
      return c ? [`${c.code} ${pick(c.name)}`, c.color] : [key, '#9aa5b1'];
    }
    if (key) {
      const s = statuses.find((x) => x.code === key);
      return [s ? pick(s.name) : key, '#9aa5b1'];
    }
    return [t('statsNone'), '#9aa5b1'];
  }

  show(groups, by, api, earlier, transitions, compareLate) {
    const order = by === 'class' ? classes.map((c) => c.code) : statuses.map((s) => s.code);
    if (earlier) for (const k of earlier.keys()) if (!groups.has(k)) groups.set(k, { n: 0, m2: 0 });
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
      const [label, colour] = this.label(by, key);
      const bar = el('span', { class: 'stats-bar' });
      bar.style.width = `${max ? (100 * g.m2) / max : 0}%`;
      bar.style.background = colour;
      let text = `${(g.m2 / mu).toFixed(1)} ${t('mu')} (${g.n})`;
      const li = el('li', { 'data-key': key || '' });
      if (earlier) {
        const e = earlier.get(key) || { n: 0, m2: 0 };
        const d = (g.m2 - e.m2) / mu;
        text += ` ${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(1)}`;
        li.dataset.changeMu = d.toFixed(2);
      }
      li.append(el('span', { class: 'stats-label', text: label }),
        el('span', { class: 'stats-track' }, bar),
        el('span', { class: 'stats-value', text }));
      return li;
    });
    const total = el('p', { class: 'stats-total' },
      el('strong', { text: `${t('statsTotal')}: ${(m2 / mu).toFixed(1)} ${t('mu')} · ${(m2 / 1e4).toFixed(2)} ${t('hectares')} · ${n}` }));
    this.out.replaceChildren(rows.length ? el('ul', { class: 'stats-list' }, ...rows) : el('p', { class: 'note', text: t('statsEmpty') }), total);
    if (compareLate) this.out.append(el('p', { class: 'note', id: 'stats-compare-late', text: t('statsCompareLate') }));
    if (earlier) {
      this.out.append(el('p', { class: 'note', text: t('statsChangeNote') }));
      if (transitions.length) {
        this.out.append(el('p', { text: t('statsTransitions') }), el('ul', { class: 'stats-transitions' },
          ...transitions.map((tr) => el('li', { 'data-from': tr.from ?? '', 'data-to': tr.to ?? '', 'data-mu': (tr.m2 / mu).toFixed(2) },
            `${this.label(by, tr.from)[0]} → ${this.label(by, tr.to)[0]}: ${(tr.m2 / mu).toFixed(1)} ${t('mu')} (${tr.n})`))));
      }
    }
    if (api) this.out.append(el('p', { class: 'note' }, el('a', { href: `${api}&f=csv`, text: 'CSV' }), ' · ', el('a', { href: api, text: 'JSON' })));
    this.out.append(el('p', { class: 'note', text: t(this.scope.value === 'view' ? 'statsNoteView' : 'statsNote') }));
    this.box.dataset.totalMu = (m2 / mu).toFixed(2);
    this.box.dataset.count = String(n);
  }
}
