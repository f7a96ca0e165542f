/**
 * The "Slope" view: a gradient read as a slope, as the lecture's first slides
 * read it. For one number of the program (a scalar input or named
 * intermediate, or one chosen element of a tensor's) it plots the output
 * against it near its traced value, with the tangent whose slope is the
 * gradient and the traced point, and writes the nudge out: f(1.01) =
 * 1.030301 against f(1) + 0.01 · f'(1) = 1.03. The samples are the server's
 * (POST /api/v1/slope: bounded there, each a forward pass); the plot is
 * uPlot's. Owns no state: what moves comes in, a new pick goes out as an
 * intent. User text goes through textContent only.
 */

import uPlot from '/vendor/uplot/uPlot.esm.js';
import { formatNumber, toNumber } from '../format.js';
import { node as el } from '../render/panel.js';
import { numberPicker } from '../render/pick.js';
import { displayName } from '../steps.js';

/** The numbers that can move: inputs and named intermediates that are not constants, each with its shape. */
export function slopeVariables(model) {
  const seen = new Set();
  const out = [];
  for (const n of model.nodes) {
    if (n.id === model.output || n.kind === 'constant' || n.constant || !n.name || seen.has(n.name)) continue;
    seen.add(n.name);
    out.push({ name: n.name, node: n.id, shape: n.shape || [] });
  }
  return out;
}

/** Element `flat` of a tensor of `shape`, as the index the API takes ([i] or [i, j]); null for a number. */
export function elementIndex(shape, flat) {
  if (!shape.length) return null;
  const index = [];
  let rest = flat;
  for (let axis = shape.length - 1; axis >= 0; axis -= 1) {
    index.unshift(rest % shape[axis]);
    rest = Math.floor(rest / shape[axis]);
  }
  return index;
}

const finite = (v) => {
  const x = toNumber(v);
  return Number.isFinite(x) ? x : null;
};

/**
 * Render into `container`.
 * view: {body (the slope response) | null, error | null, loading, of, element, presenting}
 * intents: {pick(name), element(k)}
 */
export function renderSlope(container, model, view, intents) {
  if (container.plot) {
    container.plot.destroy();
    container.plot = null;
  }
  container.replaceChildren();
  const wrap = el('section', 'slope-view');
  wrap.setAttribute('aria-label', 'Slope');
  const out = model.nodeById.get(model.output);
  const outName = out ? displayName(out) : 'f';
  wrap.append(el('h2', 'panel-head', `Slope: ${outName} against one number`));

  const variables = slopeVariables(model);
  wrap.append(numberPicker('slope-pick', variables, view, { lead: 'Move ', name: 'Number to move', element: 'Element to move' }, intents));

  if (!variables.length) {
    wrap.append(el('p', 'note', 'Nothing here can move: every input is a constant.'));
    container.append(wrap);
    return;
  }
  if (view.error) {
    wrap.append(el('p', 'error', view.error.message));
    container.append(wrap);
    return;
  }
  const body = view.body;
  if (!body) {
    wrap.append(el('p', 'note', view.loading ? 'Sampling…' : 'Pick a number to move.'));
    container.append(wrap);
    return;
  }
  const name = body.index && body.index.length ? `${body.of}[${body.index.join(', ')}]` : body.of;
  wrap.append(el('p', 'slope-lead', `At ${name} = ${formatNumber(body.at, 6)}: ${outName} = ${formatNumber(body.value, 6)}, and ∂${outName}/∂${name} = ${formatNumber(body.gradient, 6)}, the slope of the tangent.`));
  const plot = el('div', 'slope-plot');
  plot.setAttribute('role', 'img');
  plot.setAttribute('aria-label', `${outName} against ${name} from ${formatNumber(body.samples.x[0])} to ${formatNumber(body.samples.x.at(-1))}, with its tangent of slope ${formatNumber(body.gradient)} at ${formatNumber(body.at)}`);
  wrap.append(plot);
  const nudge = el('p', 'slope-nudge', `Nudge ${name} by ${formatNumber(body.nudge.h)}: ${body.nudge.text}.`);
  wrap.append(nudge);
  wrap.append(el('p', 'note', `The tangent misses by ${formatNumber(body.nudge.difference, 3)} (the curve bends away); the nearer the nudge, the better the gradient predicts the change. ${body.points} samples, ${body.evaluations} forward passes.`));
  container.append(wrap);
  drawPlot(container, plot, body, name, outName, view.presenting);
}

function drawPlot(container, where, body, name, outName, presenting) {
  const xs = body.samples.x.map(toNumber);
  const fs = body.samples.f.map(finite);
  const tangent = xs.map((x) => body.tangent.slope * x + body.tangent.intercept);
  const at = xs.map((x) => (x === body.at ? finite(body.value) : null));
  // The tangent is drawn only where the curve is: a steep one would squash the curve to a line.
  const known = fs.filter((f) => f !== null);
  const low = Math.min(...known);
  const high = Math.max(...known);
  const pad = (high - low) * 0.1 || 1;
  const clipped = tangent.map((t) => (t >= low - pad && t <= high + pad ? t : null));
  const font = presenting ? '20px sans-serif' : '13px sans-serif';
  const width = Math.max(240, Math.floor(where.getBoundingClientRect().width || container.clientWidth || 360));
  const height = Math.round(Math.min(presenting ? 420 : 300, Math.max(180, width * 0.6)));
  const opts = {
    width,
    height,
    legend: { show: true, live: false },
    cursor: { show: false },
    scales: { x: { time: false } },
    axes: [
      { label: name, font, labelFont: font, stroke: '#333' },
      { label: outName, font, labelFont: font, stroke: '#333', size: presenting ? 80 : 60 },
    ],
    series: [
      { label: name },
      { label: outName, stroke: '#0b4f8a', width: presenting ? 4 : 2.5 },
      { label: `tangent, slope ${formatNumber(body.gradient)}`, stroke: '#b35c00', width: presenting ? 3 : 2, dash: [8, 6] },
      { label: 'traced point', stroke: '#111', fill: '#111', width: 0, points: { show: true, size: presenting ? 14 : 10, fill: '#111' } },
    ],
  };
  container.plot = new uPlot(opts, [xs, fs, clipped, at], where);
}
