import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COLLAPSE_NODES, collapsedView, groupTitle, groupsOf, initialCollapsed, shownNode } from '../../frontend/js/groups.js';
import { keyAction } from '../../frontend/js/player.js';
import { prepareTrace } from '../../frontend/js/steps.js';

// z = W @ x + b; h = tanh(z): n0 W, n1 x, n2 W @ x, n3 b, n4 +, n5 tanh.
function layer() {
  const node = (id, kind, label) => ({ id, kind, op: null, name: null, label, shape: [], value: 1, grad: 1, span: [0, 1] });
  const edge = (id, source, target, index) => ({ id, source, target, index, upstream: 1, local: 1, local_shape: [], downstream: 1 });
  return prepareTrace({
    expression: 'z = W @ x + b; h = tanh(z)',
    output: 'n5',
    value: 1,
    gradients: {},
    nodes: [node('n0', 'input', 'W'), node('n1', 'input', 'x'), node('n2', 'op', '@'), node('n3', 'input', 'b'), node('n4', 'op', '+'), node('n5', 'op', 'tanh')],
    edges: [edge('e0', 'n0', 'n2', 0), edge('e1', 'n1', 'n2', 1), edge('e2', 'n2', 'n4', 0), edge('e3', 'n3', 'n4', 1), edge('e4', 'n4', 'n5', 0)],
    steps: [],
    check: null,
    warnings: [],
    groups: [
      { id: 'g0', kind: 'statement', name: 'z', span: [0, 13], nodes: ['n2', 'n4'], inputs: ['n0', 'n1', 'n3'], output: 'n4' },
      { id: 'g1', kind: 'statement', name: 'h', span: [15, 26], nodes: ['n5'], inputs: ['n4'], output: 'n5' },
    ],
  });
}

test('only a group of two nodes or more can close, titled with its statement', () => {
  const model = layer();
  assert.deepEqual([...groupsOf(model).keys()], ['g0']);
  assert.equal(groupsOf(model).get('g0').title, 'z = W @ x + b');
  assert.equal(model.groupHeads.get('n4').id, 'g0');
  assert.equal(groupTitle('a = ' + 'x + '.repeat(20) + 'x', { span: [0, 85] }).length, 28);
});

test('a closed group hides its members but its head, and its crossing wires go into the head', () => {
  const model = layer();
  const view = collapsedView(model, new Set(['g0']));
  assert.deepEqual([...view.hidden.keys()], ['n2']);
  assert.deepEqual([...view.heads.keys()], ['n4']);
  assert.deepEqual(Object.fromEntries(view.routes), {
    e0: { head: 'n4', moved: true, wire: null },
    e1: { head: 'n4', moved: true, wire: null },
    e2: 'hidden',
    e3: { head: 'n4', moved: false, wire: null },
  });
  assert.equal(shownNode(view, 'n2'), 'n4');
  assert.equal(shownNode(view, 'n5'), 'n5');
  const open = collapsedView(model, new Set());
  assert.equal(open.hidden.size + open.routes.size, 0);
});

test('a graph opens closed from COLLAPSE_NODES nodes on', () => {
  const model = layer();
  assert.equal(initialCollapsed(model).size, 0);
  model.nodes = Array.from({ length: COLLAPSE_NODES }, (_, i) => ({ id: `n${i}` }));
  assert.deepEqual([...initialCollapsed(model)], ['g0']);
});

test('O closes or opens a group', () => {
  assert.equal(keyAction({ key: 'o' }), 'group');
  assert.equal(keyAction({ key: 'O' }), 'group');
  assert.equal(keyAction({ key: 'o', targetIsText: true }), null);
});

test('a group title is cut to its box, never widening it', async () => {
  const { fitText, placeLines } = await import('../../frontend/js/layout.js');
  const width = (text) => text.length * 10;
  assert.equal(fitText('z = W @ x + b', 200, width), 'z = W @ x + b');
  assert.equal(fitText('z = W @ x + b', 60, width), 'z = W…');
  const lines = [{ part: 'title', kind: 'title', row: 0, text: 'z = +' }, { part: 'title', kind: 'title', row: 0, text: 'z = W @ x + b', group: true }];
  const plain = placeLines(lines.slice(0, 1), width);
  const both = placeLines(lines, width);
  assert.equal(both.width, plain.width);
  assert.ok(both.lines[1].text.endsWith('…'));
});

