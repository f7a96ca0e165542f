// Wiring only: events to state to render. The pure modules decide; this file
// connects them to the page and keeps the URL current.

import { fetchByHand, fetchExamples, fetchOps, fetchTrace } from './api.js';
import { pathHighlight, variablesOf } from './derivation.js';
import { exportJson, exportPng, exportSvg } from './export.js';
import { shapeText } from './format.js';
import { oncePerFrame, soon, throttled } from './idle.js';
import { functionNames, inputNames, parseValueText, valueToText } from './inputs.js';
import { TEXT_KINDS, layoutRequest, placeLayout } from './layout.js';
import { LayoutWorker } from './layout-client.js';
import { Player, keyAction } from './player.js';
import { GraphView, domMeasure } from './render/graph.js';
import { PanelCache } from './render/panel.js';
import { queryFromState, stateFromQuery } from './state.js';
import { frameAt, phaseRanges, prepareTrace, stepOfNode } from './steps.js';
import { lightGraph, renderByHand, unlightGraph } from './views/byhand.js';

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
  statusLine: $('step-line'),
  panel: $('panel'),
  byHand: $('by-hand'),
  panelViews: document.querySelectorAll('.panel-views [data-view]'),
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
// Everything the page keeps is here (see FIELDS in state.js): a link opens it.
const state = stateFromQuery(window.location.search);

// A click, or Enter or Space on a focused node, jumps to that node's step in
// the phase being shown: its forward step during the forward pass, its
// backward step during the backward pass (its forward step if it has none).
const graph = new GraphView(els.svg, state, {
  onNodeClick: (id) => {
    const model = state.trace;
    if (!model) return;
    const frame = frameAt(model, state.step);
    const target = stepOfNode(model, id, frame.phase) ?? stepOfNode(model, id, 'forward');
    if (target !== undefined) player.go(target);
  },
});
const measure = domMeasure(els.svg);
const layouts = new LayoutWorker();
const player = new Player(state, { onChange: () => showStep() });
const panels = new PanelCache();

const panelOptions = () => ({ jacobianForm: state.jacobianForm });

/** The panel for the step shown now, from the kept ones when it was set before; then its neighbours' in idle time. */
function showPanel() {
  const model = state.trace;
  if (!model || !model.steps.length) return;
  if (state.panelView === 'byhand') return;
  panels.show(els.panel, model, frameAt(model, state.step), state.ops, panelOptions());
  panels.prefetch(model, state.step, state.ops, panelOptions());
}

// ---- by hand: the derivation of one variable, beside the graph ----

/** Show the side panel's view: the step's maths, or the derivation by hand (fetched once per trace and variable). */
function showPanelView() {
  const byHand = state.panelView === 'byhand';
  for (const button of els.panelViews) button.setAttribute('aria-pressed', String(button.dataset.view === state.panelView));
  els.panel.hidden = byHand;
  els.byHand.hidden = !byHand;
  if (!byHand) {
    lightByHand();
    showPanel();
    writeUrl();
    return;
  }
  const model = state.trace;
  if (!model) return;
  const names = variablesOf(model).map((v) => v.name);
  if (!names.includes(state.byHandOf)) state.byHandOf = names[0] || '';
  const key = `${state.answered}:${state.byHandOf}`;
  if (!state.byHand || state.byHand.key !== key) {
    state.byHand = { key, body: null, error: null };
    if (state.byHandOf) {
      fetchByHand({ expression: state.expression, values: state.values, of: state.byHandOf }).then((res) => {
        if (!state.byHand || state.byHand.key !== key) return; // another trace or variable since
        state.byHand = { key, body: res.ok ? res.data : null, error: res.ok ? null : res.error };
        showPanelView();
      });
    }
  }
  const body = state.byHand.body;
  const derivation = body ? body.derivations[0] : null;
  if (derivation) state.byHandPath = Math.min(state.byHandPath, Math.max(0, derivation.paths.length - 1));
  renderByHand(els.byHand, model, {
    body, error: state.byHand.error, loading: !body && !state.byHand.error, of: state.byHandOf, path: state.byHandPath,
  }, {
    pick: (name) => { Object.assign(state, { byHandOf: name, byHandPath: 0 }); showPanelView(); },
    path: (k) => {
      state.byHandPath = k;
      showPanelView();
      els.byHand.querySelectorAll('button.by-hand-path')[k]?.focus();
    },
  });
  lightByHand();
  writeUrl();
}

