import test from 'node:test';
import assert from 'node:assert/strict';
import {
  END, LessonError, addSlide, backward, emptyLesson, forward, lessonFileName, lessonFromExamples,
  lessonToJson, moveSlide, newSlide, parseLesson, removeSlide, resolveStep, slideCounter, slideFromTrace, updateSlide,
} from '../../frontend/js/lesson.js';

const three = () => ({
  version: 1,
  title: 'Lecture 4',
  slides: [
    newSlide({ title: 'A', expression: 'x**3', values: { x: 4 } }),
    newSlide({ title: 'B', expression: '(x + y) * max(y, z)', values: { x: 1, y: 2, z: 0 }, step: 3 }),
    newSlide({ title: 'C', expression: 'y = x**2; z = 3*y', values: { x: 2 }, quiz: true }),
  ],
});

test('a lesson file is read with every default filled in', () => {
  const lesson = parseLesson(JSON.stringify({ version: 1, title: 'T', slides: [{ title: 'S', expression: 'x**3', values: { x: 4 } }] }));
  assert.deepEqual(JSON.parse(lessonToJson(lesson)), {
    version: 1,
    title: 'T',
    slides: [{ title: 'S', note: '', expression: 'x**3', values: { x: 4 }, constants: [], check: false, step: 0, quiz: false }],
  });
});

test('a lesson file survives being written and read again', () => {
  const lesson = three();
  assert.deepEqual(JSON.parse(lessonToJson(parseLesson(lessonToJson(lesson)))), JSON.parse(lessonToJson(lesson)));
});

test('a bad lesson file is refused with the field it is about', () => {
  const base = { version: 1, title: 'T', slides: [{ title: 'S', expression: 'x' }] };
  const cases = [
    ['{', ''],
    [{ ...base, version: 2 }, 'version'],
    [{ ...base, colour: 1 }, 'colour'],
    [{ ...base, slides: [] }, 'slides'],
    [{ ...base, title: '' }, 'title'],
    [{ ...base, slides: [{ title: 'S' }] }, 'slides[0].expression'],
    [{ ...base, slides: [{ title: 'S', expression: 'x', values: { x: true } }] }, 'slides[0].values.x'],
    [{ ...base, slides: [{ title: 'S', expression: 'x', values: { x: [[1, 2], [3]] } }] }, 'slides[0].values.x[1]'],
    [{ ...base, slides: [{ title: 'S', expression: 'x', values: { '1x': 1 } }] }, 'slides[0].values'],
    [{ ...base, slides: [{ title: 'S', expression: 'x', step: -1 }] }, 'slides[0].step'],
    [{ ...base, slides: [{ title: 'S', expression: 'x', quiz: 'yes' }] }, 'slides[0].quiz'],
    [{ ...base, slides: [{ title: 'S', expression: 'x', extra: 1 }] }, 'slides[0].extra'],
  ];
  for (const [input, where] of cases) {
    assert.throws(() => parseLesson(typeof input === 'string' ? input : JSON.stringify(input)), (err) => {
      assert.ok(err instanceof LessonError);
      assert.equal(err.where, where, err.message);
      return true;
    });
  }
});

test('an input named like an Object method stays an ordinary value', () => {
  const lesson = parseLesson('{"version":1,"title":"T","slides":[{"title":"S","expression":"constructor * 2","values":{"constructor":3}}]}');
  assert.equal(lesson.slides[0].values.constructor, 3);
  assert.deepEqual(Object.keys(lesson.slides[0].values), ['constructor']);
  assert.equal(JSON.parse(lessonToJson(lesson)).slides[0].values.constructor, 3);
});

test('edits return a new lesson and leave the old one as it was', () => {
  const lesson = three();
  const before = lessonToJson(lesson);
  const added = addSlide(lesson, slideFromTrace({ expression: 'a = x + y; f = a * 2', values: { x: 1, y: 2 }, step: 4 }));
  assert.equal(added.slides.length, 4);
  assert.deepEqual([added.slides[3].title, added.slides[3].step], ['a = x + y', 4]);
  const moved = moveSlide(lesson, 2, 0);
  assert.deepEqual(moved.slides.map((s) => s.title), ['C', 'A', 'B']);
  const edited = updateSlide(lesson, 1, { title: 'Branch', note: '**sum**', bogus: 1 });
  assert.deepEqual([edited.slides[1].title, edited.slides[1].note, 'bogus' in edited.slides[1]], ['Branch', '**sum**', false]);
  assert.deepEqual(removeSlide(lesson, 0).slides.map((s) => s.title), ['B', 'C']);
  assert.equal(lessonToJson(lesson), before);
});

test('the built-in examples become a lesson, what each teaches as its note', () => {
  const lesson = lessonFromExamples([{ id: 'c', title: 'x**3 at x = 4', expression: 'x**3', values: { x: 4 }, teaches: 'slope 48' }]);
  assert.equal(lesson.slides[0].note, 'slope 48');
  assert.deepEqual({ ...parseLesson(lessonToJson(lesson)).slides[0].values }, { x: 4 });
  assert.equal(lessonFileName({ title: 'Lecture 4: Backprop!' }), 'lecture-4-backprop.lesson.json');
  assert.equal(emptyLesson().slides.length, 0);
});

test('Page Down runs every step of every slide, each slide from its start step', () => {
  const lesson = three();
  const counts = [4, 12, 8];
  const seen = [];
  let at = { slide: 0, step: lesson.slides[0].step };
  while (at) {
    seen.push(`${at.slide}:${at.step}`);
    at = forward(lesson, at, counts[at.slide]);
  }
  assert.deepEqual(seen.slice(0, 6), ['0:0', '0:1', '0:2', '0:3', '1:3', '1:4']);
  assert.equal(seen.length, 4 + (12 - 3) + 8);
  assert.equal(seen.at(-1), '2:7');
});

test('Page Up before a slide\'s first step opens the previous slide at its end', () => {
  const lesson = three();
  assert.deepEqual(backward(lesson, { slide: 1, step: 0 }), { slide: 0, step: END });
  assert.equal(resolveStep(END, 4), 3);
  assert.deepEqual(backward(lesson, { slide: 1, step: 5 }), { slide: 1, step: 4 });
  assert.equal(backward(lesson, { slide: 0, step: 0 }), null);
  assert.equal(resolveStep(99, 4), 3);
  assert.equal(slideCounter(lesson, 1), '2 / 3');
});
