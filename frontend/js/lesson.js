/**
 * The lesson model (format version 1, docs/lessons.md): read and check a
 * lesson file, edit its slides, and move through it with a clicker. Pure, no
 * DOM and no network, so the page, an offline export and a notebook player
 * can all use it. Every edit returns a new lesson; none changes its argument.
 */

export const LESSON_VERSION = 1;
export const MAX_TITLE = 200;
export const MAX_NOTE = 4000;

const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const LESSON_KEYS = new Set(['version', 'title', 'slides']);
const SLIDE_KEYS = new Set(['title', 'note', 'expression', 'values', 'constants', 'check', 'step', 'quiz']);

/** A lesson file that cannot be read: `where` names the field, as the server's `loc` does. */
export class LessonError extends Error {
  constructor(where, message) {
    super(where ? `${where}: ${message}` : message);
    this.name = 'LessonError';
    this.where = where;
  }
}

const isObject = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);

function checkValue(value, where) {
  const number = (x, at) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new LessonError(at, 'not a finite number');
  };
  if (!Array.isArray(value)) return number(value, where);
  if (!value.length) throw new LessonError(where, 'an empty list has no value');
  if (!Array.isArray(value[0])) return value.forEach((x, i) => number(x, `${where}[${i}]`));
  const width = value[0].length;
  value.forEach((row, i) => {
    if (!Array.isArray(row) || !row.length) throw new LessonError(`${where}[${i}]`, 'not a row of numbers');
    if (row.length !== width) throw new LessonError(`${where}[${i}]`, `has ${row.length} numbers, row 0 has ${width}`);
    row.forEach((x, j) => number(x, `${where}[${i}][${j}]`));
  });
}

function checkText(value, where, { min = 0, max }) {
  if (typeof value !== 'string') throw new LessonError(where, 'not a string');
  if (value.length < min) throw new LessonError(where, 'is empty');
  if (value.length > max) throw new LessonError(where, `is longer than ${max} characters`);
}

function readSlide(raw, where) {
  if (!isObject(raw)) throw new LessonError(where, 'not an object');
  for (const key of Object.keys(raw)) {
    if (!SLIDE_KEYS.has(key)) throw new LessonError(`${where}.${key}`, 'is not a field of a slide');
  }
  const slide = newSlide({});
  checkText(raw.title, `${where}.title`, { min: 1, max: MAX_TITLE });
  slide.title = raw.title;
  checkText(raw.expression, `${where}.expression`, { min: 1, max: 120000 });
  slide.expression = raw.expression;
  if (raw.note !== undefined) {
    checkText(raw.note, `${where}.note`, { max: MAX_NOTE });
    slide.note = raw.note;
  }
  if (raw.values !== undefined) {
    if (!isObject(raw.values)) throw new LessonError(`${where}.values`, 'not an object of name: value');
    for (const name of Object.keys(raw.values)) {
      if (!NAME.test(name)) throw new LessonError(`${where}.values`, `${JSON.stringify(name)} is not an input name`);
      checkValue(raw.values[name], `${where}.values.${name}`);
      slide.values[name] = raw.values[name];
    }
  }
  if (raw.constants !== undefined) {
    if (!Array.isArray(raw.constants) || raw.constants.some((n) => typeof n !== 'string' || !NAME.test(n))) {
      throw new LessonError(`${where}.constants`, 'not a list of input names');
    }
    slide.constants = [...raw.constants];
  }
  for (const key of ['check', 'quiz']) {
    if (raw[key] === undefined) continue;
    if (typeof raw[key] !== 'boolean') throw new LessonError(`${where}.${key}`, 'not true or false');
    slide[key] = raw[key];
  }
  if (raw.step !== undefined) {
    if (!Number.isInteger(raw.step) || raw.step < 0) throw new LessonError(`${where}.step`, 'not a whole number ≥ 0');
    slide.step = raw.step;
  }
  return slide;
}

/**
 * Read a lesson from its JSON text or parsed object, checked as the server
 * checks it; throws a LessonError that names the field.
 */
export function parseLesson(input) {
  let raw = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch {
      throw new LessonError('', 'the file is not JSON');
    }
  }
  if (!isObject(raw)) throw new LessonError('', 'a lesson is a JSON object');
  if (raw.version !== LESSON_VERSION) {
    throw new LessonError('version', `is ${JSON.stringify(raw.version)}; this page reads version ${LESSON_VERSION}`);
  }
  for (const key of Object.keys(raw)) {
    if (!LESSON_KEYS.has(key)) throw new LessonError(key, 'is not a field of a lesson');
  }
  checkText(raw.title, 'title', { min: 1, max: MAX_TITLE });
  if (!Array.isArray(raw.slides) || !raw.slides.length) throw new LessonError('slides', 'a lesson needs at least one slide');
  return { version: LESSON_VERSION, title: raw.title, slides: raw.slides.map((s, i) => readSlide(s, `slides[${i}]`)) };
}

