/**
 * Tensors as tables: every number printed, with a colour-blind-safe
 * diverging colour behind it; large tensors show a corner and a summary.
 * Built with createElement and textContent only.
 */

import { asRows, divergingColour, flatten, formatNumber, maxAbsFinite, shapeText } from '../format.js';

const MAX_ROWS = 8;
const MAX_COLS = 6;

/** A table for a matrix given as rows, in a box that scrolls when wide; `caption` says what it is and its shape. */
export function matrixTable(rows, caption, { diagonal = false } = {}) {
  const table = document.createElement('table');
  table.className = diagonal ? 'tensor is-diagonal' : 'tensor';
  const cap = document.createElement('caption');
  cap.textContent = caption;
  table.appendChild(cap);
  const flat = rows.flat();
  const scale = maxAbsFinite(flat);
  const tbody = document.createElement('tbody');
  const nRows = rows.length;
  const nCols = rows[0] ? rows[0].length : 0;
  const showRows = Math.min(nRows, MAX_ROWS);
  const showCols = Math.min(nCols, MAX_COLS);
  for (let i = 0; i < showRows; i += 1) {
    const tr = document.createElement('tr');
    for (let j = 0; j < showCols; j += 1) {
      const td = document.createElement('td');
      const v = rows[i][j];
      td.textContent = formatNumber(v, 3);
      const c = divergingColour(v, scale);
      td.style.background = c.background;
      td.style.color = c.color;
      if (diagonal && i === j) td.className = 'diag';
      tr.appendChild(td);
    }
    if (nCols > showCols) {
      const td = document.createElement('td');
      td.className = 'more';
      td.textContent = '…';
      tr.appendChild(td);
    }
    tbody.appendChild(tr);
  }
  if (nRows > showRows) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.className = 'more';
    td.colSpan = showCols + (nCols > showCols ? 1 : 0);
    td.textContent = `… ${nRows - showRows} more rows`;
    tr.appendChild(td);
    tbody.appendChild(tr);
  }
  table.appendChild(tbody);
  const wrap = document.createElement('div');
  wrap.className = 'tensor-wrap';
  wrap.appendChild(table);
  if (nRows > showRows || nCols > showCols) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of flat) if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    cap.textContent = `${caption}: showing ${showRows}×${showCols}${lo <= hi ? `, range ${formatNumber(lo)} … ${formatNumber(hi)}` : ''}`;
  }
  return wrap;
}

/** A value of any rank as a table: a vector as a column, as the lecture writes it. */
export function valueTable(value, label, shape) {
  return matrixTable(asRows(value), `${label} (${shapeText(shape)})`);
}

/** A gradient in the Jacobian form: one row, d(scalar)/d(each element). */
export function jacobianFormTable(value, label, shape) {
  return matrixTable([flatten(value)], `${label}, Jacobian form (1×${flatten(value).length})`);
}
