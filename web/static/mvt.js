// A tile source for protomaps-leaflet that reads the server's Mapbox
// Vector Tiles (MVT 2.1: protocol buffers) itself. It gives each feature
// as protomaps-leaflet's own parser does (id, geomType, geom in the
// tile's pixels, numVertices, bbox, props), but reads each feature once:
// protomaps-leaflet 5 builds a feature anew, its properties with it, for
// each of the five fields it takes (@mapbox/vector-tile's
// layer.feature(i)), and that was a quarter of the page's work on a dense
// view. It also says a refused tile is refused, where the parser would
// read an error's JSON as a tile.

// A point of a feature's geometry. protomaps-leaflet reads x and y, and
// moves and scales a tile's points (transformGeom, when it draws a tile
// of a lower zoom larger) with clone, mult and add. Its labelers call
// more of @mapbox/point-geometry's methods (dist): the map has no label
// rules on tiles; one would need them here.
class TilePoint {
  constructor(x, y) {
    this.x = x;
    this.y = y;
  }

  clone() {
    return new TilePoint(this.x, this.y);
  }

  mult(k) {
    return new TilePoint(this.x * k, this.y * k);
  }

  add(p) {
    return new TilePoint(this.x + p.x, this.y + p.y);
  }
}

const utf8 = new TextDecoder();

// Reader reads protocol buffer fields from bytes.
class Reader {
  constructor(bytes) {
    this.b = bytes;
    this.pos = 0;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  // varint reads an unsigned varint as a number, exact up to 2^53 (ids,
  // lengths, geometry commands).
  varint() {
    const b = this.b;
    let x = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= b.length) throw new Error('vector tile: cut short');
      const c = b[this.pos++];
      // Bit operations are 32-bit: past 28 bits, multiply.
      x += shift < 28 ? (c & 0x7f) << shift : (c & 0x7f) * 2 ** shift;
      if (c < 0x80) return x;
      shift += 7;
      if (shift > 63) throw new Error('vector tile: a varint longer than 10 bytes');
    }
  }

  // bigVarint reads an unsigned varint whole (a 64-bit value: the
  // integers of a property's value).
  bigVarint() {
    let x = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.b.length) throw new Error('vector tile: cut short');
      const c = this.b[this.pos++];
      x |= BigInt(c & 0x7f) << shift;
      if (c < 0x80) return BigInt.asUintN(64, x);
      shift += 7n;
      if (shift > 63n) throw new Error('vector tile: a varint longer than 10 bytes');
    }
  }

  // fixed moves past n bytes of a fixed-size field that must end by end,
  // and returns where they begin.
  fixed(n, end = this.b.length) {
    const at = this.pos;
    if (at + n > end) throw new Error('vector tile: cut short');
    this.pos += n;
    return at;
  }

  string() {
    const end = this.end();
    return utf8.decode(this.b.subarray(this.pos, (this.pos = end)));
  }

  // end reads a length and returns where the field it begins ends.
  end() {
    const n = this.varint();
    const end = this.pos + n;
    if (end > this.b.length) throw new Error('vector tile: cut short');
    return end;
  }

  skip(wire) {
    switch (wire) {
      case 0: this.varint(); break;
      case 1: this.fixed(8); break;
      case 2: this.pos = this.end(); break;
      case 5: this.fixed(4); break;
      default: throw new Error(`vector tile: unknown wire type ${wire}`);
    }
  }
}

// value reads a Value message (tile.proto's: one of string, float,
// double, int64, uint64, sint64, bool), ending at end.
function value(r, end) {
  let v = null;
  while (r.pos < end) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | 2: v = r.string(); break;
      case (2 << 3) | 5: v = r.view.getFloat32(r.fixed(4, end), true); break;
      case (3 << 3) | 1: v = r.view.getFloat64(r.fixed(8, end), true); break;
      case (4 << 3) | 0: v = Number(BigInt.asIntN(64, r.bigVarint())); break;
      case (5 << 3) | 0: v = Number(r.bigVarint()); break;
      case (6 << 3) | 0: {
        const n = r.bigVarint();
        v = Number((n >> 1n) ^ -(n & 1n));
        break;
      }
      case (7 << 3) | 0: v = r.varint() !== 0; break;
      default: r.skip(tag & 7);
    }
  }
  return v;
}

