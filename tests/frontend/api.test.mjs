import test from 'node:test';
import assert from 'node:assert/strict';
import { carryTraces, fetchTrace, readError, requestKey } from '../../frontend/js/api.js';

test('a trace error keeps its type, message and span', () => {
  const e = readError(422, { detail: { type: 'syntax_error', message: "unexpected '*'", span: [4, 5], line: 1, column: 5 } });
  assert.deepEqual(e, { type: 'syntax_error', message: "unexpected '*'", span: [4, 5], line: 1, column: 5 });
});

test('the framework\'s own 422 (a list) becomes one message', () => {
  const e = readError(422, { detail: [{ loc: ['body', 'values'], msg: 'Field required', type: 'missing' }] });
  assert.equal(e.type, 'invalid_request');
  assert.equal(e.message, 'values: Field required');
  assert.equal(e.span, null);
});

test('413 and 503 say what happened', () => {
  assert.match(readError(413, null).message, /too large/);
  assert.match(readError(503, { detail: 'busy' }).message, /busy/);
  assert.match(readError(500, null).message, /500/);
});

test('a carried trace answers its own request, whatever the order of its values', async () => {
  const trace = { expression: 'x * y', nodes: [] };
  carryTraces([{ request: { expression: 'x * y', values: { x: 1, y: [2, 3] }, check: false }, trace }]);
  assert.equal(requestKey({ expression: 'x * y', values: { y: [2, 3], x: 1 } }), requestKey({ expression: 'x * y', values: { x: 1, y: [2, 3] }, check: false }));
  const found = await fetchTrace({ expression: 'x * y', values: { y: [2, 3], x: 1 }, check: false });
  assert.deepEqual(found, { ok: true, data: trace });
  const missing = await fetchTrace({ expression: 'x * y', values: { x: 2, y: [2, 3] }, check: false });
  assert.equal(missing.ok, false);
  assert.equal(missing.error.type, 'offline');
});
