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
