/**
 * Stepping through a trace: previous, next, first, last, play and pause at a
 * speed, and the keyboard map (clickers send Page Up / Page Down). The timer
 * carries a token, so a stale tick from before a pause or a new trace does
 * nothing. No DOM: the page passes the scheduler and listens to changes.
 */

export class Player {
  /**
   * `state` is the page's state (see state.js): the player moves its `step`
   * and sets `playing`, at its `speed`, through the steps of its `trace`.
   */
  constructor(state, { onChange, schedule = (fn, ms) => setTimeout(fn, ms), cancel = (id) => clearTimeout(id) } = {}) {
    this.state = state;
    this.onChange = onChange || (() => {});
    this.schedule = schedule;
    this.cancel = cancel;
    this.token = 0;
    this.timer = null;
  }

  get count() {
    return this.state.trace ? this.state.trace.steps.length : 0;
  }

  /** The state's trace is new: start at `step`, stopped. The page shows the new trace itself: no change is told. */
  load(step = 0) {
    this.stopTimer();
    this.state.playing = false;
    this.state.step = this.clamp(step);
  }

  clamp(i) {
    if (this.count <= 0) return 0;
    return Math.min(Math.max(0, Math.trunc(i) || 0), this.count - 1);
  }

  go(i) {
    const next = this.clamp(i);
    if (next === this.state.step) return false;
    this.state.step = next;
    this.emit();
    return true;
  }

  next() {
    return this.go(this.state.step + 1);
  }

  previous() {
    return this.go(this.state.step - 1);
  }

  first() {
    return this.go(0);
  }

  last() {
    return this.go(this.count - 1);
  }

  /** Back to the first step, stopped. */
  reset() {
    const wasPlaying = this.state.playing;
    this.stopTimer();
    this.state.playing = false;
    if (!this.go(0) && wasPlaying) this.emit();
  }

  play() {
    if (this.count === 0 || this.state.playing) return;
    // Playing from the end starts over, as a video player does.
    if (this.state.step >= this.count - 1) this.state.step = 0;
    this.state.playing = true;
    this.emit();
    this.arm();
  }

  pause() {
    if (!this.state.playing) return;
    this.stopTimer();
    this.state.playing = false;
    this.emit();
  }

  toggle() {
    if (this.state.playing) this.pause();
    else this.play();
  }

  setSpeed(stepsPerSecond) {
    this.state.speed = stepsPerSecond > 0 ? stepsPerSecond : 1;
    if (this.state.playing) {
      this.stopTimer();
      this.arm();
    }
    this.emit();
  }

  arm() {
    const token = ++this.token;
    this.timer = this.schedule(() => {
      if (token !== this.token || !this.state.playing) return;
      if (this.state.step >= this.count - 1) {
        this.state.playing = false;
        this.emit();
        return;
      }
      this.state.step += 1;
      if (this.state.step >= this.count - 1) this.state.playing = false;
      this.emit();
      if (this.state.playing) this.arm();
    }, 1000 / this.state.speed);
  }

  stopTimer() {
    this.token += 1;
    if (this.timer !== null) this.cancel(this.timer);
    this.timer = null;
  }

  emit() {
    this.onChange(this.state);
  }
}

/**
 * The action of a key, or null: Right / Page Down / Space forward, Left /
 * Page Up back, Home / End to the ends, P for presentation mode, F to fit;
 * in a lesson N hides and shows the slide's title and note, Q its QR code,
 * and Escape leaves presentation mode.
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
    case 'b':
    case 'B':
      return 'by-hand';
    // The side panel's other views: the step's node as a gate, a slope, the numeric check.
    case 'g':
    case 'G':
      return 'gate';
    case 's':
    case 'S':
      return 'slope';
    case 'c':
    case 'C':
      return 'check';
    // All at once: the costs, forward mode and the Jacobian.
    case 'a':
    case 'A':
      return 'all';
    case '+':
    case '=':
      return 'zoom-in';
    case '-':
      return 'zoom-out';
    case 'n':
    case 'N':
      return 'note';
    case 'q':
    case 'Q':
      return 'qr';
    // Close or open the statement group of the focused node, or of the step's node.
    case 'o':
    case 'O':
      return 'group';
    case '?':
      return 'reference';
    case 'Escape':
      return 'leave';
    default:
      return null;
  }
}
