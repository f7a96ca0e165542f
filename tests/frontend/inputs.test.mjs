import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { functionNames, inputNames, inputValuesOf, parseValueText, valueToText } from '../../frontend/js/inputs.js';
import { registry } from './helpers.mjs';

const FUNCTIONS = functionNames(registry());

test('the lecture expression needs x, y and z', () => {
  assert.deepEqual(inputNames('(x + y) * max(y, z)'), ['x', 'y', 'z']);
});

test('the registry\'s functions are the ops written as calls', () => {
  // transpose(A) is the .T op called by name; max(v) is amax, called max.
  for (const name of ['exp', 'max', 'sigmoid', 'softmax', 'dot', 'transpose', 'outer', 'norm']) assert.ok(FUNCTIONS.has(name), name);
  for (const name of ['add', 'matmul', 'identity', 'index']) assert.ok(!FUNCTIONS.has(name), name);
  // A function typed before its parenthesis is no input; without the registry it would be.
  assert.deepEqual(inputNames('sigmoid + x', FUNCTIONS), ['x']);
  assert.deepEqual(inputNames('sigmoid + x'), ['sigmoid', 'x']);
});

test('assigned names and functions are not inputs', () => {
  assert.deepEqual(inputNames('a = x + y; b = max(y, z); f = a * b'), ['x', 'y', 'z']);
  assert.deepEqual(inputNames('z = W @ x + b\nh = sigmoid(z)\ns = u @ h'), ['W', 'x', 'b', 'u']);
});

test('numbers with exponents and .T are not names', () => {
  assert.deepEqual(inputNames('1e-3 * x + 2.5E4'), ['x']);
  assert.deepEqual(inputNames('sum(W.T @ v)'), ['W', 'v']);
  // The lecture's u^T h gets a hint from the server, and no value box for T.
  assert.deepEqual(inputNames('s = u^T h'), ['u', 'h']);
  assert.deepEqual(inputNames('u^T @ h'), ['u', 'h']);
  // A call's keyword is not an input; an index named is one (its value is the class number).
  assert.deepEqual(inputNames('sum(A, axis=0) + mean(B, axis=1)'), ['A', 'B']);
  assert.deepEqual(inputNames('loss = -log(softmax(z)[y])'), ['z', 'y']);
  // Call names and the named numbers the server sends are never inputs.
  const names = functionNames(
    new Map([
      ['amax', { name: 'amax', function: true, call: 'max' }],
      ['transpose', { name: 'transpose', function: false, call: 'transpose' }],
    ]),
    [{ name: 'pi' }, { name: 'e' }],
  );
  assert.deepEqual([...names].sort(), ['amax', 'e', 'max', 'pi', 'transpose']);
  assert.deepEqual(inputNames('pi * r**2 + e + transpose', names), ['r']);
});

test('names are ASCII and may hold digits and underscores', () => {
  assert.deepEqual(inputNames('w_1 * x2 + w_1'), ['w_1', 'x2']);
  assert.deepEqual(inputNames(''), []);
  assert.deepEqual(inputNames('a == b'), ['a', 'b']);
});

test('value boxes read numbers, vectors and matrices with their shapes', () => {
  assert.deepEqual(parseValueText('2'), { ok: true, value: 2, shape: [] });
  assert.deepEqual(parseValueText(' -.5e1 '), { ok: true, value: -5, shape: [] });
  assert.deepEqual(parseValueText('[1, 2, 3]'), { ok: true, value: [1, 2, 3], shape: [3] });
  assert.deepEqual(parseValueText('[[1,2],[3,4],[5,6]]'), { ok: true, value: [[1, 2], [3, 4], [5, 6]], shape: [3, 2] });
});

test('bad values say what is wrong', () => {
  assert.equal(parseValueText('').ok, false);
  assert.match(parseValueText('[[1,2],[3]]').error, /rows/);
  assert.match(parseValueText('[[[1]]]').error, /matrix/);
  assert.match(parseValueText('[]').error, /empty/);
  assert.match(parseValueText('[1, 2').error, /missing/);
  assert.equal(parseValueText('abc').ok, false);
  assert.equal(parseValueText('1e999').ok, false);
  assert.equal(parseValueText('1 2').ok, false);
});

test('a value goes back to the text of its box', () => {
  assert.equal(valueToText([[1, 2], [3, 4]]), '[[1, 2], [3, 4]]');
  assert.deepEqual(parseValueText(valueToText([0.5, -1])).value, [0.5, -1]);
});

test('a trace gives back the values it was traced at, by input name', () => {
  const trace = JSON.parse(readFileSync(new URL('./fixtures/neural_net.json', import.meta.url)));
  const values = inputValuesOf(trace);
  assert.deepEqual(Object.keys(values).sort(), ['W', 'b', 'u', 'x']);
  const w = trace.nodes.find((n) => n.kind === 'input' && n.name === 'W');
  assert.deepEqual(values.W, w.value);
  assert.deepEqual(Object.keys(inputValuesOf({ nodes: [{ kind: 'op', name: 'z', value: 1 }] })), []);
});

test('a def line asks for no value: its body reads only its parameters', () => {
  assert.deepEqual(inputNames('def sig(a) = 1 / (1 + exp(-a))\ns = sig(z) * y'), ['z', 'y']);
  assert.deepEqual(inputNames('def neuron(w, v, c) = tanh(w @ v + c); h = neuron(W, x, b)'), ['W', 'x', 'b']);
});
