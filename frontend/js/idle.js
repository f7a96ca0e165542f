/**
 * Idle time, for work no frame waits for: the texts of steps not shown yet,
 * the panels either side of the current step, the URL, dagre's warm-up.
 * Where the browser has no requestIdleCallback (and in tests, where there
 * is no window) a timer stands in, and the work gets a deadline that says
 * it has a few milliseconds.
 */

const hasIdle = typeof window !== 'undefined' && typeof window.requestIdleCallback === 'function';
const timerDeadline = Object.freeze({ didTimeout: true, timeRemaining: () => 10 });

function schedule(fn, timeout, delay) {
  if (hasIdle) return window.requestIdleCallback(fn, { timeout });
  return setTimeout(() => fn(timerDeadline), delay);
}

/** Run fn(deadline) when the page is idle, within a second at the latest. */
export function idle(fn) {
  return schedule(fn, 1000, 50);
}

/** Run fn(deadline) in idle time that comes soon: for what can wait a frame or two. */
export function soon(fn) {
  return schedule(fn, 200, 0);
}

/** Cancel what idle() or soon() scheduled. */
export function cancelIdle(handle) {
  if (hasIdle) window.cancelIdleCallback(handle);
  else clearTimeout(handle);
}
