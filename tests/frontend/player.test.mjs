import test from 'node:test';
import assert from 'node:assert/strict';
import { Player, keyAction } from '../../frontend/js/player.js';
import { initialState } from '../../frontend/js/state.js';

/** A page state holding a trace of `count` steps. */
function stateOf(count) {
  const state = initialState();
  state.trace = { steps: new Array(count).fill(null) };
  return state;
}

function manualClock() {
  const tasks = new Map();
  let id = 0;
  return {
    schedule: (fn) => { id += 1; tasks.set(id, fn); return id; },
    cancel: (i) => tasks.delete(i),
    tick() {
      const [first] = tasks.entries();
      if (!first) return false;
      tasks.delete(first[0]);
      first[1]();
      return true;
    },
    pending: () => tasks.size,
  };
}

test('next, previous, first, last stay inside the trace', () => {
  const seen = [];
  const p = new Player(stateOf(12), { onChange: (s) => seen.push(s.step) });
  p.load(3);
  p.next();
  p.previous();
  p.previous();
  p.last();
  p.next();
  p.first();
  p.previous();
  assert.deepEqual(seen, [4, 3, 2, 11, 0]);
});

test('play steps on every tick and stops at the end', () => {
  const clock = manualClock();
  const states = [];
  const state = stateOf(3);
  const p = new Player(state, { onChange: (s) => states.push(s.step), schedule: clock.schedule, cancel: clock.cancel });
  p.load();
  p.play();
  assert.equal(state.playing, true);
  while (clock.tick());
  assert.deepEqual(states, [0, 1, 2]);
  assert.equal(state.step, 2);
  assert.equal(state.playing, false);
  assert.equal(clock.pending(), 0);
});

test('a pause cancels the pending tick; a stale tick does nothing', () => {
  const clock = manualClock();
  const state = stateOf(5);
  const p = new Player(state, { schedule: clock.schedule, cancel: () => {} });
  p.load();
  p.play();
  p.pause();
  clock.tick(); // the stale tick runs, but its token is old
  assert.equal(state.step, 0);
  p.reset();
  assert.equal(state.step, 0);
});

test('playing from the last step starts over; speed changes the delay', () => {
  const delays = [];
  const state = stateOf(4);
  const p = new Player(state, { schedule: (fn, ms) => { delays.push(ms); return 1; }, cancel: () => {} });
  p.load(3);
  p.setSpeed(4);
  p.play();
  assert.equal(state.step, 0);
  assert.equal(state.speed, 4);
  assert.equal(delays.at(-1), 250);
});

test('the contract\'s keys, clicker keys included', () => {
  for (const key of ['ArrowRight', 'PageDown', ' ']) assert.equal(keyAction({ key }), 'next');
  for (const key of ['ArrowLeft', 'PageUp']) assert.equal(keyAction({ key }), 'previous');
  assert.equal(keyAction({ key: 'Home' }), 'first');
  assert.equal(keyAction({ key: 'End' }), 'last');
  assert.equal(keyAction({ key: 'p' }), 'present');
  // A lesson's keys: the note, the QR code, and Escape out of presentation mode.
  assert.deepEqual(['n', 'Q', 'Escape'].map((key) => keyAction({ key })), ['note', 'qr', 'leave']);
  assert.equal(keyAction({ key: 'Escape', targetIsText: true }), null);
  assert.equal(keyAction({ key: 'ArrowRight', targetIsText: true }), null);
  assert.equal(keyAction({ key: 'ArrowRight', ctrlKey: true }), null);
  assert.equal(keyAction({ key: 'x' }), null);
  // The reference card of the language: ? opens it (and Escape, 'leave', closes it).
  assert.equal(keyAction({ key: '?' }), 'reference');
  assert.equal(keyAction({ key: '?', targetIsText: true }), null);
});

test('G, S and C open the gate, slope and check views; typed text is left alone', () => {
  assert.equal(keyAction({ key: 'g' }), 'gate');
  assert.equal(keyAction({ key: 'S' }), 'slope');
  assert.equal(keyAction({ key: 'c' }), 'check');
  assert.equal(keyAction({ key: 's', targetIsText: true }), null);
});
