/**
 * The "All at once" view: the lecture's two closing ideas, from the answer
 * of POST /api/v1/jacobian. Costs: the FLOPs of the forward pass, of reverse
 * mode, of each input separately (the incorrect way) and of forward mode, as
 * a uPlot bar chart with the conclusion in numbers, and the work the
 * incorrect way repeats marked on the graph (x3 on a node). Forward mode: the
 * tangent of one chosen input element flowing forward beside the values,
 * node by node. Jacobian: the matrix filled row by row (reverse mode, one
 * backward pass seeded with e_i per step) or column by column (forward mode,
 * one tangent pass per step), with the pass lit on the graph.
 *
 * Owns no state: what is shown comes in, a choice goes out as an intent.
 * User text and numbers reach the page through textContent only.
 */

import uPlot from '/vendor/uplot/uPlot.esm.js';
import { formatNumber, formatValue, shapeText } from '../format.js';
import {
  blockReading, blockRows, columnLabels, costBars, filledMatrix, passesOf, rowLabels, subscript, tangentPass,
} from '../modes.js';
import { node as el } from '../render/panel.js';
import { numberPicker } from '../render/pick.js';
import { displayName } from '../steps.js';

const SVG = 'http://www.w3.org/2000/svg';
const MARKS = ['is-repeated', 'in-pass', 'is-seed', 'is-pass-current'];

// Where a badge sits on its node's box: straddling the top right corner, or the bottom edge's middle.
const CORNER = 'corner';
const BELOW = 'below';

/**
 * A badge in the marks' own layer, over every node (a node drawn later would
 * hide it otherwise): a pill with a white ground, its text through textContent.
 */
