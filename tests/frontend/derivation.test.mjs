import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathHighlight, pathWords, variablesOf } from '../../frontend/js/derivation.js';
import { fixture } from './helpers.mjs';

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
