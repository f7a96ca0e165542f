import test from 'node:test';
import assert from 'node:assert/strict';
import {
  asRows, divergingColour, flatten, formatNumber, formatOperand, formatValue, isDiagonal,
  jacobianRows, shapeOf, shapeText, toNumber, toNumbers,
} from '../../frontend/js/format.js';
import { numberFormatCases } from './helpers.mjs';

test('non-finite strings of the contract become numbers', () => {
  assert.ok(Number.isNaN(toNumber('NaN')));
  assert.equal(toNumber('Infinity'), Infinity);
  assert.equal(toNumber('-Infinity'), -Infinity);
  assert.deepEqual(toNumbers([[1, 'Infinity'], ['-Infinity', 2]]), [[1, Infinity], [-Infinity, 2]]);
});

test('numbers read short and stable', () => {
  assert.equal(formatNumber(6), '6');
  assert.equal(formatNumber(-0), '0');
  assert.equal(formatNumber(0.5), '0.5');
  assert.equal(formatNumber(1 / 3), '0.3333');
  assert.equal(formatNumber(64.481201), '64.48');
  assert.equal(formatNumber(1e-7), '1e-7');
  assert.equal(formatNumber(123456789.5), '1.235e8');
  assert.equal(formatNumber(NaN), 'NaN');
  assert.equal(formatNumber('Infinity'), 'inf');
  assert.equal(formatNumber(-Infinity), '-inf');
});

test('every case of the shared number format reads as the server writes it', () => {
  const cases = numberFormatCases();
  assert.ok(cases.length > 30);
  // The contract's non-finite strings, and -0, are among them.
  assert.ok(cases.some(([v]) => v === '-Infinity') && cases.some(([v]) => Object.is(v, -0)));
  for (const [value, text] of cases) assert.equal(formatNumber(value), text, `${value}`);
});

test('a tie rounds to even, as the server does, and a carry moves the exponent', () => {
  assert.equal(formatNumber(0.125, 2), '0.12');
  assert.equal(formatNumber(0.375, 2), '0.38');
  assert.equal(formatNumber(99.95, 3), '100');
  assert.equal(formatNumber(9999.5), '1e4');
  assert.equal(formatNumber(0.000099999), '0.0001');
});

test('a negative operand is parenthesised, where the language would read it otherwise', () => {
  assert.equal(formatOperand(-2), '(-2)');
  assert.equal(formatOperand(-Infinity), '(-inf)');
  assert.equal(formatOperand(3), '3');
  assert.equal(formatOperand(-0), '0');
});

test('shapes follow numpy', () => {
  assert.deepEqual(shapeOf(3), []);
  assert.deepEqual(shapeOf([1, 2, 3]), [3]);
  assert.deepEqual(shapeOf([[1, 2, 3], [4, 5, 6]]), [2, 3]);
  assert.equal(shapeText([]), 'scalar');
  assert.equal(shapeText([2, 3]), '2×3');
});

test('small tensors are written out, large ones summarized', () => {
  assert.equal(formatValue([1, 2.5]), '[1, 2.5]');
  assert.equal(formatValue([[1, 2], [3, 4]]), '[[1, 2], [3, 4]]');
  const big = Array.from({ length: 10 }, (_, i) => i - 3);
  assert.equal(formatValue(big), '10 -3…6');
  assert.equal(formatValue([1, NaN, 2, 3, 4, 5, 6]), '7 1…6 (1 non-finite)');
  assert.equal(formatValue([[1, Infinity, 2, 3], [4, 5, 6, -Infinity]]), '2×4 1…6 (2 non-finite)');
  assert.equal(formatValue([NaN, NaN, NaN, NaN, NaN, NaN, NaN]), '7 (7 non-finite)');
});

test('a vector is a column, a matrix its rows', () => {
  assert.deepEqual(asRows(2), [[2]]);
  assert.deepEqual(asRows([1, 2]), [[1], [2]]);
  assert.deepEqual(flatten([[1, 2], [3, 4]]), [1, 2, 3, 4]);
});

test('a local Jacobian reshapes to target elements x source elements', () => {
  // d(Wx)/dW for W 2x3: shape [2, 2, 3] → 2 rows of 6.
  const local = [[[1, 2, 3], [0, 0, 0]], [[0, 0, 0], [1, 2, 3]]];
  const rows = jacobianRows(local, [2, 2, 3], [2]);
  assert.deepEqual(rows, [[1, 2, 3, 0, 0, 0], [0, 0, 0, 1, 2, 3]]);
  // scalar target, vector source: one row.
  assert.deepEqual(jacobianRows([4, 5], [2], []), [[4, 5]]);
});

test('diag(f\'(z)) is recognised as diagonal, a full matrix is not', () => {
  assert.ok(isDiagonal([[0.2, 0], [0, 0.25]]));
  assert.ok(!isDiagonal([[0.2, 0.1], [0, 0.25]]));
  assert.ok(!isDiagonal([[1]]));
});

test('the colour scale diverges around white and keeps text readable', () => {
  assert.equal(divergingColour(0, 1).background, 'rgb(255, 255, 255)');
  const neg = divergingColour(-1, 1);
  const pos = divergingColour(1, 1);
  assert.notEqual(neg.background, pos.background);
  assert.equal(neg.color, 'rgb(255, 255, 255)');
  assert.equal(divergingColour(0.1, 1).color, 'rgb(17, 17, 17)');
  assert.equal(divergingColour(NaN, 1).background, 'rgb(120, 120, 120)');
});
