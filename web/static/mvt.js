// A tile source for protomaps-leaflet that reads the server's Mapbox
// Vector Tiles (MVT 2.1: protocol buffers) itself. It gives each feature
// in the shape protomaps-leaflet's painter and tile cache take (id,
// geomType, geom, numVertices, bbox in the tile's pixels, props), but
// reads each feature once: protomaps-leaflet 5 builds a feature anew,
// its properties with it, for each of the five fields it takes
// (@mapbox/vector-tile's layer.feature(i)), and that was a quarter of the
// page's work on a dense view. A feature's geom is a Shape, not arrays
// of points: a tile's coordinates are one array, which the garbage
// collector moves as one, where a dense tile's points were 45,000
// objects. So protomaps-leaflet's own symbolizers and queries, which
// take arrays of points, are not used on these features: tiles.js
// draws them and finds them under the mouse. It also says a refused tile
// is refused, where the parser would read an error's JSON as a tile.

// Coords are the points of a tile layer's features, in the tile's
// pixels: point i at xy[2i], xy[2i+1]; run (a ring, a line or a point) k
// is points starts[k] up to starts[k+1]. The arrays grow as the layer is
// read and are cut to size at its end.
class Coords {
  constructor() {
    this.xy = new Float32Array(4096);
    this.n = 0; // points
    this.starts = [0];
  }

  push(x, y) {
    if (2 * this.n + 2 > this.xy.length) {
      const grown = new Float32Array(2 * this.xy.length);
      grown.set(this.xy);
      this.xy = grown;
    }
    this.xy[2 * this.n] = x;
    this.xy[2 * this.n + 1] = y;
    this.n++;
  }

  // run ends the run begun at the last start, if it has points.
  run() {
    if (this.n > this.starts[this.starts.length - 1]) this.starts.push(this.n);
  }

  done() {
    this.xy = this.xy.slice(0, 2 * this.n);
  }
}

// Shape is a feature's geometry: runs r0 up to r1 of its layer's Coords.
// A closed ring ends with its first point again, a point is a run of
// one.
class Shape {
  constructor(coords, r0, r1) {
    this.c = coords;
    this.r0 = r0;
    this.r1 = r1;
  }

  // rings returns the runs as arrays of {x, y}, as protomaps-leaflet's
  // parser gives a geometry: how the tests compare the two readers.
  rings() {
    const { xy, starts } = this.c;
    const out = [];
    for (let k = this.r0; k < this.r1; k++) {
      const ring = [];
      for (let i = starts[k]; i < starts[k + 1]; i++) ring.push({ x: xy[2 * i], y: xy[2 * i + 1] });
      out.push(ring);
    }
    return out;
  }

  // trace adds the runs to a path (a Path2D or a canvas context) as lines
  // from point to point.
  trace(p) {
    const { xy, starts } = this.c;
    for (let k = this.r0; k < this.r1; k++) {
      let i = starts[k];
      const end = starts[k + 1];
      p.moveTo(xy[2 * i], xy[2 * i + 1]);
      for (i++; i < end; i++) p.lineTo(xy[2 * i], xy[2 * i + 1]);
    }
  }

  // points calls fn(x, y) with the first point of each run: a
  // multipoint's points.
  points(fn) {
    const { xy, starts } = this.c;
    for (let k = this.r0; k < this.r1; k++) fn(xy[2 * starts[k]], xy[2 * starts[k] + 1]);
  }

  // contains reports whether x, y lies inside the rings, read as MVT
  // writes polygons: a ring clockwise on screen (of positive area with y
  // down) begins a polygon, the anticlockwise ones after it are its
  // holes.
  contains(x, y) {
    const { xy, starts } = this.c;
    let inside = false;
    for (let k = this.r0; k < this.r1; k++) {
      const a = starts[k];
      const b = starts[k + 1];
      let area = 0;
      let crossings = false;
      for (let i = a, j = b - 1; i < b; j = i++) {
        const xi = xy[2 * i];
        const yi = xy[2 * i + 1];
        const xj = xy[2 * j];
        const yj = xy[2 * j + 1];
        area += xj * yi - xi * yj;
        if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) crossings = !crossings;
      }
      if (area >= 0) {
        // An outer ring: the polygon before it held the point, or this one
        // may.
        if (inside) return true;
        inside = crossings;
      } else if (crossings) {
        inside = false;
      }
    }
    return inside;
  }

  // distance is how far x, y lies from the runs: from their segments, or
  // from a run of one point, that point.
  distance(x, y) {
    const { xy, starts } = this.c;
    let min = Infinity;
    for (let k = this.r0; k < this.r1; k++) {
      const a = starts[k];
      const b = starts[k + 1];
      if (b - a === 1) min = Math.min(min, Math.hypot(x - xy[2 * a], y - xy[2 * a + 1]));
      for (let i = a; i + 1 < b; i++) {
        min = Math.min(min, segmentDistance(x, y, xy[2 * i], xy[2 * i + 1], xy[2 * i + 2], xy[2 * i + 3]));
      }
    }
    return min;
  }
}

// segmentDistance is how far x, y lies from the segment x0, y0 to x1, y1.
function segmentDistance(x, y, x0, y0, x1, y1) {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / len2));
  return Math.hypot(x - (x0 + t * dx), y - (y0 + t * dy));
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
// tile unit) into coords. A feature without a geometry has nothing to
// draw: null.
function feature(r, start, end, keys, values, scale, coords) {
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
  const r0 = coords.starts.length - 1;
  const p0 = coords.n;
  let cmd = 1;
  let count = 0;
  let x = 0;
  let y = 0;
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  let first = -1; // the point the run began with
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
        coords.run();
        first = coords.n;
      }
      coords.push(x, y);
    } else if (cmd === 7) {
      if (first >= 0 && coords.n > first) coords.push(coords.xy[2 * first], coords.xy[2 * first + 1]);
    } else {
      throw new Error(`vector tile: unknown geometry command ${cmd}`);
    }
  }
  coords.run();
  const geom = new Shape(coords, r0, coords.starts.length - 1);
  return { id, geomType: type, geom, numVertices: coords.n - p0, bbox: { minX, minY, maxX, maxY }, props };
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
  const coords = new Coords();
  for (let i = 0; i < at.length; i += 2) {
    const f = feature(r, at[i], at[i + 1], keys, values, scale, coords);
    if (f) features.push(f);
  }
  coords.done();
  r.pos = end;
  return [name, features];
}

// decodeTile reads an MVT into a map of layer name to features, at
// tileSize pixels a tile.
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
