import test from 'node:test';
import assert from 'node:assert/strict';
import { frameAt, gradientSources, phaseRanges, prepareTrace, staleParts, stepOfNode } from '../../frontend/js/steps.js';
import { engineTrace, fixture, registry } from './helpers.mjs';

const lecture = () => prepareTrace(fixture('lecture_scalar'));

test('forward steps fill values in topological order, later nodes stay empty', () => {
  const model = lecture();
  const f = frameAt(model, 2); // x, y, then x + y
  assert.deepEqual(model.nodes.map((n) => f.nodes.get(n.id).value), [true, true, true, false, false, false]);
  assert.ok(model.nodes.every((n) => !f.nodes.get(n.id).grad));
  assert.equal(f.phase, 'forward');
  assert.ok(f.nodes.get('n2').current);
  assert.ok(f.edges.get('e0').current && f.edges.get('e1').current);
  assert.ok(!f.edges.get('e2').current);
  // A wire shows its value once its source is known: y's wire to max already does.
  assert.ok(f.edges.get('e2').value);
  assert.ok(!f.edges.get('e3').value);
});

test('backward steps carry gradients back, one node at a time', () => {
  const model = lecture();
  const seed = frameAt(model, 6);
  assert.equal(seed.phase, 'backward');
  assert.ok(seed.nodes.get('n5').grad);
  assert.ok(seed.edges.get('e4').grad && seed.edges.get('e5').grad);
  assert.ok(!seed.nodes.get('n4').grad);
  const atMax = frameAt(model, 7);
  assert.ok(atMax.edges.get('e2').grad && atMax.edges.get('e3').grad);
  assert.ok(!atMax.edges.get('e0').grad);
  assert.ok(!atMax.nodes.get('n1').grad, 'y still waits for its other consumer');
  const last = frameAt(model, 11);
  assert.ok(model.nodes.every((n) => last.nodes.get(n.id).value && last.nodes.get(n.id).grad));
});

test('at y the step sums its outgoing wires: 2 + 3 = 5', () => {
  const model = lecture();
  const f = frameAt(model, stepOfNode(model, 'n1', 'backward'));
  assert.ok(f.edges.get('e1').summing && f.edges.get('e2').summing);
  // The panel's sources of y's gradient: one share per outgoing wire, and they add up to it.
  const shares = gradientSources(model, 'n1', registry()).map((s) => s.edge.downstream);
  assert.deepEqual(shares, [2, 3]);
  assert.equal(shares[0] + shares[1], model.nodeById.get('n1').grad);
  // The output's gradient is the seed: no wire sends it, no wire sums at its step.
  const seed = frameAt(model, stepOfNode(model, model.output, 'backward'));
  assert.ok([...seed.edges.values()].every((e) => !e.summing));
});

test('the phases split the steps for the scrubber', () => {
  const model = lecture();
  assert.deepEqual(phaseRanges(model), { forward: [0, 6], backward: [6, 12] });
  assert.equal(stepOfNode(model, 'n4', 'forward'), 4);
  assert.equal(stepOfNode(model, 'n4', 'backward'), 7);
});

test('non-finite strings are read as numbers and warnings indexed by node', () => {
  const model = prepareTrace(fixture('non_finite'));
  assert.equal(model.value, -Infinity);
  assert.equal(model.nodeById.get('n1').value, -Infinity);
  assert.equal(model.edgeById.get('e0').local, Infinity);
  assert.equal(model.gradients.x, Infinity);
  assert.equal(model.warningsByNode.get('n1')[0].kind, 'non_finite');
});

test('tensor traces keep their nested lists and the gradient check', () => {
  const model = prepareTrace(fixture('neural_net'));
  assert.deepEqual(model.nodeById.get('n0').shape, [2, 3]);
  assert.equal(model.inEdges.get('n2').map((e) => e.id).join(), 'e0,e1');
  assert.equal(model.check.W.ok, true);
  assert.equal(model.outEdges.get('n4').length, 1);
});

