import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathHighlight, pathWords, shapesLatex, variablesOf } from '../../frontend/js/derivation.js';
import { engineByHand, fixture } from './helpers.mjs';

function model(trace) {
  return { ...trace, nodeById: new Map(trace.nodes.map((n) => [n.id, n])) };
}

test('the variables are the inputs and named intermediates, never the output or a constant', () => {
  const m = model(fixture('neural_net'));
  const names = variablesOf(m).map((v) => v.name);
  const output = m.nodeById.get(m.output).name;
  assert.ok(names.includes('W') && names.includes('b') && names.includes('z'));
  assert.ok(!names.includes(output));
  assert.equal(new Set(names).size, names.length);
});

test('a path is lit by its nodes and edges, with its delta node', () => {
  const derivation = {
    paths: [{ nodes: ['n7', 'n6', 'n4', 'n3'], edges: ['e6', 'e4', 'e3'], delta: { node: 'n4', factors: 2 } }],
  };
  const lit = pathHighlight(derivation, 0);
  assert.deepEqual([...lit.nodes], ['n7', 'n6', 'n4', 'n3']);
  assert.deepEqual([...lit.edges], ['e6', 'e4', 'e3']);
  assert.equal(lit.delta, 'n4');
  assert.equal(pathHighlight(derivation, 3).nodes.size, 0);
});

test('a path reads from the output down, in display names', () => {
  const m = { nodeById: new Map([['n2', { display_name: 's' }], ['n1', { display_name: 'h' }], ['n0', { name: 'z' }]]) };
  assert.equal(pathWords(m, { nodes: ['n2', 'n1', 'n0'] }), 's ← h ← z');
});

test('each factor of a path carries its shape: [1 x 2][2 x 2][2 x 2] = [1 x 2] for ds/db', () => {
  const values = { W: [[0.5, -1, 0.25], [1, 0.5, -0.5]], x: [1, 2, 3], b: [0.5, -0.5], u: [1, -1] };
  const body = engineByHand('z = W @ x + b; h = sigmoid(z); s = u @ h', values, 'b');
  const latex = shapesLatex(body.derivations[0], 0).join(' ');
  const shapes = [...latex.matchAll(/}_\{([^{}]*)\}/g)].map((m) => m[1]);
  assert.deepEqual(shapes, ['1 \\times 2', '1 \\times 2', '2 \\times 2', '2 \\times 2']);
  const w = engineByHand('z = W @ x + b; h = sigmoid(z); s = u @ h', values, 'W');
  assert.match(shapesLatex(w.derivations[0], 0)[0], /_\{1 \\times 6\} =$/);
  assert.match(shapesLatex(w.derivations[0], 0).at(-1), /_\{2 \\times 6\}$/);
});
