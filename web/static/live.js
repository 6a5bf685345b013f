// Live: the map follows what others change (an import, an edit in QGIS
// or over the API) without a reload. One server-sent event stream carries
// the changes of every layer (/changes/stream): one connection per map,
// never one per layer. EventSource reconnects by itself and the server
// resumes after the last change it sent (Last-Event-ID), so none is
// missed and none comes twice. Changes are gathered for a moment and
// handed on by layer, so that an import of many features is one refresh.

import { config } from './config.js';
import { el } from './dom.js';

// gatherFor is how long changes are gathered before they are handed on:
// short against the two seconds within which an edit should show.
const gatherFor = 250;
// reopenAfter: when the server refuses the stream (it is starting, say),
// EventSource gives up; the map tries again this much later.
const reopenAfter = 5000;
// noticeFor is how long the notice of an update stays.
const noticeFor = 6000;

export class Live {
  // apply(byLayer, reset) brings the map up to date: byLayer maps a layer
  // id to {ids: Map(feature id → last op), whole: bool}; reset says every
  // layer is to be read again. It returns a promise; calls never overlap.
  constructor(apply) {
    this.apply = apply;
    this.source = null;
    this.last = ''; // the id of the last event received
    this.pending = new Map();
    this.reset = false;
    this.timer = null;
    this.queue = Promise.resolve();
    this.noticeTimer = null;
  }

  start() {
    if (this.source || typeof EventSource === 'undefined') return;
    const since = this.last ? `?since=${encodeURIComponent(this.last)}` : '';
    const source = new EventSource(`${config.base}/changes/stream${since}`);
    this.source = source;
    const seen = (e) => { if (e.lastEventId) this.last = e.lastEventId; };
    source.addEventListener('change', (e) => {
      seen(e);
      let c;
      try { c = JSON.parse(e.data); } catch (_) { return; }
      this.add(c);
    });
    source.addEventListener('reset', (e) => { seen(e); this.reset = true; this.schedule(); });
    source.addEventListener('ready', (e) => { seen(e); document.body.dataset.live = 'open'; });
    source.addEventListener('error', () => {
      if (source.readyState !== EventSource.CLOSED) {
        document.body.dataset.live = 'reconnecting';
        return; // EventSource tries again by itself
      }
      document.body.dataset.live = 'closed';
      this.source = null;
      setTimeout(() => this.start(), reopenAfter);
    });
  }

  add(c) {
    if (!c || typeof c.collection !== 'string') return;
    let layer = this.pending.get(c.collection);
    if (!layer) {
      layer = { ids: new Map(), whole: false };
      this.pending.set(c.collection, layer);
    }
    if (c.op === 'layer') layer.whole = true;
    else layer.ids.set(c.id, c.op);
    this.schedule();
  }

  schedule() {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const byLayer = this.pending;
      const reset = this.reset;
      this.pending = new Map();
      this.reset = false;
      this.queue = this.queue.then(() => this.apply(byLayer, reset)).catch((err) => console.warn('planmap: live update', err));
    }, gatherFor);
  }

  // notice says briefly what changed, as text: layer titles are data.
  notice(text) {
    let box = document.getElementById('live-notice');
    if (!box) {
      box = el('div', { id: 'live-notice', role: 'status', 'aria-live': 'polite' });
      document.body.append(box);
    }
    box.textContent = text;
    box.hidden = false;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => { box.hidden = true; }, noticeFor);
  }
}
