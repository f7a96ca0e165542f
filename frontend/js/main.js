// Wiring only: events to state to render. The pure modules decide; this file
// connects them to the page and keeps the URL current.

import dagre from '/vendor/dagre/dagre.esm.js';
import { fetchExamples, fetchOps, fetchTrace } from './api.js';
import { exportJson, exportPng, exportSvg } from './export.js';
import { shapeText } from './format.js';
import { cancelIdle, idle, soon } from './idle.js';
import { inputNames, parseValueText, valueToText } from './inputs.js';
import { TEXT_KINDS, computeLayout } from './layout.js';
import { Player, keyAction } from './player.js';
import { GraphView, domMeasure } from './render/graph.js';
import { PanelCache } from './render/panel.js';
import { queryFromState, stateFromQuery } from './state.js';
import { likeliestTallest } from './textwrap.js';
import { frameAt, phaseRanges, prepareTrace, stepOfNode } from './steps.js';

const $ = (id) => document.getElementById(id);
const els = {
  form: $('expression-form'),
  traceButton: $('trace-button'),
  expression: $('expression'),
  error: $('expression-error'),
  values: $('values'),
  valuesEmpty: $('values-empty'),
  check: $('check'),
  examples: $('examples'),
  exampleNote: $('example-note'),
  warnings: $('warnings'),
  svg: $('graph'),
  graphEmpty: $('graph-empty'),
  prev: $('prev'),
  play: $('play'),
  next: $('next'),
  reset: $('reset'),
  speed: $('speed'),
  scrubber: $('scrubber'),
  phaseForward: $('phase-forward'),
  phaseBackward: $('phase-backward'),
  counter: $('counter'),
  status: $('step-text'),
  panel: $('panel'),
  present: $('present'),
  jacobian: $('jacobian-form'),
};

const DEFAULT_VALUES = { x: 1, y: 2, z: 0 };

function readPageData() {
  try {
    return JSON.parse($('page-data').textContent);
  } catch {
    return { examples: [], limits: {} };
  }
}

const pageData = readPageData();
const state = stateFromQuery(window.location.search);
const valueTexts = new Map();
let examples = [];
let ops = null;
let model = null;
let rawTrace = null;
let requestId = 0;
let jacobianForm = false;

// A click, or Enter or Space on a focused node, jumps to that node's step in
// the phase being shown: its forward step during the forward pass, its
// backward step during the backward pass (its forward step if it has none).
const graph = new GraphView(els.svg, {
  onNodeClick: (id) => {
    if (!model) return;
    const frame = frameAt(model, player.index);
    const target = stepOfNode(model, id, frame.phase) ?? stepOfNode(model, id, 'forward');
    if (target !== undefined) player.go(target);
  },
});
const measure = domMeasure(els.svg);
const player = new Player({ onChange: showStep });
const panels = new PanelCache();

/** The panel for the step shown now, from the kept ones when it was set before. */
function showPanel() {
  if (model && model.steps.length) panels.show(els.panel, model, frameAt(model, player.index), ops, { jacobianForm });
}

// While the reader looks at a step, set the panels of the steps either side
// in idle time, so the next key only moves them in.
let prefetchHandle = null;
function prefetchPanels() {
  if (prefetchHandle !== null) cancelIdle(prefetchHandle);
  prefetchHandle = null;
  if (!model) return;
  const wanted = [player.index + 1, player.index - 1].filter((i) => i >= 0 && i < model.steps.length);
  const next = () => {
    prefetchHandle = null;
    const i = wanted.shift();
    if (i === undefined || !model) return;
    const frame = frameAt(model, i);
    if (!panels.has(model, frame, ops, { jacobianForm })) panels.build(model, frame, ops, { jacobianForm });
    prefetchHandle = idle(next);
  };
  prefetchHandle = idle(next);
}

// ---- value boxes, one per input, built as the user types ----

function rebuildValueBoxes() {
  const names = inputNames(els.expression.value);
  const existing = new Map([...els.values.querySelectorAll('.value-field')].map((f) => [f.dataset.input, f]));
  names.forEach((name, i) => {
    let field = existing.get(name);
    if (!field) field = makeValueField(name);
    existing.delete(name);
    // Keep the order of first use; moving a node keeps its focus and text.
    if (els.values.children[i] !== field) els.values.insertBefore(field, els.values.children[i] || null);
  });
  for (const field of existing.values()) field.remove();
  els.valuesEmpty.hidden = names.length > 0;
}

