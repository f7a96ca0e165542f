/**
 * The page's state, declared once: every field the page keeps, with its
 * first value and, for the fields a link carries, how it goes to and from
 * the URL. The contract's form `/?expression=...&values=...&step=N` (values
 * as JSON) comes first; the other fields follow only when they differ from
 * their first value, so a plain link stays plain. A new field is one row of
 * FIELDS. Pure, no DOM: the page calls these with location.search and
 * history.
 */

import { emptyScore } from './quiz.js';

/**
 * How a field's value is written into a URL parameter and read back. `read`
 * answers undefined for a text it cannot read: a hand-edited link still
 * opens, with that field at its first value.
 */
const TEXT = { write: (v) => v, read: (text) => text };

const FLAG = {
  write: (on) => (on ? '1' : '0'),
  read: (text) => ({ 1: true, true: true, 0: false, false: false })[text],
};

const STEP = {
  write: (n) => String(n),
  read: (text) => {
    const n = Number.parseInt(text, 10);
    return Number.isFinite(n) && n >= 0 ? n : undefined;
  },
};

/** A JSON object of the inputs' values, without a prototype: an input named __proto__ stays an ordinary key. */
const VALUES = {
  write: (values) => JSON.stringify(ownCopy(values)),
  read: (text) => {
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      return undefined;
    }
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? ownCopy(parsed) : undefined;
  },
};

/** A list of input names, comma-separated (the inputs a request names as constants). */
const NAMES = {
  write: (names) => names.join(','),
  read: (text) => text.split(',').map((n) => n.trim()).filter((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n)),
};

/** One of a few numbers (the speed menu's). */
function choice(numbers) {
  return {
    write: (n) => String(n),
    read: (text) => {
      const n = Number(text);
      return numbers.includes(n) ? n : undefined;
    },
  };
}

/** One of a few words (which view the side panel shows). */
function oneOf(words) {
  return { write: (w) => w, read: (text) => (words.includes(text) ? text : undefined) };
}

function ownCopy(values) {
  const copy = Object.create(null);
  for (const key of Object.keys(values)) copy[key] = values[key];
  return copy;
}

/**
 * Every field of the page's state. `param` names its URL parameter (none:
 * the page's own, never in a link); `always` keeps it in the URL even at its
 * first value (the contract's three); `initial` is its first value, or a
 * function that makes a fresh one.
 */
export const FIELDS = Object.freeze([
  { name: 'expression', param: 'expression', always: true, codec: TEXT, initial: '' },
  { name: 'values', param: 'values', always: true, codec: VALUES, initial: () => Object.create(null) },
  { name: 'step', param: 'step', always: true, codec: STEP, initial: 0 },
  { name: 'check', param: 'check', codec: FLAG, initial: false },
  // Inputs that are data (a loss's target): the request's `constants`, drawn without a gradient.
  { name: 'constants', param: 'constants', codec: NAMES, initial: () => [] },
  // The panel shows a tensor's gradient as a row, d(scalar)/d(each element), instead of in its shape.
  { name: 'jacobianForm', param: 'jacobian', codec: FLAG, initial: false },
  // Steps a second while playing.
  { name: 'speed', param: 'speed', codec: choice([0.5, 1, 2, 4]), initial: 1 },
  { name: 'presenting', param: 'present', codec: FLAG, initial: false },
  // What the side panel shows: the current step, or the derivation by hand of one variable.
  { name: 'panelView', param: 'view', codec: oneOf(['step', 'byhand', 'gate', 'slope', 'check', 'all']), initial: 'step' },
  // By hand: the variable derived (an input or a named intermediate) and the path lit on the graph.
  { name: 'byHandOf', param: 'of', codec: TEXT, initial: '' },
  { name: 'byHandPath', param: 'path', codec: STEP, initial: 0 },
  // By hand: the server's derivation of byHandOf for the trace shown ({key, body, error}), or null.
  { name: 'byHand', initial: null },
  // Slope: the number that moves (a scalar input or named intermediate, or one element of a
  // tensor's: slopeIndex, row-major) and the server's samples for it ({key, body, error}), or null.
  { name: 'slopeOf', param: 'slope', codec: TEXT, initial: '' },
  { name: 'slopeIndex', param: 'element', codec: STEP, initial: 0 },
  { name: 'slope', initial: null },
  // All at once: what it shows (the costs, a forward-mode pass node by node, the Jacobian pass by
  // pass), the Jacobian's mode (rows by reverse mode, columns by forward mode), the input element a
  // forward-mode pass is seeded at (allOf, allElement: row-major), the pass or node shown (allStep),
  // and the server's POST /api/v1/jacobian answer for the trace shown ({key, body, error}), or null.
  { name: 'allShows', param: 'all', codec: oneOf(['costs', 'tangent', 'jacobian']), initial: 'costs' },
  { name: 'allBy', param: 'by', codec: oneOf(['reverse', 'forward']), initial: 'reverse' },
  { name: 'allOf', param: 'wrt', codec: TEXT, initial: '' },
  { name: 'allElement', param: 'seed', codec: STEP, initial: 0 },
  { name: 'allStep', param: 'pass', codec: STEP, initial: 0 },
  { name: 'allAtOnce', initial: null },
  // The view for an iframe on a course site: the graph, its steps and the panel, without the editor.
  { name: 'embed', param: 'embed', codec: FLAG, initial: false },
  { name: 'playing', initial: false },
  // "Predict, then reveal" on every step (a slide can ask for it too, see lesson.js).
  { name: 'quiz', param: 'quiz', codec: FLAG, initial: false },
  // A lesson (lesson.js) being edited or run: its slides, the slide shown, its stored id.
  // Its links are /l/{id}?slide=N&step=M, written by the page, not by queryFromState.
  { name: 'lesson', initial: null },
  { name: 'lessonId', initial: null },
  { name: 'slide', initial: 0 },
  // Whether the trace shown is the lesson's slide (false once something else is traced).
  { name: 'slideOpen', initial: false },
  { name: 'editing', initial: false },
  { name: 'showNote', initial: true },
  { name: 'showQr', initial: false },
  // The quiz of each step of the trace shown: {texts, results, revealed}; and the score across slides.
  { name: 'quizAnswers', initial: () => new Map() },
  { name: 'score', initial: emptyScore },
  // Traces asked for and answered, counted: an answer to an older request than the latest is dropped.
  { name: 'request', initial: 0 },
  { name: 'answered', initial: 0 },
  // Drawings asked for (a trace, or presenting's spacing), counted: a layout that lands after a newer one was asked for is dropped.
  { name: 'drawing', initial: 0 },
  // Back and Forward moves of the history, and the last one whose trace is shown: until the
  // state has caught up with its entry, the URL is not written (it would put the old view there).
  { name: 'historyMoves', initial: 0 },
  { name: 'historyShown', initial: 0 },
  // URL writes asked for, counted: a long view's URL is compressed first, and only the latest is written.
  { name: 'urlWrites', initial: 0 },
  // How the next slide shown enters the history: 'push' (a new entry, so Back returns to the
  // slide before), 'replace' (the page's first), or 'none' (Back and Forward themselves).
  { name: 'slideHistory', initial: 'none' },
  // The lesson editor's message ({text, error}), or null.
  { name: 'lessonMessage', initial: null },
  // The groups of the trace shown that are drawn closed, as one box each (see groups.js): set when a
  // trace is shown (closed from COLLAPSE_NODES nodes on), then by the groups' toggles. A link carries
  // the groups opened or closed since (`groups=g0,g3`), for the expression named in groupsFor.
  { name: 'collapsed', initial: () => new Set() },
  { name: 'groupToggles', param: 'groups', codec: NAMES, initial: () => [] },
  { name: 'groupsFor', initial: '' },
  // The trace shown (see prepareTrace in steps.js), and the op registry that explains it.
  { name: 'trace', initial: null },
  // Whether the trace shown is of an earlier expression (an error came after it): faded, not stepping.
  { name: 'stale', initial: false },
  { name: 'ops', initial: null },
  { name: 'examples', initial: () => [] },
  // What the user typed in each input's box, kept while the box is away (the input left the program).
  { name: 'valueTexts', initial: () => new Map() },
]);

