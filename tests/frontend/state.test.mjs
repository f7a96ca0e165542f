import test from 'node:test';
import assert from 'node:assert/strict';
import { FIELDS, MAX_QUERY_LENGTH, initialState, queryFromFragment, queryFromState, stateFromQuery, urlFromState } from '../../frontend/js/state.js';

test('the URL holds expression, values (JSON) and step', () => {
  const state = initialState();
  state.expression = '(x + y) * max(y, z)';
  state.values = { x: 1, y: 2, z: 0 };
  state.step = 7;
  const query = queryFromState(state);
  const params = new URLSearchParams(query);
  assert.equal(params.get('expression'), '(x + y) * max(y, z)');
  assert.deepEqual(JSON.parse(params.get('values')), { x: 1, y: 2, z: 0 });
  assert.equal(params.get('step'), '7');
  assert.ok(query.startsWith('?expression='));
});

test('a state survives the round trip through its URL', () => {
  const state = initialState();
  state.expression = 'z = W @ x + b; s = sum(z)';
  state.values = { W: [[1, 2], [3, 4]], x: [1, -1], b: [0.5, 0] };
  state.step = 3;
  state.check = true;
  const back = stateFromQuery(queryFromState(state));
  assert.equal(back.expression, state.expression);
  assert.deepEqual({ ...back.values }, state.values);
  assert.equal(back.step, 3);
  assert.equal(back.check, true);
});

test('an input named __proto__ stays an ordinary value', () => {
  const back = stateFromQuery('?expression=__proto__%2B1&values=%7B%22__proto__%22%3A3%7D&step=0');
  assert.deepEqual(Object.keys(back.values), ['__proto__']);
  assert.equal(back.values.__proto__, 3);
  const params = new URLSearchParams(queryFromState(back));
  assert.equal(params.get('values'), '{"__proto__":3}');
});

test('a hand-edited link still opens', () => {
  const s = stateFromQuery('?expression=x&values=not-json&step=-4');
  assert.equal(s.expression, 'x');
  assert.deepEqual(Object.keys(s.values), []);
  assert.equal(s.step, 0);
  assert.equal(stateFromQuery('?values=[1,2]').expression, '');
  assert.equal(stateFromQuery('').step, 0);
});

test('the Jacobian form, the speed and presenting survive a reload, and only when set', () => {
  const plain = initialState();
  plain.expression = 'x * 2';
  assert.equal(queryFromState(plain), '?expression=x+*+2&values=%7B%7D&step=0');
  const state = initialState();
  Object.assign(state, { expression: 'W @ x', jacobianForm: true, speed: 4, presenting: true, check: true });
  const params = new URLSearchParams(queryFromState(state));
  assert.deepEqual([...params.keys()], ['expression', 'values', 'step', 'check', 'jacobian', 'speed', 'present']);
  const back = stateFromQuery(queryFromState(state));
  assert.deepEqual([back.jacobianForm, back.speed, back.presenting, back.check], [true, 4, true, true]);
});

test('a speed the menu does not offer, or a flag that is not one, keeps the first value', () => {
  const s = stateFromQuery('?expression=x&speed=3&jacobian=maybe&check=true&present=1');
  assert.deepEqual([s.speed, s.jacobianForm, s.check, s.presenting], [1, false, true, true]);
  assert.equal(stateFromQuery('?speed=0.5').speed, 0.5);
});

test('every field is declared once, and the page\'s own fields never reach the URL', () => {
  const names = FIELDS.map((f) => f.name);
  assert.equal(new Set(names).size, names.length);
  assert.deepEqual(Object.keys(initialState()), names);
  const state = initialState();
  state.playing = true;
  state.trace = { steps: [] };
  state.valueTexts.set('x', '1');
  const params = new URLSearchParams(queryFromState(state));
  assert.deepEqual([...params.keys()], ['expression', 'values', 'step']);
  // Each fresh state has fresh containers.
  assert.notEqual(initialState().values, initialState().values);
  assert.notEqual(initialState().valueTexts, initialState().valueTexts);
});

test('a long view travels compressed in the fragment and comes back whole', async () => {
  const short = { ...initialState(), expression: 'x * y', values: { x: 1, y: 2 }, step: 3 };
  assert.equal(await urlFromState(short), `/${queryFromState(short)}`);
  const long = { ...initialState(), expression: `x * ${'1.5'.padEnd(20000, '7')}`, values: { v: Array.from({ length: 1500 }, (_, i) => i / 7) }, step: 5, presenting: true };
  const url = await urlFromState(long);
  assert.ok(url.startsWith('/#view='), url.slice(0, 20));
  assert.ok(url.length < queryFromState(long).length, 'compressed');
  const query = await queryFromFragment(url.slice(1));
  assert.equal(query, queryFromState(long));
  assert.ok(queryFromState(long).length > MAX_QUERY_LENGTH);
  const back = stateFromQuery(query);
  assert.equal(back.expression, long.expression);
  assert.deepEqual(back.values.v, long.values.v);
  assert.equal(back.step, 5);
  assert.equal(back.presenting, true);
});

test('a fragment that is not a view, or is damaged, reads as nothing', async () => {
  assert.equal(await queryFromFragment(''), null);
  assert.equal(await queryFromFragment('#top'), null);
  assert.equal(await queryFromFragment('#view=!!!not-base64'), null);
  assert.equal(await queryFromFragment('#view=AAAA'), null);
});

test('embed=1 (the view for an iframe) is read from the URL and kept in it', () => {
  const state = stateFromQuery('?expression=x&values=%7B%22x%22%3A1%7D&embed=1');
  assert.equal(state.embed, true);
  assert.equal(new URLSearchParams(queryFromState(state)).get('embed'), '1');
  assert.equal(stateFromQuery('?expression=x').embed, false);
  assert.equal(new URLSearchParams(queryFromState(stateFromQuery('?expression=x'))).has('embed'), false);
});
