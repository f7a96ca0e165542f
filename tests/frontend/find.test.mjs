import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findNode, stepToFind } from '../../frontend/js/find.js';

const model = {
  nodes: [
    { id: 'x', name: 'x', kind: 'input', display_name: 'x' },
    { id: 'n1', name: 'hidden', kind: 'op', display_name: 'hidden' },
    { id: 'n2', name: null, kind: 'op', display_name: 'x + hidden' },
    { id: 'H', name: 'H', kind: 'input', display_name: 'H' },
  ],
  forwardAt: new Map([['x', 0], ['n1', 1], ['n2', 2], ['H', 3]]),
  backwardAt: new Map([['n2', 4], ['n1', 5], ['x', 6]]),
};

test('a name finds its node: exactly first, then without case, then by its start', () => {
  assert.equal(findNode(model, 'hidden'), 'n1');
  assert.equal(findNode(model, ' H '), 'H');
  assert.equal(findNode(model, 'h'), 'H');
  assert.equal(findNode(model, 'HID'), 'n1');
  assert.equal(findNode(model, 'n2'), 'n2');
  assert.equal(findNode(model, 'x +'), 'n2');
  assert.equal(findNode(model, 'nothing'), null);
  assert.equal(findNode(model, ''), null);
});

test('Enter again on a found node goes from its forward step to its backward step and back', () => {
  assert.equal(stepToFind(model, 'n1', 0), 1);
  assert.equal(stepToFind(model, 'n1', 1), 5);
  assert.equal(stepToFind(model, 'n1', 5), 1);
  // An input without a backward step stays at its forward one.
  assert.equal(stepToFind(model, 'H', 3), 3);
});
