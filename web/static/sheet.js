// The plot sheet's (地块图则) one script: "Save as PNG" of the sheet, an
// A4 page as it prints. The sheet itself is drawn on the server and needs
// no script to show or print.

import { savePNG, sheetPNG } from './png.js';

const button = document.getElementById('save-png');
const status = document.getElementById('save-png-status');
const sheet = document.querySelector('article.sheet');

button.hidden = false;
button.addEventListener('click', async () => {
  if (button.disabled) return;
  button.disabled = true;
  status.textContent = '正在生成 PNG… Making the PNG…';
  try {
    // On screen the sheet is the whole page, its padding the page's
    // margins (sheet.css), so it lies at the paper's corner.
    const blob = await sheetPNG(sheet, { paper: [210, 297], at: [0, 0] });
    savePNG(blob, `plot-${sheet.dataset.layer}-${sheet.dataset.id}.png`);
    status.textContent = '';
  } catch (err) {
    console.error('planmap: save as PNG', err);
    status.textContent = '未能生成 PNG Could not make the PNG';
  } finally {
    button.disabled = false;
  }
});
