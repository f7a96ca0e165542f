import test from 'node:test';
import assert from 'node:assert/strict';
import { carryTraces, fetchTrace, readError, requestKey } from '../../frontend/js/api.js';

test('a trace error keeps its type, message and span', () => {
  const e = readError(422, { detail: { type: 'syntax_error', message: "unexpected '*'", span: [4, 5], line: 1, column: 5 } });
  assert.deepEqual(e, { type: 'syntax_error', message: "unexpected '*'", span: [4, 5], line: 1, column: 5 });
});

test('every problem of a 422 is kept, each with its own span', () => {
  const y = { type: 'undefined_name', message: "'y' has no value", span: [4, 5], line: 1, column: 5 };
  const z = { type: 'undefined_name', message: "'z' has no value", span: [8, 9], line: 1, column: 9 };
  const e = readError(422, { detail: { ...y, problems: [y, z, null], problems_omitted: 3 } });
  assert.deepEqual(e.problems, [y, z]);
  assert.equal(e.problems_omitted, 3);
  assert.equal(e.message, y.message);
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
