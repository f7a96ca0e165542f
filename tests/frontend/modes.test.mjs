import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  blockReading, blockRows, columnLabels, costBars, elementName, filledMatrix, graphMarks, passLight, rowLabels, settleView, stepCount,
  tangentPass, traceOfJacobian,
} from '../../frontend/js/modes.js';
import { prepareTrace } from '../../frontend/js/steps.js';

import { FIELDS, initialState, queryFromState, stateFromQuery } from '../../frontend/js/state.js';

// The answers of POST /api/v1/jacobian, from the engine in this checkout (never hand-copied numbers).
function jacobian(expression, values, constants = []) {
  const python = new URL('../../.venv/bin/python', import.meta.url).pathname;
  const code = 'import json, sys; import gradtrace; a = json.loads(sys.argv[1]); print(json.dumps(gradtrace.jacobian(a[0], a[1], constants=a[2]).to_dict()))';
  return JSON.parse(execFileSync(python, ['-c', code, JSON.stringify([expression, values, constants])], { encoding: 'utf8' }));
}

const LAYER = 'z = W @ x + b; h = sigmoid(z); s = u @ h';
const W = [[0.5, -1.0, 0.25], [1.0, 0.5, -0.5]];
const LAYER_VALUES = { W, x: [1, 2, 3], b: [0.5, -0.5], u: [1, -1] };
const layer = jacobian(LAYER, LAYER_VALUES);
const sigmoid = jacobian('h = sigmoid(z)', { z: [-0.25, 0, 2] });
const affine = jacobian('z = W @ x + b', { W, x: [1, 2, 3], b: [0.5, -0.5] }, ['W']);

test('the costs chart has the forward pass, reverse mode, each input separately and forward mode, from the answer', () => {
  const bars = costBars(layer.costs, layer.m);
  assert.deepEqual(bars.map((b) => b.key), ['forward', 'reverse', 'separately', 'forward_mode']);
  assert.deepEqual(bars.map((b) => b.flops), [layer.costs.forward.flops, layer.costs.reverse.flops, layer.costs.separately.flops, layer.costs.forward_mode.flops]);
  assert.equal(bars[1].label, 'reverse mode: one backward pass');
  assert.equal(bars[3].label, `forward mode: ${layer.n} tangent passes`);
  assert.ok(bars[2].flops > bars[1].flops, 'the incorrect way costs more than reverse mode');
});

test('the incorrect way\'s repeated work is marked on the graph with its count; reverse mode has no marks', () => {
  const marks = graphMarks(layer, { shows: 'costs' });
  assert.deepEqual([...marks.repeated.entries()], Object.entries(layer.repeated));
  assert.equal(marks.repeated.get('n4'), 3); // z: for W, x and b
  assert.equal(graphMarks(layer, { shows: 'jacobian', by: 'reverse', step: 0 }).repeated.size, 0);
});

test('elements and labels read as the lecture writes them', () => {
  assert.equal(elementName('W', [2, 3], 4), 'W[1, 1]');
  assert.equal(elementName('s', [], 0), 's');
  assert.deepEqual(columnLabels(affine), ['x[0]', 'x[1]', 'x[2]', 'b[0]', 'b[1]']);
  assert.deepEqual(rowLabels(affine, 'z'), ['z[0]', 'z[1]']);
});

test('reverse mode fills the Jacobian row by row, forward mode column by column, to the same matrix', () => {
  const row0 = filledMatrix(affine, 'reverse', 0);
  assert.deepEqual(row0[0], affine.jacobian[0]);
  assert.ok(row0[1].every((v) => v === null));
  const col1 = filledMatrix(affine, 'forward', 1);
  assert.deepEqual(col1.map((r) => r.slice(0, 2)), affine.jacobian.map((r) => r.slice(0, 2)));
  assert.ok(col1.every((r) => r.slice(2).every((v) => v === null)));
  assert.deepEqual(filledMatrix(affine, 'reverse', 99), filledMatrix(affine, 'forward', 99));
  assert.deepEqual(filledMatrix(affine, 'forward', 99), affine.jacobian);
});

test('the blocks read W for x and I for b in z = W @ x + b, diag(σ\'(z)) for h = sigmoid(z)', () => {
  const full = filledMatrix(affine, 'reverse', 1);
  const [x, b] = affine.inputs;
  assert.equal(blockReading(blockRows(full, x), affine), '= W');
  assert.equal(blockReading(blockRows(full, b), affine), 'I');
  const s = filledMatrix(sigmoid, 'forward', 2);
  assert.match(blockReading(s, sigmoid), /^diag\(0\.2461, 0\.25, 0\.105\)$/);
});

test('a pass lights the nodes it reaches with its numbers and its seed', () => {
  const back = passLight(affine, 'reverse', 1);
  assert.equal(back.seedNode, affine.output);
  assert.equal(back.seed, 'seed e₂');
  assert.ok(!back.nodes.includes('n0'), 'W is data: no adjoint');
  const fwd = passLight(affine, 'forward', 3);
  assert.equal(fwd.seed, 'seed b[0] = 1');
  assert.equal(fwd.seedNode, affine.inputs[1].node);
});

test('a forward-mode pass goes node by node from the seeded input to the output, its last tangent the column', () => {
  const pass = tangentPass(layer, 'x', 1);
  assert.equal(pass.seedName, 'x[1]');
  assert.equal(pass.order[0].id, 'n1');
  assert.equal(pass.order.at(-1).id, layer.output);
  assert.deepEqual(pass.order[0].tangent, [0, 1, 0]);
  assert.equal(pass.order.at(-1).tangent, layer.jacobian[0][pass.column]);
  assert.equal(stepCount(layer, { shows: 'tangent', of: 'x', element: 1 }), pass.order.length);
  const marks = graphMarks(layer, { shows: 'tangent', of: 'x', element: 1, step: 1 });
  assert.equal(marks.lit.size, 2);
  assert.equal(marks.current, pass.order[1].id);
});

test('the view\'s choices settle inside the answer', () => {
  const view = settleView(layer, { shows: 'tangent', of: 'nope', element: 99, step: 99 });
  assert.equal(view.of, 'W');
  assert.equal(view.element, 5);
  assert.equal(view.step, stepCount(layer, view) - 1);
});

test('a vector output is drawn as a trace of its forward pass, without gradients', () => {
  const model = prepareTrace(traceOfJacobian(sigmoid));
  assert.equal(model.raw.jacobian, true);
  assert.equal(model.steps.length, sigmoid.nodes.length);
  assert.ok(model.steps.every((s) => s.phase === 'forward'));
  assert.ok(model.nodes.every((n) => n.grad === null && n.constant));
  assert.equal(model.forwardCount, model.steps.length);
});

test('the view, its mode, the seeded element and the pass survive the URL', () => {
  const state = initialState();
  Object.assign(state, { expression: 'h = sigmoid(z)', values: { z: [1, 2] }, panelView: 'all', allShows: 'jacobian', allBy: 'forward', allOf: 'z', allElement: 1, allStep: 1 });
  const params = new URLSearchParams(queryFromState(state));
  assert.equal(params.get('view'), 'all');
  assert.equal(params.get('all'), 'jacobian');
  assert.equal(params.get('by'), 'forward');
  const back = stateFromQuery(queryFromState(state));
  for (const key of ['panelView', 'allShows', 'allBy', 'allOf', 'allElement', 'allStep']) assert.deepEqual(back[key], state[key]);
  assert.equal(stateFromQuery('?all=sideways&by=up').allShows, 'costs');
  assert.ok(FIELDS.some((f) => f.name === 'allAtOnce' && !f.param));
});