/** A slide with every field, the given ones over the defaults (values copied). */
export function newSlide({ title = '', note = '', expression = '', values = {}, constants = [], check = false, step = 0, quiz = false }) {
  const copied = Object.create(null);
  for (const key of Object.keys(values)) copied[key] = values[key];
  return { title, note, expression, values: copied, constants: [...constants], check, step, quiz };
}

/** A slide of what the page shows now: its expression, values, check and step. */
export function slideFromTrace({ expression, values, check = false, constants = [], step = 0 }, title) {
  const firstLine = String(expression).split(/[;\n]/)[0].trim();
  return newSlide({ title: (title || firstLine || 'Slide').slice(0, MAX_TITLE), expression, values, constants, check, step });
}

/** The built-in examples as a lesson: one slide each, what it teaches as the note. */
export function lessonFromExamples(examples, title = 'The lecture, example by example') {
  return {
    version: LESSON_VERSION,
    title,
    slides: examples.map((e) => newSlide({ title: e.title.slice(0, MAX_TITLE), note: e.teaches || '', expression: e.expression, values: e.values || {} })),
  };
}

export function emptyLesson(title = 'New lesson') {
  return { version: LESSON_VERSION, title, slides: [] };
}

const withSlides = (lesson, slides) => ({ ...lesson, slides });

/** The lesson with `slide` inserted at `at` (default: the end). */
export function addSlide(lesson, slide, at = lesson.slides.length) {
  const slides = [...lesson.slides];
  slides.splice(Math.max(0, Math.min(at, slides.length)), 0, slide);
  return withSlides(lesson, slides);
}

/** The lesson with slide `i` changed by `patch` (only the slide's own fields). */
export function updateSlide(lesson, i, patch) {
  const slides = [...lesson.slides];
  const next = { ...slides[i] };
  for (const key of Object.keys(patch)) if (SLIDE_KEYS.has(key)) next[key] = patch[key];
  slides[i] = next;
  return withSlides(lesson, slides);
}

/** The lesson with slide `from` moved to position `to`. */
export function moveSlide(lesson, from, to) {
  const slides = [...lesson.slides];
  if (from < 0 || from >= slides.length) return lesson;
  const [slide] = slides.splice(from, 1);
  slides.splice(Math.max(0, Math.min(to, slides.length)), 0, slide);
  return withSlides(lesson, slides);
}

export function removeSlide(lesson, i) {
  return withSlides(lesson, lesson.slides.filter((_, k) => k !== i));
}

/** The lesson as the server's canonical form would hold it, for a file or a POST. */
export function lessonToJson(lesson, space = 2) {
  const slides = lesson.slides.map((s) => {
    const values = {};
    for (const key of Object.keys(s.values)) values[key] = s.values[key];
    return { title: s.title, note: s.note, expression: s.expression, values, constants: s.constants, check: s.check, step: s.step, quiz: s.quiz };
  });
  return JSON.stringify({ version: LESSON_VERSION, title: lesson.title, slides }, null, space);
}

/** A file name for the lesson: its title in lowercase words, then .lesson.json. */
export function lessonFileName(lesson) {
  const words = String(lesson.title).toLowerCase().match(/[a-z0-9]+/g) || ['lesson'];
  return `${words.join('-').slice(0, 60)}.lesson.json`;
}

// ---- running it: where the clicker goes ----

/** Step `END` stands for a slide's last step until its trace says how many it has. */
export const END = -1;

/** A step of a slide's trace of `count` steps: END is its last. */
export function resolveStep(step, count) {
  if (count <= 0) return 0;
  if (step === END) return count - 1;
  return Math.min(Math.max(0, Math.trunc(step) || 0), count - 1);
}

/**
 * Where Page Down goes from {slide, step} in a trace of `count` steps: the
 * next step, or past the slide's last step the next slide at its start step,
 * or nowhere (null) at the lesson's end.
 */
export function forward(lesson, { slide, step }, count) {
  if (step < count - 1) return { slide, step: step + 1 };
  if (slide + 1 < lesson.slides.length) return { slide: slide + 1, step: lesson.slides[slide + 1].step };
  return null;
}

/**
 * Where Page Up goes: the previous step, or before the slide's first step the
 * previous slide at its end, or nowhere (null) at the lesson's start.
 */
export function backward(lesson, { slide, step }) {
  if (step > 0) return { slide, step: step - 1 };
  if (slide > 0) return { slide: slide - 1, step: END };
  return null;
}

/** The slide counter: "2 / 7". */
export function slideCounter(lesson, slide) {
  return `${slide + 1} / ${lesson.slides.length}`;
}
