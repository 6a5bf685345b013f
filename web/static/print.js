// The print layout: the map as one sheet of A4 or A3, portrait or
// landscape, with an editable title, the legend of what is drawn, the
// scale bar and north arrow (the map's own controls), the date, the data
// source and the disclaimer, in the interface language. The map element
// itself moves into the sheet while it shows, so that what prints is the
// live map at the sheet's size; the panels are hidden. "Save as PNG"
// draws the same sheet on the same paper (png.js).

import { $ } from './dom.js';
import { lang, t } from './i18n.js';
import { savePNG, sheetPNG } from './png.js';

// Paper sizes in millimetres, portrait.
const papers = { A4: [210, 297], A3: [297, 420] };
// The page's margin, and a millimetre kept free so that rounding never
// spills the sheet onto a second page.
const margin = 8;
const slack = 1;
// What shows on the sheet on screen but is hidden on paper (style.css,
// @media print): the PNG leaves it out too.
const notPrinted = '.leaflet-control-zoom, .pm-coords, .leaflet-bar:has(.pm-whole)';

export class PrintLayout {
  // legend(box) fills box with the legend of what the map draws now.
  constructor(map, { legend }) {
    this.map = map;
    this.legend = legend;
    this.active = false;
    this.home = null; // where the map element lives when not printing
    // The page size has to be a @page rule; a constructed style sheet is
    // CSSOM, which the page's Content-Security-Policy allows.
    this.sheet = new CSSStyleSheet();
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, this.sheet];
    $('print-open').addEventListener('click', () => this.enter());
    $('print-close').addEventListener('click', () => this.leave());
    $('print-go').addEventListener('click', () => window.print());
    $('print-png').addEventListener('click', () => this.png());
    $('print-title').addEventListener('input', () => { $('print-heading').textContent = $('print-title').value; });
    for (const id of ['print-paper', 'print-orientation']) $(id).addEventListener('change', () => this.layout());
    // Printing the map page without opening the layout first prints it
    // too, with the last choices, and puts the page back afterwards.
    window.addEventListener('beforeprint', () => { if (!this.active) { this.enter(); this.auto = true; } });
    window.addEventListener('afterprint', () => { if (this.auto) { this.auto = false; this.leave(); } });
  }

  enter() {
    if (this.active) return;
    this.active = true;
    const el = this.map.getContainer();
    this.view = this.map.getBounds();
    this.home = { parent: el.parentNode, next: el.nextSibling };
    this.map.closePopup();
    $('print-map').append(el);
    if (!$('print-title').value) $('print-title').value = t('title');
    $('print-bar').hidden = false;
    $('print-sheet').hidden = false;
    document.body.classList.add('printing');
    this.refresh();
    this.layout();
  }

  leave() {
    if (!this.active) return;
    this.active = false;
    const el = this.map.getContainer();
    this.home.parent.insertBefore(el, this.home.next);
    document.body.classList.remove('printing');
    $('print-bar').hidden = true;
    $('print-sheet').hidden = true;
    this.sheet.replaceSync('');
    this.map.invalidateSize();
    this.map.fitBounds(this.view, { animate: false });
    $('print-open').focus();
  }

  // layout sizes the sheet to the paper chosen, and the map to the sheet,
  // showing what the screen showed.
  layout() {
    const landscape = $('print-orientation').value === 'landscape';
    const [pw, ph] = this.paper();
    this.sheet.replaceSync(`@page { size: ${$('print-paper').value} ${landscape ? 'landscape' : 'portrait'}; margin: ${margin}mm; }
      #print-sheet { width: ${pw - 2 * margin}mm; height: ${ph - 2 * margin - slack}mm; }`);
    $('print-sheet').dataset.paper = `${$('print-paper').value}-${landscape ? 'landscape' : 'portrait'}`;
    this.map.invalidateSize();
    this.map.fitBounds(this.view, { animate: false });
  }

  // paper is the paper chosen, [width, height] in millimetres as it lies.
  paper() {
    const [w, h] = papers[$('print-paper').value] || papers.A4;
    return $('print-orientation').value === 'landscape' ? [h, w] : [w, h];
  }

  // png saves the sheet as a PNG of the whole paper, the sheet inside the
  // page's margins, as it prints.
  async png() {
    const button = $('print-png');
    if (button.disabled) return;
    button.disabled = true;
    $('print-png-status').textContent = t('pngMaking');
    try {
      const blob = await sheetPNG($('print-sheet'), { paper: this.paper(), at: [margin, margin], skip: (e) => e.matches(notPrinted) });
      const d = new Date();
      const day = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
      savePNG(blob, `haimen-plan-${day}.png`);
      $('print-png-status').textContent = '';
    } catch (err) {
      console.error('planmap: save as PNG', err);
      $('print-png-status').textContent = t('pngFailed');
    } finally {
      button.disabled = false;
    }
  }

  // refresh writes the sheet's words and legend in the current language.
  refresh() {
    if (!this.active) return;
    $('print-heading').textContent = $('print-title').value;
    $('print-date').textContent = `${t('printDate')}: ${new Date().toLocaleDateString(lang() === 'zh' ? 'zh-CN' : 'en-GB', { year: 'numeric', month: 'long', day: 'numeric' })}`;
    $('print-source').textContent = t('printSource');
    $('print-approx').textContent = t('approx');
    this.legend($('print-legend'));
  }
}
