// Wiring only: events to state to render. The pure modules decide; this file
// connects them to the page and keeps the URL current.

import { carryTraces, fetchByHand, fetchExamples, fetchJacobian, fetchLesson, fetchLessonExport, fetchOps, fetchSlope, fetchStandalone, fetchTrace, storeLesson } from './api.js';
import { pathHighlight, variablesOf } from './derivation.js';
import { download, exportJson, exportPng, exportSvg } from './export.js';
import { findNode, stepToFind } from './find.js';
import { shapeText } from './format.js';
import { collapsedWith, laysOutGroups, layoutGroups } from './groups.js';
import { oncePerFrame, soon, throttled } from './idle.js';
import { functionNames, inputNames, inputValuesOf, parseValueText, valueToText } from './inputs.js';
import { TEXT_KINDS, layoutRequest, longestPathRanks, nodeBox, placeLayout, usesLayered, wireTexts } from './layout.js';
import { LayoutWorker } from './layout-client.js';
import { Player, keyAction } from './player.js';
import { inputOfProblem, markedRuns, problemsOf, problemsToShow } from './problems.js';
import { referenceCard } from './reference.js';
import { CULL_NODES, GraphView, domMeasure } from './render/graph.js';
import { PanelCache } from './render/panel.js';
import {
  addSlide, backward as slideBackward, emptyLesson, forward as slideForward, lessonFileName, lessonFromExamples,
  lessonToJson, moveSlide, parseLesson, removeSlide, resolveStep, slideFromTrace, updateSlide,
} from './lesson.js';
import { checkPrediction, hideTargets, quizTargets, scored } from './quiz.js';
import { queryFromFragment, queryFromState, stateFromQuery, urlFromState } from './state.js';
import { frameAt, phaseRanges, prepareTrace, stepOfNode } from './steps.js';
import { graphMarks, settleView, stepCount, traceOfJacobian } from './modes.js';
import { lightAllAtOnce, renderAllAtOnce, unlightAllAtOnce } from './views/allatonce.js';
import { lightGraph, renderByHand, unlightGraph } from './views/byhand.js';
import { renderCheck } from './views/check.js';
import { renderGate } from './views/gate.js';
import { renderNeedsOneNumber } from './views/one-number.js';
import { elementIndex, renderSlope, slopeVariables } from './views/slope.js';
import { LessonEditor } from './views/lesson-editor.js';
import { QuizView } from './views/quiz.js';
import { SlideView } from './views/slide.js';

