// Small DOM helpers shared by the map's modules.

// el makes an element whose text is set as text, never as markup: every
// name and sentence on this map was typed by someone.
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

export const $ = (id) => document.getElementById(id);