let fieldCounter = 0;
function makeValueField(name) {
  fieldCounter += 1;
  const id = `value-${fieldCounter}`;
  const field = document.createElement('div');
  field.className = 'value-field';
  field.dataset.input = name;
  const label = document.createElement('label');
  label.htmlFor = id;
  label.textContent = name;
  const input = document.createElement('input');
  input.type = 'text';
  input.id = id;
  input.spellcheck = false;
  input.autocomplete = 'off';
  input.setAttribute('aria-describedby', `${id}-shape`);
  input.value = valueTexts.get(name) ?? '';
  const shape = document.createElement('span');
  shape.className = 'shape';
  shape.id = `${id}-shape`;
  input.addEventListener('input', () => {
    valueTexts.set(name, input.value);
    describeValue(input, shape);
  });
  field.append(label, input, shape);
  describeValue(input, shape);
  return field;
}

function describeValue(input, shape) {
  // The box grows with its text, so a matrix stays readable in one line.
  const size = Math.min(40, Math.max(6, input.value.length + 1));
  if (input.size !== size) input.size = size;
  // Only what differs is written: pressing Trace then changes nothing here
  // and no frame is laid out while the trace is on its way.
  const setShape = (text) => {
    if (shape.textContent !== text) shape.textContent = text;
  };
  if (!input.value.trim()) {
    setShape('needed');
    input.removeAttribute('aria-invalid');
    shape.classList.remove('is-invalid');
    return;
  }
  const parsed = parseValueText(input.value);
  shape.classList.toggle('is-invalid', !parsed.ok);
  if (parsed.ok) {
    setShape(shapeText(parsed.shape));
    input.removeAttribute('aria-invalid');
  } else {
    setShape(parsed.error);
    input.setAttribute('aria-invalid', 'true');
  }
}

function setValueTexts(values) {
  for (const key of Object.keys(values)) valueTexts.set(key, valueToText(values[key]));
  for (const field of els.values.querySelectorAll('.value-field')) {
    const input = field.querySelector('input');
    input.value = valueTexts.get(field.dataset.input) ?? '';
    describeValue(input, field.querySelector('.shape'));
  }
}

// ---- errors at their place ----

function showError(error) {
  const expr = els.expression.value;
  const span = error.span;
  const source = els.error.querySelector('.error-source');
  if (Array.isArray(span) && span.length === 2) {
    const [s, e] = span.map((n) => Math.max(0, Math.min(expr.length, Number(n) || 0)));
    source.hidden = false;
    els.error.querySelector('.error-before').textContent = expr.slice(0, s);
    // An empty span (the end of the text) still gets a visible mark.
    els.error.querySelector('.error-span').textContent = expr.slice(s, Math.max(s, e)) || ' ';
    els.error.querySelector('.error-after').textContent = expr.slice(Math.max(s, e));
  } else {
    source.hidden = true;
  }
  const where = error.line && error.column ? `line ${error.line}, column ${error.column}: ` : '';
  els.error.querySelector('.error-message').textContent = `${where}${error.message}`;
  els.error.hidden = false;
  els.error.dataset.type = error.type || '';
  els.expression.setAttribute('aria-invalid', 'true');
  els.expression.setAttribute('aria-describedby', 'expression-error expression-help');
  // The graph below still shows the previous trace: say so by fading it.
  document.body.classList.toggle('has-stale-trace', Boolean(model));
}

function clearError() {
  document.body.classList.remove('has-stale-trace');
  els.error.hidden = true;
  els.expression.removeAttribute('aria-invalid');
  els.expression.setAttribute('aria-describedby', 'expression-help');
}

// ---- tracing ----

// The Trace button looks busy only for a trace that takes longer than this.
const BUSY_AFTER_MS = 150;
let busyTimer = null;
let tracing = false;

