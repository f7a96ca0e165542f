import { test } from 'node:test';
import assert from 'node:assert/strict';

import { cancelIdle, idle, soon } from '../../frontend/js/idle.js';

test('without requestIdleCallback, idle and soon run the work later with a deadline', async () => {
  const order = [];
  await new Promise((resolve) => {
    idle((deadline) => {
      order.push(['idle', deadline.timeRemaining() > 0]);
      resolve();
    });
    soon((deadline) => order.push(['soon', deadline.timeRemaining() > 0]));
    order.push(['now', true]);
  });
  // soon comes before idle, and neither runs in the caller's turn.
  assert.deepEqual(order, [['now', true], ['soon', true], ['idle', true]]);
});

test('cancelIdle stops work that has not run yet', async () => {
  let ran = false;
  cancelIdle(idle(() => { ran = true; }));
  cancelIdle(soon(() => { ran = true; }));
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(ran, false);
});

test('a burst of calls to a throttled function runs it once, after the caller\'s turn', async () => {
  const { throttled } = await import('../../frontend/js/idle.js');
  let runs = 0;
  let done;
  const finished = new Promise((resolve) => { done = resolve; });
  const write = throttled(() => {
    runs += 1;
    done();
  }, 20);
  for (let i = 0; i < 5; i += 1) write();
  assert.equal(runs, 0);
  await finished;
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(runs, 1);
});

test('an idle slot runs only the latest of its work', async () => {
  const { idleSlot } = await import('../../frontend/js/idle.js');
  const slot = idleSlot();
  const ran = [];
  await new Promise((resolve) => {
    slot.run(() => ran.push('first'));
    slot.run(() => {
      ran.push('second');
      resolve();
    });
  });
  assert.deepEqual(ran, ['second']);
});
