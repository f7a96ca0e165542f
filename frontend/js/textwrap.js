/**
 * How many lines a text wraps to in a box of a given width, counted in
 * characters: the status line is set in a monospace font, so a line holds
 * the same number of characters whatever they are. The page uses this to
 * pick the few step texts likeliest to need the most lines, measures those
 * at once and the rest later (see reserveStatusHeight in main.js).
 */

/**
 * Lines of `text` at `perLine` characters a line, wrapped as the status line
 * wraps: white space collapsed, lines broken at spaces, a word longer than a
 * line cut where the line ends (overflow-wrap: anywhere).
 */
export function wrappedLines(text, perLine) {
  const width = Math.max(1, Math.floor(perLine));
  const words = String(text).replace(/[\t\n\r ]+/g, ' ').trim().split(' ').filter(Boolean);
  let lines = 1;
  let used = 0;
  for (const word of words) {
    const need = used === 0 ? word.length : used + 1 + word.length;
    if (need <= width) {
      used = need;
      continue;
    }
    // The word goes to a new line; a word longer than a line fills lines of its own.
    if (used > 0) lines += 1;
    let rest = word.length;
    while (rest > width) {
      lines += 1;
      rest -= width;
    }
    used = rest;
  }
  return lines;
}

/**
 * The `count` texts likeliest to need the most lines at `perLine`
 * characters a line: by their wrapped lines, then by their length (a guess
 * from characters, so the page measures these and checks the rest later).
 */
export function likeliestTallest(texts, perLine, count) {
  return [...new Set(texts)]
    .map((text) => ({ text, lines: wrappedLines(text, perLine) }))
    .sort((a, b) => b.lines - a.lines || b.text.length - a.text.length)
    .slice(0, count)
    .map((t) => t.text);
}