test('where a gradient comes from: each consumer, and the input max routed it to', () => {
  const model = lecture();
  // z feeds only max(y, z), which routed its gradient to y.
  const z = gradientSources(model, 'n3', registry());
  assert.equal(z.length, 1);
  assert.equal(z[0].consumer.id, 'n4');
  assert.equal(z[0].argument, 2);
  assert.equal(z[0].routing, 'larger');
  assert.equal(z[0].routedTo.source, 'n1');
  assert.equal(z[0].edge.downstream, 0);
  // y feeds two consumers: x + y (no routing) and max(y, z).
  const y = gradientSources(model, 'n1', registry());
  assert.deepEqual(y.map((s) => [s.consumer.id, s.argument, s.routing, s.edge.downstream]), [['n2', 2, null, 2], ['n4', 1, 'larger', 3]]);
  // The output's gradient is seeded, not sent by a consumer.
  assert.deepEqual(gradientSources(model, model.output, registry()), []);
  // Which ops route is the registry's word: without it, max is one more consumer.
  const ops = new Map([...registry()].map(([name, op]) => [name, { ...op, routes_to: null }]));
  assert.equal(gradientSources(model, 'n3', ops)[0].routing, null);
  // A tie splits the gradient: no single input is named.
  const raw = fixture('lecture_scalar');
  for (const e of raw.edges) if (e.target === 'n4') e.local = 0.5;
  assert.equal(gradientSources(prepareTrace(raw), 'n3', registry())[0].routedTo, null);
});

// What a drawing shows once it has applied every stale part of a frame, as GraphView does.
function applyStale(shown, frame) {
  const stale = staleParts(shown, frame);
  for (const id of stale.nodes) shown.nodes.set(id, frame.nodes.get(id));
  for (const id of stale.edges) shown.edges.set(id, { ...frame.edges.get(id), phase: frame.phase });
  return stale;
}

const nothingShown = () => ({ nodes: new Map(), edges: new Map() });

test('stale parts: a fresh drawing has every node and wire to set', () => {
  const model = lecture();
  const stale = applyStale(nothingShown(), frameAt(model, 0));
  assert.deepEqual(stale.nodes, model.nodes.map((n) => n.id));
  assert.deepEqual(stale.edges, model.edges.map((e) => e.id));
});

test('stale parts: one forward step touches only its node, the one before and their wires', () => {
  const model = lecture();
  const shown = nothingShown();
  applyStale(shown, frameAt(model, 2));
  // From the step that computes x + y to the next one.
  const stale = applyStale(shown, frameAt(model, 3));
  const stepNode = model.steps[3].node;
  assert.deepEqual(new Set(stale.nodes), new Set([model.steps[2].node, stepNode]));
  // Wires that stopped or started being current, or whose source's value just became known.
  const expected = model.edges.filter((e) => model.steps[2].edges.includes(e.id) || model.steps[3].edges.includes(e.id)
    || e.source === stepNode).map((e) => e.id);
  assert.deepEqual(new Set(stale.edges), new Set(expected));
});

test('stale parts: nothing is left once a frame is shown', () => {
  const model = lecture();
  const shown = nothingShown();
  for (let s = 0; s < model.steps.length; s += 1) {
    applyStale(shown, frameAt(model, s));
    assert.deepEqual(staleParts(shown, frameAt(model, s)), { nodes: [], edges: [] });
  }
});

test('stale parts: crossing into the backward pass makes every wire stale', () => {
  const model = lecture();
  const last = model.forwardCount - 1;
  const shown = nothingShown();
  applyStale(shown, frameAt(model, last));
  assert.deepEqual(applyStale(shown, frameAt(model, last + 1)).edges, model.edges.map((e) => e.id));
});