const $ = (id) => document.getElementById(id);
const els = {
  form: $('expression-form'),
  traceButton: $('trace-button'),
  expression: $('expression'),
  error: $('expression-error'),
  values: $('values'),
  valuesEmpty: $('values-empty'),
  clearValues: $('clear-values'),
  reference: $('reference'),
  referenceButton: $('reference-button'),
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
  gateView: $('gate-view'),
  slopeView: $('slope-view'),
  checkView: $('check-view'),
  allView: $('all-view'),
  panelViews: document.querySelectorAll('.panel-views [data-view]'),
  present: $('present'),
  jacobian: $('jacobian-form'),
  lessonButton: $('lesson-button'),
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
// A page that carries its traces (the offline file, a notebook's output) has no server to ask.
const standalone = Array.isArray(pageData.traces);
// Its URL is a file's, or a notebook output's: it is left as it is.
const pageHistory = standalone ? { pushState() {}, replaceState() {} } : window.history;
// Everything the page keeps is here (see FIELDS in state.js): a link opens it.
const state = stateFromQuery(window.location.search);

// A click, or Enter or Space on a focused node, jumps to that node's step in
// the phase being shown: its forward step during the forward pass, its
// backward step during the backward pass (its forward step if it has none).
const graph = new GraphView(els.svg, state, {
  onNodeClick: (id) => {
    const model = state.trace;
    if (!model || state.stale) return; // an earlier expression's trace does not step
    const frame = frameAt(model, state.step);
    const target = stepOfNode(model, id, frame.phase) ?? stepOfNode(model, id, 'forward');
    // In the By hand view a click on a variable's node also derives it.
    const variable = state.panelView === 'byhand' ? variablesOf(model).find((v) => v.node === id) : null;
    if (variable) Object.assign(state, { byHandOf: variable.name, byHandPath: 0 });
    if (target !== undefined) player.go(target);
    if (variable) showPanelView();
  },
  onGroupToggle: (id) => toggleGroup(id),
  // A culled graph makes the nodes the view reaches: the By hand view's marks go on them too.
  onCull: () => {
    lightByHand();
    lightAll();
  },
});
const measure = domMeasure(els.svg);

/** Close a statement group into one box, or open it again (see groups.js). */
function toggleGroup(id) {
  if (!id || !state.trace || !state.trace.groups || !state.trace.groups.has(id)) return;
  if (state.collapsed.has(id)) state.collapsed.delete(id);
  else state.collapsed.add(id);
  const toggles = new Set(state.groupToggles);
  if (toggles.has(id)) toggles.delete(id);
  else toggles.add(id);
  state.groupToggles = [...toggles];
  // Shown at once where it was; a large graph is then laid out again around it (see groups.js).
  // There an opened group's members sit on its box until then: it opens with the new layout.
  const grouped = laysOutGroups(state.trace);
  const anchor = graph.anchorOf(state.trace.groups.get(id).output);
  if (!grouped || state.collapsed.has(id)) graph.setCollapsed(state.collapsed);
  writeUrl();
  lightByHand();
  lightAll();
  const focused = els.svg.contains(document.activeElement);
  focusToggle(id, focused);
  if (grouped) redraw(anchor).then(() => focusToggle(id, focused));
}

/** The keyboard stays on a group's toggle when it had the focus in the drawing. */
function focusToggle(id, focused) {
  const toggle = els.svg.querySelector(`g.group-toggle[data-group-id="${CSS.escape(id)}"]`);
  if (toggle && focused) toggle.focus({ preventScroll: true });
}

/** The group the O key closes or opens: the focused node's, else the step's node's. */
function groupAtFocus() {
  const model = state.trace;
  if (!model || !model.groupOfNode) return null;
  const focused = document.activeElement && els.svg.contains(document.activeElement) ? document.activeElement : null;
  const groupId = focused && focused.getAttribute('data-group-id');
  if (groupId) return groupId;
  const nodeId = (focused && focused.getAttribute('data-node-id')) || model.steps[state.step]?.node;
  const group = nodeId && model.groupOfNode.get(nodeId);
  return group ? group.id : null;
}
const layouts = new LayoutWorker();
const player = new Player(state, { onChange: () => showStep() });
const panels = new PanelCache();

const panelOptions = () => ({ jacobianForm: state.jacobianForm });

/** The panel for the step shown now, from the kept ones when it was set before; then its neighbours' in idle time. */
function showPanel() {
  const model = state.trace;
  if (!model || !model.steps.length) return;
  if (state.panelView !== 'step') {
    // The gate and the check follow the step (its node); the others do not.
    if (state.panelView === 'gate' || state.panelView === 'check') showStepView();
    return;
  }
  // The panel's maths would give a quiz's answers away: it waits for Reveal.
  els.panel.hidden = quizHides();
  if (els.panel.hidden) return;
  panels.show(els.panel, model, frameAt(model, state.step), state.ops, panelOptions());
  panels.prefetch(model, state.step, state.ops, panelOptions());
  fitPanel();
}

// Presenting, the side panel fits the screen: its type steps down a little
// (data-fit 1 to 3, see the CSS) until the step's maths fit; what is still
// longer pages with the clicker's Page Down and Page Up (see pagePanel).
const FIT_LEVELS = ['1', '2', '3'];

function fitPanel() {
  const aside = els.panel.parentElement;
  delete aside.dataset.fit;
  aside.scrollTop = 0;
  if (!state.presenting) return;
  for (const level of FIT_LEVELS) {
    if (aside.scrollHeight <= aside.clientHeight + 1) return;
    aside.dataset.fit = level;
  }
}

/** Page Down / Page Up scroll a presented panel that is longer than the screen, a page at a time, before they step. */
function pagePanel(action) {
  const aside = els.panel.parentElement;
  if (!state.presenting) return false;
  const page = Math.max(40, aside.clientHeight * 0.85);
  if (action === 'next' && aside.scrollTop + aside.clientHeight < aside.scrollHeight - 2) {
    aside.scrollTop += page;
    return true;
  }
  if (action === 'previous' && aside.scrollTop > 1) {
    aside.scrollTop -= page;
    return true;
  }
  return false;
}

// ---- by hand: the derivation of one variable, beside the graph ----

/** Show the side panel's view: the step's maths, or the derivation by hand (fetched once per trace and variable). */
function showPanelView() {
  const view = state.panelView;
  const byHand = view === 'byhand';
  for (const button of els.panelViews) button.setAttribute('aria-pressed', String(button.dataset.view === view));
  els.panel.hidden = view !== 'step';
  els.byHand.hidden = !byHand;
  els.gateView.hidden = view !== 'gate';
  els.slopeView.hidden = view !== 'slope';
  els.checkView.hidden = view !== 'check';
  els.allView.hidden = view !== 'all';
  lightAll();
  if (showsOneNumberNote()) {
    lightByHand();
    writeUrl();
    return;
  }
  if (!byHand) {
    lightByHand();
    if (view === 'slope') showSlope();
    else if (view === 'all') showAll();
    else showPanel();
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
      fetchByHand({ expression: state.expression, values: state.values, constants: state.constants, of: state.byHandOf }).then((res) => {
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

// ---- gate, slope and check: the step's node as a gate, a gradient read as a slope, the numeric check whole ----

/**
 * By hand, Slope and Check start from a one-number output: for a vector
 * output (drawn from its Jacobian) they say so and offer the Jacobian instead.
 * Whether the current view is one of them and got that note.
 */
function showsOneNumberNote() {
  const shown = { byhand: [els.byHand, 'By hand'], slope: [els.slopeView, 'Slope'], check: [els.checkView, 'Check'] }[state.panelView];
  if (!shown || !state.trace || !state.trace.raw.jacobian) return false;
  renderNeedsOneNumber(shown[0], state.trace, shown[1], { openJacobian: () => setPanelView('all') });
  return true;
}

/** The gate of the step's node, or the numeric check with that node's rows marked. */
function showStepView() {
  const model = state.trace;
  if (!model || !model.steps.length || showsOneNumberNote()) return;
  const frame = frameAt(model, state.step);
  const current = model.nodeById.get(frame.step.node) || null;
  if (state.panelView === 'gate') renderGate(els.gateView, model, current, state.ops, frame.phase);
  else renderCheck(els.checkView, model, state.ops, current, { run: () => { els.check.checked = true; submitTrace(state.step); } });
  // Code and tables keep the size a hall reads: a longer view pages with the clicker (see pagePanel), it does not shrink.
  const aside = els.panel.parentElement;
  delete aside.dataset.fit;
  aside.scrollTop = 0;
}

/** The output against one number of the program, sampled by the server once per trace and number. */
function showSlope() {
  const model = state.trace;
  if (!model || showsOneNumberNote()) return;
  const variables = slopeVariables(model);
  if (!variables.some((v) => v.name === state.slopeOf)) Object.assign(state, { slopeOf: variables[0] ? variables[0].name : '', slopeIndex: 0 });
  const chosen = variables.find((v) => v.name === state.slopeOf);
  const size = chosen ? chosen.shape.reduce((a, b) => a * b, 1) : 1;
  if (state.slopeIndex >= size) state.slopeIndex = 0;
  const index = chosen ? elementIndex(chosen.shape, state.slopeIndex) : null;
  const key = `${state.answered}:${state.slopeOf}:${JSON.stringify(index)}`;
  if (!state.slope || state.slope.key !== key) {
    state.slope = { key, body: null, error: null };
    if (chosen) {
      fetchSlope({ expression: state.expression, values: state.values, constants: state.constants, of: state.slopeOf, index }).then((res) => {
        if (!state.slope || state.slope.key !== key) return; // another trace or number since
        state.slope = { key, body: res.ok ? res.data : null, error: res.ok ? null : res.error };
        if (state.panelView === 'slope') showSlope();
      });
    }
  }
  const { body, error } = state.slope;
  delete els.panel.parentElement.dataset.fit; // the step view's fit, not this view's
  renderSlope(els.slopeView, model, { body, error, loading: !body && !error, of: state.slopeOf, element: state.slopeIndex, presenting: state.presenting }, {
    pick: (name) => {
      Object.assign(state, { slopeOf: name, slopeIndex: 0 });
      showSlope();
      writeUrl();
    },
    element: (k) => {
      state.slopeIndex = k;
      showSlope();
      writeUrl();
    },
  });
}

// ---- all at once: the costs, forward mode and the Jacobian, from POST /api/v1/jacobian ----

/** The All at once view's choices, as the state holds them. */
const allChoices = () => ({ shows: state.allShows, by: state.allBy, of: state.allOf, element: state.allElement, step: state.allStep });

/** The view, from the server's answer for the trace shown (asked for once per trace); its marks on the graph. */
function showAll() {
  const model = state.trace;
  if (!model) return;
  const key = String(state.answered);
  if (!state.allAtOnce || state.allAtOnce.key !== key) {
    state.allAtOnce = { key, body: null, error: null };
    fetchJacobian({ expression: state.expression, values: state.values, constants: state.constants }).then((res) => {
      if (!state.allAtOnce || state.allAtOnce.key !== key) return; // another trace since
      state.allAtOnce = { key, body: res.ok ? res.data : null, error: res.ok ? null : res.error };
      if (state.panelView === 'all') showAll();
    });
  }
  const { body, error } = state.allAtOnce;
  const view = settleView(body, allChoices());
  // The seeded element is written back (and into the URL) only where it is shown.
  if (view.shows === 'tangent') Object.assign(state, { allOf: view.of, allElement: view.element });
  state.allStep = view.step;
  const choose = (patch) => {
    Object.assign(state, patch);
    showAll();
  };
  renderAllAtOnce(els.allView, model, { ...view, body, error, loading: !body && !error, presenting: state.presenting, vector: Boolean(model.raw.jacobian) }, {
    show: (what) => choose({ allShows: what, allStep: 0 }),
    by: (mode) => choose({ allBy: mode, allStep: 0 }),
    pick: (name) => choose({ allOf: name, allElement: 0, allStep: 0 }),
    element: (k) => choose({ allElement: k, allStep: 0 }),
    step: (k) => choose({ allStep: Math.max(0, k) }),
  });
  lightAll();
  followPass(body, view);
  writeUrl();
}

/**
 * The graph's values keep pace with the view: a forward-mode pass shows the
 * forward pass up to the node its tangent has reached; a Jacobian's passes,
 * the values all computed.
 */
function followPass(body, view) {
  const model = state.trace;
  if (!body || !model || model.raw.jacobian || view.shows === 'costs') return;
  const marks = graphMarks(body, view);
  const target = view.shows === 'tangent' ? stepOfNode(model, marks.current, 'forward') : model.forwardCount - 1;
  if (target !== undefined && target >= 0) player.go(target);
}

/** The view's marks on the graph (again after a redraw), or none when another view is shown. */
function lightAll() {
  const body = state.panelView === 'all' && state.allAtOnce ? state.allAtOnce.body : null;
  if (body) lightAllAtOnce(els.svg, graphMarks(body, settleView(body, allChoices())));
  else unlightAllAtOnce(els.svg);
}

/** While the view shows passes (or a forward-mode pass's nodes), the keys and a clicker step them (before paging a presented panel: the matrix is at its top); false: the trace steps. */
function passMove(action) {
  const body = state.panelView === 'all' && state.allAtOnce ? state.allAtOnce.body : null;
  const count = body ? stepCount(body, settleView(body, allChoices())) : 0;
  const to = { next: state.allStep + 1, previous: state.allStep - 1, first: 0, last: count - 1 }[action];
  // One pass (a one-number output's Jacobian) has nothing to step: the keys step the trace.
  if (count <= 1 || to === undefined) return false;
  state.allStep = Math.max(0, Math.min(count - 1, to));
  showAll();
  return true;
}

function setPanelView(view) {
  state.panelView = view;
  showPanelView();
}

// ---- value boxes, one per input, built as the user types ----

function rebuildValueBoxes() {
  const names = inputNames(els.expression.value, functionNames(state.ops, pageData.constants || []));
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
  showKept();
}

/** Say which boxes hold a value kept from an earlier expression, and offer to clear them all. */
function showKept() {
  const fields = [...els.values.querySelectorAll('.value-field')];
  for (const field of fields) field.querySelector('.kept').hidden = !field.classList.contains('is-kept');
  els.clearValues.hidden = !fields.some((f) => f.querySelector('input[type="text"]').value.trim());
}

/** Empty every box (and forget the values kept for inputs no longer typed). */
function clearValues() {
  state.valueTexts.clear();
  for (const field of els.values.querySelectorAll('.value-field')) {
    const input = field.querySelector('input[type="text"]');
    input.value = '';
    field.classList.remove('is-kept', 'is-missing');
    describeValue(input, field.querySelector('.shape'));
  }
  showKept();
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
  // A value typed for an earlier expression is kept, and says so (see markKept).
  const kept = document.createElement('span');
  kept.className = 'kept';
  kept.textContent = 'kept';
  kept.hidden = true;
  kept.title = `${name}'s value is kept from an earlier expression: change it, or Clear values`;
  const shape = document.createElement('span');
  shape.className = 'shape';
  shape.id = `${id}-shape`;
  input.addEventListener('input', () => {
    state.valueTexts.set(name, input.value);
    field.classList.remove('is-kept', 'is-missing');
    describeValue(input, shape);
    showKept();
  });
  // A loss's target is data: ticked, it is sent in the request's constants and gets no gradient.
  const constant = document.createElement('label');
  constant.className = 'constant-box';
  constant.title = `${name} is data (a target, a label): it needs no gradient`;
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.checked = state.constants.includes(name);
  box.setAttribute('aria-label', `${name} is a constant`);
  constant.append(box, document.createTextNode('const'));
  field.append(label, input, kept, shape, constant);
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

/** Tick the boxes of the inputs named as constants (and untick the others). */
function setConstantBoxes(names) {
  state.constants = [...names];
  for (const field of els.values.querySelectorAll('.value-field')) field.querySelector('.constant-box input').checked = names.includes(field.dataset.input);
}

function setValueTexts(values) {
  for (const key of Object.keys(values)) state.valueTexts.set(key, valueToText(values[key]));
  for (const field of els.values.querySelectorAll('.value-field')) {
    const input = field.querySelector('input');
    input.value = state.valueTexts.get(field.dataset.input) ?? '';
    // Values set with the expression (an example, a lesson, a link) are its own, not kept.
    field.classList.remove('is-kept', 'is-missing');
    describeValue(input, field.querySelector('.shape'));
  }
  showKept();
}

// ---- errors at their place ----

/**
 * Every problem of an error at its place: each span marked in the expression,
 * each message listed, each input's value box marked. `unread` holds the boxes
 * that do not parse (name -> their message): their own words are used.
 */
function showError(error, unread = new Map()) {
  const expr = els.expression.value;
  const problems = problemsToShow(problemsOf(error), expr, unread);
  const first = problems[0] || error;
  const spans = problems.map((p) => p.span).filter((span) => Array.isArray(span) && span.length === 2);
  const source = els.error.querySelector('.error-source');
  source.hidden = spans.length === 0;
  if (spans.length) {
    // Only text nodes and marks: the expression is the user's text.
    const runs = markedRuns(expr, spans);
    source.replaceChildren(
      ...runs.map((run, i) => {
        const part = document.createElement(run.mark ? 'mark' : 'span');
        part.className = run.mark ? 'error-span' : i === 0 ? 'error-before' : i === runs.length - 1 ? 'error-after' : '';
        part.textContent = run.text;
        return part;
      }),
    );
  }
  const say = (p) => `${p.line && p.column ? `line ${p.line}, column ${p.column}: ` : ''}${p.message}`;
  const message = els.error.querySelector('.error-message');
  message.textContent = say(first);
  if (problems.length > 1) {
    const more = document.createElement('ul');
    more.className = 'error-more';
    for (const p of problems.slice(1)) {
      const li = document.createElement('li');
      li.textContent = say(p);
      more.append(li);
    }
    if (error.problems_omitted) {
      const li = document.createElement('li');
      li.textContent = `and ${error.problems_omitted} more`;
      more.append(li);
    }
    message.append(more);
  }
  for (const p of problems) {
    const name = inputOfProblem(p, expr);
    const field = name && els.values.querySelector(`.value-field[data-input="${name}"]`);
    if (!field || unread.has(name)) continue;
    field.classList.add('is-missing');
    const shape = field.querySelector('.shape');
    shape.textContent = p.type === 'undefined_name' ? 'needed: no value yet' : p.message;
    shape.classList.add('is-invalid');
    field.querySelector('input[type="text"]').setAttribute('aria-invalid', 'true');
  }
  els.error.hidden = false;
  els.error.dataset.type = first.type || '';
  els.expression.setAttribute('aria-invalid', 'true');
  els.expression.setAttribute('aria-describedby', 'expression-error expression-help');
  // The graph below is of an earlier expression: it says so, and does not step.
  setStale(Boolean(state.trace));
}

/** Mark the trace shown as of an earlier expression (faded, labelled, not stepping), or not. */
function setStale(on) {
  state.stale = on;
  document.body.classList.toggle('has-stale-trace', on);
  els.scrubber.disabled = on || !state.trace || state.trace.steps.length === 0;
  if (on) player.pause();
  if (state.trace) showStep();
}

function clearError() {
  els.error.hidden = true;
  els.expression.removeAttribute('aria-invalid');
  els.expression.setAttribute('aria-describedby', 'expression-help');
}

// ---- tracing ----

// The Trace button looks busy only for a trace that takes longer than this.
const BUSY_AFTER_MS = 150;

async function submitTrace(step = 0, slide = null) {
  const expression = els.expression.value;
  const values = Object.create(null);
  // A box that does not parse is left out and marked; the server, the judge
  // of the program, then says what is missing, or what is wrong before that.
  const unread = new Map();
  for (const field of els.values.querySelectorAll('.value-field')) {
    const input = field.querySelector('input');
    const parsed = parseValueText(input.value);
    field.classList.remove('is-missing');
    describeValue(input, field.querySelector('.shape'));
    if (parsed.ok) values[field.dataset.input] = parsed.value;
    else if (input.value.trim()) unread.set(field.dataset.input, parsed.error);
  }
  state.request += 1;
  const id = state.request;
  const check = els.check.checked;
  // The inputs ticked as data, of those the program still has.
  const constants = [...els.values.querySelectorAll('.value-field')].filter((f) => f.querySelector('.constant-box input').checked).map((f) => f.dataset.input);
  // A trace that answers at once is drawn without a frame of busy look
  // before it (a frame to draw that, while the answer waits to be read).
  // The timer knows its request: once this one is answered, or a newer one
  // sent, it does nothing.
  window.setTimeout(() => {
    if (state.request === id && state.answered !== id) els.form.classList.add('is-busy');
  }, BUSY_AFTER_MS);
  const pending = fetchTrace({ expression, values, check, constants });
  // The request is on its way first: the page's own changes do not hold it back.
  clearError();
  let result = await pending;
  if (id !== state.request) return; // a newer request has been sent
  // A vector output has no one backward pass: its whole Jacobian is asked for instead, and its graph drawn.
  let jacobian = null;
  if (!result.ok && result.error.type === 'output_not_scalar' && !standalone) {
    const answer = await fetchJacobian({ expression, values, constants });
    if (id !== state.request) return;
    if (answer.ok) {
      jacobian = answer.data;
      result = { ok: true, data: traceOfJacobian(jacobian) };
    }
  }
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
    showError(error, unread);
    return;
  }
  Object.assign(state, { expression, values, check, constants });
  if (jacobian) {
    // Shown in the All at once view, filling its Jacobian (a link may have chosen the view's mode already).
    state.allAtOnce = { key: String(id), body: jacobian, error: null };
    if (state.panelView !== 'all') Object.assign(state, { panelView: 'all', allShows: 'jacobian', allStep: 0 });
  }
  state.slideOpen = slide !== null;
  if (slide !== null) state.slide = slide;
  showTrace(drawn, step);
  afterSlideShown();
  // The trace is ready: the keys now step it. Space on the Trace button would
  // trace again, so the keyboard's place moves from it to the graph.
  if (document.activeElement === els.traceButton) els.svg.focus({ preventScroll: true });
}

// Nodes whose boxes (and twice as many wires whose texts) a large graph's layout makes in one task.
const BOX_SLICE = 1500;

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
  // A graph the drawing culls is measured by its characters, and its boxes made
  // a slice at a time, each a task of its own: keys are answered in between.
  const large = model.nodes.length > CULL_NODES;
  const width = large ? measure.fast : measure;
  // The groups closed as showTrace will have them: a new expression forgets the toggles of the last.
  const collapsed = collapsedWith(model, state.groupsFor === model.expression ? state.groupToggles : []);
  const ask = async (options) => {
    let made = null;
    if (large) {
      made = { boxes: new Map(), wires: new Map() };
      const rank = longestPathRanks(model);
      const layered = usesLayered(model, rank);
      const slices = [];
      for (let i = 0; i < model.nodes.length; i += BOX_SLICE) {
        slices.push(() => {
          for (const node of model.nodes.slice(i, i + BOX_SLICE)) made.boxes.set(node.id, nodeBox(model, node, width, options));
        });
      }
      for (let i = 0; i < model.edges.length; i += 2 * BOX_SLICE) {
        slices.push(() => {
          for (const [id, texts] of wireTexts(model, rank, layered, model.edges.slice(i, i + 2 * BOX_SLICE))) made.wires.set(id, texts);
        });
      }
      for (const slice of slices) {
        slice();
        await new Promise((resolve) => { setTimeout(resolve, 0); });
        if (ticket !== state.drawing) return null;
      }
    }
    const request = layoutRequest(model, width, options, made);
    // A large graph lays out what its closed groups show (see groups.js).
    const grouped = laysOutGroups(model) ? layoutGroups(model, collapsed, options) : null;
    if (grouped) Object.assign(request.graph, { groups: grouped.groups, inner: grouped.inner });
    return layouts.position(request.graph).then((positions) => {
      if (grouped) grouped.keepInner(positions.inner);
      return placeLayout(request, positions);
    });
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
  // Another expression's groups are not this one's: its toggles are forgotten.
  if (state.groupsFor !== model.expression) Object.assign(state, { groupToggles: [], groupsFor: model.expression });
  state.collapsed = collapsedWith(model, state.groupToggles);
  state.stale = false;
  document.body.classList.remove('has-stale-trace');
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
  state.quizAnswers = new Map();
  // A slide opened "at its end" (Page Up from the next one) learns its last step here.
  // A vector output's graph steps only its forward pass: shown whole, its passes step in the All at once view.
  player.load(model.raw.jacobian ? count - 1 : resolveStep(step, count));
  // The graph first: the step's panel (KaTeX, its own style and layout)
  // waits until the new graph has been painted.
  showStep({ panelAfterPaint: true });
  if (state.panelView !== 'step') showPanelView();
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
  lightAll();
}

/**
 * Draw the graph again (presenting changes its spacing, a large graph's
 * groups their layout); the step and the view's fit stay, or with an
 * `anchor` (see GraphView.anchorOf) its node stays where it was on the screen.
 */
async function redraw(anchor = null) {
  const model = state.trace;
  if (!model) return;
  const drawn = await layOut(model);
  if (!drawn.current() || state.trace !== model) return;
  draw(drawn);
  if (anchor) graph.keepAnchor(anchor);
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
  const stepping = Boolean(model) && !state.stale;
  els.prev.disabled = !stepping || index <= 0;
  els.next.disabled = !stepping || index >= count - 1;
  els.play.disabled = !stepping || count === 0;
  els.reset.disabled = !stepping;
  els.speed.value = String(state.speed);
  if (!model || count === 0) return;
  const targets = quizOn() ? currentTargets() : [];
  const hiding = quizHides();
  const frame = hiding ? hideTargets(model, frameAt(model, index), targets) : frameAt(model, index);
  graph.update(frame);
  // After the next frame's paint, in the idle time that follows it: the
  // frame that shows a new graph waits for nothing else.
  if (panelAfterPaint) window.requestAnimationFrame(() => soon(showPanel));
  else showPanel();
  els.status.textContent = hiding ? `Step ${index + 1}: predict, then press Reveal (or Page Down).` : frame.step.text;
  els.status.dataset.phase = frame.phase;
  els.scrubber.value = String(index);
  els.scrubber.setAttribute('aria-valuetext', `step ${index + 1} of ${count}, ${frame.phase}`);
  els.counter.textContent = `${index + 1} / ${count}`;
  document.body.dataset.phase = frame.phase;
  renderLesson();
  writeUrl();
}

// Browsers refuse floods of history updates (a held arrow key): the URL is
// written at most once every 150 ms, and once the burst is over, in a task
// of its own (a long program's URL is long to encode), in idle time (right
// after a new trace, not before its graph is painted).
// After Back or Forward the state catches up with the entry only once its
// trace is shown: until then a write would put the old view into the new entry.
// A long view is compressed into the fragment first (see urlFromState), so
// the URL is written when that is done, unless a newer write was asked for.
const writeUrl = throttled(() => {
  state.urlWrites += 1;
  const ticket = state.urlWrites;
  const url = state.lesson && state.slideOpen ? Promise.resolve(urlOf()) : urlFromState(state);
  url.then((u) => {
    if (ticket === state.urlWrites && state.historyShown === state.historyMoves) pageHistory.replaceState(null, '', u);
  });
}, 150);

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
  // A picked example is a history entry of its own: a copy of this one, which
  // the example's URL then overwrites, so Back returns to what was on before
  // rather than out of the page.
  if (state.trace) pageHistory.pushState(null, '', window.location.href);
  submitTrace(0);
}

// ---- presentation mode ----

function setPresenting(on) {
  state.presenting = on;
  if (on) state.editing = false;
  document.body.classList.toggle('presenting', on);
  els.present.setAttribute('aria-pressed', String(on));
  window.requestAnimationFrame(redraw);
  fitPanel();
  // The slope's plot is drawn for the panel's size and type, which presenting changes.
  if (state.panelView === 'slope') window.requestAnimationFrame(showSlope);
  if (state.panelView === 'all') window.requestAnimationFrame(showAll);
  if (state.trace) writeUrl();
  renderLesson();
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
  // Counted up to six only: a long program is not split on every key.
  const text = els.expression.value;
  let lines = 1;
  for (let i = text.indexOf('\n'); i !== -1 && lines < 6; i = text.indexOf('\n', i + 1)) lines += 1;
  els.expression.rows = Math.max(2, lines);
}

// A long program's value boxes follow the typing in idle time: reading its
// inputs is a pass over all of it, too long to make every key wait for.
const LONG_PROGRAM = 20_000;
const rebuildValueBoxesSoon = throttled(() => {
  rebuildValueBoxes();
  markKept();
}, 150);

els.expression.addEventListener('input', () => {
  clearError();
  fitExpressionRows();
  if (els.expression.value.length > LONG_PROGRAM) {
    rebuildValueBoxesSoon();
    return;
  }
  rebuildValueBoxes();
  markKept();
});

/** The expression changed: every value in a box was given for an earlier one, and is marked kept. */
function markKept() {
  for (const field of els.values.querySelectorAll('.value-field')) {
    if (field.querySelector('input[type="text"]').value.trim()) field.classList.add('is-kept');
  }
  showKept();
}
els.values.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter') {
    ev.preventDefault();
    submitTrace(0);
  }
});
els.clearValues.addEventListener('click', () => clearValues());
els.referenceButton.addEventListener('click', () => setReference(els.reference.hidden));
els.reference.querySelector('.reference-close').addEventListener('click', () => setReference(false));

/** Open or close the reference card: the language, from the registry the page received. */
function setReference(open) {
  if (open && !els.reference.dataset.built) {
    els.reference.dataset.built = '1';
    const body = els.reference.querySelector('.reference-body');
    for (const section of referenceCard(state.ops, pageData.constants || [])) {
      const part = document.createElement('section');
      const title = document.createElement('h3');
      title.textContent = section.title;
      part.append(title);
      if (section.note) {
        const note = document.createElement('p');
        note.className = 'help';
        note.textContent = section.note;
        part.append(note);
      }
      const table = document.createElement('table');
      const head = table.createTHead().insertRow();
      for (const column of section.columns) {
        const th = document.createElement('th');
        th.textContent = column;
        head.append(th);
      }
      const rows = table.createTBody();
      for (const row of section.rows) {
        const tr = rows.insertRow();
        row.forEach((text, k) => {
          const cell = tr.insertCell();
          if (k === 0) {
            const code = document.createElement('code');
            code.textContent = text;
            cell.append(code);
          } else cell.textContent = text;
        });
      }
      part.append(table);
      body.append(part);
    }
  }
  els.reference.hidden = !open;
  els.referenceButton.setAttribute('aria-pressed', String(open));
  if (open) els.reference.querySelector('.reference-close').focus({ preventScroll: true });
  else if (document.activeElement && els.reference.contains(document.activeElement)) els.referenceButton.focus();
}

els.examples.addEventListener('change', () => {
  const id = els.examples.value;
  els.examples.value = '';
  loadExample(id);
});
els.prev.addEventListener('click', () => lessonMove('previous') || player.previous());
els.next.addEventListener('click', () => lessonMove('next') || player.next());
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
// Find a node by name: Enter jumps to its step (again: its backward step) and brings it into view.
$('find').addEventListener('keydown', (ev) => {
  if (ev.key !== 'Enter') return;
  ev.preventDefault();
  const box = ev.currentTarget;
  const model = state.trace;
  const id = findNode(model, box.value);
  box.setAttribute('aria-invalid', String(Boolean(box.value.trim()) && id === null));
  box.title = id === null && box.value.trim() ? `No node is called ${box.value.trim()}` : '';
  if (id === null) return;
  const target = stepToFind(model, id, state.step);
  if (target !== undefined) player.go(target);
  graph.centreOn(id);
});
$('export-svg').addEventListener('click', () => exportSvg(els.svg));
$('export-png').addEventListener('click', () => exportPng(els.svg).catch((err) => showError({ message: err.message, span: null })));
$('export-json').addEventListener('click', () => {
  if (state.trace) exportJson(state.trace.raw);
});
$('export-html').addEventListener('click', async () => {
  if (!state.trace || standalone) return;
  const result = await fetchStandalone({ expression: state.expression, values: state.values, check: state.check });
  if (result.ok) download(result.data, 'gradtrace.html');
  else showError(result.error);
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
  if (action === 'reference') setReference(els.reference.hidden);
  else if (action === 'leave' && !els.reference.hidden) setReference(false);
  else if (action === 'present') setPresenting(!state.presenting);
  else if (action === 'leave') {
    if (!state.presenting) return;
    setPresenting(false);
  } else if (action === 'note' || action === 'qr') {
    if (!state.lesson) return;
    toggleLessonAid(action);
  } else if (action === 'fit') graph.fit();
  else if (action === 'by-hand') setPanelView(state.panelView === 'byhand' ? 'step' : 'byhand');
  else if (action === 'gate' || action === 'slope' || action === 'check' || action === 'all') setPanelView(state.panelView === action ? 'step' : action);
  else if (action === 'zoom-in') graph.zoom(1.25);
  else if (action === 'zoom-out') graph.zoom(1 / 1.25);
  else if (action === 'group') toggleGroup(groupAtFocus());
  else if (state.trace && !state.stale) {
    const clicker = ev.key === 'PageDown' || ev.key === 'PageUp';
    if (!passMove(action) && !(clicker && !quizHides() && pagePanel(action)) && !lessonMove(action)) player[action]();
  } else return;
  // The arrows and Page keys win over a focused slider's own handling.
  ev.preventDefault();
});

// ---- lessons: the editor, running slides from a clicker, the short link and its QR code, the quiz ----

const slideView = new SlideView($('slide'), {});
const quizView = new QuizView($('quiz'), {
  type: (key, text) => {
    currentAnswers().texts[key] = text;
  },
  check: () => checkQuiz(),
  reveal: () => revealQuiz(),
});
const editor = new LessonEditor($('lesson-editor'), {
  title: (text) => editLesson({ ...(state.lesson || emptyLesson()), title: text }),
  edit: (i, patch) => editLesson(updateSlide(state.lesson, i, patch)),
  move: (i, j) => {
    const open = state.slideOpen && state.slide === i;
    editLesson(moveSlide(state.lesson, i, j));
    if (open) state.slide = Math.max(0, Math.min(j, state.lesson.slides.length - 1));
    renderLesson();
  },
  remove: (i) => {
    editLesson(removeSlide(state.lesson, i));
    if (state.slideOpen && state.slide === i) state.slideOpen = false;
    else if (state.slide > i) state.slide -= 1;
    renderLesson();
  },
  open: (i) => openSlide(i),
  add: () => addCurrentTrace(),
  examples: () => useLesson(lessonFromExamples(state.examples), null, 'The built-in examples, one slide each.'),
  file: (text) => {
    try {
      useLesson(parseLesson(text), null, 'Opened from the file.');
    } catch (err) {
      say(err.message, true);
    }
  },
  link: (text) => openLessonLink(text),
  download: () => {
    if (state.lesson) download(new Blob([lessonToJson(state.lesson)], { type: 'application/json' }), lessonFileName(state.lesson));
  },
  share: () => shareLesson(),
  html: () => downloadLessonHtml(),
  present: () => presentLesson(),
  close: () => setEditing(false),
});

function say(text, error = false) {
  state.lessonMessage = { text, error };
  renderLesson();
}

/** The slide the trace shown belongs to, or null. */
function openSlideOf() {
  return state.lesson && state.slideOpen ? state.lesson.slides[state.slide] : null;
}

function quizOn() {
  const slide = openSlideOf();
  return Boolean(state.trace && (state.quiz || (slide && slide.quiz)));
}

function currentTargets() {
  const slide = openSlideOf();
  return quizTargets(state.trace, state.step, { constants: slide ? slide.constants : [] });
}

function currentAnswers() {
  if (!state.quizAnswers.has(state.step)) state.quizAnswers.set(state.step, { texts: Object.create(null), results: Object.create(null), revealed: false });
  return state.quizAnswers.get(state.step);
}

/** Whether the step shown still hides what the room is asked to predict. */
function quizHides() {
  return quizOn() && !currentAnswers().revealed && currentTargets().length > 0;
}

function checkQuiz() {
  const answers = currentAnswers();
  for (const target of currentTargets()) {
    const result = checkPrediction(answers.texts[target.key] ?? '', target.answer);
    answers.results[target.key] = result;
    if (result.ok) state.score = scored(state.score, `${state.slideOpen ? state.slide : '-'}:${state.step}:${target.key}`, result.right);
  }
  renderLesson();
}

function revealQuiz() {
  currentAnswers().revealed = true;
  showStep();
}

/**
 * A clicker's move inside a lesson: an unrevealed quiz step is revealed
 * first; past a slide's last step comes the next slide at its start step,
 * before its first the previous slide at its end. False: the player moves.
 */
function lessonMove(action) {
  if (!state.trace) return false;
  if (action === 'next' && quizHides()) {
    revealQuiz();
    return true;
  }
  if (!openSlideOf()) return false;
  const count = state.trace.steps.length;
  const at = { slide: state.slide, step: state.step };
  if (action === 'next' && state.step >= count - 1) {
    const to = slideForward(state.lesson, at, count);
    if (to) openSlide(to.slide, to.step);
    return true;
  }
  if (action === 'previous' && state.step <= 0) {
    const to = slideBackward(state.lesson, at);
    if (to) openSlide(to.slide, to.step);
    return true;
  }
  return false;
}

/** Trace slide `i` of the lesson, at `step` (its start step by default). */
function openSlide(i, step, history = 'push') {
  const slide = state.lesson && state.lesson.slides[i];
  if (!slide) return Promise.resolve();
  // The entry being left keeps the step it was left at: the URL's throttled
  // write may not have run yet, and would land on the new entry.
  if (history === 'push' && state.slideOpen && state.historyShown === state.historyMoves) pageHistory.replaceState(null, '', urlOf());
  state.slideHistory = history;
  els.expression.value = slide.expression;
  fitExpressionRows();
  state.valueTexts.clear();
  rebuildValueBoxes();
  setValueTexts(slide.values);
  els.check.checked = slide.check;
  setConstantBoxes(slide.constants || []);
  els.exampleNote.hidden = true;
  return submitTrace(step ?? slide.step, i);
}

/** Once a trace is shown: a slide opened by the clicker or the editor becomes a history entry of its own. */
function afterSlideShown() {
  state.historyShown = state.historyMoves;
  const how = state.slideHistory;
  state.slideHistory = 'none';
  if (!state.slideOpen) return renderLesson();
  if (how === 'push') pageHistory.pushState(null, '', urlOf());
  else if (how === 'replace') pageHistory.replaceState(null, '', urlOf());
  renderLesson();
}

/** The page's URL: a slide's short link with its step, or the contract's query. */
function urlOf() {
  if (state.lesson && state.slideOpen) {
    const params = new URLSearchParams();
    params.set('slide', String(state.slide));
    params.set('step', String(state.step));
    if (state.presenting) params.set('present', '1');
    if (state.quiz) params.set('quiz', '1');
    if (state.lessonId) return `/l/${state.lessonId}?${params}`;
    return `/${queryFromState(state)}&slide=${state.slide}`;
  }
  return `/${queryFromState(state)}`;
}

/** The link the room opens for the slide shown: short, without the step. */
function shortLink() {
  if (!state.lessonId) return null;
  const base = `${window.location.origin}/l/${state.lessonId}`;
  return state.slideOpen && state.slide > 0 ? `${base}?slide=${state.slide}` : base;
}

/** A changed lesson is a new lesson: it has no stored id until it is shared again. */
function editLesson(lesson) {
  state.lesson = lesson;
  state.lessonId = null;
  state.lessonMessage = null;
  renderLesson();
}

function useLesson(lesson, id, message) {
  state.lesson = lesson;
  state.lessonId = id;
  state.editing = true;
  state.lessonMessage = message ? { text: message, error: false } : null;
  if (lesson.slides.length) openSlide(0);
  else renderLesson();
}

function addCurrentTrace() {
  if (!state.trace) return say('Trace something first: the slide is the trace shown.', true);
  const lesson = state.lesson || emptyLesson();
  const slide = slideFromTrace({ expression: state.expression, values: state.values, check: state.check, constants: state.constants, step: state.step });
  editLesson(addSlide(lesson, slide));
  state.slide = state.lesson.slides.length - 1;
  state.slideOpen = true;
  pageHistory.pushState(null, '', urlOf());
  renderLesson();
}

async function shareLesson() {
  if (!state.lesson || !state.lesson.slides.length) return null;
  if (state.lessonId) return state.lessonId;
  const lesson = state.lesson;
  const result = await storeLesson(lessonToJson(lesson, 0));
  if (!result.ok) {
    say(`Not stored: ${result.error.message}`, true);
    return null;
  }
  if (state.lesson !== lesson) return null; // edited while on its way
  state.lessonId = result.data.id;
  say(`Stored: ${window.location.origin}${result.data.link}`);
  if (state.slideOpen) pageHistory.replaceState(null, '', urlOf());
  return state.lessonId;
}

/** The lesson as one offline HTML file, for a course website: stored first, then its file fetched. */
async function downloadLessonHtml() {
  const lesson = state.lesson;
  const id = await shareLesson();
  if (!id) return;
  const result = await fetchLessonExport(id);
  if (!result.ok) {
    const where = Number.isInteger(result.error.slide) ? `slide ${result.error.slide + 1}: ` : '';
    say(`No HTML file: ${where}${result.error.message}`, true);
    return;
  }
  download(result.data, lessonFileName(lesson).replace(/\.lesson\.json$/, '.html'));
}

async function presentLesson() {
  if (!state.lesson || !state.lesson.slides.length) return;
  setEditing(false);
  setPresenting(true);
  await openSlide(state.slideOpen ? state.slide : 0);
  shareLesson();
}

/** A lesson link (…/l/ID), or an ID alone, opened in the page. */
async function openLessonLink(text) {
  const match = /(?:\/l\/)?([0-9a-z]{8,52})\/?(?:[?#].*)?$/.exec(String(text).trim());
  if (!match) return say('That is not a lesson link: it looks like …/l/ followed by 8 letters and digits.', true);
  const result = await fetchLesson(match[1]);
  if (!result.ok) return say(result.error.message, true);
  try {
    useLesson(parseLesson(result.data), match[1], null);
  } catch (err) {
    say(err.message, true);
  }
}

function setEditing(on) {
  state.editing = on;
  if (on && state.presenting) setPresenting(false);
  renderLesson();
}

function toggleLessonAid(action) {
  if (action === 'note') state.showNote = !state.showNote;
  else {
    state.showQr = !state.showQr;
    // The QR code needs the short link: a lesson not stored yet is stored now.
    if (state.showQr && !state.lessonId) shareLesson();
  }
  renderLesson();
}

/** Every lesson view from the state: the editor, the slide's title, note and QR code, the quiz, the controls. */
function renderLesson() {
  editor.render(state, state.lessonMessage);
  els.lessonButton.setAttribute('aria-pressed', String(state.editing));
  const slide = openSlideOf();
  slideView.render({ ...state, lesson: slide ? state.lesson : null }, slide ? shortLink() : null);
  document.body.classList.toggle('in-lesson', Boolean(slide));
  const model = state.trace;
  const on = quizOn();
  const targets = on ? currentTargets() : [];
  quizView.render({ on, step: `${state.request}:${state.step}`, phase: model ? frameAt(model, state.step).phase : null, targets, answers: on ? currentAnswers() : null, score: state.score });
  if (slide && model) {
    const count = model.steps.length;
    els.next.disabled = state.step >= count - 1 && state.slide >= state.lesson.slides.length - 1;
    els.prev.disabled = state.step <= 0 && state.slide <= 0;
  }
}

/** The lesson the page was opened with (/l/{id}), or a word that there is none; true when there is one to run. */
function readLessonOfPage() {
  if (pageData.lesson_missing) {
    state.editing = true;
    say(`No lesson is stored under the id ${JSON.stringify(String(pageData.lesson_missing))}.`, true);
    return false;
  }
  if (!pageData.lesson) return false;
  try {
    state.lesson = parseLesson(pageData.lesson);
    // An offline file's lesson has no stored id, so no short link.
    state.lessonId = pageData.lesson_id ? String(pageData.lesson_id) : null;
    return true;
  } catch (err) {
    state.editing = true;
    say(err.message, true);
    return false;
  }
}

// Back and Forward move between slides (each one a history entry), or back to a plain link.
window.addEventListener('popstate', () => {
  state.historyMoves += 1;
  const params = new URLSearchParams(window.location.search);
  const path = /^\/l\/([0-9a-z]+)\/?$/.exec(window.location.pathname);
  const read = stateFromQuery(window.location.search);
  const ours = state.lesson && (path ? path[1] === state.lessonId : params.has('slide'));
  if (ours) {
    const slide = Math.min(Math.max(0, Number.parseInt(params.get('slide'), 10) || 0), state.lesson.slides.length - 1);
    openSlide(slide, params.has('step') ? read.step : undefined, 'none');
  } else if (read.expression) {
    els.expression.value = read.expression;
    fitExpressionRows();
    state.valueTexts.clear();
    rebuildValueBoxes();
    setValueTexts(read.values);
    setConstantBoxes(read.constants);
    submitTrace(read.step);
  } else state.historyShown = state.historyMoves;
});

els.lessonButton.addEventListener('click', () => setEditing(!state.editing));

// ---- start ----

function setOps(list) {
  state.ops = new Map(list.map((op) => [op.name, op]));
  rebuildValueBoxes();
  showPanel();
}

/** The offline file: the trace it carries, shown read-only (a lesson's slides open as they do on the page). */
async function startStandalone() {
  document.body.classList.add('standalone');
  carryTraces(pageData.traces);
  if (readLessonOfPage()) {
    await openSlide(0, undefined, 'none');
  } else {
    const raw = pageData.traces[0].trace;
    els.expression.value = String(raw.expression || '');
    fitExpressionRows();
    rebuildValueBoxes();
    setValueTexts(inputValuesOf(raw));
    setConstantBoxes(pageData.traces[0].request.constants || []);
    els.check.checked = Boolean(raw.check);
    await submitTrace(state.step);
  }
}

async function start() {
  // A view too long for a query came in the fragment: it is the state to open.
  const packed = await queryFromFragment(window.location.hash);
  if (packed) Object.assign(state, stateFromQuery(packed));
  // The groups a link opened or closed are of the expression it carries.
  state.groupsFor = state.expression;
  if (state.embed) document.body.classList.add('embed');
  if (standalone) {
    els.expression.readOnly = true;
    els.check.disabled = true;
  }
  const limits = pageData.limits || {};
  if (Number.isFinite(limits.max_expression_length)) els.expression.maxLength = limits.max_expression_length;
  if (Array.isArray(pageData.examples) && pageData.examples.length) fillExamples(pageData.examples);
  else if (!standalone) {
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
  if (standalone) {
    await startStandalone();
    return;
  }
  els.check.checked = state.check;
  if (readLessonOfPage()) {
    const params = new URLSearchParams(window.location.search);
    const slide = Math.min(Math.max(0, Number.parseInt(params.get('slide'), 10) || 0), state.lesson.slides.length - 1);
    await openSlide(slide, params.has('step') ? state.step : undefined, 'replace');
  } else if (state.expression) {
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
