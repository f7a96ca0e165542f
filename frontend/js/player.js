/**
 * Stepping through a trace: previous, next, first, last, play and pause at a
 * speed, and the keyboard map (clickers send Page Up / Page Down). The timer
 * carries a token, so a stale tick from before a pause or a new trace does
 * nothing. No DOM: the page passes the scheduler and listens to changes.
 */

export const SPEEDS = [0.5, 1, 2, 4];

export class Player {
  constructor({ onChange, schedule = (fn, ms) => setTimeout(fn, ms), cancel = (id) => clearTimeout(id) } = {}) {
    this.onChange = onChange || (() => {});
    this.schedule = schedule;
    this.cancel = cancel;
    this.count = 0;
    this.index = 0;
    this.playing = false;
    this.speed = 1; // steps per second
    this.token = 0;
    this.timer = null;
  }

  /** A new trace of `count` steps, starting at `index`. */
  load(count, index = 0) {
    this.stopTimer();
    this.playing = false;
    this.count = count;
    this.index = this.clamp(index);
    this.emit();
  }

  clamp(i) {
    if (this.count <= 0) return 0;
    return Math.min(Math.max(0, Math.trunc(i) || 0), this.count - 1);
  }

  go(i) {
    const next = this.clamp(i);
    if (next === this.index) return false;
    this.index = next;
    this.emit();
    return true;
  }

  next() {
    return this.go(this.index + 1);
  }

  previous() {
    return this.go(this.index - 1);
  }

  first() {
    return this.go(0);
  }

  last() {
    return this.go(this.count - 1);
  }

  /** Back to the first step, stopped. */
  reset() {
    const wasPlaying = this.playing;
    this.stopTimer();
    this.playing = false;
    if (!this.go(0) && wasPlaying) this.emit();
  }

  play() {
    if (this.count === 0 || this.playing) return;
    // Playing from the end starts over, as a video player does.
    if (this.index >= this.count - 1) this.index = 0;
    this.playing = true;
    this.emit();
    this.arm();
  }

  pause() {
    if (!this.playing) return;
    this.stopTimer();
    this.playing = false;
    this.emit();
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  setSpeed(stepsPerSecond) {
    this.speed = stepsPerSecond > 0 ? stepsPerSecond : 1;
    if (this.playing) {
      this.stopTimer();
      this.arm();
    }
    this.emit();
  }

  arm() {
    const token = ++this.token;
    this.timer = this.schedule(() => {
      if (token !== this.token || !this.playing) return;
      if (this.index >= this.count - 1) {
        this.playing = false;
        this.emit();
        return;
      }
      this.index += 1;
      if (this.index >= this.count - 1) this.playing = false;
      this.emit();
      if (this.playing) this.arm();
    }, 1000 / this.speed);
  }

  stopTimer() {
    this.token += 1;
    if (this.timer !== null) this.cancel(this.timer);
    this.timer = null;
  }

  emit() {
    this.onChange({ index: this.index, count: this.count, playing: this.playing, speed: this.speed });
  }
}

/**
 * The action of a key, or null: Right / Page Down / Space forward, Left /
 * Page Up back, Home / End to the ends, P for presentation mode, F to fit.
 * Keys typed into a text field belong to the field.
 */
export function keyAction({ key, ctrlKey = false, metaKey = false, altKey = false, targetIsText = false }) {
  if (ctrlKey || metaKey || altKey || targetIsText) return null;
  switch (key) {
    case 'ArrowRight':
    case 'PageDown':
    case ' ':
    case 'Spacebar':
      return 'next';
    case 'ArrowLeft':
    case 'PageUp':
      return 'previous';
    case 'Home':
      return 'first';
    case 'End':
      return 'last';
    case 'p':
    case 'P':
      return 'present';
    case 'f':
    case 'F':
      return 'fit';
    case '+':
    case '=':
      return 'zoom-in';
    case '-':
      return 'zoom-out';
    default:
      return null;
  }
}
