import test from 'node:test';
import assert from 'node:assert/strict';
import dagre from '../../frontend/node_modules/@dagrejs/dagre/dist/dagre.esm.js';
import { BAND_NODES, BUNDLE_MIN, CUT_RANKS, computeLayout } from '../../frontend/js/layout.js';
import { prepareTrace } from '../../frontend/js/steps.js';
import { engineTrace } from './helpers.mjs';

test('a node feeding many wires sends them as a bundle: one label with the value and the count', () => {
  const terms = Array.from({ length: 8 }, (_, i) => `x * ${i + 2}`);
  const model = prepareTrace(engineTrace({ expression: terms.join(' + '), values: { x: 0.5 } }));
  const layout = computeLayout(model, dagre);
  const x = model.nodes.find((n) => n.name === 'x').id;
  const outs = model.outEdges.get(x);
  assert.ok(outs.length >= BUNDLE_MIN);
  const wires = outs.map((e) => layout.edges.get(e.id));
  const heads = wires.filter((w) => w.bundle.first);
  assert.equal(heads.length, 1);
  assert.equal(heads[0].value, `0.5 ×${outs.length}`);
  assert.equal(heads[0].grad, '');
  // The other wires keep their own texts, for the steps that work on them.
  for (const w of wires.filter((v) => !v.bundle.first)) assert.equal(w.value, '0.5');
  // A node with a wire or two draws them as before.
  const mul = outs[0].target;
  assert.equal(layout.edges.get(model.outEdges.get(mul)[0].id).bundle, undefined);
});

test('on the layered layout a long wire is cut short: two stubs, labelled by where it comes from', () => {
  // x is read at the start and again at the end of a chain longer than the cut.
  const lines = ['a0 = x * 2'];
  for (let i = 1; i < 420; i += 1) lines.push(`a${i} = a${i - 1} + 1`);
  lines.push('f = a419 * x');
  const model = prepareTrace(engineTrace({ expression: lines.join('\n'), values: { x: 0.5 } }));
  const layout = computeLayout(model, dagre);
  const x = model.nodes.find((n) => n.name === 'x').id;
  const f = model.nodes.find((n) => n.name === 'f').id;
  const long = model.edges.find((e) => e.source === x && e.target === f);
  const wire = layout.edges.get(long.id);
  assert.equal(wire.cut, true);
  assert.equal(wire.points.length, 4);
  assert.equal(wire.value, 'x: 0.5');
  // Its stubs leave the source and reach the target, and its label is by the target.
  const target = layout.nodes.get(f);
  assert.ok(wire.points[1].x - wire.points[0].x < 200 && wire.points[3].x - wire.points[2].x < 200);
  assert.ok(Math.abs(wire.x - (target.x - target.width / 2)) < 200);
  // A short wire is drawn whole.
  const short = model.edges.find((e) => e.source === x && e.target !== f);
  assert.ok(!layout.edges.get(short.id).cut);
  assert.ok(CUT_RANKS > 1);
});

test('a large program reads in bands: about a screen in shape, each wire between bands cut', () => {
  const lines = ['a0 = tanh(x)'];
  for (let i = 1; i < 560; i += 1) lines.push(`a${i} = tanh(a${i - 1})`);
  const model = prepareTrace(engineTrace({ expression: lines.join('\n'), values: { x: 0.5 } }));
  assert.ok(model.nodes.length > BAND_NODES);
  const layout = computeLayout(model, dagre);
  // Far from one long row: the whole graph is within a few times a screen's shape.
  assert.ok(layout.width / layout.height < 16 / 9 * 4, `${layout.width} x ${layout.height}`);
  const ys = new Set([...layout.nodes.values()].map((n) => Math.round(n.y / 100)));
  assert.ok(ys.size > 3);
  for (const e of model.edges) {
    const s = layout.nodes.get(e.source);
    const t = layout.nodes.get(e.target);
    const w = layout.edges.get(e.id);
    // Within a band data flows to the right; a wire to another band is two stubs.
    if (Math.abs(s.y - t.y) > layout.height / 4) assert.equal(w.cut, true, e.id);
    if (!w.cut) assert.ok(s.x < t.x, e.id);
  }
});
