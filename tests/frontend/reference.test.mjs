import { test } from 'node:test';
import assert from 'node:assert/strict';

import { callName, referenceCard } from '../../frontend/js/reference.js';

const OPS = new Map(
  [
    { name: 'add', label: '+', syntax: 'a + b', symbol: '+', precedence: 10, short_intuition: '+ distributes', function: false },
    { name: 'mul', label: '*', syntax: 'a * b', symbol: '*', precedence: 20, short_intuition: '* switches', function: false },
    { name: 'pow', label: '**', syntax: 'a**b', symbol: '**', precedence: 40, right_associative: true, function: false },
    { name: 'transpose', label: '.T', syntax: 'a.T', symbol: '.T', precedence: 50, call: 'transpose', function: false },
    { name: 'max', label: 'max', syntax: 'max(a, b)', function: true, short_intuition: 'max routes' },
    { name: 'amax', label: 'max', syntax: 'max(v)', function: true, call: 'max' },
    { name: 'identity', label: '=', syntax: 'b = a', function: false, symbol: null },
  ].map((op) => [op.name, op]),
);

test('operators by binding power, each with an example and its level', () => {
  const [operators] = referenceCard(OPS);
  assert.equal(operators.title, 'Operators');
  assert.deepEqual(operators.rows.map((r) => r[0]), ['a + b', 'a * b', 'a**b', 'a.T']);
  assert.deepEqual(operators.rows.map((r) => r[2]), ['1', '2', '3, right to left: 2**3**2 is 2**9', '4']);
});

test('every function by its call, an operator that may be called too; nothing else', () => {
  const [, functions] = referenceCard(OPS);
  assert.deepEqual(functions.rows.map((r) => r[0]), ['max(a, b)', 'max(v)', 'transpose(a)']);
  assert.equal(callName(OPS.get('amax')), 'max');
  assert.equal(callName(OPS.get('identity')), null);
});

test('the named numbers the server sends, and the lecture notation', () => {
  const sections = referenceCard(OPS, [{ name: 'pi', value: 3.141592653589793 }]);
  const numbers = sections.find((s) => s.title === 'Named numbers');
  assert.deepEqual(numbers.rows, [['2 * pi', 'pi = 3.141592653589793']]);
  const notation = sections.at(-1);
  assert.ok(notation.rows.some((r) => r[0] === 'u.T @ h'));
  assert.equal(referenceCard(OPS).find((s) => s.title === 'Named numbers'), undefined);
});
