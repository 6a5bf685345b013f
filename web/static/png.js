// Save as PNG: a sheet (the map's print layout, or a plot sheet) drawn
// into a PNG of the whole paper at print resolution. The browser lays the
// sheet out and draws it itself: modern-screenshot (from npm, see the
// Makefile) copies the sheet with its computed styles into an SVG
// foreignObject, which the browser paints onto a canvas, so the PNG shows
// what the sheet shows: its fonts, the map's SVG and canvas layers, the
// legend's swatches. Nothing is fetched from elsewhere: the snapshot is a
// data: image (hence img-src data: in the Content-Security-Policy).

// dpi is the PNG's resolution: A4 is 1488×2105 pixels, A3 2105×2976.
export const dpi = 180;

const mmPerInch = 25.4;
const cssDPI = 96; // CSS pixels per inch, by definition

// pixels is a length in millimetres on paper in the PNG's pixels.
export const pixels = (mm) => Math.round(mm / mmPerInch * dpi);

// patternRef finds the element an SVG paint refers to: fill="url(#id)".
const patternRef = /^url\(\s*["']?#([^"')\s]+)["']?\s*\)$/;

// borrowDefs copies into clone (the snapshot of node) the SVG paint
// servers that node's shapes use but that live outside it, such as the
// map's hatch patterns (style.js keeps them in a <defs> of the page's
// own): without them those fills would be empty in the snapshot.
function borrowDefs(node, clone) {
  const ids = new Set();
  for (const e of node.querySelectorAll('[fill^="url("], [stroke^="url("]')) {
    for (const a of ['fill', 'stroke']) {
      const m = patternRef.exec(e.getAttribute(a) || '');
      if (m) ids.add(m[1]);
    }
  }
  const found = [...ids].map((id) => document.getElementById(id)).filter((d) => d && !node.contains(d));
  if (!found.length) return;
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', '0');
  svg.setAttribute('height', '0');
  svg.setAttribute('aria-hidden', 'true');
  svg.style.position = 'absolute';
  const defs = document.createElementNS(ns, 'defs');
  defs.append(...found.map((d) => d.cloneNode(true)));
  svg.append(defs);
  clone.append(svg);
}

// rebalance lets the multi-column lists of clone (a legend) find their
// height again. The snapshot copies every element's height to the pixel,
// and a list balanced into columns at one height can, drawn again at a
// rounded one, leave its last item no room and open a column more, over
// what stands beside it.
function rebalance(clone) {
  for (const e of [clone, ...clone.querySelectorAll('*')]) {
    const s = e.style;
    if (s && ((s.columnCount && s.columnCount !== 'auto') || (s.columnWidth && s.columnWidth !== 'auto'))) s.height = 'auto';
  }
}

// sheetPNG draws node onto a white paper of size [w, h] millimetres, its
// top left corner at [x, y] millimetres from the paper's, and returns the
// PNG. skip(el) leaves out elements that show on screen but not on paper.
export async function sheetPNG(node, { paper: [w, h], at: [x, y], skip = () => false }) {
  const { domToCanvas } = await import('./vendor/modern-screenshot/modern-screenshot.js');
  const shot = await domToCanvas(node, {
    scale: dpi / cssDPI,
    backgroundColor: '#ffffff',
    // Images from elsewhere (a tile base map) cannot be copied: the
    // page's policy allows fetches from its own origin only.
    filter: (n) => !(n instanceof Element) || (!skip(n) && !(n instanceof HTMLImageElement && new URL(n.src, location.href).origin !== location.origin)),
    onCloneNode: (clone) => {
      borrowDefs(node, clone);
      rebalance(clone);
    },
    // No web fonts to embed: the sheets use the system's fonts. (Looking
    // for them would put a <style> element in a scratch document, which
    // the page's policy blocks, and the snapshot would fail.)
    font: false,
  });
  const canvas = document.createElement('canvas');
  canvas.width = pixels(w);
  canvas.height = pixels(h);
  const g = canvas.getContext('2d');
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.drawImage(shot, pixels(x), pixels(y));
  const png = await new Promise((resolve, reject) => {
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the browser made no PNG'))), 'image/png');
  });
  return withResolution(png);
}

// crcTable is PNG's CRC-32 (ISO 3309) by byte.
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// withResolution puts a pHYs chunk saying dpi into the PNG, right after
// its header (IHDR, which ends at byte 33), so that a viewer or printer
// shows the sheet at its paper's size. The canvas writes none.
async function withResolution(png) {
  const bytes = new Uint8Array(await png.arrayBuffer());
  const chunk = new Uint8Array(21);
  const v = new DataView(chunk.buffer);
  const perMetre = Math.round(dpi / 0.0254);
  v.setUint32(0, 9); // length of the data
  chunk.set([0x70, 0x48, 0x59, 0x73], 4); // "pHYs"
  v.setUint32(8, perMetre);
  v.setUint32(12, perMetre);
  chunk[16] = 1; // the unit is the metre
  v.setUint32(17, crc32(chunk.subarray(4, 17)));
  return new Blob([bytes.subarray(0, 33), chunk, bytes.subarray(33)], { type: 'image/png' });
}

// savePNG offers blob as a download named name.
export function savePNG(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