const firstValue = (field) => (typeof field.initial === 'function' ? field.initial() : field.initial);

/** A fresh state: nothing traced yet. */
export function initialState() {
  return Object.fromEntries(FIELDS.map((field) => [field.name, firstValue(field)]));
}

/** The state a URL query carries: its fields read from the link, the rest at their first values. */
export function stateFromQuery(search) {
  const state = initialState();
  const params = new URLSearchParams(search);
  for (const field of FIELDS) {
    if (!field.param || !params.has(field.param)) continue;
    const value = field.codec.read(params.get(field.param));
    if (value !== undefined) state[field.name] = value;
  }
  return state;
}

/** The query string of a state: the contract's fields first, in its order, then those that differ from their first value. */
export function queryFromState(state) {
  const params = new URLSearchParams();
  for (const field of FIELDS) {
    if (!field.param) continue;
    const text = field.codec.write(state[field.name]);
    if (field.always || text !== field.codec.write(firstValue(field))) params.set(field.param, text);
  }
  return `?${params.toString()}`;
}

// ---- long views: compressed in the URL's fragment ----

/**
 * A query longer than this (a program of thousands of nodes, a 64x64 matrix)
 * would not survive a request line: servers and proxies refuse lines of a
 * few tens of KB. Such a view travels in the fragment instead, which never
 * leaves the browser, compressed so that a link stays as short as it can.
 */
export const MAX_QUERY_LENGTH = 4096;
const FRAGMENT = '#view=';

function base64url(bytes) {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function unbase64url(text) {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

async function pipe(bytes, stream) {
  const out = new Response(new Blob([bytes]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

/** The URL of a state: its query while that is short, else its query compressed in the fragment. */
export async function urlFromState(state, path = '/') {
  const query = queryFromState(state);
  if (query.length <= MAX_QUERY_LENGTH) return `${path}${query}`;
  const packed = await pipe(new TextEncoder().encode(query.slice(1)), new CompressionStream('deflate-raw'));
  return `${path}${FRAGMENT}${base64url(packed)}`;
}

/** The query a fragment written by urlFromState carries, or null for any other fragment (or a damaged one). */
export async function queryFromFragment(hash) {
  if (!hash || !hash.startsWith(FRAGMENT)) return null;
  try {
    const bytes = await pipe(unbase64url(hash.slice(FRAGMENT.length)), new DecompressionStream('deflate-raw'));
    return `?${new TextDecoder().decode(bytes)}`;
  } catch {
    return null;
  }
}
