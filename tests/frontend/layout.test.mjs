import test from 'node:test';
import assert from 'node:assert/strict';
import dagre from '../../frontend/node_modules/@dagrejs/dagre/dist/dagre.esm.js';
import {
  MAX_DAGRE_CROSSINGS, TEXT_KINDS, computeLayout, edgeLines, estimateWidth, longestPathRanks, midpoint, nodeLines, placeLines,
  wireCrossings,
} from '../../frontend/js/layout.js';
import { prepareTrace } from '../../frontend/js/steps.js';
import { engineTrace, fixture } from './helpers.mjs';

test('left to right: inputs left of their consumers, the output rightmost', () => {
  const model = prepareTrace(fixture('lecture_scalar'));
  const layout = computeLayout(model, dagre);
  const x = (id) => layout.nodes.get(id).x;
  for (const e of model.edges) assert.ok(x(e.source) < x(e.target), `${e.source} → ${e.target}`);
  const out = x(model.output);
  for (const n of model.nodes) if (n.id !== model.output) assert.ok(x(n.id) < out);
  for (const e of model.edges) assert.ok(layout.edges.get(e.id).points.length >= 2);
});

test('boxes are sized for their final texts, so nothing grows while stepping', () => {
  const model = prepareTrace(fixture('neural_net'));
  const widths = [];
  const layout = computeLayout(model, dagre, (text, kind) => {
    widths.push(text);
    return text.length * 10;
  });
  const w = layout.nodes.get('n0');
  const longest = Math.max(...nodeLines(model, model.nodeById.get('n0')).map((l) => l.text.length));
  assert.ok(w.width >= longest * 10);
  assert.ok(widths.some((t) => t === 'grad'));
});

test('node texts: name, shape, a small vector as a column, gradient, check', () => {
  const model = prepareTrace(fixture('neural_net'));
  const lines = nodeLines(model, model.nodeById.get('n4'));
  // Value and gradient side by side, a row per element.
  assert.deepEqual(lines.map((l) => [l.part, l.row, l.column ?? null, l.text]), [
    ['title', 0, null, 'z = + (2)'],
    ['value', 1, 'left', 'value'], ['grad', 1, 'right', 'grad'],
    ['value', 2, 'left', '-1.65'], ['grad', 2, 'right', '0.135'],
    ['value', 3, 'left', '1.8'], ['grad', 3, 'right', '-0.243'],
  ]);
  const placed = placeLines(lines, (text) => text.length * 10);
  const row2 = placed.lines.filter((l) => l.row === 2);
  assert.ok(row2[0].x < row2[1].x, 'the value column is left of the gradient column');
  assert.equal(row2[0].y, row2[1].y);
  const matrix = nodeLines(model, model.nodeById.get('n0'));
  assert.deepEqual(matrix.filter((l) => l.part === 'value').map((l) => l.text), ['value', '[0.5, -1, 0.25]', '[1.5, 0, -0.5]']);
  assert.equal(matrix.at(-1).text, 'check ok');
  const scalar = prepareTrace(fixture('lecture_scalar'));
  assert.deepEqual(nodeLines(scalar, scalar.nodeById.get('n1')).map((l) => l.text), ['y', '2', 'grad 5']);
  // The output carries its display name, as the step texts call it; an unnamed op inside only its symbol.
  assert.equal(nodeLines(scalar, scalar.nodeById.get('n5'))[0].text, 'f = *');
  assert.equal(nodeLines(scalar, scalar.nodeById.get('n2'))[0].text, '+');
  const constant = { id: 'c', kind: 'constant', op: null, name: null, label: '3', shape: [], value: 3, grad: 0.5, span: [0, 1] };
  assert.deepEqual(nodeLines(scalar, constant).map((l) => l.text), ['3', '', 'grad 0.5']);
});

test('a large tensor is summarized by its range', () => {
  const raw = fixture('neural_net');
  const big = Array.from({ length: 3 }, (_, i) => Array.from({ length: 10 }, (_, j) => i * 10 + j));
  Object.assign(raw.nodes[0], { shape: [3, 10], value: big, grad: big });
  const model = prepareTrace(raw);
  const lines = nodeLines(model, model.nodeById.get('n0'));
  assert.equal(lines[0].text, 'W (3×10)');
  assert.deepEqual(lines.filter((l) => l.part === 'value').map((l) => l.text), ['value', '0…29']);
});

test('wires: the value above, the gradient below; tensors by their shape', () => {
  const model = prepareTrace(fixture('neural_net'));
  assert.deepEqual(edgeLines(model, model.edgeById.get('e0')), { value: '[2×3]', grad: '← [2×3]' });
  const scalar = prepareTrace(fixture('lecture_scalar'));
  assert.deepEqual(edgeLines(scalar, scalar.edgeById.get('e2')), { value: '2', grad: '← 3' });
});

test('the texts of a wire go halfway along it', () => {
  assert.deepEqual(midpoint([{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 10, y: 30 }]), { x: 10, y: 10 });
});

test('inputs come out in the order of the expression, top to bottom', () => {
  const model = prepareTrace(fixture('lecture_scalar'));
  const layout = computeLayout(model, dagre);
  const y = (id) => layout.nodes.get(id).y;
  assert.ok(y('n0') < y('n1') && y('n1') < y('n3'));
});

test('a node used twice by one op gets two wires', () => {
  const raw = fixture('lecture_scalar');
  // max(y, y): both arguments are y.
  raw.edges.find((e) => e.id === 'e3').source = 'n1';
  const model = prepareTrace(raw);
  const layout = computeLayout(model, dagre);
  assert.ok(layout.edges.get('e2') && layout.edges.get('e3'));
});