async function submitTrace(step = 0) {
  const expression = els.expression.value;
  const values = Object.create(null);
  // A box that does not parse is left out and marked; the server, the judge
  // of the program, then says what is missing, or what is wrong before that.
  for (const field of els.values.querySelectorAll('.value-field')) {
    const input = field.querySelector('input');
    const parsed = parseValueText(input.value);
    describeValue(input, field.querySelector('.shape'));
    if (parsed.ok) values[field.dataset.input] = parsed.value;
  }
  const id = ++requestId;
  tracing = true;
  // A trace that answers at once is drawn without a frame of busy look
  // before it (a frame to draw that, while the answer waits to be read).
  window.clearTimeout(busyTimer);
  busyTimer = window.setTimeout(() => els.form.classList.add('is-busy'), BUSY_AFTER_MS);
  const pending = fetchTrace({ expression, values, check: els.check.checked });
  // The request is on its way first: the page's own changes do not hold it back.
  clearError();
  const result = await pending;
  if (id !== requestId) return; // a newer request has been sent
  tracing = false;
  window.clearTimeout(busyTimer);
  els.form.classList.remove('is-busy');
  if (!result.ok) {
    showError(result.error);
    return;
  }
  state.expression = expression;
  state.values = values;
  state.check = els.check.checked;
  loadTrace(result.data, step);
  // The trace is ready: the keys now step it. Space on the Trace button would
  // trace again, so the keyboard's place moves from it to the graph.
  if (document.activeElement === els.traceButton) els.svg.focus({ preventScroll: true });
}

function loadTrace(raw, step) {
  rawTrace = raw;
  model = prepareTrace(raw);
  els.graphEmpty.hidden = true;
  layoutAndDraw();
  const count = model.steps.length;
  const ranges = phaseRanges(model);
  els.scrubber.max = String(Math.max(0, count - 1));
  els.scrubber.disabled = count === 0;
  els.phaseForward.style.flexGrow = String(ranges.forward[1] - ranges.forward[0]);
  els.phaseBackward.style.flexGrow = String(ranges.backward[1] - ranges.backward[0]);
  const tensors = model.nodes.some((n) => n.shape && n.shape.length);
  els.jacobian.disabled = !tensors;
  showWarnings();
  // The graph first: the step's panel (KaTeX, its own style and layout)
  // waits until the new graph has been painted.
  panelAfterPaint = true;
  player.load(count, step);
}

/**
 * The page's layout, or when presenting the compact one whose graph shows
 * largest on this screen: a vector's gradient beside its value (short boxes,
 * for a tall graph) or under it (narrow boxes, for a wide one).
 */
function chooseLayout() {
  document.body.classList.remove('wide-panel');
  if (!state.presenting) return computeLayout(model, dagre, measure);
  const side = computeLayout(model, dagre, measure, { compact: true });
  let layout = side;
  if (model.nodes.some((n) => n.shape && n.shape.length === 1)) {
    const stacked = computeLayout(model, dagre, measure, { compact: true, stack: true });
    if (graph.wholeScale(stacked) > graph.wholeScale(side) * 1.02) layout = stacked;
  }
  // A graph bound by the screen's height leaves width over: the panel takes
  // it, so its equations need less wrapping and scrolling.
  const narrow = graph.wholeScale(layout);
  document.body.classList.add('wide-panel');
  if (graph.wholeScale(layout) < narrow * 0.97) document.body.classList.remove('wide-panel');
  return layout;
}

/**
 * Keep the status line as tall as the trace's longest step text needs, so
 * the graph above it keeps its size (and its zoom) from step to step. The
 * texts are all written into probes first and read after: one layout.
 * Before a new graph is drawn only the few texts likeliest to need the most
 * lines are measured (`quick`); all the long ones are measured after its
 * paint, in idle time, and only if they need more does the line grow.
 */