test('a call is a gate: one wire per input into its box, with its local and downstream', () => {
  const model = layer();
  // x used twice inside the call: e0 and e1 both from n1 (W replaced by x).
  model.edges[0].source = 'n1';
  model.raw.groups = [
    { id: 'g0', kind: 'call', name: 'f', span: [4, 13], nodes: ['n2', 'n4'], inputs: ['n1', 'n3'], output: 'n4', upstream: 1,
      wires: [{ source: 'n1', local: 2, local_shape: [], downstream: 2 }, { source: 'n3', local: 1, local_shape: [], downstream: 1 }] },
    { id: 'g1', kind: 'statement', name: 'z', span: [0, 13], nodes: ['n2', 'n4'], inputs: ['n1', 'n3'], output: 'n4' },
    { id: 'g2', kind: 'statement', name: 'h', span: [15, 26], nodes: ['n5'], inputs: ['n4'], output: 'n5' },
  ];
  // The statement that is one call is the call's box, kept once.
  assert.deepEqual([...groupsOf(model).keys()], ['g1']);
  model.groups = null;
  model.raw.groups.splice(1, 1);
  assert.deepEqual([...groupsOf(model).keys()], ['g0']);
  const view = collapsedView(model, new Set(['g0']));
  assert.equal(view.routes.get('e0').wire.local, 2);
  assert.equal(view.routes.get('e1'), 'hidden');
  assert.equal(view.routes.get('e3').wire.downstream, 1);
});

test('the toggles of a link apply over how the trace opens', async () => {
  const { collapsedWith } = await import('../../frontend/js/groups.js');
  const model = layer();
  assert.deepEqual([...collapsedWith(model, ['g0', 'g9'])], ['g0']);
  model.nodes = Array.from({ length: COLLAPSE_NODES }, (_, i) => ({ id: `n${i}` }));
  assert.deepEqual([...collapsedWith(model, ['g0'])], []);
});

test("a large graph's layout has one box per closed group, and an opened group's own layout is kept", async () => {
  const { default: dagre } = await import('../../frontend/node_modules/@dagrejs/dagre/dist/dagre.esm.js');
  const { positionGraph } = await import('../../frontend/js/layout.js');
  // x -> [a -> b] -> [c -> d] -> e: two groups of two.
  const box = (id, rank) => ({ id, width: 60, height: 40, rank });
  const ids = ['x', 'a', 'b', 'c', 'd', 'e'];
  const graph = {
    layered: false, band: false, ranksep: 50, nodesep: 20, margin: 10,
    nodes: ids.map((id, i) => box(id, i)),
    edges: ids.slice(1).map((id, i) => ({ id: `w${i}`, source: ids[i], target: id, bundled: false, cut: false })),
  };
  const groups = (closed) => [
    { id: 'g0', members: ['a', 'b'], head: 'b', closed },
    { id: 'g1', members: ['c', 'd'], head: 'd', closed: true },
  ];
  const open = positionGraph(graph, dagre);
  const closed = positionGraph({ ...graph, groups: groups(true) }, dagre);
  const at = (p, id) => p.nodes.find((n) => n.id === id);
  // A closed group's members sit on its head; the graph is narrower than all open.
  assert.deepEqual([at(closed, 'c').x, at(closed, 'c').y], [at(closed, 'd').x, at(closed, 'd').y]);
  assert.ok(closed.width < open.width);
  // g0 opened: its own layout comes back, and given back it places the same.
  const opened = positionGraph({ ...graph, groups: groups(false) }, dagre);
  assert.ok(opened.inner.g0);
  assert.ok(at(opened, 'a').x < at(opened, 'b').x);
  const again = positionGraph({ ...graph, groups: groups(false), inner: { g0: opened.inner.g0 } }, dagre);
  assert.deepEqual(again.nodes, opened.nodes);
});