/** The derivation's path lit and its δ nodes marked on the graph (again after a redraw). */
function lightByHand() {
  const body = state.panelView === 'byhand' && state.byHand ? state.byHand.body : null;
  if (!body) {
    unlightGraph(els.svg);
    return;
  }
  lightGraph(els.svg, pathHighlight(body.derivations[0], state.byHandPath), body.shared.map((s) => s.node));
}

function setPanelView(view) {
  state.panelView = view;
  showPanelView();
}

// ---- value boxes, one per input, built as the user types ----

function rebuildValueBoxes() {
  const names = inputNames(els.expression.value, functionNames(state.ops));
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

function makeValueField(name) {
  // An input's name is a word of letters, digits and _: an id of its own.
  const id = `value-${name}`;
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
  input.value = state.valueTexts.get(name) ?? '';
  const shape = document.createElement('span');
  shape.className = 'shape';
  shape.id = `${id}-shape`;
  input.addEventListener('input', () => {
    state.valueTexts.set(name, input.value);
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
  for (const key of Object.keys(values)) state.valueTexts.set(key, valueToText(values[key]));
  for (const field of els.values.querySelectorAll('.value-field')) {
    const input = field.querySelector('input');
    input.value = state.valueTexts.get(field.dataset.input) ?? '';
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
  document.body.classList.toggle('has-stale-trace', Boolean(state.trace));
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
  state.request += 1;
  const id = state.request;
  const check = els.check.checked;
  // A trace that answers at once is drawn without a frame of busy look
  // before it (a frame to draw that, while the answer waits to be read).
  // The timer knows its request: once this one is answered, or a newer one
  // sent, it does nothing.
  window.setTimeout(() => {
    if (state.request === id && state.answered !== id) els.form.classList.add('is-busy');
  }, BUSY_AFTER_MS);
  const pending = fetchTrace({ expression, values, check });
  // The request is on its way first: the page's own changes do not hold it back.
  clearError();
  const result = await pending;
  if (id !== state.request) return; // a newer request has been sent
  let drawn = null;
  let error = result.ok ? null : result.error;
  if (result.ok) {
    try {
      drawn = await layOut(prepareTrace(result.data));
    } catch (err) {
      error = { message: err.message, span: null };
    }
  }
  if (id !== state.request || (drawn && !drawn.current())) return;
  state.answered = id;
  els.form.classList.remove('is-busy');
  if (error) {
    showError(error);
    return;
  }
  Object.assign(state, { expression, values, check });
  showTrace(drawn, step);
  // The trace is ready: the keys now step it. Space on the Trace button would
  // trace again, so the keyboard's place moves from it to the graph.
  if (document.activeElement === els.traceButton) els.svg.focus({ preventScroll: true });
}

/**
 * Lay a trace out in the worker, while the page keeps answering (the graph
 * shown until then stays, and steps). Presenting picks, of the compact
 * layouts, the one whose graph shows largest on this screen: a vector's
 * gradient beside its value (short boxes, for a tall graph) or under it
 * (narrow boxes, for a wide one). Answers the layouts with `current()`,
 * which says whether this is still the latest drawing asked for.
 */
async function layOut(model) {
  state.drawing += 1;
  const ticket = state.drawing;
  const presenting = state.presenting;
  // Every kind of text's font, read in one style pass, once a page: each text is then measured on a canvas.
  measure.prime(TEXT_KINDS.map((kind) => ['', kind]));
  const ask = (options) => {
    const request = layoutRequest(model, measure, options);
    return layouts.position(request.graph).then((positions) => placeLayout(request, positions));
  };
  const stackable = presenting && model.nodes.some((n) => n.shape && n.shape.length === 1);
  const [first, stacked] = await Promise.all([ask({ compact: presenting }), stackable ? ask({ compact: true, stack: true }) : null]);
  return { model, first, stacked, presenting, current: () => ticket === state.drawing };
}

/** Which of a drawing's layouts to draw, with the panel's width set for it (see layOut). */
function chooseLayout({ first, stacked, presenting }) {
  document.body.classList.remove('wide-panel');
  if (!presenting) return first;
  let layout = first;
  if (stacked && graph.wholeScale(stacked) > graph.wholeScale(first) * 1.02) layout = stacked;
  // A graph bound by the screen's height leaves width over: the panel takes
  // it, so its equations need less wrapping and scrolling. Judged by the
  // width alone: the status line may wrap once more beside a wider panel.
  const size = graph.size();
  const narrow = graph.wholeScale(layout, size);
  document.body.classList.add('wide-panel');
  if (graph.wholeScale(layout, { w: graph.size().w, h: size.h }) < narrow * 0.97) document.body.classList.remove('wide-panel');
  return layout;
}

/** A new trace, laid out: the page shows it from `step` on. */
function showTrace(drawn, step) {
  const model = drawn.model;
  state.trace = model;
  els.graphEmpty.hidden = true;
  draw(drawn);
  const count = model.steps.length;
  const ranges = phaseRanges(model);
  els.scrubber.max = String(Math.max(0, count - 1));
  els.scrubber.disabled = count === 0;
  els.phaseForward.style.flexGrow = String(ranges.forward[1] - ranges.forward[0]);
  els.phaseBackward.style.flexGrow = String(ranges.backward[1] - ranges.backward[0]);
  const tensors = model.nodes.some((n) => n.shape && n.shape.length);
  els.jacobian.disabled = !tensors;
  showWarnings();
  player.load(step);
  // The graph first: the step's panel (KaTeX, its own style and layout)
  // waits until the new graph has been painted.
  showStep({ panelAfterPaint: true });
  if (state.panelView === 'byhand') showPanelView();
}

// The status line is as tall as the longest of its step texts, held by the
// CSS: these texts sit hidden in the same grid cell as the shown one. Its
// type is monospace, so the longest texts wrap to the most lines; a few of
// them, as words may wrap a shorter text further.
const SIZER_TEXTS = 4;

function sizeStatusLine(model) {
  const texts = [...new Set(model.steps.map((s) => s.text))].sort((a, b) => b.length - a.length).slice(0, SIZER_TEXTS);
  const sizers = texts.map((text) => {
    const p = document.createElement('p');
    p.className = 'step-text step-sizer';
    p.setAttribute('aria-hidden', 'true');
    p.textContent = text;
    return p;
  });
  els.statusLine.replaceChildren(els.status, ...sizers);
}

/** Draw a laid-out trace; the status line takes its height first, so the graph is fitted once. */
function draw(drawn) {
  // The old drawing goes first: the size the new one reads lays nothing of it out.
  graph.clear();
  sizeStatusLine(drawn.model);
  graph.draw(drawn.model, chooseLayout(drawn));
  lightByHand();
}

/** Draw the graph again (presenting changes its spacing); the step and the view's fit stay. */
async function redraw() {
  const model = state.trace;
  if (!model) return;
  const drawn = await layOut(model);
  if (!drawn.current() || state.trace !== model) return;
  draw(drawn);
  if (model.steps.length) graph.update(frameAt(model, state.step));
}

function showWarnings() {
  const model = state.trace;
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

/** Show the state's step: the graph, the status line, the controls, the panel and the URL. */
function showStep({ panelAfterPaint = false } = {}) {
  const model = state.trace;
  const count = model ? model.steps.length : 0;
  const index = state.step;
  els.play.textContent = state.playing ? 'Pause' : 'Play';
  els.prev.disabled = !model || index <= 0;
  els.next.disabled = !model || index >= count - 1;
  els.play.disabled = !model || count === 0;
  els.reset.disabled = !model;
  els.speed.value = String(state.speed);
  if (!model || count === 0) return;
  const frame = frameAt(model, index);
  graph.update(frame);
  // After the next frame's paint, in the idle time that follows it: the
  // frame that shows a new graph waits for nothing else.
  if (panelAfterPaint) window.requestAnimationFrame(() => soon(showPanel));
  else showPanel();
  els.status.textContent = frame.step.text;
  els.status.dataset.phase = frame.phase;
  els.scrubber.value = String(index);
  els.scrubber.setAttribute('aria-valuetext', `step ${index + 1} of ${count}, ${frame.phase}`);
  els.counter.textContent = `${index + 1} / ${count}`;
  document.body.dataset.phase = frame.phase;
  writeUrl();
}

// Browsers refuse floods of history updates (a held arrow key): the URL is
// written at most once every 150 ms, and once the burst is over, in a task
// of its own (a long program's URL is long to encode), in idle time (right
// after a new trace, not before its graph is painted).
const writeUrl = throttled(() => window.history.replaceState(null, '', queryFromState(state)), 150);

// ---- examples and ops ----

function fillExamples(list) {
  state.examples = Array.isArray(list) ? list : [];
  for (const ex of state.examples) {
    const option = document.createElement('option');
    option.value = ex.id;
    option.textContent = ex.title;
    els.examples.appendChild(option);
  }
}

function loadExample(id) {
  const ex = state.examples.find((e) => e.id === id);
  if (!ex) return;
  els.expression.value = ex.expression;
  fitExpressionRows();
  state.valueTexts.clear();
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
  window.requestAnimationFrame(redraw);
  if (state.trace) writeUrl();
}

function setJacobianForm(on) {
  state.jacobianForm = on;
  els.jacobian.setAttribute('aria-pressed', String(on));
  showPanel();
  if (state.trace) writeUrl();
}

// ---- events ----

els.form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  submitTrace(0);
});
// The Trace button traces from its own click: a form's submission has the
// browser look the form over first, before its submit event. Cancelling the click cancels that submission.
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
els.jacobian.addEventListener('click', () => setJacobianForm(!state.jacobianForm));
for (const button of els.panelViews) button.addEventListener('click', () => setPanelView(button.dataset.view));
$('zoom-in').addEventListener('click', () => graph.zoom(1.25));
$('zoom-out').addEventListener('click', () => graph.zoom(1 / 1.25));
$('fit').addEventListener('click', () => graph.fit());
$('export-svg').addEventListener('click', () => exportSvg(els.svg));
$('export-png').addEventListener('click', () => exportPng(els.svg).catch((err) => showError({ message: err.message, span: null })));
$('export-json').addEventListener('click', () => {
  if (state.trace) exportJson(state.trace.raw);
});
// Presenting picks its layout for the screen's shape: a new size lays it out again.
const redrawForSize = oncePerFrame(() => {
  if (state.presenting) redraw();
});
window.addEventListener('resize', redrawForSize);

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
  else if (action === 'by-hand') setPanelView(state.panelView === 'byhand' ? 'step' : 'byhand');
  else if (action === 'zoom-in') graph.zoom(1.25);
  else if (action === 'zoom-out') graph.zoom(1 / 1.25);
  else if (state.trace) player[action]();
  else return;
  // The arrows and Page keys win over a focused slider's own handling.
  ev.preventDefault();
});

// ---- start ----

function setOps(list) {
  state.ops = new Map(list.map((op) => [op.name, op]));
  rebuildValueBoxes();
  showPanel();
}

async function start() {
  const limits = pageData.limits || {};
  if (Number.isFinite(limits.max_expression_length)) els.expression.maxLength = limits.max_expression_length;
  if (Array.isArray(pageData.examples) && pageData.examples.length) fillExamples(pageData.examples);
  else {
    const res = await fetchExamples();
    if (res.ok) fillExamples(res.data);
  }
  // The op registry comes with the page; an older server sends it only on request.
  if (Array.isArray(pageData.ops)) setOps(pageData.ops);
  else {
    fetchOps().then((res) => {
      if (res.ok && Array.isArray(res.data)) setOps(res.data);
    });
  }
  if (state.presenting) setPresenting(true);
  if (state.jacobianForm) setJacobianForm(true);
  els.speed.value = String(state.speed);
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
}

start();