let statusReserved = null;
const QUICK_PROBES = 8;
const MAX_PROBES = 80;
function reserveStatusHeight({ quick = false } = {}) {
  if (!model || !model.steps.length) {
    els.status.style.minHeight = '';
    statusReserved = null;
    return;
  }
  const width = els.status.getBoundingClientRect().width;
  // The same trace in the same type at the same width needs the same height:
  // nothing to measure (presenting and the screen's size set the type).
  const key = `${width} ${state.presenting} ${window.innerWidth}x${window.innerHeight}`;
  const same = statusReserved && statusReserved.model === model && statusReserved.key === key;
  if (same && (quick || !statusReserved.quick)) return;
  // The longest texts wrap to the most lines (words may wrap a shorter one
  // further, so not only the very longest): the first eighty of them.
  let texts = [...new Set(model.steps.map((s) => s.text))].sort((a, b) => b.length - a.length).slice(0, MAX_PROBES);
  if (quick && texts.length > QUICK_PROBES) texts = likeliestTallest(texts, statusCharsPerLine(width), QUICK_PROBES);
  const probes = texts.map((text) => {
    const probe = els.status.cloneNode(false);
    probe.removeAttribute('id');
    probe.removeAttribute('role');
    probe.setAttribute('aria-hidden', 'true');
    probe.classList.add('probe');
    probe.style.width = `${width}px`;
    probe.style.minHeight = '';
    probe.textContent = text;
    return probe;
  });
  els.status.after(...probes);
  let tallest = Math.max(0, ...probes.map((probe) => probe.getBoundingClientRect().height));
  for (const probe of probes) probe.remove();
  // The full measure only ever grows what the quick one reserved.
  if (same) tallest = Math.max(tallest, statusReserved.height);
  const minHeight = `${Math.ceil(tallest)}px`;
  if (els.status.style.minHeight !== minHeight) els.status.style.minHeight = minHeight;
  statusReserved = { model, key, quick, height: tallest };
}

/** How many characters of the status line's monospace type fit on one of its lines. */
let statusFont = null;
function statusCharsPerLine(width) {
  const style = window.getComputedStyle(els.status);
  const font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  if (!statusFont || statusFont.font !== font) {
    const ctx = document.createElement('canvas').getContext('2d');
    ctx.font = font;
    statusFont = { font, advance: ctx.measureText('0123456789').width / 10 };
  }
  const inner = width - ['paddingLeft', 'paddingRight', 'borderLeftWidth', 'borderRightWidth']
    .reduce((sum, side) => sum + (parseFloat(style[side]) || 0), 0);
  return Math.max(1, Math.floor(inner / Math.max(1, statusFont.advance)));
}

/**
 * Read the font of every kind of text in one style pass (see domMeasure),
 * once a page: the layouts then measure each text once, on a canvas.
 */
function primeMeasure() {
  measure.prime(TEXT_KINDS.map((kind) => ['', kind]));
}

function layoutAndDraw() {
  graph.clear();
  reserveStatusHeight({ quick: true });
  primeMeasure();
  const layout = chooseLayout();
  // The panel's width may have changed with the layout: the status line's wrapping with it.
  reserveStatusHeight({ quick: true });
  graph.draw(model, layout);
  // Every long text, once the graph is on screen.
  window.requestAnimationFrame(() => soon(() => reserveStatusHeight()));
}

/** Draw the graph again (presenting changes its spacing); the step and the view's fit stay. */
function redraw() {
  if (!model) return;
  layoutAndDraw();
  if (model.steps.length) graph.update(frameAt(model, player.index));
}

function showWarnings() {
  while (els.warnings.firstChild) els.warnings.removeChild(els.warnings.firstChild);
  for (const w of model.warnings) {
    const li = document.createElement('li');
    li.className = `warning kind-${String(w.kind).replace(/[^a-z_]/gi, '')}`;
    const strong = document.createElement('strong');
    strong.textContent = `⚠ ${String(w.kind).replace(/_/g, ' ')}: `;
    li.append(strong, document.createTextNode(w.message));
    if (w.node && model.nodeById.has(w.node)) {
      const go = document.createElement('button');
      go.type = 'button';
      go.className = 'link';
      go.textContent = 'show';
      go.addEventListener('click', () => player.go(stepOfNode(model, w.node, 'forward')));
      li.append(' ', go);
    }
    els.warnings.appendChild(li);
  }
  els.warnings.hidden = model.warnings.length === 0;
}

let panelAfterPaint = false;
function showStep({ index, count, playing }) {
  els.play.textContent = playing ? 'Pause' : 'Play';
  els.prev.disabled = !model || index <= 0;
  els.next.disabled = !model || index >= count - 1;
  els.play.disabled = !model || count === 0;
  els.reset.disabled = !model;
  if (!model || count === 0) return;
  const frame = frameAt(model, index);
  graph.update(frame);
  if (panelAfterPaint) {
    panelAfterPaint = false;
    // After the next frame's paint, in the idle time that follows it: the
    // frame that shows the graph waits for nothing else.
    window.requestAnimationFrame(() => soon(() => {
      showPanel();
      prefetchPanels();
    }));
  } else {
    panels.show(els.panel, model, frame, ops, { jacobianForm });
    prefetchPanels();
  }
  els.status.textContent = frame.step.text;
  els.status.dataset.phase = frame.phase;
  els.scrubber.value = String(index);
  els.scrubber.setAttribute('aria-valuetext', `step ${index + 1} of ${count}, ${frame.phase}`);
  els.counter.textContent = `${index + 1} / ${count}`;
  document.body.dataset.phase = frame.phase;
  state.step = index;
  writeUrl();
}

