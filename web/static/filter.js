// Filters by project stage and land-use class. A feature passes when its
// stage is among those ticked (or none is ticked) and likewise its major
// class. The background layers (the district boundary, the regional
// context) are never filtered. Each choice shows how many features it
// holds and their total area, in hectares and mu, counted over all the
// features of the visible layers, not only those in view.

import { el } from './dom.js';
import { background } from './identify.js';
import { pick, t } from './i18n.js';
import { formatArea } from './measure.js';
import { classOf, classes, statuses } from './style.js';

export function emptyFilter() {
  return { status: new Set(), class: new Set() };
}

export function isActive(filter) {
  return filter.status.size > 0 || filter.class.size > 0;
}

// passes reports whether a feature of the layer col passes the filter;
// skip leaves one dimension out (for counting a facet).
export function passes(filter, col, props, skip = '') {
  if (background.has(col.id)) return true;
  if (skip !== 'status' && filter.status.size && !filter.status.has(props.status)) return false;
  if (skip !== 'class' && filter.class.size) {
    const c = classOf(props);
    if (!c || !filter.class.has(c.code)) return false;
  }
  return true;
}

// toHash and fromHash write the filter into the link and read it back.
export function toHash(filter, params) {
  if (filter.status.size) params.set('status', [...filter.status].join(','));
  if (filter.class.size) params.set('class', [...filter.class].join(','));
}

export function fromHash(params) {
  const f = emptyFilter();
  const known = new Set(statuses.map((s) => s.code));
  const codes = new Set(classes.map((c) => c.code));
  for (const s of (params.get('status') || '').split(',')) if (known.has(s)) f.status.add(s);
  for (const c of (params.get('class') || '').split(',')) if (codes.has(c)) f.class.add(c);
  return f;
}

// tally counts the features (all of them, from all) of the visible
// layers for each stage and class, and what passes the whole filter. A
// feature with n stands for n features (a cell of api.cells).
export function tally(filter, entries) {
  const blank = () => ({ n: 0, m2: 0 });
  const out = { status: new Map(), class: new Map(), total: blank() };
  const add = (m, k, p, f) => {
    if (!m.has(k)) m.set(k, blank());
    const v = m.get(k);
    v.n += f.n ?? 1;
    v.m2 += p.geodesic_area_m2 || 0;
  };
  for (const { col, features } of entries) {
    if (background.has(col.id)) continue;
    for (const f of features) {
      const p = f.properties || {};
      if (p.status && passes(filter, col, p, 'status')) add(out.status, p.status, p, f);
      const c = classOf(p);
      if (c && passes(filter, col, p, 'class')) add(out.class, c.code, p, f);
      if (passes(filter, col, p)) {
        out.total.n += f.n ?? 1;
        out.total.m2 += p.geodesic_area_m2 || 0;
      }
    }
  }
  return out;
}

// renderFilter draws the filter's choices with their counts; onChange is
// called after a choice changes the filter.
export function renderFilter(box, filter, counts, onChange) {
  box.replaceChildren();
  const group = (key, items, set, dim) => {
    const fs = el('fieldset', { class: 'filter-group' }, el('legend', { text: t(key) }));
    for (const { code, name } of items) {
      const c = counts[dim].get(code) || { n: 0, m2: 0 };
      const id = `filter-${dim}-${code}`;
      const box = el('input', { type: 'checkbox', id, 'data-filter': dim, value: code });
      box.checked = set.has(code);
      box.addEventListener('change', () => {
        if (box.checked) set.add(code); else set.delete(code);
        onChange();
      });
      fs.append(el('div', { class: 'filter-item' }, box, el('label', { for: id },
        el('span', { text: name }), ' ',
        el('span', { class: 'count', 'data-count': String(c.n), text: `${c.n}${c.m2 ? ` · ${formatArea(c.m2)}` : ''}` }))));
    }
    return fs;
  };
  const shownClasses = classes.filter((c) => counts.class.has(c.code) || filter.class.has(c.code));
  box.append(group('status', statuses.map((s) => ({ code: s.code, name: pick(s.name) })), filter.status, 'status'));
  // Layers with no land-use class (synthetic parcels, roads) would leave
  // the heading with nothing under it.
  if (shownClasses.length) {
    box.append(group('landuse', shownClasses.map((c) => ({ code: c.code, name: `${c.code} ${pick(c.name)}` })), filter.class, 'class'));
  }
  const total = el('p', { id: 'filter-total', class: 'filter-total', 'data-count': String(counts.total.n),
    text: `${t('shown')}: ${counts.total.n} · ${formatArea(counts.total.m2)}` });
  const clear = el('button', { type: 'button', class: 'link', id: 'filter-clear', text: t('clearFilter') });
  clear.disabled = !isActive(filter);
  clear.addEventListener('click', () => { filter.status.clear(); filter.class.clear(); onChange(); });
  box.append(total, clear);
}
