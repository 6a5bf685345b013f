// Editing on the map, for editors who sign in with a token: draw a
// feature of a layer's geometry type, move its vertices, cut holes, snap
// to the features around it, fill its attributes in a form made from the
// layer's schema, save; delete; see a feature's history and restore a
// version. The server is the judge of every write (OGC API – Features
// Part 4 with ETags): what it refuses is shown at the field or on the
// shape it names, and nothing typed is lost.
//
// The token is kept for this browser tab only (sessionStorage) and sent
// only to this service, in Authorization. Readers who do not sign in see
// the key button and the history of a feature, nothing else of this.

import { config } from './config.js';
import { el } from './dom.js';
import { failure, lang, pick, t } from './i18n.js';
import { Snaps } from './snap.js';

const tokenKey = 'planmap-token';

// snapDistance is how near, in pixels, a vertex must come to a
// neighbouring feature's vertex or edge to snap to it.
const snapDistance = 15;

// The style of the shape being edited: unlike any land-use colour.
const editStyle = { color: '#d0006f', weight: 3, opacity: 1, fillColor: '#d0006f', fillOpacity: 0.15, dashArray: null };
const errorStyle = { color: '#d00000', weight: 4, fillColor: '#d00000', fillOpacity: 0.2 };

const itemsURL = (id) => `${config.base}/collections/${encodeURIComponent(id)}/items`;
const itemURL = (id, fid) => `${itemsURL(id)}/${encodeURIComponent(fid)}`;

// request sends one request and reads its JSON answer, whatever the
// status: {status, ok, etag, doc}.
async function request(method, url, { token, body, etag, note } = {}) {
  const headers = { Accept: 'application/geo+json, application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body) headers['Content-Type'] = 'application/geo+json';
  if (etag) headers['If-Match'] = etag;
  // A header holds only Latin-1: the note goes percent-encoded, which
  // the server decodes.
  if (note) headers['Planmap-Note'] = encodeURIComponent(note);
  const res = await fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined, cache: 'no-store' });
  let doc = null;
  try { doc = await res.json(); } catch (_) { /* no body, or not JSON */ }
  return { status: res.status, ok: res.ok, etag: res.headers.get('ETag'), allow: res.headers.get('Allow'), doc };
}

// problem is the sentence of a refused request.
function problem(res) {
  return (res.doc && (res.doc.detail || res.doc.title)) || `HTTP ${res.status}`;
}

// cleanToken is a token as pasted, without what a copy often brings
// along and no token holds: whitespace at its ends, zero-width spaces and
// joiners (U+200B-U+200D), word joiners (U+2060), byte-order marks
// (U+FEFF). A header may hold none of them: the browser would refuse to
// send the request.
function cleanToken(s) {
  return s.replace(/[\u200B-\u200D\u2060\uFEFF]/g, '').trim();
}

// mayCreate asks the server, by OPTIONS, whether token may edit layer id:
// whether its items allow POST for it. It returns id if so, else null.
async function mayCreate(id, token) {
  const res = await request('OPTIONS', itemsURL(id), { token });
  return (res.allow || '').split(',').map((m) => m.trim()).includes('POST') ? id : null;
}

// drawShape is the Geoman tool that draws a layer's geometry type.
function drawShape(geometryType) {
  if (geometryType.includes('Polygon')) return 'Polygon';
  if (geometryType.includes('Line')) return 'Line';
  return 'Marker';
}

// loadDrawTools brings in Leaflet-Geoman, its script and its styles,
// once, when an editor signs in.
let drawTools = null;
function loadDrawTools() {
  if (!drawTools) {
    drawTools = new Promise((resolve, reject) => {
      document.head.append(el('link', { rel: 'stylesheet', href: config.draw.css }));
      const s = el('script', { src: config.draw.js });
      s.addEventListener('load', resolve);
      s.addEventListener('error', () => { drawTools = null; reject(new Error(t('drawToolsFailed'))); });
      document.head.append(s);
    });
  }
  return drawTools;
}

// fieldLabel is a field's name for people, from the layer's declaration.
function fieldLabel(col, name) {
  const fd = (col.schema || []).find((f) => f.name === name);
  return (fd && pick(fd.description)) || name;
}

// valueLabel says an allowed value in words where the map knows them.
function valueLabel(name, v) {
  const known = { status: t('statuses'), position_confidence: t('confidence') }[name];
  return known && known[v] && known[v] !== v ? `${known[v]} (${v})` : String(v);
}

function show(v) {
  if (v === undefined || v === null || v === '') return '—';
  return String(v);
}

// shown is a value as the form shows it.
function shown(name, v) {
  return v === undefined || v === null || v === '' ? '—' : valueLabel(name, v);
}

