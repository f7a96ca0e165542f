/**
 * The problems of an error answer and where the page shows them: every span
 * marked under the expression, each input's value box marked, and a box that
 * does not parse speaking for itself (the server only saw it missing).
 * Pure, no DOM.
 */

/** Every problem of an error answer: its `problems` (an extension of v1), else the error itself. */
export function problemsOf(error) {
  if (!error) return [];
  return Array.isArray(error.problems) && error.problems.length ? error.problems : [error];
}

const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** The input a problem is about (a missing or bad value, its span exactly a name), or null. */
export function inputOfProblem(problem, expression) {
  if (!problem || !['undefined_name', 'invalid_value'].includes(problem.type)) return null;
  const span = problem.span;
  if (!Array.isArray(span) || span.length !== 2) return null;
  const name = String(expression).slice(span[0], span[1]);
  return NAME.test(name) ? name : null;
}

/**
 * The problems to show, in the server's order. A box that does not parse was
 * not sent, so the server says its input has no value: that problem is said
 * again in the box's own words (`unread`: name -> the box's message), so that
 * nothing under the expression contradicts the box.
 */
export function problemsToShow(problems, expression, unread = new Map()) {
  return problems.map((problem) => {
    const name = problem.type === 'undefined_name' ? inputOfProblem(problem, expression) : null;
    if (name === null || !unread.has(name)) return problem;
    return { ...problem, type: 'invalid_value', message: `the value of '${name}' is not read: ${unread.get(name)}` };
  });
}

/**
 * The expression cut into runs, every problem's span marked: [{text, mark}].
 * Overlapping spans are one mark; an empty span (the end of the text) marks a
 * blank at its place. The first run is always unmarked (maybe empty): what
 * comes before the first mark.
 */
export function markedRuns(text, spans) {
  const source = String(text);
  const clamp = (n) => Math.max(0, Math.min(source.length, Number(n) || 0));
  const marks = spans
    .filter((span) => Array.isArray(span) && span.length === 2)
    .map(([s, e]) => [clamp(s), Math.max(clamp(s), clamp(e))])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged = [];
  for (const [s, e] of marks) {
    const last = merged[merged.length - 1];
    if (last && s < last[1]) last[1] = Math.max(last[1], e);
    else merged.push([s, e]);
  }
  const runs = [];
  let at = 0;
  for (const [s, e] of merged) {
    runs.push({ text: source.slice(at, s), mark: false });
    runs.push({ text: source.slice(s, e) || ' ', mark: true });
    at = e;
  }
  runs.push({ text: source.slice(at), mark: false });
  return runs.filter((run, i) => i === 0 || run.mark || run.text);
}