// Browsers refuse floods of history updates (a held arrow key): write at
// most once every 150 ms, and once the burst is over. The write runs as its
// own task, never inside a key's: a long program's URL is long to encode.
let lastUrlWrite = 0;
let pendingUrlWrite = null;
function writeUrl() {
  if (pendingUrlWrite !== null) return;
  const wait = Math.max(0, lastUrlWrite + 150 - Date.now());
  // Then in idle time: right after a new trace, not before its graph is painted.
  pendingUrlWrite = window.setTimeout(() => soon(() => {
    pendingUrlWrite = null;
    lastUrlWrite = Date.now();
    window.history.replaceState(null, '', queryFromState(state));
  }), wait);
}

// ---- examples and ops ----

function fillExamples(list) {
  examples = Array.isArray(list) ? list : [];
  for (const ex of examples) {
    const option = document.createElement('option');
    option.value = ex.id;
    option.textContent = ex.title;
    els.examples.appendChild(option);
  }
}

function loadExample(id) {
  const ex = examples.find((e) => e.id === id);
  if (!ex) return;
  els.expression.value = ex.expression;
  fitExpressionRows();
  valueTexts.clear();
  rebuildValueBoxes();
  setValueTexts(ex.values || {});
  els.exampleNote.textContent = ex.teaches ? `${ex.title}: ${ex.teaches}` : ex.title;
  els.exampleNote.hidden = false;
  submitTrace(0);
}

// ---- presentation mode ----

function setPresenting(on) {
  state.presenting = on;
  document.body.classList.toggle('presenting', on);
  els.present.setAttribute('aria-pressed', String(on));
  graph.maxScale = on ? 3 : 2;
  // A large program is not shrunk below type a hall can read: the view follows the current node.
  graph.minAutoScale = on ? 0.75 : 0.5;
  window.requestAnimationFrame(redraw);
  if (model) writeUrl();
}

// ---- events ----

els.form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  submitTrace(0);
});
// The Trace button traces from its own click: a form's submission has the
// browser look the form over first (about a millisecond) before its submit
// event. Cancelling the click cancels that submission.
els.traceButton.addEventListener('click', (ev) => {
  ev.preventDefault();
  submitTrace(0);
});
els.expression.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey) {
    ev.preventDefault();
    submitTrace(0);
  }
});
function fitExpressionRows() {
  // One row per line of the program, up to six: a three-line program shows whole.
  els.expression.rows = Math.min(6, Math.max(2, els.expression.value.split('\n').length));
}

els.expression.addEventListener('input', () => {
  clearError();
  fitExpressionRows();
  rebuildValueBoxes();
});
els.values.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter') {
    ev.preventDefault();
    submitTrace(0);
  }
});
els.examples.addEventListener('change', () => {
  const id = els.examples.value;
  els.examples.value = '';
  loadExample(id);
});
els.prev.addEventListener('click', () => player.previous());
els.next.addEventListener('click', () => player.next());
els.play.addEventListener('click', () => player.toggle());
els.reset.addEventListener('click', () => player.reset());
els.speed.addEventListener('change', () => player.setSpeed(Number(els.speed.value)));
els.scrubber.addEventListener('input', () => player.go(Number(els.scrubber.value)));
els.present.addEventListener('click', () => setPresenting(!state.presenting));
els.jacobian.addEventListener('click', () => {
  jacobianForm = !jacobianForm;
  els.jacobian.setAttribute('aria-pressed', String(jacobianForm));
  showPanel();
});
$('zoom-in').addEventListener('click', () => graph.zoom(1.25));
$('zoom-out').addEventListener('click', () => graph.zoom(1 / 1.25));
$('fit').addEventListener('click', () => graph.fit());
$('export-svg').addEventListener('click', () => exportSvg(els.svg));
$('export-png').addEventListener('click', () => exportPng(els.svg).catch((err) => showError({ message: err.message, span: null })));
$('export-json').addEventListener('click', () => {
  if (rawTrace) exportJson(rawTrace);
});
// Presenting picks its layout for the screen's shape, and the status line's
// height follows its width: a new size measures both again.
let redrawFrame = null;
window.addEventListener('resize', () => {
  if (redrawFrame === null) {
    redrawFrame = window.requestAnimationFrame(() => {
      redrawFrame = null;
      redraw();
    });
  }
});