function badge(layer, g, box, cls, text, where, title) {
  const width = Number(box.getAttribute('width'));
  const height = Number(box.getAttribute('height'));
  const b = document.createElementNS(SVG, 'g');
  b.setAttribute('class', `all-badge ${cls}`);
  b.setAttribute('transform', g.getAttribute('transform') || '');
  const inner = document.createElementNS(SVG, 'g');
  // Below the box, clear of its last line of values.
  inner.setAttribute('transform', where === CORNER ? `translate(${width - 4},0)` : `translate(${width / 2},${height + 13})`);
  const pill = document.createElementNS(SVG, 'rect');
  pill.setAttribute('class', 'all-badge-box');
  const t = document.createElementNS(SVG, 'text');
  t.setAttribute('class', 'all-badge-text');
  t.setAttribute('dominant-baseline', 'central');
  t.setAttribute('text-anchor', where === CORNER ? 'end' : 'middle');
  t.textContent = text;
  if (title) {
    const tip = document.createElementNS(SVG, 'title');
    tip.textContent = title;
    b.append(tip);
  }
  inner.append(pill, t);
  b.append(inner);
  layer.append(b);
  // The pill fits its text as drawn (the presented type is larger).
  const size = t.getBBox();
  const pad = 5;
  const x = where === CORNER ? -size.width - pad : -size.width / 2 - pad;
  pill.setAttribute('x', String(x));
  pill.setAttribute('y', String(size.y - 2));
  pill.setAttribute('width', String(size.width + 2 * pad));
  pill.setAttribute('height', String(size.height + 4));
  pill.setAttribute('rx', '6');
  // A badge wider than a node at the drawing's left edge stays inside the drawing.
  const left = Number((/translate\(([-\d.e]+)/.exec(b.getAttribute('transform')) || [0, 0])[1]);
  const overhang = -(left + (where === CORNER ? width - 4 : width / 2) + x);
  if (where === BELOW && overhang > 0) inner.setAttribute('transform', `translate(${width / 2 + overhang},${height + 13})`);
}

/** Put the marks on the graph (classes styled in the CSS, badges as SVG text), replacing the last ones. */
export function lightAllAtOnce(svg, marks) {
  for (const e of svg.querySelectorAll(MARKS.map((c) => `.${c}`).join(','))) e.classList.remove(...MARKS);
  for (const old of svg.querySelectorAll('.all-marks')) old.remove();
  const root = svg.querySelector('.viewport');
  if (!root) return;
  const layer = document.createElementNS(SVG, 'g');
  layer.setAttribute('class', 'all-marks');
  root.append(layer);
  const each = (id, fn) => {
    const g = svg.querySelector(`g[data-node-id="${CSS.escape(id)}"]`);
    const box = g && g.querySelector('.box');
    if (box) fn(g, box);
  };
  for (const [id, times] of marks.repeated) {
    each(id, (g, box) => {
      g.classList.add('is-repeated');
      badge(layer, g, box, 'repeat-badge', `×${times}`, CORNER, `the incorrect way computes the gradient here ${times} times; reverse mode once`);
    });
  }
  for (const [id, text] of marks.lit) {
    each(id, (g, box) => {
      g.classList.add('in-pass');
      if (id === marks.current) g.classList.add('is-pass-current');
      // The seed's node says its number in its seed badge.
      if (id !== marks.seedNode) badge(layer, g, box, 'pass-badge', text, BELOW);
    });
  }
  if (marks.seedNode) {
    each(marks.seedNode, (g, box) => {
      g.classList.add('is-seed');
      badge(layer, g, box, 'seed-badge', marks.seed, CORNER);
    });
  }
}

/** Clear everything the view put on the graph. */
export function unlightAllAtOnce(svg) {
  lightAllAtOnce(svg, { repeated: new Map(), lit: new Map(), seedNode: null, seed: '', current: null });
}

function pressed(label, on, onClick, title) {
  const b = el('button', null, label);
  b.type = 'button';
  b.setAttribute('aria-pressed', String(on));
  if (title) b.title = title;
  b.addEventListener('click', onClick);
  return b;
}

/**
 * Render into `container`.
 * view: {body | null, error | null, loading, shows ('costs' | 'tangent' | 'jacobian'), by ('reverse' | 'forward'),
 *        of, element, step, presenting, vector (the output has more than one number)}
 * intents: {show(what), by(mode), pick(name), element(k), step(k)}
 */
export function renderAllAtOnce(container, model, view, intents) {
  if (container.plot) {
    container.plot.destroy();
    container.plot = null;
  }
  // A step or a choice renders the view again: the keyboard keeps its place on the same control.
  const active = document.activeElement;
  const focused = active && container.contains(active) ? active.getAttribute('aria-label') || active.textContent : null;
  container.replaceChildren();
  renderInto(container, model, view, intents);
  if (focused) {
    const again = [...container.querySelectorAll('button, select, input')].find((e) => (e.getAttribute('aria-label') || e.textContent) === focused);
    if (again) again.focus({ preventScroll: true });
  }
}

function renderInto(container, model, view, intents) {
  const wrap = el('section', 'all-at-once');
  wrap.setAttribute('aria-label', 'All at once');
  const out = model.nodeById.get(model.output);
  const outName = out ? displayName(out) : 'f';
  wrap.append(el('h2', 'panel-head', 'All at once'));
  const tabs = el('div', 'all-tabs');
  tabs.setAttribute('role', 'group');
  tabs.setAttribute('aria-label', 'Show');
  tabs.append(
    pressed('Costs', view.shows === 'costs', () => intents.show('costs'), 'FLOPs of each way to all the gradients, and what the incorrect way repeats'),
    pressed('Forward mode', view.shows === 'tangent', () => intents.show('tangent'), 'One tangent pass, node by node: d(node)/d(one input element)'),
    pressed('Jacobian', view.shows === 'jacobian', () => intents.show('jacobian'), 'The whole Jacobian, pass by pass: rows (reverse) or columns (forward)'),
  );
  wrap.append(tabs);
  container.append(wrap);
  if (view.error) {
    wrap.append(el('p', 'error', view.error.message));
    return;
  }
  const body = view.body;
  if (!body) {
    wrap.append(el('p', 'note', view.loading ? 'Counting…' : 'Trace a program first.'));
    return;
  }
  if (view.vector) {
    wrap.append(el('p', 'all-lead', `${outName} has ${body.m} numbers (${shapeText(body.output_shape)}): backpropagation starts from one number, so here is its whole ${body.m} × ${body.n} Jacobian, d${outName}/d(inputs).`));
  }
  if (view.shows === 'costs') renderCosts(container, wrap, body, view);
  else if (view.shows === 'tangent') renderTangent(wrap, body, view, intents, outName);
  else renderJacobian(wrap, body, view, intents, outName);
}

function renderCosts(container, wrap, body, view) {
  const bars = costBars(body.costs, body.m);
  wrap.append(el('p', 'all-conclusion', body.costs.conclusion));
  const plot = el('div', 'costs-plot');
  plot.setAttribute('role', 'img');
  plot.setAttribute('aria-label', `FLOPs: ${bars.map((b) => `${b.label} ${b.flops}`).join(', ')}`);
  wrap.append(plot);
  const table = el('table', 'costs-table');
  const head = el('tr');
  for (const h of ['', 'FLOPs', '× forward']) head.append(el('th', null, h));
  table.append(head);
  for (const bar of bars) {
    const tr = el('tr', `cost-${bar.key}`);
    tr.append(el('th', null, bar.label), el('td', null, String(bar.flops)), el('td', null, `${formatNumber(bar.times, 2)}x`));
    table.append(tr);
  }
  wrap.append(table);
  const repeated = Object.entries(body.repeated || {});
  if (repeated.length) {
    const names = repeated.map(([id, times]) => {
      const node = body.nodes.find((n) => n.id === id);
      return `${node ? node.display_name || node.label : id} ×${times}`;
    });
    wrap.append(el('p', 'all-repeated', `On the graph, ×k: the incorrect way computes the gradient at that node k times, once per input, where reverse mode computes it once and shares it: ${names.join(', ')}.`));
  } else {
    wrap.append(el('p', 'note', 'Nothing is computed twice here: every input has its own path to the output.'));
  }
  drawCosts(container, plot, bars, view.presenting);
}

// The bars' colours: the forward pass grey, reverse mode the lecture's "correct" green, the incorrect way red, forward mode blue.
const BAR_COLOURS = ['#6b6b6b', '#1a7f37', '#b3261e', '#1f5fa8'];

function drawCosts(container, where, bars, presenting) {
  const font = presenting ? '17px sans-serif' : '13px sans-serif';
  const width = Math.max(260, Math.floor(where.getBoundingClientRect().width || container.clientWidth || 360));
  const height = presenting ? 230 : 180;
  const xs = bars.map((_, i) => i);
  // Bars lying down, the forward pass on top: each way's name reads on one line at its bar's left, however narrow the panel.
  const opts = {
    width,
    height,
    legend: { show: false },
    cursor: { show: false },
    scales: { x: { time: false, ori: 1, dir: -1, range: [-0.6, bars.length - 0.4] }, y: { ori: 0, dir: 1, range: (u, lo, hi) => [0, hi * 1.05] } },
    axes: [
      { side: 3, font, stroke: '#333', splits: () => xs, values: () => bars.map((b) => b.short), grid: { show: false }, size: presenting ? 150 : 112, gap: 6 },
      { side: 2, label: 'FLOPs', font, labelFont: font, stroke: '#333', size: presenting ? 40 : 32, labelSize: presenting ? 26 : 20 },
    ],
    series: [
      {},
      {
        label: 'FLOPs',
        width: 0,
        paths: uPlot.paths.bars({ size: [0.62, 120], disp: { fill: { unit: 3, values: () => BAR_COLOURS } } }),
        points: { show: false },
      },
    ],
  };
  container.plot = new uPlot(opts, [xs, bars.map((b) => b.flops)], where);
}

function stepper(wrap, count, step, noun, intents) {
  const bar = el('div', 'all-stepper');
  bar.setAttribute('role', 'group');
  bar.setAttribute('aria-label', `${noun}s`);
  const prev = el('button', null, '←');
  prev.type = 'button';
  prev.setAttribute('aria-label', `Previous ${noun}`);
  prev.disabled = step <= 0;
  prev.addEventListener('click', () => intents.step(step - 1));
  const range = el('input');
  range.type = 'range';
  range.min = '0';
  range.max = String(Math.max(0, count - 1));
  range.value = String(step);
  range.setAttribute('aria-label', noun[0].toUpperCase() + noun.slice(1));
  range.setAttribute('aria-valuetext', `${noun} ${step + 1} of ${count}`);
  range.addEventListener('input', () => intents.step(Number(range.value)));
  const next = el('button', null, '→');
  next.type = 'button';
  next.setAttribute('aria-label', `Next ${noun}`);
  next.disabled = step >= count - 1;
  next.addEventListener('click', () => intents.step(step + 1));
  bar.append(prev, range, next, el('span', 'all-counter', `${noun} ${step + 1} / ${count}`));
  wrap.append(bar);
}

function renderTangent(wrap, body, view, intents, outName) {
  if (!body.inputs.length) {
    wrap.append(el('p', 'note', 'Every input is a constant: no tangent flows.'));
    return;
  }
  wrap.append(numberPicker('all-pick', body.inputs, view, { lead: 'Tangent of ', name: 'Input to seed', element: 'Element to seed' }, intents));
  const input = body.inputs.find((i) => i.name === view.of) || body.inputs[0];
  const pass = tangentPass(body, input.name, view.element);
  if (!pass || !pass.order.length) {
    wrap.append(el('p', 'note', 'This input does not reach the output: its tangent pass carries nothing.'));
    return;
  }
  const step = Math.min(view.step, pass.order.length - 1);
  const d = `∂·/∂${pass.seedName}`;
  wrap.append(el('p', 'all-lead', `Forward mode: seed ${pass.seedName} with 1 (every other input element 0) and push the tangent ṫ = ${d} forward beside the values, node by node.`));
  stepper(wrap, pass.order.length, step, 'node', intents);
  const table = el('table', 'tangent-table');
  const head = el('tr');
  // The values' column is the graph's values again: a presented (narrow) panel leaves it to the graph.
  head.append(el('th', null, 'node'), el('th', 'value-column', 'value'), el('th', null, `tangent ${d}`));
  table.append(head);
  pass.order.forEach((item, k) => {
    const tr = el('tr', k === step ? 'is-current' : k > step ? 'is-pending' : null);
    tr.append(el('th', null, item.name), el('td', 'value-column', formatValue(item.value, { maxElements: 6, digits: 4 })), el('td', null, k <= step ? formatValue(item.tangent, { maxElements: 6, digits: 4 }) : '·'));
    table.append(tr);
  });
  wrap.append(table);
  const done = step === pass.order.length - 1;
  // A one-number output's column is one number.
  const result = formatValue(body.output_shape.length ? pass.result : pass.result[0], { maxElements: 6, digits: 6 });
  wrap.append(el('p', done ? 'all-result' : 'note', done
    ? `At the output: ∂${outName}/∂${pass.seedName} = ${result}, column ${pass.column + 1} of the Jacobian. One tangent pass gives one input element's column; all ${body.n} columns take ${body.n} passes (${body.costs.forward_mode.flops} FLOPs), against ${body.m === 1 ? 'one backward pass' : `${body.m} backward passes`} for every row (${body.costs.reverse.flops} FLOPs).`
    : `The tangent reaches the output at the last step (→ or Page Down).`));
}

function renderJacobian(wrap, body, view, intents, outName) {
  const toggle = el('div', 'all-modes');
  toggle.setAttribute('role', 'group');
  toggle.setAttribute('aria-label', 'Mode');
  toggle.append(
    pressed(`Reverse: ${body.m} row${body.m === 1 ? '' : 's'}`, view.by === 'reverse', () => intents.by('reverse'), 'One backward pass per output element, seeded with e_i: row i'),
    pressed(`Forward: ${body.n} column${body.n === 1 ? '' : 's'}`, view.by === 'forward', () => intents.by('forward'), 'One tangent pass per input element, seeded with e_j: column j'),
  );
  wrap.append(toggle);
  const passes = passesOf(body, view.by);
  if (!passes.length) {
    wrap.append(el('p', 'note', 'No pass to show.'));
    return;
  }
  const step = Math.min(view.step, passes.length - 1);
  const pass = passes[step];
  const columns = columnLabels(body);
  const rows = rowLabels(body, outName);
  stepper(wrap, passes.length, step, 'pass', intents);
  wrap.append(el('p', 'all-lead', view.by === 'forward'
    ? `Tangent pass ${step + 1}: seed ${columns[pass.index]} = 1 (e${subscript(pass.index + 1)}), push tangents forward: column ${pass.index + 1}, d${outName}/d${columns[pass.index]}.`
    : `Backward pass ${step + 1}: seed ${rows[pass.index]} with 1 (e${subscript(pass.index + 1)}), send gradients back: row ${pass.index + 1}, d${rows[pass.index]}/d(inputs).`));
  const matrix = filledMatrix(body, view.by, step);
  wrap.append(matrixTable(body, matrix, rows, columns, view.by, pass.index));
  const readings = body.inputs.map((input) => {
    const block = blockRows(matrix, input);
    const reading = block.flat().some((v) => v === null) ? null : blockReading(block, body);
    return reading ? `d${outName}/d${input.name} ${reading.startsWith('=') ? reading : `= ${reading}`}` : null;
  }).filter(Boolean);
  if (readings.length) wrap.append(el('p', 'all-readings', readings.join(' · ')));
  const cheaper = el('p', 'all-cheaper');
  cheaper.append(el('strong', null, `Cheaper here: ${body.cheaper} mode. `), document.createTextNode(body.why));
  wrap.append(cheaper);
  if (body.check) {
    wrap.append(el('p', 'note', `Against central differences (${body.check.evaluations} forward passes): largest difference ${formatNumber(body.check.max_abs_error, 2)}, ${body.check.ok ? 'ok' : 'FAILED ✗'}.`));
  }
}

// A Jacobian wider than this shows its first columns: the rest are in the JSON.
const MAX_COLUMNS = 24;
const MAX_ROWS = 24;

function matrixTable(body, matrix, rows, columns, by, current) {
  const scroll = el('div', 'jacobian-scroll');
  const table = el('table', 'jacobian-table');
  table.setAttribute('aria-label', `Jacobian, ${body.m} × ${body.n}`);
  const groups = el('tr', 'jacobian-groups');
  groups.append(el('th'));
  for (const input of body.inputs) {
    const span = Math.max(0, Math.min(input.offset + input.size, MAX_COLUMNS) - input.offset);
    if (!span) continue;
    const th = el('th', null, input.name);
    th.colSpan = span;
    groups.append(th);
  }
  table.append(groups);
  const head = el('tr');
  head.append(el('th'));
  columns.slice(0, MAX_COLUMNS).forEach((c, j) => head.append(el('th', by === 'forward' && j === current ? 'is-current' : null, c)));
  table.append(head);
  matrix.slice(0, MAX_ROWS).forEach((row, i) => {
    const tr = el('tr', by === 'reverse' && i === current ? 'is-current' : null);
    tr.append(el('th', null, rows[i]));
    row.slice(0, MAX_COLUMNS).forEach((v, j) => {
      const td = el('td', v === null ? 'is-empty' : by === 'forward' && j === current ? 'is-current' : null, v === null ? '·' : formatNumber(v));
      td.dataset.row = String(i);
      td.dataset.col = String(j);
      tr.append(td);
    });
    table.append(tr);
  });
  scroll.append(table);
  if (body.n > MAX_COLUMNS || body.m > MAX_ROWS) scroll.append(el('p', 'note', `The first ${Math.min(body.m, MAX_ROWS)} × ${Math.min(body.n, MAX_COLUMNS)} of ${body.m} × ${body.n}.`));
  return scroll;
}