// feature reads the Feature message from start to end, its properties
// from the layer's keys and values, its points scaled by scale (pixels a
// tile unit). A feature without a geometry has nothing to draw: null.
function feature(r, start, end, keys, values, scale) {
  r.pos = start;
  let id;
  let type = 0;
  let geomAt = -1;
  let geomEnd = -1;
  const props = {};
  while (r.pos < end) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | 0: id = r.varint(); break;
      case (2 << 3) | 2: {
        const e = r.end();
        while (r.pos < e) {
          const k = keys[r.varint()];
          const v = values[r.varint()];
          // Strict where protomaps-leaflet's parser is not: such a tile
          // was not written by our server whole.
          if (k === undefined || v === undefined) throw new Error('vector tile: a tag names no key or value of its layer');
          props[k] = v;
        }
        break;
      }
      case (3 << 3) | 0: type = r.varint(); break;
      case (4 << 3) | 2: geomEnd = r.end(); geomAt = r.pos; r.pos = geomEnd; break;
      default: r.skip(tag & 7);
    }
  }
  if (geomAt < 0) return null;
  // The commands (MoveTo 1, LineTo 2, ClosePath 7) as protomaps-leaflet
  // reads them: a MoveTo begins a ring or line, a ClosePath repeats its
  // first point.
  r.pos = geomAt;
  const geom = [];
  let ring = [];
  let cmd = 1;
  let count = 0;
  let x = 0;
  let y = 0;
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  let n = 0;
  while (r.pos < geomEnd) {
    if (count <= 0) {
      const c = r.varint();
      cmd = c & 7;
      count = c >>> 3;
    }
    count--;
    if (cmd === 1 || cmd === 2) {
      const dx = r.varint();
      const dy = r.varint();
      x += ((dx >>> 1) ^ -(dx & 1)) * scale;
      y += ((dy >>> 1) ^ -(dy & 1)) * scale;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      if (cmd === 1) {
        if (ring.length > 0) geom.push(ring);
        ring = [];
      }
      ring.push(new TilePoint(x, y));
      n++;
    } else if (cmd === 7) {
      if (ring.length > 0) {
        ring.push(ring[0].clone());
        n++;
      }
    } else {
      throw new Error(`vector tile: unknown geometry command ${cmd}`);
    }
  }
  geom.push(ring);
  return { id, geomType: type, geom, numVertices: n, bbox: { minX, minY, maxX, maxY }, props };
}

// layer reads the Layer message that ends at end: its name and features.
// A layer's keys and values may follow its features: they are read
// first, the features after.
function layer(r, end, tileSize) {
  let name = '';
  let extent = 4096;
  const keys = [];
  const values = [];
  const at = []; // start, end of each feature
  while (r.pos < end) {
    const tag = r.varint();
    switch (tag) {
      case (1 << 3) | 2: name = r.string(); break;
      case (2 << 3) | 2: {
        const e = r.end();
        at.push(r.pos, e);
        r.pos = e;
        break;
      }
      case (3 << 3) | 2: keys.push(r.string()); break;
      case (4 << 3) | 2: values.push(value(r, r.end())); break;
      case (5 << 3) | 0: extent = r.varint(); break;
      default: r.skip(tag & 7);
    }
  }
  const scale = tileSize / extent;
  const features = [];
  for (let i = 0; i < at.length; i += 2) {
    const f = feature(r, at[i], at[i + 1], keys, values, scale);
    if (f) features.push(f);
  }
  r.pos = end;
  return [name, features];
}

// decodeTile reads an MVT into a map of layer name to features, in the
// shape protomaps-leaflet draws and queries, at tileSize pixels a tile.
export function decodeTile(bytes, tileSize) {
  const r = new Reader(bytes);
  const out = new Map();
  while (r.pos < bytes.length) {
    const tag = r.varint();
    if (tag === ((3 << 3) | 2)) {
      const [name, features] = layer(r, r.end(), tileSize);
      // A layer without features is left out, as @mapbox/vector-tile
      // leaves it.
      if (features.length > 0) out.set(name, features);
    } else {
      r.skip(tag & 7);
    }
  }
  return out;
}

// TileSource fetches tiles from a URL template ({z}, {x}, {y}) and reads
// them, for a protomaps-leaflet TileCache. As protomaps-leaflet's own
// source does, asking for a tile of another zoom gives up the tiles still
// on their way (the map has zoomed past them; protomaps-leaflet takes
// the AbortError as such).
export class TileSource {
  constructor(url) {
    this.url = url;
    this.pending = new Set(); // {z, controller}
  }

  async get(c, tileSize) {
    for (const p of this.pending) {
      if (p.z !== c.z) {
        p.controller.abort();
        this.pending.delete(p);
      }
    }
    const p = { z: c.z, controller: new AbortController() };
    this.pending.add(p);
    try {
      const url = this.url.replace('{z}', c.z).replace('{x}', c.x).replace('{y}', c.y);
      const res = await fetch(url, { signal: p.controller.signal });
      if (res.status === 204) return new Map(); // an empty tile
      if (!res.ok) throw new Error(`tile ${c.z}/${c.x}/${c.y}: ${res.status} ${res.statusText}`);
      return decodeTile(new Uint8Array(await res.arrayBuffer()), tileSize);
    } finally {
      this.pending.delete(p);
    }
  }
}
