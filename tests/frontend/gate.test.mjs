import test from 'node:test';
import assert from 'node:assert/strict';
import { gateNumbers, readGate } from '../../frontend/js/gate.js';
import { prepareTrace } from '../../frontend/js/steps.js';
import { engineTrace, registry } from './helpers.mjs';

test('the MultiplyGate reads as the lecture says it: dz = 1, self.y = 3, so dx = 3', () => {
  const model = prepareTrace(engineTrace({ expression: 'x * y', values: { x: 2, y: 3 } }));
  const mul = model.nodeById.get(model.output);
  const numbers = gateNumbers(model, mul, registry().get('mul'));
  assert.equal(numbers.name, 'MultiplyGate');
  assert.deepEqual(numbers.forward, [{ name: 'x', value: 2, source: 'x' }, { name: 'y', value: 3, source: 'y' }]);
  assert.equal(numbers.output, 6);
  assert.equal(numbers.upstream, 1);
  const [dx, dy] = numbers.gradients;
  assert.equal(dx.text, 'dz = 1, self.y = 3, so dx = 3');
  assert.equal(dy.text, 'dz = 1, self.x = 2, so dy = 2');
  // the row is the gate's own line, so the view can set the numbers beside it
  assert.match(numbers.lines[dx.row], /dx = self\.y \* dz/);
});

test('a gate that keeps its output names self.z with the output\'s number', () => {
  const model = prepareTrace(engineTrace({ expression: 'f = 2 * sigmoid(x)', values: { x: 0 } }));
  const sigmoid = model.nodes.find((n) => n.op === 'sigmoid');
  const numbers = gateNumbers(model, sigmoid, registry().get('sigmoid'));
  assert.equal(numbers.gradients[0].text, 'dz = 2, self.z = 0.5, so dx = 0.5');
});

test('every op of the registry has a gate whose backward gives each argument a line', () => {
  for (const op of registry().values()) {
    const gate = readGate(op.gate);
    assert.ok(gate.name.endsWith('Gate'), op.name);
    assert.equal(gate.args.length, op.arity, op.name);
    assert.deepEqual(gate.gradients.map((g) => g.argument), gate.args, op.name);
  }
});

test('inputs and constants have no gate', () => {
  const model = prepareTrace(engineTrace({ expression: 'x * 2', values: { x: 1 } }));
  for (const n of model.nodes.filter((m) => m.kind !== 'op')) assert.equal(gateNumbers(model, n, registry().get('mul')), null);
});

test('max\'s gate names its arguments as the program does and its routing as the local gradient', () => {
  const model = prepareTrace(engineTrace({ expression: '(x + y) * max(y, z)', values: { x: 1, y: 2, z: 0 } }));
  const max = model.nodes.find((n) => n.op === 'max');
  const numbers = gateNumbers(model, max, registry().get('max'));
  assert.deepEqual(numbers.forward.map((a) => [a.name, a.source, a.value]), [['x', 'y', 2], ['y', 'z', 0]]);
  assert.deepEqual(numbers.gradients.map((g) => g.text), ['dz = 3, local = 1, so dx = 3', 'dz = 3, local = 0, so dy = 0']);
});
