// Talking to planmap's OGC API – Features service.

import { config } from './config.js';

const { base } = config;

// getJSON fetches a document; fresh asks the server again even when the
// browser holds a copy (revalidated with its ETag), for what just changed.
async function getJSON(url, signal, fresh = false) {
  const res = await fetch(url, { headers: { Accept: 'application/geo+json, application/json' }, signal, cache: fresh ? 'no-cache' : 'default' });
  if (!res.ok) {
    let detail = res.statusText;
    try { detail = (await res.json()).detail || detail; } catch (_) { /* not JSON */ }
    throw new Error(`${res.status}: ${detail}`);
  }
  return res.json();
}

export function collections(fresh = false) {
  return getJSON(`${base}/collections`, undefined, fresh).then((doc) => doc.collections);
}

// bboxText is a box [west, south, east, north] as the bbox parameter.
function bboxText(bbox) {
  return bbox.map((v) => v.toFixed(6)).join(',');
}

// features yields the pages of a collection's features in a box,
// following the next links until there are no more.
export async function* features(id, bbox, signal, fresh = false) {
  let url = `${base}/collections/${encodeURIComponent(id)}/items?limit=1000` +
    (bbox ? `&bbox=${bboxText(bbox)}` : '');
  while (url) {
    const page = await getJSON(url, signal, fresh);
    yield page.features;
    const next = (page.links || []).find((l) => l.rel === 'next');
    url = next && page.features.length ? next.href : null;
  }
}

// matching yields the pages of all of a collection's features whose
// fields equal equals (field → value), paged by key (after), which costs
// the API the same on every page however far it goes.
export async function* matching(id, equals = {}, signal) {
  const q = new URLSearchParams({ limit: '5000', after: '0' });
  for (const [k, v] of Object.entries(equals)) q.set(k, v);
  let url = `${base}/collections/${encodeURIComponent(id)}/items?${q}`;
  while (url) {
    const page = await getJSON(url, signal, true);
    yield page.features;
    const next = (page.links || []).find((l) => l.rel === 'next');
    url = next && page.features.length ? next.href : null;
  }
}

// page is the first page of a collection's features in a box: at most
// limit of them, with equals (field → value) selecting, and how many
// there are in all (numberMatched).
export async function page(id, bbox, limit, equals = {}, signal) {
  const q = new URLSearchParams({ limit: String(limit), bbox: bboxText(bbox) });
  for (const [k, v] of Object.entries(equals)) q.set(k, v);
  const doc = await getJSON(`${base}/collections/${encodeURIComponent(id)}/items?${q.toString().replace(/%2C/g, ',')}`, signal, true);
  return { features: doc.features, matched: doc.numberMatched };
}

// cells counts a layer's features (in a box, when one is given) by stage
// and land-use code, with their area, from the statistics API: for a
// layer too big to fetch whole. Each cell looks like a feature, with n the
// features it stands for: {properties: {status, landuse_gb50137,
// geodesic_area_m2}, n}. One request, grouped by both fields at once: the
// API reads the layer (or box) once, and keeps its answer about a whole
// layer until the layer changes.
export async function cells(col, bbox, signal) {
  const fields = ['status', 'landuse_gb50137'].filter((name) => (col.schema || []).some((fd) => fd.name === name));
  const box = bbox ? `&bbox=${bboxText(bbox)}` : '';
  const by = fields.length ? `groupby=${fields.join(',')}` : '';
  const doc = await getJSON(`${base}/collections/${encodeURIComponent(col.id)}/stats?${by}${box}`, signal, true);
  const cell = (key, g) => {
    const keys = fields.length > 1 ? key : [key];
    const props = { status: null, landuse_gb50137: null, geodesic_area_m2: g.geodesic_area_m2 || 0 };
    fields.forEach((name, i) => { props[name] = keys[i]; });
    return { properties: props, n: g.count };
  };
  return fields.length ? doc.groups.map((g) => cell(g.key, g)) : [cell(null, doc.total)];
}

// feature fetches one feature as it is now, or null if it is gone.
export async function feature(id, fid) {
  try {
    return await getJSON(`${base}/collections/${encodeURIComponent(id)}/items/${encodeURIComponent(fid)}`, undefined, true);
  } catch (err) {
    if (/^(404|410):/.test(err.message)) return null; // gone since
    throw err;
  }
}

// tileset is a collection's vector tileset: its layers and zoom range.
export function tileset(id) {
  return getJSON(`${base}/collections/${encodeURIComponent(id)}/tiles/WebMercatorQuad`);
}

// item is one feature.
export function item(id, fid, signal) {
  return getJSON(`${base}/collections/${encodeURIComponent(id)}/items/${encodeURIComponent(fid)}`, signal);
}

export function search(q, signal) {
  return getJSON(`${base}/search?q=${encodeURIComponent(q)}&limit=12`, signal).then((doc) => doc.features);
}

export function downloadURL(id, kind) {
  return `${base}/collections/${encodeURIComponent(id)}/download.${kind}`;
}