function isTextTarget(t) {
  if (!t || !t.tagName) return false;
  if (t.isContentEditable) return true;
  if (t.tagName === 'TEXTAREA' || t.tagName === 'SELECT') return true;
  return t.tagName === 'INPUT' && !['range', 'checkbox', 'button', 'submit', 'radio'].includes(t.type);
}

// Space presses a focused button and toggles a focused checkbox, as keyboard
// users expect; elsewhere (the page, the graph, the slider) it steps forward.
function keepsSpace(t) {
  if (!t || !t.tagName) return false;
  if (t.tagName === 'BUTTON') return !t.disabled;
  return t.tagName === 'INPUT' && ['checkbox', 'radio', 'button', 'submit'].includes(t.type);
}

document.addEventListener('keydown', (ev) => {
  if ((ev.key === ' ' || ev.key === 'Spacebar') && keepsSpace(ev.target)) return;
  const action = keyAction({ key: ev.key, ctrlKey: ev.ctrlKey, metaKey: ev.metaKey, altKey: ev.altKey, targetIsText: isTextTarget(ev.target) });
  if (!action) return;
  if (action === 'present') setPresenting(!state.presenting);
  else if (action === 'fit') graph.fit();
  else if (action === 'zoom-in') graph.zoom(1.25);
  else if (action === 'zoom-out') graph.zoom(1 / 1.25);
  else if (model) player[action]();
  else return;
  // The arrows and Page keys win over a focused slider's own handling.
  ev.preventDefault();
});

// ---- warming the layout up ----

// The first layout of a page runs dagre's code cold: compiled on first call
// and unoptimised, it takes about half again as long as later ones. While
// the reader types, lay out a made-up graph of the size of a small program
// a few times in idle time, so their first trace is drawn at the warm speed.
const WARM_UP_LAYOUTS = 3;
function warmUpLayout(left = WARM_UP_LAYOUTS) {
  if (left <= 0) return;
  idle(() => {
    // A trace on its way warms dagre itself: wait for it rather than delay it.
    if (tracing) {
      warmUpLayout(left);
      return;
    }
    const g = new dagre.graphlib.Graph({ multigraph: true });
    g.setGraph({ rankdir: 'LR', nodesep: 30, ranksep: 80, edgesep: 20, marginx: 24, marginy: 24 });
    g.setDefaultEdgeLabel(() => ({}));
    // Layers of a program: inputs fanning out, ops joining pairs, a long wire or two.
    const n = 32;
    for (let i = n - 1; i >= 0; i -= 1) g.setNode(`n${i}`, { width: 80 + (i % 5) * 30, height: 60 + (i % 3) * 20 });
    for (let i = 4; i < n; i += 1) {
      g.setEdge(`n${i - 4 + (i % 3)}`, `n${i}`, {}, `a${i}`);
      g.setEdge(`n${Math.floor(i / 2)}`, `n${i}`, {}, `b${i}`);
    }
    dagre.layout(g);
    warmUpLayout(left - 1);
  });
}

// ---- start ----

async function start() {
  const limits = pageData.limits || {};
  if (Number.isFinite(limits.max_expression_length)) els.expression.maxLength = limits.max_expression_length;
  if (Array.isArray(pageData.examples) && pageData.examples.length) fillExamples(pageData.examples);
  else {
    const res = await fetchExamples();
    if (res.ok) fillExamples(res.data);
  }
  fetchOps().then((res) => {
    if (!res.ok || !Array.isArray(res.data)) return;
    ops = new Map(res.data.map((op) => [op.name, op]));
    showPanel();
  });
  if (state.presenting) setPresenting(true);
  els.check.checked = state.check;
  if (state.expression) {
    els.expression.value = state.expression;
    fitExpressionRows();
    setValueTexts(state.values);
    rebuildValueBoxes();
    setValueTexts(state.values);
    await submitTrace(state.step);
  } else {
    setValueTexts(DEFAULT_VALUES);
    rebuildValueBoxes();
    await submitTrace(0);
  }
  warmUpLayout();
}

start();
