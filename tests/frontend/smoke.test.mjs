// Placeholder until the pure modules land: node --test must find a test.
import test from 'node:test';
import assert from 'node:assert/strict';

test('node test runner works', () => {
  assert.equal(1 + 1, 2);
});
