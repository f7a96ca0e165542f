import test from 'node:test';
import assert from 'node:assert/strict';
import { Player, keyAction } from '../../frontend/js/player.js';

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
  const p = new Player({ onChange: (s) => seen.push(s.index) });
  p.load(12, 3);
  p.next();
  p.previous();
  p.previous();
  p.last();
  p.next();
  p.first();
  p.previous();
  assert.deepEqual(seen, [3, 4, 3, 2, 11, 0]);
});

test('play steps on every tick and stops at the end', () => {
  const clock = manualClock();
  const states = [];
  const p = new Player({ onChange: (s) => states.push({ ...s }), schedule: clock.schedule, cancel: clock.cancel });
  p.load(3);
  p.play();
  assert.equal(p.playing, true);
  while (clock.tick());
  assert.equal(p.index, 2);
  assert.equal(p.playing, false);
  assert.equal(clock.pending(), 0);
});

test('a pause cancels the pending tick; a stale tick does nothing', () => {
  const clock = manualClock();
  const p = new Player({ schedule: clock.schedule, cancel: () => {} });
  p.load(5);
  p.play();
  p.pause();
  clock.tick(); // the stale tick runs, but its token is old
  assert.equal(p.index, 0);
  p.reset();
  assert.equal(p.index, 0);
});

test('playing from the last step starts over; speed changes the delay', () => {
  const delays = [];
  const p = new Player({ schedule: (fn, ms) => { delays.push(ms); return 1; }, cancel: () => {} });
  p.load(4, 3);
  p.setSpeed(4);
  p.play();
  assert.equal(p.index, 0);
  assert.equal(delays.at(-1), 250);
});

test('the contract\'s keys, clicker keys included', () => {
  for (const key of ['ArrowRight', 'PageDown', ' ']) assert.equal(keyAction({ key }), 'next');
  for (const key of ['ArrowLeft', 'PageUp']) assert.equal(keyAction({ key }), 'previous');
  assert.equal(keyAction({ key: 'Home' }), 'first');
  assert.equal(keyAction({ key: 'End' }), 'last');
  assert.equal(keyAction({ key: 'p' }), 'present');
  assert.equal(keyAction({ key: 'ArrowRight', targetIsText: true }), null);
  assert.equal(keyAction({ key: 'ArrowRight', ctrlKey: true }), null);
  assert.equal(keyAction({ key: 'x' }), null);
});