function sameValue(a, b) {
  const norm = (v) => (v === undefined || v === null || v === '' ? null : v);
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

// time says when, in the reader's language and time zone.
function when(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(lang() === 'zh' ? 'zh-CN' : 'en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
}

// editable lists the fields an editor fills, in the order the layer
// declares them (a JSON Schema's properties have no order): not the id,
// the geometry, or what the server computes (readOnly), which are never
// sent.
function editable(schema, col) {
  const order = new Map(((col && col.schema) || []).map((f, i) => [f.name, i]));
  const rank = (name) => (order.has(name) ? order.get(name) : order.size);
  return Object.entries((schema && schema.properties) || {})
    .filter(([name, s]) => !s.readOnly && s['x-ogc-role'] !== 'primary-geometry' && name !== 'id')
    .map(([name, s]) => ({ name, s, required: (schema.required || []).includes(name) }))
    .sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}

// list joins words as the language does.
function list(words) {
  return words.join(lang() === 'zh' ? '、' : ', ');
}

// short is a value cut to a length a line of the history holds.
function short(v) {
  const text = show(v);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

// explain puts a refusal the server words in English into the reader's
// language where the map knows the kind, keeping the server's sentence.
function explain(line) {
  const kinds = [
    [/required property "[^"]+" is missing/, 'whyRequired'],
    [/is not one of the allowed values/, 'whyNotAllowed'],
    [/ want (a|an) /, 'whyType'],
    [/intersects itself/, 'whySelfIntersects'],
    [/rings cross|hole/, 'whyHole'],
    [/ overlaps /, 'whyOverlaps'],
    [/outside/, 'whyOutside'],
    [/minAreaHa/, 'whySmall'],
  ];
  const kind = kinds.find(([re]) => re.test(line));
  return kind && lang() === 'zh' ? `${t(kind[1])}（${line}）` : line;
}

// changes lists what differs from an older version to a newer one: the
// properties' labels, and the shape.
function changes(col, newer, older) {
  const out = [];
  const a = newer.properties || {};
  const b = older.properties || {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (k.startsWith('geodesic_')) continue;
    if (!sameValue(a[k], b[k])) out.push(`${fieldLabel(col, k)}: ${short(shown(k, b[k]))} → ${short(shown(k, a[k]))}`);
  }
  if (JSON.stringify(newer.geometry) !== JSON.stringify(older.geometry)) out.push(t('editShape'));
  return out;
}

export class Editing {
  // opts: map, state, identify, put(colId, feature), drop(colId, fid),
  // show(colId) to turn a layer on, busy(delta); tiled (tiles.js),
  // viewBox(pad) and snapNotice(text), for snapping to the features
  // shown (snap.js).
  constructor(opts) {
    Object.assign(this, opts);
    this.snaps = new Snaps({ map: this.map, layers: this.state.layers, tiled: this.tiled, viewBox: this.viewBox, say: this.snapNotice });
    this.token = '';
    this.mayEdit = new Set(); // the layers this token may edit
    this.supported = false; // the service takes writes
    this.session = null; // the feature being drawn or edited
    this.schemas = new Map();
    // Esc stops drawing (a new shape, or a hole); never the form, which
    // would lose what was typed.
    document.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return;
      const mode = document.body.dataset.editing;
      if (mode === 'drawing') this.cancel();
      if (mode === 'cutting' && this.session) {
        this.map.pm.disableDraw();
        this.setShape(this.geometry());
        document.body.dataset.editing = this.session.fid === null ? 'new' : 'feature';
      }
    });
  }

  // start finds out whether the service takes writes, and signs in again
  // with this tab's token.
  async start() {
    try {
      const res = await request('GET', `${config.base}/conformance`);
      this.supported = !!(res.doc && (res.doc.conformsTo || []).some((c) => c.includes('ogcapi-features-4') && c.endsWith('create-replace-delete')));
    } catch (_) {
      this.supported = false;
    }
    if (!this.supported) return;
    this.renderKey();
    let saved = '';
    try { saved = sessionStorage.getItem(tokenKey) || ''; } catch (_) { /* storage refused */ }
    if (saved) await this.signIn(saved, true);
  }

  // ---- signing in ----

  renderKey() {
    let key = document.getElementById('signin-toggle');
    if (!key) {
      key = el('button', { id: 'signin-toggle', type: 'button', 'aria-controls': 'signin-box', 'aria-expanded': 'false' });
      key.addEventListener('click', () => this.toggleBox());
      document.querySelector('header.bar').insertBefore(key, document.getElementById('lang'));
    }
    key.textContent = this.token ? t('signedIn') : t('signIn');
    document.body.dataset.editor = this.token ? 'yes' : 'no';
  }

  toggleBox(open) {
    let box = document.getElementById('signin-box');
    const want = open === undefined ? !box || box.hidden : open;
    if (!box) {
      box = el('div', { id: 'signin-box', class: 'pm-signin', role: 'dialog', 'aria-labelledby': 'signin-title' });
      document.body.append(box);
    }
    box.hidden = !want;
    document.getElementById('signin-toggle').setAttribute('aria-expanded', String(want));
    if (want) this.renderBox();
  }

  renderBox(message = '') {
    const box = document.getElementById('signin-box');
    if (!box) return;
    const said = document.getElementById('signin-message');
    if (message && said && !this.token) {
      // The token typed stays, to be corrected.
      said.textContent = message;
      said.className = 'error';
      return;
    }
    box.replaceChildren(el('h2', { id: 'signin-title', text: this.token ? t('signedIn') : t('signIn') }));
    if (this.token) {
      const names = this.state.collections.filter((c) => this.mayEdit.has(c.id)).map((c) => pick(c.titles));
      const out = el('button', { type: 'button', id: 'signout', text: t('signOut') });
      out.addEventListener('click', () => this.signOut());
      box.append(el('p', { text: `${t('mayEdit')}: ${names.join('、')}` }), el('p', { class: 'note', text: t('tokenKept') }), out);
      return;
    }
    const input = el('input', { id: 'signin-token', type: 'password', autocomplete: 'off', spellcheck: 'false' });
    const form = el('form', { id: 'signin-form' },
      el('label', { for: 'signin-token', text: t('token') }), input,
      el('p', { class: 'note', text: t('tokenHint') }),
      el('p', { id: 'signin-message', class: message ? 'error' : '', role: 'alert', text: message }),
      el('div', { class: 'edit-buttons' }, el('button', { type: 'submit', text: t('signIn') }),
        el('button', { type: 'button', id: 'signin-close', text: t('cancel') })));
    form.querySelector('#signin-close').addEventListener('click', () => this.toggleBox(false));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const ok = await this.signIn(input.value);
      if (ok) this.toggleBox(false);
    });
    box.append(form);
    input.focus();
  }

  // signIn asks the server, by OPTIONS, which layers the token typed (or
  // pasted: cleanToken) may edit: those whose items allow POST for it. A
  // token that may edit none is not kept.
  async signIn(typed, quiet = false) {
    const token = cleanToken(typed);
    if (!token) return false;
    let allowed;
    try {
      allowed = await Promise.all(this.state.collections.map((c) => mayCreate(c.id, token)));
    } catch (err) {
      if (!quiet) this.renderBox(`${t('signInFailed')}: ${failure(err)}`);
      return false;
    }
    const layers = allowed.filter(Boolean);
    if (!layers.length) {
      try { sessionStorage.removeItem(tokenKey); } catch (_) { /* storage refused */ }
      // Over plain HTTP from another machine the server takes no token
      // at all, whatever it is: say so rather than blame the token.
      const clear = location.protocol === 'http:' && !/^(localhost|127\.|\[::1\])/.test(location.hostname);
      if (!quiet) this.renderBox(clear ? `${t('tokenRefused')} ${t('tokenNeedsTLS')}` : t('tokenRefused'));
      return false;
    }
    this.token = token;
    this.mayEdit = new Set(layers);
    try { sessionStorage.setItem(tokenKey, token); } catch (_) { /* kept in memory only */ }
    await loadDrawTools();
    if (!this.map.pm) {
      // The map was made before the tools came: give it what Geoman's
      // hook gives a map made after.
      this.map.pm = new L.PM.Map(this.map);
      this.map.pm.setGlobalOptions({});
    }
    this.map.pm.setLang(lang() === 'zh' ? 'zh' : 'en');
    this.renderKey();
    this.renderPanel();
    this.identify.refreshOpen();
    return true;
  }

  signOut() {
    this.cancel();
    this.token = '';
    this.mayEdit = new Set();
    try { sessionStorage.removeItem(tokenKey); } catch (_) { /* storage refused */ }
    this.renderKey();
    this.renderPanel();
    this.toggleBox(false);
    this.identify.refreshOpen();
  }

  // relabel puts the editing tools in the current language.
  relabel() {
    if (!this.supported) return;
    this.renderKey();
    const box = document.getElementById('signin-box');
    if (box && !box.hidden) this.renderBox();
    if (this.token) this.map.pm.setLang(lang() === 'zh' ? 'zh' : 'en');
    this.snaps.relabel();
    this.renderPanel();
    if (this.session) this.renderForm();
  }

  // ---- the panel: draw a new feature ----

  renderPanel() {
    let section = document.getElementById('edit-panel');
    if (!this.token) {
      if (section) section.remove();
      return;
    }
    if (!section) {
      section = el('section', { id: 'edit-panel' });
      const panel = document.getElementById('panel');
      panel.insertBefore(section, panel.firstElementChild);
    }
    const cols = this.state.collections.filter((c) => this.mayEdit.has(c.id));
    const select = el('select', { id: 'edit-layer' });
    for (const c of cols) select.append(el('option', { value: c.id, text: pick(c.titles) }));
    if (this.lastLayer && this.mayEdit.has(this.lastLayer)) select.value = this.lastLayer;
    select.addEventListener('change', () => { this.lastLayer = select.value; });
    const draw = el('button', { id: 'edit-draw', type: 'button', text: t('drawNew') });
    draw.addEventListener('click', () => this.draw(this.state.collections.find((c) => c.id === select.value)));
    section.replaceChildren(el('h2', { text: t('editing') }),
      el('label', { for: 'edit-layer', text: t('tableLayer') }), ' ', select, ' ', draw,
      el('p', { class: 'note', text: t('drawHint') }));
  }

  // draw starts drawing a new feature of col.
  draw(col) {
    if (!col || !this.mayEdit.has(col.id)) return;
    this.cancel();
    this.lastLayer = col.id;
    this.show(col.id);
    this.identify.enabled = false;
    this.map.closePopup();
    const shape = drawShape(col.geometryType);
    const onCreate = (e) => {
      this.map.off('pm:create', onCreate);
      e.layer.remove();
      this.begin(col, null, { type: 'Feature', properties: {}, geometry: e.layer.toGeoJSON(15).geometry }, null);
    };
    this.map.on('pm:create', onCreate);
    this.drawing = { layer: col.id, off: () => this.map.off('pm:create', onCreate) };
    this.map.pm.enableDraw(shape, {
      snappable: true, snapDistance, allowSelfIntersection: true, finishOn: null,
      pathOptions: editStyle, templineStyle: editStyle, hintlineStyle: { ...editStyle, dashArray: '5,5' },
    });
    document.body.dataset.editing = 'drawing';
    this.snaps.start();
  }

  // edit starts editing a feature of col as it is now on the server.
  async edit(col, fid) {
    this.cancel();
    // With the token: a service on several databases' replicas answers an
    // editor from the primary, never from before its own last write.
    const res = await request('GET', itemURL(col.id, fid), { token: this.token });
    if (!res.ok) {
      this.flash(`${t('refused')} (${res.status}): ${problem(res)}`);
      return;
    }
    this.map.closePopup();
    this.begin(col, fid, res.doc, res.etag);
  }

  // begin opens the form over a shape to edit: a new one (fid null) or a
  // feature read with its ETag.
  async begin(col, fid, f, etag) {
    this.drawing = null;
    this.map.pm.disableDraw();
    this.identify.enabled = false;
    const session = { col, fid, etag, original: f, values: { ...(f.properties || {}) }, note: '', errors: {}, error: '' };
    this.session = session;
    // The feature as drawn on the map stays out of sight while its copy
    // is edited.
    const entry = this.state.layers.get(col.id);
    if (fid !== null && entry && entry.byId.has(fid)) {
      session.hidden = entry.byId.get(fid);
      entry.group.removeLayer(session.hidden);
    }
    // So is its copy among the snappable features: a vertex moved a
    // little would snap back to where it was.
    this.snaps.start(fid === null ? null : { col: col.id, fid });
    this.setShape(f.geometry);
    document.body.dataset.editing = fid === null ? 'new' : 'feature';
    try {
      session.schema = await this.schema(col.id);
    } catch (err) {
      session.error = `${t('loadFailed')}: ${failure(err)}`;
    }
    if (this.session !== session) return;
    this.renderForm();
    this.clearOfForm();
  }

  // clearOfForm pans the map so that the shape being edited, and the
  // refusal below it (up to 300 px wide), are not under the form, which
  // holds the right of the map.
  clearOfForm() {
    const s = this.session;
    const box = document.getElementById('edit-box');
    if (!s || !s.shape || !box || !s.shape.getBounds) return;
    const size = this.map.getSize();
    const free = size.x - box.offsetWidth - 30; // the map's width left of the form
    const b = s.shape.getBounds();
    const east = this.map.latLngToContainerPoint(b.getNorthEast()).x;
    const west = this.map.latLngToContainerPoint(b.getSouthWest()).x;
    const reach = Math.max(east, (east + west) / 2 + 160);
    if (reach <= free || free < 320) return;
    this.map.panBy([Math.min(reach - free, west - 20), 0], { animate: false });
  }

  async schema(id) {
    if (!this.schemas.has(id)) {
      const res = await request('GET', `${config.base}/collections/${encodeURIComponent(id)}/schema`);
      if (!res.ok) throw new Error(problem(res));
      this.schemas.set(id, res.doc);
    }
    return this.schemas.get(id);
  }

  // setShape puts the geometry on the map as the shape being edited: its
  // vertices movable, snapping to the features around it.
  setShape(geometry) {
    const s = this.session;
    if (s.shape) s.shape.remove();
    const group = L.geoJSON(geometry, { style: editStyle, pointToLayer: (_, ll) => L.marker(ll) });
    const shape = group.getLayers()[0];
    shape.addTo(this.map);
    if (shape.setStyle) shape.setStyle(editStyle);
    shape.pm.enable({ snappable: true, snapDistance, allowSelfIntersection: true, draggable: false });
    shape.on('pm:edit', () => this.clearShapeError());
    s.shape = shape;
  }

  // cut draws a hole in the shape being edited.
  cutHole() {
    const s = this.session;
    if (!s || !s.shape) return;
    const onCut = (e) => {
      this.map.off('pm:cut', onCut);
      if (e.originalLayer !== s.shape) return;
      const geometry = e.layer.toGeoJSON(15).geometry;
      e.layer.remove();
      s.shape = null;
      this.setShape(geometry);
      document.body.dataset.editing = s.fid === null ? 'new' : 'feature';
    };
    this.map.on('pm:cut', onCut);
    s.shape.pm.disable();
    this.map.pm.enableDraw('Cut', { layersToCut: [s.shape], snappable: true, snapDistance, allowSelfIntersection: false });
    document.body.dataset.editing = 'cutting';
  }

  geometry() {
    const s = this.session;
    return s.shape.toGeoJSON(15).geometry;
  }

  // cancel ends drawing or editing without saving.
  cancel() {
    if (this.drawing) { this.drawing.off(); this.drawing = null; }
    if (this.map.pm) { this.map.pm.disableDraw(); }
    this.snaps.stop();
    const s = this.session;
    this.session = null;
    if (s) {
      if (s.shape) s.shape.remove();
      if (s.theirs) s.theirs.remove();
      const entry = this.state.layers.get(s.col.id);
      if (s.hidden && entry && entry.byId.get(s.fid) === s.hidden && !entry.hidden.has(s.fid)) entry.group.addLayer(s.hidden);
    }
    const box = document.getElementById('edit-box');
    if (box) box.remove();
    this.identify.enabled = true;
    delete document.body.dataset.editing;
  }

  // layerDropped ends, unsaved, a drawing or an edit in layer id, which
  // is gone, and forgets the layer.
  layerDropped(id) {
    const s = this.session;
    if ((s && s.col.id === id) || (this.drawing && this.drawing.layer === id)) this.cancel();
    this.mayEdit.delete(id);
    this.schemas.delete(id);
  }

  // layersAdded offers the layers ids, created while a token is signed
  // in, for editing when the token may edit them, as signIn does.
  async layersAdded(ids) {
    const token = this.token;
    if (!token || !ids.length) return;
    const allowed = await Promise.all(ids.map((id) => mayCreate(id, token).catch(() => null)));
    if (token !== this.token) return; // signed out, or in again, meanwhile
    for (const id of allowed) if (id) this.mayEdit.add(id);
    this.renderPanel();
  }

  // layerRedeclared forgets layer id's schema: the next form reads the
  // new one.
  layerRedeclared(id) {
    this.schemas.delete(id);
  }

  // ---- the form ----

  // readForm keeps what is typed in the session, so that nothing is lost
  // when the form is drawn again (an error, a language change).
  readForm() {
    const s = this.session;
    const form = document.getElementById('edit-form');
    if (!s || !form) return;
    for (const input of form.querySelectorAll('[data-field]')) s.values[input.dataset.field] = input.value;
    const note = form.querySelector('#edit-note');
    if (note) s.note = note.value;
  }

  renderForm() {
    const s = this.session;
    if (!s) return;
    this.readForm();
    let box = document.getElementById('edit-box');
    if (!box) {
      box = el('div', { id: 'edit-box', class: 'pm-edit-box', role: 'dialog', 'aria-labelledby': 'edit-title' });
      document.getElementById('main').append(box);
    }
    const { col } = s;
    const title = s.fid === null ? `${t('newFeature')} · ${pick(col.titles)}` : `${t('editFeature')} #${s.fid} · ${pick(col.titles)}`;
    const form = el('form', { id: 'edit-form', novalidate: '' });
    form.addEventListener('submit', (e) => { e.preventDefault(); this.save(); });
    const tools = el('div', { class: 'edit-tools' });
    if (col.geometryType.includes('Polygon')) {
      const cut = el('button', { type: 'button', id: 'edit-cut', text: t('cutHole') });
      cut.addEventListener('click', () => this.cutHole());
      tools.append(cut);
    }
    tools.append(el('span', { class: 'note', text: t('shapeHint') }));
    form.append(tools);
    if (s.error) form.append(el('p', { id: 'edit-error', class: 'error', role: 'alert', text: s.error }));
    for (const { name, s: fs, required } of editable(s.schema, s.col)) {
      const id = `edit-f-${name}`;
      const value = s.values[name];
      let input;
      if (Array.isArray(fs.enum) || fs.type === 'boolean') {
        const values = fs.type === 'boolean' ? [true, false] : fs.enum;
        input = el('select', { id });
        input.append(el('option', { value: '', text: '—' }));
        for (const v of values) {
          const label = fs.type === 'boolean' ? t(v ? 'yes' : 'no') : valueLabel(name, v);
          input.append(el('option', { value: String(v), text: label }));
        }
        input.value = value === undefined || value === null ? '' : String(value);
      } else if (name === 'source' || name.startsWith('position_note')) {
        input = el('textarea', { id, rows: '2' });
        input.value = value === undefined || value === null ? '' : String(value);
      } else {
        const type = fs.type === 'integer' || fs.type === 'number' ? 'number' : fs.format === 'date' ? 'date' : 'text';
        input = el('input', { id, type });
        if (fs.type === 'integer') input.step = '1';
        if (fs.type === 'number') input.step = 'any';
        if (fs.format === 'date-time') input.placeholder = '2026-12-01T12:00:00Z';
        input.value = value === undefined || value === null ? '' : String(value);
      }
      input.dataset.field = name;
      input.dataset.type = fs.type || 'string';
      if (required) input.setAttribute('aria-required', 'true');
      const err = s.errors[name];
      const label = el('label', { for: id }, el('span', { text: fieldLabel(col, name) }),
        required ? el('abbr', { class: 'req', title: t('required'), text: ' *' }) : null,
        el('small', { class: 'fname', text: ` ${name}` }));
      const row = el('div', { class: `field${err ? ' invalid' : ''}`, 'data-row': name }, label, input);
      if (err) {
        input.setAttribute('aria-invalid', 'true');
        input.setAttribute('aria-describedby', `${id}-error`);
        row.append(el('p', { id: `${id}-error`, class: 'field-error', role: 'alert', text: err }));
      }
      form.append(row);
    }
    const note = el('textarea', { id: 'edit-note', rows: '2', placeholder: t('notePlaceholder') });
    note.value = s.note;
    form.append(el('div', { class: 'field' }, el('label', { for: 'edit-note', text: t('note') }), note));
    const save = el('button', { type: 'submit', id: 'edit-save', class: 'primary', text: t('save') });
    const cancel = el('button', { type: 'button', id: 'edit-cancel', text: t('cancel') });
    cancel.addEventListener('click', () => this.cancel());
    const buttons = el('div', { class: 'edit-buttons' }, save, cancel);
    if (s.fid !== null) {
      const del = el('button', { type: 'button', id: 'edit-delete', class: 'danger', text: t('deleteFeature') });
      del.addEventListener('click', () => this.confirmDelete(buttons, s.col, s.fid, s.etag));
      buttons.append(del);
    }
    form.append(buttons);
    const req = el('p', { class: 'note', text: `* ${t('required')}` });
    box.replaceChildren(el('h2', { id: 'edit-title', text: title }));
    if (s.conflict) box.append(this.conflictView());
    box.append(form, req);
  }

  // properties are the form's values, typed as the schema says; an empty
  // field is left out.
  properties() {
    const s = this.session;
    const out = {};
    for (const { name, s: fs } of editable(s.schema, s.col)) {
      const raw = s.values[name];
      if (raw === undefined || raw === null || raw === '') continue;
      let v = raw;
      if (typeof raw === 'string') {
        if (fs.type === 'integer' || fs.type === 'number') v = Number(raw);
        else if (fs.type === 'boolean') v = raw === 'true';
        if ((fs.type === 'integer' || fs.type === 'number') && !Number.isFinite(v)) v = raw; // the server says what is wrong
      }
      out[name] = v;
    }
    return out;
  }

  // save writes the feature: POST a new one, PUT a changed one with
  // If-Match of the version it was read at.
  async save(overwriteEtag) {
    const s = this.session;
    if (!s || !s.shape || this.saving) return;
    this.readForm();
    const body = { type: 'Feature', properties: this.properties(), geometry: this.geometry() };
    const isNew = s.fid === null;
    const etag = overwriteEtag || s.etag;
    this.saving = true;
    document.body.dataset.saving = '1';
    let res;
    try {
      res = isNew
        ? await request('POST', itemsURL(s.col.id), { token: this.token, body, note: s.note })
        : await request('PUT', itemURL(s.col.id, s.fid), { token: this.token, body, note: s.note, etag });
    } catch (err) {
      res = { status: 0, ok: false, doc: { detail: failure(err) } };
    } finally {
      this.saving = false;
      delete document.body.dataset.saving;
    }
    if (this.session !== s) return;
    if (res.ok) {
      const f = res.doc;
      this.cancel();
      this.put(s.col.id, f);
      this.flash(`${t('saved')}: ${pick(s.col.titles)} #${f.id}`);
      return;
    }
    if (res.status === 412) {
      await this.conflict(res.etag);
      return;
    }
    this.refused(res);
  }

  // refused shows a refusal where it belongs: at each field it names, on
  // the shape when it is about the geometry, and above the form always.
  refused(res) {
    const s = this.session;
    const detail = problem(res);
    s.errors = {};
    const names = new Set(editable(s.schema, s.col).map((f) => f.name));
    for (const line of detail.split('\n')) {
      const m = line.match(/property "([^"]+)"/);
      if (m && names.has(m[1])) s.errors[m[1]] = (s.errors[m[1]] ? `${s.errors[m[1]]}\n` : '') + explain(line);
    }
    const aboutShape = detail.split('\n').filter((line) => !/property "/.test(line) &&
      /ring|polygon|geometry|position|coordinate|line|hole|overlap|within|area|intersect/i.test(line));
    s.error = `${t('refused')} (${res.status}): ${detail}`;
    this.clearShapeError();
    if (aboutShape.length) {
      s.shape.bindTooltip(el('span', { class: 'pm-shape-error', text: `${t('shapeRefused')}\n${aboutShape.map(explain).join('\n')}` }),
        { permanent: true, direction: 'bottom', offset: [0, 8], className: 'pm-shape-error-tip' });
      // Below the shape, which stays in sight.
      const b = s.shape.getBounds ? s.shape.getBounds() : null;
      s.shape.openTooltip(b ? L.latLng(b.getSouth(), b.getCenter().lng) : undefined);
      if (s.shape.setStyle) s.shape.setStyle(errorStyle);
      s.shapeError = true;
    }
    this.renderForm();
    this.clearOfForm();
    const first = document.querySelector('#edit-box [aria-invalid="true"]');
    if (first) first.focus();
    else document.getElementById('edit-box').scrollTop = 0;
  }

  clearShapeError() {
    const s = this.session;
    if (!s || !s.shapeError) return;
    s.shape.unbindTooltip();
    if (s.shape.setStyle) s.shape.setStyle(editStyle);
    s.shapeError = false;
  }

  // ---- two editors on one feature ----

  // conflict shows the feature as it is on the server beside the form,
  // after a 412: the editor takes theirs or overwrites.
  async conflict(etag) {
    const s = this.session;
    const [cur, versions] = await Promise.all([
      request('GET', itemURL(s.col.id, s.fid), { token: this.token }),
      request('GET', `${itemURL(s.col.id, s.fid)}/versions`, { token: this.token }),
    ]);
    if (this.session !== s) return;
    if (!cur.ok) {
      s.error = `${t('refused')}: ${problem(cur)}`;
      this.renderForm();
      return;
    }
    const last = versions.ok && versions.doc.features && versions.doc.features[0];
    s.conflict = { theirs: cur.doc, etag: cur.etag || etag, by: last ? last['planmap:version'] : null };
    if (s.theirs) s.theirs.remove();
    s.theirs = L.geoJSON(cur.doc.geometry, {
      interactive: false, pmIgnore: true, snapIgnore: true,
      style: { color: '#e08000', weight: 3, dashArray: '6,6', fill: false, className: 'pm-theirs' },
      pointToLayer: (_, ll) => L.circleMarker(ll, { radius: 9, pmIgnore: true, snapIgnore: true }),
    }).addTo(this.map);
    s.error = '';
    this.renderForm();
    document.getElementById('edit-conflict').focus();
  }

  conflictView() {
    const s = this.session;
    const c = s.conflict;
    this.readForm();
    const mine = this.properties();
    const theirs = c.theirs.properties || {};
    const box = el('section', { id: 'edit-conflict', class: 'conflict', tabindex: '-1', role: 'alert' });
    box.append(el('h3', { text: t('conflictTitle') }));
    if (c.by) {
      const who = c.by.author || t('directEdit');
      box.append(el('p', { text: `${t('changedBy')} ${who} · ${when(c.by.from)}${c.by.note ? ` · “${c.by.note}”` : ''}` }));
    }
    const table = el('table', {}, el('thead', {}, el('tr', {},
      el('th', { text: t('field') }), el('th', { text: t('yours') }), el('th', { text: t('theirs') }))));
    const body = el('tbody');
    for (const { name } of editable(s.schema, s.col)) {
      const differ = !sameValue(mine[name], theirs[name]);
      body.append(el('tr', { class: differ ? 'differs' : '' }, el('th', { text: fieldLabel(s.col, name) }),
        el('td', { text: shown(name, mine[name]) }), el('td', { text: shown(name, theirs[name]) })));
    }
    const sameShape = JSON.stringify(this.geometry()) === JSON.stringify(c.theirs.geometry);
    body.append(el('tr', { class: sameShape ? '' : 'differs' }, el('th', { text: t('editShape') }),
      el('td', { colspan: '2', text: sameShape ? t('shapeSame') : t('shapeDiffers') })));
    table.append(body);
    const reload = el('button', { type: 'button', id: 'conflict-reload', text: t('takeTheirs') });
    reload.addEventListener('click', () => {
      s.values = { ...(c.theirs.properties || {}) };
      s.etag = c.etag;
      s.conflict = null;
      s.errors = {};
      if (s.theirs) { s.theirs.remove(); s.theirs = null; }
      this.setShape(c.theirs.geometry);
      document.getElementById('edit-form').remove(); // not read back: theirs replaces it
      this.renderForm();
    });
    const overwrite = el('button', { type: 'button', id: 'conflict-overwrite', class: 'danger', text: t('overwrite') });
    overwrite.addEventListener('click', () => {
      s.etag = c.etag;
      s.conflict = null;
      if (s.theirs) { s.theirs.remove(); s.theirs = null; }
      this.save(c.etag);
    });
    box.append(table, el('div', { class: 'edit-buttons' }, reload, overwrite));
    return box;
  }

  // ---- delete ----

  // confirmDelete asks in place, then deletes with If-Match.
  confirmDelete(where, col, fid, etag) {
    const old = where.querySelector('.confirm');
    if (old) old.remove();
    const yes = el('button', { type: 'button', class: 'danger', id: 'delete-yes', text: t('deleteYes') });
    const no = el('button', { type: 'button', id: 'delete-no', text: t('cancel') });
    const ask = el('div', { class: 'confirm', role: 'alertdialog' }, el('p', { text: t('deleteAsk') }), yes, ' ', no);
    no.addEventListener('click', () => ask.remove());
    yes.addEventListener('click', async () => {
      let tag = etag;
      if (!tag) {
        const cur = await request('GET', itemURL(col.id, fid), { token: this.token });
        tag = cur.etag;
      }
      const res = await request('DELETE', itemURL(col.id, fid), { token: this.token, etag: tag });
      if (res.ok) {
        if (this.session && this.session.fid === fid) this.cancel();
        this.map.closePopup();
        this.drop(col.id, fid);
        this.flash(`${t('deleted')}: ${pick(col.titles)} #${fid}`);
        return;
      }
      ask.replaceChildren(el('p', { class: 'error', role: 'alert', text: `${t('refused')} (${res.status}): ${problem(res)}` }));
    });
    where.append(ask);
    yes.focus();
  }

  // ---- the popup: history, and the editor's buttons ----

  // decorate adds to a feature's popup its history and, for an editor of
  // its layer, Edit and Delete.
  decorate(col, f) {
    if (!this.supported) return null;
    const box = el('div', { class: 'pm-edit-actions' });
    if (this.token && this.mayEdit.has(col.id)) {
      const edit = el('button', { type: 'button', class: 'pm-edit-feature', text: t('editFeature') });
      edit.addEventListener('click', () => this.edit(col, f.id));
      const del = el('button', { type: 'button', class: 'pm-delete-feature danger', text: t('deleteFeature') });
      del.addEventListener('click', () => this.confirmDelete(box, col, f.id, null));
      box.append(edit, ' ', del, ' ');
    }
    const hist = el('button', { type: 'button', class: 'pm-history-toggle', 'aria-expanded': 'false', text: t('history') });
    const list = el('div', { class: 'pm-history', hidden: '' });
    hist.addEventListener('click', async () => {
      const open = list.hidden;
      list.hidden = !open;
      hist.setAttribute('aria-expanded', String(open));
      if (open) await this.history(list, col, f);
      this.identify.update(true);
    });
    box.append(hist, list);
    return box;
  }

  // history lists a feature's versions, newest first: who, when, what,
  // why and what changed; an editor restores one in a click.
  async history(list, col, f) {
    list.replaceChildren(el('p', { class: 'note', text: t('loading') }));
    const res = await request('GET', `${itemURL(col.id, f.id)}/versions`);
    if (!res.ok) {
      list.replaceChildren(el('p', { class: 'error', text: problem(res) }));
      return;
    }
    const vs = res.doc.features || [];
    const ol = el('ol', { class: 'pm-versions' });
    vs.forEach((v, i) => {
      const meta = v['planmap:version'] || {};
      const older = vs[i + 1];
      const op = t('ops')[meta.op] || meta.op;
      const li = el('li', { 'data-version': String(meta.number) },
        el('p', { class: 'pm-version-head' },
          el('strong', { text: `${t('version')} ${meta.number}` }), ` · ${op} · `,
          el('span', { class: 'pm-author', text: meta.author || t('directEdit') }), ` · ${when(meta.from)}`,
          i === 0 && !meta.to ? el('span', { class: 'pm-current', text: ` · ${t('current')}` }) : null));
      if (meta.note) li.append(el('p', { class: 'pm-note', text: `“${meta.note}”` }));
      if (older && v.geometry && older.geometry) {
        const what = changes(col, v, older);
        const changed = el('ul', { class: 'pm-changed', 'aria-label': t('changed') });
        for (const w of what.length ? what : [t('nothing')]) changed.append(el('li', { text: w }));
        li.append(changed);
      }
      if (i > 0 && v.geometry && this.token && this.mayEdit.has(col.id)) {
        const restore = el('button', { type: 'button', class: 'pm-restore', text: t('restore') });
        restore.addEventListener('click', () => this.restore(li, col, f.id, v, meta.number));
        li.append(restore);
      }
      ol.append(li);
    });
    list.replaceChildren(ol);
  }

  // restore writes an old version back: a PUT of its properties and
  // geometry, If-Match the feature as it is now.
  async restore(li, col, fid, v, number) {
    const cur = await request('GET', itemURL(col.id, fid));
    const body = { type: 'Feature', properties: v.properties || {}, geometry: v.geometry };
    const res = cur.ok
      ? await request('PUT', itemURL(col.id, fid), { token: this.token, body, etag: cur.etag, note: `${t('restoredNote')} ${number}` })
      : cur;
    if (!res.ok) {
      li.append(el('p', { class: 'error', role: 'alert', text: `${t('refused')} (${res.status}): ${problem(res)}` }));
      this.identify.update();
      return;
    }
    this.put(col.id, res.doc);
    this.flash(`${t('restored')}: ${pick(col.titles)} #${fid} → ${t('version')} ${number}`);
  }

  // flash says briefly what was done.
  flash(text) {
    let box = document.getElementById('edit-notice');
    if (!box) {
      box = el('div', { id: 'edit-notice', role: 'status', 'aria-live': 'polite' });
      document.body.append(box);
    }
    box.textContent = text;
    box.hidden = false;
    clearTimeout(this.flashTimer);
    this.flashTimer = setTimeout(() => { box.hidden = true; }, 6000);
  }
}
