import test from 'node:test';
import assert from 'node:assert/strict';
import { likeliestTallest, wrappedLines } from '../../frontend/js/textwrap.js';

test('a text that fits is one line, an empty one too', () => {
  assert.equal(wrappedLines('dz/dx = 1', 20), 1);
  assert.equal(wrappedLines('', 20), 1);
  // Exactly a line's worth fits.
  assert.equal(wrappedLines('abcde fghij', 11), 1);
});

test('lines break at spaces: a word that does not fit moves to the next line', () => {
  // "aaaa bbbb" fills 9 of 10; "cccc" goes on: 2 lines, where 14 characters over 10 would say 2 too.
  assert.equal(wrappedLines('aaaa bbbb cccc', 10), 2);
  // The waste at the end of lines can add a line: 3 words of 6 at 10 a line need 3 lines, not 2.
  assert.equal(wrappedLines('aaaaaa bbbbbb cccccc', 10), 3);
});

test('white space collapses as the page collapses it', () => {
  assert.equal(wrappedLines('  aaaa \n\t bbbb  ', 9), 1);
  assert.equal(wrappedLines('aaaa     bbbb', 8), 2);
});

test('a word longer than a line is cut where the line ends', () => {
  assert.equal(wrappedLines('abcdefghijklmnopqrstuvwxy', 10), 3);
  // After a short word it starts on a new line, then fills lines of its own.
  assert.equal(wrappedLines('ab abcdefghijklmnopqrstu', 10), 4);
  assert.equal(wrappedLines('abcdefghijkl ab', 10), 2);
});

test('the likeliest tallest texts: most lines first, then the longest, each once', () => {
  const texts = ['aaaaaa bbbbbb cccccc', 'a'.repeat(25), 'short', 'a'.repeat(25), 'abcdefghij abc'];
  // At 10 a line: 3 lines (20 characters), 3 lines (25), 1, 2.
  assert.deepEqual(likeliestTallest(texts, 10, 2), ['a'.repeat(25), 'aaaaaa bbbbbb cccccc']);
  assert.deepEqual(likeliestTallest(texts, 10, 10), ['a'.repeat(25), 'aaaaaa bbbbbb cccccc', 'abcdefghij abc', 'short']);
});
