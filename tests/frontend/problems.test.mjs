import { test } from 'node:test';
import assert from 'node:assert/strict';

import { inputOfProblem, markedRuns, problemsOf, problemsToShow } from '../../frontend/js/problems.js';

const missing = (name, start) => ({ type: 'undefined_name', message: `'${name}' has no value`, span: [start, start + name.length] });

test('every problem of an answer, or the error itself for a version 1 body', () => {
  const error = { type: 'syntax_error', message: 'x', span: [1, 2] };
  assert.deepEqual(problemsOf(error), [error]);
  const body = { ...missing('y', 4), problems: [missing('y', 4), missing('z', 8)] };
  assert.deepEqual(problemsOf(body).map((p) => p.span), [[4, 5], [8, 9]]);
  assert.deepEqual(problemsOf(null), []);
});

test('the input a problem is about, when its span is a name', () => {
  assert.equal(inputOfProblem(missing('W', 0), 'W @ x'), 'W');
  assert.equal(inputOfProblem({ type: 'shape_error', span: [2, 3] }, 'W @ x'), null);
  assert.equal(inputOfProblem({ type: 'invalid_value', span: null }, 'W @ x'), null);
});

test('a box that does not parse speaks for itself: no contradiction under the expression', () => {
  const problems = [missing('W', 0), missing('x', 4)];
  const shown = problemsToShow(problems, 'W @ x', new Map([['W', "a ']' is missing"]]));
  assert.equal(shown[0].type, 'invalid_value');
  assert.equal(shown[0].message, "the value of 'W' is not read: a ']' is missing");
  assert.deepEqual(shown[0].span, [0, 1]);
  assert.equal(shown[1], problems[1]);
});

test('every span is marked once, in order, overlapping ones merged', () => {
  assert.deepEqual(markedRuns('a = x + y', [[8, 9], [4, 5]]), [
    { text: 'a = ', mark: false },
    { text: 'x', mark: true },
    { text: ' + ', mark: false },
    { text: 'y', mark: true },
  ]);
  assert.deepEqual(markedRuns('x +', [[3, 3]]), [
    { text: 'x +', mark: false },
    { text: ' ', mark: true },
  ]);
  assert.deepEqual(markedRuns('abcdef', [[0, 3], [2, 4]]), [
    { text: '', mark: false },
    { text: 'abcd', mark: true },
    { text: 'ef', mark: false },
  ]);
  assert.deepEqual(markedRuns('x', [null]), [{ text: 'x', mark: false }]);
});
