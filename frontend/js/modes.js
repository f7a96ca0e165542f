/**
 * All at once, the pure part: the answer of POST /api/v1/jacobian read for
 * the page. The costs as the chart's bars; a forward-mode pass node by node
 * (the tangent of one chosen input element flowing forward); the Jacobian
 * filled row by row (reverse mode, one backward pass seeded with e_i per
 * step) or column by column (forward mode, one tangent pass seeded with e_j
 * per step); what each step lights on the graph; and the graph of a vector
 * output, which /trace refuses, as a trace of its forward pass only. Pure,
 * no DOM: the server computed every number, the page only picks.
 */

import { flatten, formatNumber, formatValue, toNumber, toNumbers } from './format.js';

/** The chart's bars, in the lecture's order: the forward pass, then the three ways to all the gradients. */
export function costBars(costs, m = 1) {
  const passes = (n, word) => `${n === 1 ? 'one' : n} ${word}${n === 1 ? '' : 'es'}`;
  return [
    { key: 'forward', label: 'forward pass', short: 'forward pass' },
    { key: 'reverse', label: `reverse mode: ${passes(m, 'backward pass')}`, short: 'reverse mode' },
    { key: 'separately', label: 'each input separately', short: 'separately' },
    { key: 'forward_mode', label: `forward mode: ${passes(costs.forward_mode.passes, 'tangent pass')}`, short: 'forward mode' },
  ].map((bar) => ({ ...bar, flops: costs[bar.key].flops, times: costs[bar.key].times_forward, passes: costs[bar.key].passes }));
}

/** "x", "x[1]", "W[0, 2]": one element of a tensor of `shape`, element `flat` in row-major order. */
export function elementName(name, shape, flat) {
  if (!shape || !shape.length) return name;
  const index = [];
  let rest = flat;
  for (let axis = shape.length - 1; axis >= 0; axis -= 1) {
    index.unshift(rest % shape[axis]);
    rest = Math.floor(rest / shape[axis]);
  }
  return `${name}[${index.join(', ')}]`;
}

/** The Jacobian's column labels, one per input element (x[0], x[1], b[0], ...). */
export function columnLabels(body) {
  const out = [];
  for (const input of body.inputs) for (let k = 0; k < input.size; k += 1) out.push(elementName(input.name, input.shape, k));
  return out;
}

/** The Jacobian's row labels, one per output element (h[0], h[1]; s for a number). */
export function rowLabels(body, outputName) {
  const out = [];
  for (let i = 0; i < body.m; i += 1) out.push(elementName(outputName, body.output_shape, i));
  return out;
}

/** The passes one way makes: reverse mode's (rows), forward mode's (columns). */
export function passesOf(body, by) {
  const part = by === 'forward' ? body.forward : body.reverse;
  return part && Array.isArray(part.passes) ? part.passes : [];
}

/**
 * The Jacobian as far as `step` (0-based, the pass shown) has filled it:
 * m rows of n cells, a number where a pass has run and null where none has
 * yet. Reverse mode fills row after row, forward mode column after column.
 */
export function filledMatrix(body, by, step) {
  const matrix = Array.from({ length: body.m }, () => new Array(body.n).fill(null));
  const passes = passesOf(body, by);
  const last = Math.min(step, passes.length - 1);
  for (let p = 0; p <= last; p += 1) {
    const pass = passes[p];
    if (by === 'forward') pass.column.forEach((v, i) => { matrix[i][pass.index] = toNumber(v); });
    else pass.row.forEach((v, j) => { matrix[pass.index][j] = toNumber(v); });
  }
  return matrix;
}

/**
 * What a Jacobian pass lights on the graph: the nodes it computes something
 * at (an adjoint in reverse mode, a tangent in forward mode), that number per
 * node, and the node its seed starts from (the output for reverse mode, the
 * input for forward mode) with the seed's words.
 */
export function passLight(body, by, step) {
  const passes = passesOf(body, by);
  const pass = passes[Math.max(0, Math.min(step, passes.length - 1))];
  if (!pass) return { nodes: [], numbers: new Map(), seedNode: null, seed: '' };
  const list = by === 'forward' ? pass.tangents : pass.adjoints;
  const numbers = new Map();
  body.nodes.forEach((node, k) => {
    if (list[k] !== null && list[k] !== undefined) numbers.set(node.id, toNumbers(list[k]));
  });
  if (by === 'forward') {
    const columns = columnLabels(body);
    const input = body.inputs.find((i) => i.name === pass.input);
    return { nodes: [...numbers.keys()], numbers, seedNode: input ? input.node : null, seed: `seed ${columns[pass.index]} = 1` };
  }
  return { nodes: [...numbers.keys()], numbers, seedNode: body.output, seed: `seed e${subscript(pass.index + 1)}` };
}

const SUBSCRIPTS = '₀₁₂₃₄₅₆₇₈₉';

/** 12 as ₁₂: the unit vector's index as the lecture writes e_i. */
export function subscript(n) {
  return String(n).replace(/[0-9]/g, (d) => SUBSCRIPTS[Number(d)]);
}

/**
 * A forward-mode pass of one input element, node by node: the forward pass
 * whose tangents (d node / d input element) flow beside the values. `order`
 * lists the nodes the tangent reaches, in the order the forward pass computes
 * them (the seed's input first, the output last); step k shows the first k + 1.
 */