test('stale parts: any walk of steps and jumps ends where a fresh frame is', () => {
  for (const name of ['lecture_scalar', 'neural_net', 'non_finite']) {
    const model = prepareTrace(fixture(name));
    const n = model.steps.length;
    // Forward one by one, back one by one, then jumps both ways (End, Home, clicks).
    const walk = [...Array(n).keys(), ...[...Array(n).keys()].reverse(), n - 1, 0, Math.floor(n / 2), 1, n - 2, 2];
    const shown = nothingShown();
    for (const s of walk) {
      const next = frameAt(model, Math.max(0, Math.min(n - 1, s)));
      applyStale(shown, next);
      for (const [id, state] of next.nodes) assert.deepEqual(shown.nodes.get(id), state, `${name} node ${id} at ${s}`);
      for (const [id, state] of next.edges) assert.deepEqual(shown.edges.get(id), { ...state, phase: next.phase }, `${name} edge ${id} at ${s}`);
    }
  }
});

test('stale parts: a drawing that applies part of each change at a time still ends where the frame is', () => {
  for (const name of ['lecture_scalar', 'neural_net', 'non_finite']) {
    const model = prepareTrace(fixture(name));
    const n = model.steps.length;
    const shown = { nodes: new Map(), edges: new Map() };
    const apply = (frame, ids) => {
      for (const id of ids.nodes) shown.nodes.set(id, frame.nodes.get(id));
      for (const id of ids.edges) shown.edges.set(id, { ...frame.edges.get(id), phase: frame.phase });
    };
    // Jumps and steps; each time only every other stale part is applied before the next jump.
    for (const s of [n - 1, 0, Math.floor(n / 2), n - 1, 1, 2, n - 2]) {
      const frame = frameAt(model, s);
      const stale = staleParts(shown, frame);
      apply(frame, { nodes: stale.nodes.filter((_, i) => i % 2 === 0), edges: stale.edges.filter((_, i) => i % 2 === 0) });
    }
    const frame = frameAt(model, n - 2);
    let rounds = 0;
    for (let stale = staleParts(shown, frame); stale.nodes.length || stale.edges.length; stale = staleParts(shown, frame)) {
      apply(frame, { nodes: stale.nodes.slice(0, 1), edges: stale.edges.slice(0, 1) });
      rounds += 1;
      assert.ok(rounds <= model.nodes.length + model.edges.length, 'settles');
    }
    for (const [id, state] of frame.nodes) assert.deepEqual(shown.nodes.get(id), state, `${name} node ${id}`);
    for (const [id, state] of frame.edges) assert.deepEqual(shown.edges.get(id), { ...state, phase: frame.phase }, `${name} edge ${id}`);
    assert.deepEqual(staleParts(shown, frame), { nodes: [], edges: [] });
  }
});

test('stale parts: a wire drawn in the other phase is stale even when its state is the same', () => {
  const model = lecture();
  const last = model.forwardCount - 1;
  const forward = frameAt(model, last);
  const shown = { nodes: new Map(forward.nodes), edges: new Map([...forward.edges].map(([id, e]) => [id, { ...e, phase: 'forward' }])) };
  assert.deepEqual(staleParts(shown, forward), { nodes: [], edges: [] });
  const backward = { ...forward, phase: 'backward' };
  assert.deepEqual(staleParts(shown, backward).edges, model.edges.map((e) => e.id));
});

test('a constant gets no gradient drawn: not on its node, not on the wire into its consumer', () => {
  const model = prepareTrace(engineTrace({ expression: 'x**3', values: { x: 4 } }));
  const three = model.nodes.find((n) => n.kind === 'constant');
  assert.equal(three.constant, true);
  const last = frameAt(model, model.steps.length - 1);
  assert.equal(last.nodes.get(three.id).grad, false);
  const wire = model.outEdges.get(three.id)[0];
  assert.equal(last.edges.get(wire.id).grad, false);
  const x = model.nodes.find((n) => n.name === 'x');
  assert.equal(last.nodes.get(x.id).grad, true);
  // An input named as data is a constant too.
  const loss = prepareTrace(engineTrace({ expression: 'p = softmax(z); loss = -sum(t * log(p))', values: { z: [1, 2, 0.5], t: [0, 1, 0] }, constants: ['t'] }));
  const t = loss.nodes.find((n) => n.name === 't');
  assert.equal(frameAt(loss, loss.steps.length - 1).nodes.get(t.id).grad, false);
});
