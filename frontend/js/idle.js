/**
 * Idle time, for work no frame waits for: the texts of steps not shown yet,
 * the panels either side of the current step, the URL.
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

/** One kind of idle work at a time: running it again cancels what of it still waits. */
export function idleSlot() {
  let handle = null;
  const slot = {
    run(fn) {
      slot.cancel();
      handle = idle((deadline) => {
        handle = null;
        fn(deadline);
      });
    },
    cancel() {
      if (handle !== null) cancelIdle(handle);
      handle = null;
    },
  };
  return slot;
}

/**
 * `fn` at most once every `ms`, and once more after a burst of calls: each
 * call asks for it, the calls in between are folded into the next run. It
 * runs as a task of its own, in idle time that comes soon, never inside the
 * caller's (a key's) task.
 */
export function throttled(fn, ms, now = () => Date.now()) {
  let last = -Infinity;
  let waiting = false;
  return () => {
    if (waiting) return;
    waiting = true;
    setTimeout(() => soon(() => {
      waiting = false;
      last = now();
      fn();
    }), Math.max(0, last + ms - now()));
  };
}

/** `fn` in the next animation frame, once however often it was asked for before then. */
export function oncePerFrame(fn) {
  let asked = false;
  return () => {
    if (asked) return;
    asked = true;
    window.requestAnimationFrame(() => {
      asked = false;
      fn();
    });
  };
}