export function tangentPass(body, of, element) {
  const input = body.inputs.find((i) => i.name === of) || body.inputs[0];
  if (!input) return null;
  const k = Math.max(0, Math.min(element, input.size - 1));
  const column = input.offset + k;
  const pass = passesOf(body, 'forward').find((p) => p.index === column);
  if (!pass) return null;
  const order = [];
  body.nodes.forEach((node, idx) => {
    if (pass.tangents[idx] !== null && pass.tangents[idx] !== undefined) {
      order.push({ id: node.id, name: node.display_name || node.label, value: toNumbers(node.value), tangent: toNumbers(pass.tangents[idx]) });
    }
  });
  return { input: input.name, element: k, column, seedName: elementName(input.name, input.shape, k), order, result: toNumbers(pass.column) };
}

/**
 * How a block of the Jacobian reads (the lecture's closed forms): "I" for the
 * identity, "diag(...)" for a diagonal, "= W" when it is a named input's
 * value, "0" when nothing flows; else null. `rows` is the block as m rows.
 */
export function blockReading(rows, body) {
  const m = rows.length;
  const n = m ? rows[0].length : 0;
  const eq = (a, b) => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b));
  const flat = rows.flat();
  if (flat.every((v) => v === 0)) return '0';
  if (m === n && m > 1) {
    const diagonal = rows.every((r, i) => r.every((v, j) => i === j || v === 0));
    if (diagonal && rows.every((r, i) => eq(r[i], 1))) return 'I';
    if (diagonal) return `diag(${rows.map((r, i) => formatNumber(r[i])).join(', ')})`;
  }
  for (const node of body.nodes) {
    if (node.kind !== 'input' || !node.name || !Array.isArray(node.value)) continue;
    const value = flatten(node.value);
    const shape = node.shape || [];
    if (shape.length === 2 && shape[0] === m && shape[1] === n && value.every((v, i) => eq(v, flat[i]))) return `= ${node.name}`;
  }
  return null;
}

/** The columns of one input as m rows (its block of the Jacobian), from a matrix that may be partly filled. */
export function blockRows(matrix, input) {
  return matrix.map((row) => row.slice(input.offset, input.offset + input.size));
}

/**
 * The graph of a program /trace refuses for its vector output, as a trace
 * the page draws: its nodes with their values and no gradient (no single one
 * exists: each pass has its own), its wires, and a forward pass of one step
 * per node. `jacobian` marks it, so the page steps its passes instead.
 */
export function traceOfJacobian(body) {
  const nodes = body.nodes.map((n) => ({ ...n, grad: null, constant: true }));
  const edges = body.edges.map((e) => ({ ...e, upstream: null, local: null, local_shape: null, downstream: null }));
  const steps = nodes.map((n, index) => ({
    index,
    phase: 'forward',
    node: n.id,
    edges: body.edges.filter((e) => e.target === n.id).map((e) => e.id),
    text: `${n.display_name || n.label} = ${formatValue(toNumbers(n.value))}${n.kind === 'input' ? ' (input)' : ''}`,
  }));
  return { version: 1, expression: body.expression, output: body.output, value: body.value, gradients: {}, nodes, edges, steps, check: null, warnings: [], jacobian: true };
}

/** The number of steps the view's stepper has: passes for the Jacobian, reached nodes for a forward-mode pass, none for the costs. */
export function stepCount(body, view) {
  if (!body) return 0;
  if (view.shows === 'jacobian') return passesOf(body, view.by).length;
  if (view.shows === 'tangent') {
    const pass = tangentPass(body, view.of, view.element);
    return pass ? pass.order.length : 0;
  }
  return 0;
}

/**
 * What the view puts on the graph now: for the costs, the nodes the
 * incorrect way computes more than once with their counts; for a pass, the
 * nodes it has reached, each with its number, the seed's node and the current node.
 */
export function graphMarks(body, view) {
  const marks = { repeated: new Map(), lit: new Map(), seedNode: null, seed: '', current: null };
  if (!body) return marks;
  if (view.shows === 'costs') {
    for (const [id, times] of Object.entries(body.repeated || {})) marks.repeated.set(id, times);
  } else if (view.shows === 'jacobian') {
    const light = passLight(body, view.by, view.step);
    const sign = view.by === 'forward' ? 'ṫ' : 'δ';
    for (const id of light.nodes) marks.lit.set(id, `${sign} ${formatValue(light.numbers.get(id), { maxElements: 4, digits: 3 })}`);
    Object.assign(marks, { seedNode: light.seedNode, seed: light.seed });
  } else if (view.shows === 'tangent') {
    const pass = tangentPass(body, view.of, view.element);
    if (pass) {
      const shown = pass.order.slice(0, view.step + 1);
      for (const item of shown) marks.lit.set(item.id, `ṫ ${formatValue(item.tangent, { maxElements: 4, digits: 3 })}`);
      marks.current = shown.length ? shown[shown.length - 1].id : null;
      marks.seedNode = pass.order.length ? pass.order[0].id : null;
      marks.seed = `seed ${pass.seedName} = 1`;
    }
  }
  return marks;
}

/**
 * The view's choices made valid for an answer: the seeded input one that has
 * columns, its element inside it, the step inside the passes (or nodes) shown.
 */
export function settleView(body, view) {
  if (!body) return view;
  const input = body.inputs.find((i) => i.name === view.of) || body.inputs[0];
  const of = input ? input.name : '';
  const element = input ? Math.min(view.element, input.size - 1) : 0;
  const settled = { ...view, of, element };
  const count = stepCount(body, settled);
  return { ...settled, step: Math.max(0, Math.min(view.step, count - 1)) };
}