test('a long program with a reused input gets the linear layered layout, still left to right', () => {
  // x feeds every statement: dagre would add a hidden node for each rank a wire crosses.
  const n = 80;
  const nodes = [{ id: 'x', kind: 'input', op: null, name: 'x', label: 'x', shape: [], value: 1, grad: 1, span: [0, 1] }];
  const edges = [];
  const steps = [];
  let prev = 'x';
  for (let i = 0; i < n; i += 1) {
    const id = `m${i}`;
    nodes.push({ id, kind: 'op', op: 'mul', name: `a${i}`, label: '*', shape: [], value: 1, grad: 1, span: [0, 1] });
    edges.push({ id: `p${i}`, source: prev, target: id, index: 0, upstream: 1, local: 1, local_shape: [], downstream: 1 });
    edges.push({ id: `q${i}`, source: 'x', target: id, index: 1, upstream: 1, local: 1, local_shape: [], downstream: 1 });
    prev = id;
  }
  nodes.forEach((node, i) => steps.push({ index: i, phase: 'forward', node: node.id, edges: [], text: '' }));
  const model = prepareTrace({ version: 1, expression: 'x', output: prev, value: 1, gradients: {}, nodes, edges, steps, check: null, warnings: [] });
  const ranks = longestPathRanks(model);
  assert.equal(ranks.get('m79'), 80);
  assert.ok(wireCrossings(model, ranks) > MAX_DAGRE_CROSSINGS);
  const layout = computeLayout(model, dagre);
  for (const e of model.edges) assert.ok(layout.nodes.get(e.source).x < layout.nodes.get(e.target).x);
  assert.equal(layout.edges.size, model.edges.length);
  assert.ok(layout.width > layout.nodes.get(prev).x);
});

test('presenting: compact spacing, no shapes on ops, and stacked vectors make a narrower graph', () => {
  const model = prepareTrace(fixture('neural_net'));
  const normal = computeLayout(model, dagre);
  const side = computeLayout(model, dagre, undefined, { compact: true });
  const stacked = computeLayout(model, dagre, undefined, { compact: true, stack: true });
  assert.ok(side.width < normal.width && side.height < normal.height);
  assert.ok(stacked.width < side.width, `${stacked.width} vs ${side.width}`);
  // A stacked vector: its values' rows, then its gradient's rows, one column, each
  // under its word as large as the numbers (a hall tells them apart in words, not
  // by colour alone); no shape on the op.
  const lines = nodeLines(model, model.nodeById.get('n4'), { stack: true, presenting: true });
  assert.deepEqual(lines.map((l) => [l.part, l.kind, l.row, l.column ?? null, l.text]), [
    ['title', 'title', 0, null, 'z = +'],
    ['value', 'head-large', 1, null, 'value'], ['value', 'value', 2, null, '-1.65'], ['value', 'value', 3, null, '1.8'],
    ['grad', 'head-large', 4, null, 'grad'], ['grad', 'grad', 5, null, '0.135'], ['grad', 'grad', 6, null, '-0.243'],
  ]);
  const placed = placeLines(lines, estimateWidth);
  const rows = placed.lines.map((l) => l.y);
  assert.ok(rows[2] - rows[1] >= rows[3] - rows[2], 'a presented word takes a row as tall as a number');
  const w = nodeLines(model, model.nodeById.get('n0'), { presenting: true });
  assert.deepEqual(w.filter((l) => l.kind === 'head-large').map((l) => l.text), ['value', 'grad']);
  assert.equal(w[0].text, 'W (2×3)', 'an input keeps its shape in its title');
  // Every box still holds its texts.
  for (const box of stacked.nodes.values()) for (const l of box.lines) assert.ok(l.x <= box.width && l.y <= box.height);
});

test('every kind of text a layout measures is one whose font the page reads up front', () => {
  // The page reads each kind's font once, from TEXT_KINDS, before any layout:
  // a kind missing there would be measured in a font read mid-layout.
  const seen = new Set();
  const measure = (text, kind) => {
    seen.add(kind);
    return String(text).length * 9;
  };
  for (const name of ['lecture_scalar', 'neural_net', 'non_finite']) {
    const model = prepareTrace(fixture(name));
    for (const options of [{}, { compact: true }, { compact: true, stack: true }]) computeLayout(model, dagre, measure, options);
  }
  // The neural net's fixture has a check and captioned tensors: every kind turns up.
  assert.deepEqual([...seen].sort(), [...TEXT_KINDS].sort());
});

test('a constant\'s box keeps no line for a gradient', () => {
  const model = prepareTrace(engineTrace({ expression: 'x**3', values: { x: 4 } }));
  const three = model.nodes.find((n) => n.kind === 'constant');
  assert.deepEqual(nodeLines(model, three).filter((l) => l.part === 'grad'), []);
  const x = model.nodes.find((n) => n.name === 'x');
  assert.equal(nodeLines(model, x).filter((l) => l.part === 'grad').length, 1);
  // nor does the wire from it carry one
  assert.equal(edgeLines(model, model.outEdges.get(three.id)[0]).grad, '');
  assert.equal(edgeLines(model, model.outEdges.get(x.id)[0]).grad, '← 48');
  const loss = prepareTrace(engineTrace({ expression: 'p = softmax(z); loss = -sum(t * log(p))', values: { z: [1, 2, 0.5], t: [0, 1, 0] }, constants: ['t'] }));
  const t = loss.nodes.find((n) => n.name === 't');
  assert.deepEqual(nodeLines(loss, t).filter((l) => l.part === 'grad'), []);
});
