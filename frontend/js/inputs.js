/**
 * What the typed program needs from the user, computed in the browser so a
 * value box appears for each input while the user types. The server stays the
 * judge: this only has to be right for programs the server accepts.
 * Pure, no DOM.
 */

/**
 * The names that are never inputs: the registry's functions (its ops written
 * as calls, by their call names: `max` for max(v), `transpose` for .T) and the
 * named numbers the server sends (`pi`, `e`).
 */
export function functionNames(ops, constants = []) {
  const names = new Set();
  for (const op of ops ? ops.values() : []) {
    if (op.function) names.add(op.name);
    if (op.call) names.add(op.call);
  }
  for (const c of constants) names.add(c.name);
  return names;
}

// Numbers first, so the "e" of 1e-3 is never read as a name.
const TOKEN = /([0-9]+\.?[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)|([A-Za-z][A-Za-z0-9_]*)|(==|[=.;(\n])|[^\S\n]+|./g;

/**
 * The input names of a program, in order of first use: names that are used
 * but neither assigned (`name = ...`) nor called nor `.T`, nor among the
 * `functions` (see functionNames), so a function typed without its
 * parenthesis yet gets no box; nor anything of a `def` line.
 */
export function inputNames(program, functions = new Set()) {
  const tokens = [];
  for (const m of String(program).matchAll(TOKEN)) {
    if (m[1] !== undefined) tokens.push({ kind: 'num', text: m[1] });
    else if (m[2] !== undefined) tokens.push({ kind: 'name', text: m[2] });
    else if (m[3] !== undefined) tokens.push({ kind: m[3] === '\n' ? ';' : m[3], text: m[3] });
    else if (m[0].trim()) tokens.push({ kind: 'other', text: m[0] });
  }
  const assigned = new Set();
  const used = [];
  let statementStart = true;
  for (let i = 0; i < tokens.length; i += 1) {
    const t = tokens[i];
    if (t.kind === ';') {
      statementStart = true;
      continue;
    }
    if (t.kind === 'name') {
      const next = tokens[i + 1];
      const prev = tokens[i - 1];
      if (statementStart && t.text === 'def' && next && next.kind === 'name') {
        // `def f(a) = ...`: its body reads only its parameters, never an input.
        while (i + 1 < tokens.length && tokens[i + 1].kind !== ';') i += 1;
        continue;
      }
      if (statementStart && next && next.kind === '=') assigned.add(t.text);
      else if (next && next.kind === '=') {
        // a keyword of a call, sum(A, axis=0): not an input
      }
      else if (prev && (prev.kind === '.' || (prev.text === '^' && t.text === 'T'))) {
        // `.T`: a postfix, not a name; `^T`, the lecture's transpose, gets a hint from the server
      } else if (next && next.kind === '(') {
        // a call: a function name
      } else if (!functions.has(t.text)) used.push(t.text);
    }
    statementStart = false;
  }
  const seen = new Set();
  const out = [];
  for (const name of used) {
    if (!assigned.has(name) && !seen.has(name)) {
      seen.add(name);
      out.push(name);
    }
  }
  return out;
}

const VALUE_TOKEN = /\s*(?:([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)|([[\],]))/y;

/**
 * Read what a user typed in a value box: a number or a nested list of
 * numbers (rank at most 2, rectangular). Returns {ok, value, shape} or
 * {ok: false, error}.
 */
export function parseValueText(text) {
  const src = String(text).trim();
  if (!src) return { ok: false, error: 'enter a number or a list' };
  const tokens = [];
  VALUE_TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < src.length) {
    VALUE_TOKEN.lastIndex = pos;
    const m = VALUE_TOKEN.exec(src);
    if (!m) return { ok: false, error: `unexpected '${src[pos]}' at ${pos + 1}` };
    tokens.push(m[1] !== undefined ? { num: Number(m[1]) } : { sym: m[2] });
    pos = VALUE_TOKEN.lastIndex;
    while (pos < src.length && /\s/.test(src[pos])) pos += 1;
  }
  let i = 0;
  const parse = (depth) => {
    const t = tokens[i];
    if (!t) throw new Error('the value ends too early');
    if (t.num !== undefined) {
      i += 1;
      if (!Number.isFinite(t.num)) throw new Error('the number is too large');
      return t.num;
    }
    if (t.sym !== '[') throw new Error(`unexpected '${t.sym}'`);
    if (depth >= 2) throw new Error('at most a matrix (a list of lists)');
    i += 1;
    const items = [];
    if (tokens[i] && tokens[i].sym === ']') throw new Error('an empty list has no value');
    for (;;) {
      items.push(parse(depth + 1));
      const sep = tokens[i];
      if (!sep) throw new Error("a ']' is missing");
      i += 1;
      if (sep.sym === ']') break;
      if (sep.sym !== ',') throw new Error("expected ',' or ']'");
    }
    return items;
  };
  let value;
  try {
    value = parse(0);
    if (i !== tokens.length) throw new Error('extra text after the value');
  } catch (err) {
    return { ok: false, error: err.message };
  }
  const shape = rectangularShape(value);
  if (!shape) return { ok: false, error: 'rows of different lengths' };
  return { ok: true, value, shape };
}

function rectangularShape(value) {
  if (!Array.isArray(value)) return [];
  const first = rectangularShape(value[0]);
  if (!first) return null;
  for (const item of value) {
    const s = rectangularShape(item);
    if (!s || s.length !== first.length || s.some((d, k) => d !== first[k])) return null;
  }
  return [value.length, ...first];
}

/** A value back as the text of its box. */
export function valueToText(value) {
  return JSON.stringify(value).replace(/,/g, ', ');
}

/** Each input's value as a trace records it (its input nodes), by name. */
export function inputValuesOf(trace) {
  const values = Object.create(null);
  for (const node of (trace && trace.nodes) || []) {
    if (node.kind === 'input' && node.name) values[node.name] = node.value;
  }
  return values;
}
