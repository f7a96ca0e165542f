/**
 * The quiz, "predict, then reveal": what a step asks the room to predict,
 * how a typed prediction is checked against the trace, and the score. Pure,
 * no DOM: the quiz view renders from these and sends the typed text back.
 *
 * A forward step asks for the value its node computes; a backward step asks
 * for the downstream gradient of each of its node's input wires (the numbers
 * the step computes). Wires into a constant, or into an input the slide marks
 * as given data (`constants`), are not asked.
 */

import { parseValueText } from './inputs.js';
import { shapeOf } from './format.js';
import { displayName } from './steps.js';

/** How close a prediction must be: |predicted - answer| <= absolute + relative * |answer|. */
export const TOLERANCE = Object.freeze({ relative: 0.01, absolute: 0.005 });

/**
 * The predictions step `s` asks for: [{key, kind: 'value' | 'downstream', node,
 * edge, answer, label}]. Empty for the steps of inputs and constants.
 */
export function quizTargets(model, s, { constants = [] } = {}) {
  const step = model.steps[s];
  if (!step) return [];
  const node = model.nodeById.get(step.node);
  if (!node || node.kind !== 'op') return [];
  if (step.phase === 'forward') {
    return [{ key: `value:${node.id}`, kind: 'value', node: node.id, edge: null, answer: node.value, label: `value of ${displayName(node)}` }];
  }
  const given = new Set(constants);
  const targets = [];
  for (const edgeId of step.edges) {
    const edge = model.edgeById.get(edgeId);
    const source = edge && model.nodeById.get(edge.source);
    if (!source || source.kind === 'constant') continue;
    if (source.kind === 'input' && given.has(source.name)) continue;
    targets.push({
      key: `downstream:${edge.id}`,
      kind: 'downstream',
      node: source.id,
      edge: edge.id,
      answer: edge.downstream,
      label: `gradient into ${displayName(source)} from ${displayName(node)}`,
    });
  }
  return targets;
}

const NON_FINITE = { nan: NaN, inf: Infinity, infinity: Infinity, '+inf': Infinity, '-inf': -Infinity, '-infinity': -Infinity };

function readPrediction(text) {
  const word = String(text).trim().toLowerCase();
  if (word in NON_FINITE) return { ok: true, value: NON_FINITE[word] };
  return parseValueText(text);
}

function close(predicted, answer, tolerance) {
  if (Number.isNaN(answer)) return Number.isNaN(predicted);
  if (!Number.isFinite(answer)) return predicted === answer;
  return Math.abs(predicted - answer) <= tolerance.absolute + tolerance.relative * Math.abs(answer);
}

function flat(value) {
  return Array.isArray(value) ? value.flat(Infinity) : [value];
}

/**
 * Check a typed prediction against the answer (a number or nested list):
 * {ok: true, right} once it reads as a value, {ok: false, error} when it does not.
 * A prediction of the wrong shape is read but wrong.
 */
export function checkPrediction(text, answer, tolerance = TOLERANCE) {
  const read = readPrediction(text);
  if (!read.ok) return { ok: false, error: read.error };
  const want = shapeOf(answer);
  const got = shapeOf(read.value);
  if (want.length !== got.length || want.some((d, i) => d !== got[i])) {
    return { ok: true, right: false, reason: `the answer has shape [${want.join(', ')}]` };
  }
  const predicted = flat(read.value);
  const right = flat(answer).every((a, i) => close(predicted[i], a, tolerance));
  return { ok: true, right };
}

/** A fresh score: nothing asked yet. */
export function emptyScore() {
  return { right: 0, asked: 0, answered: Object.create(null) };
}

/**
 * The score after a prediction for `key` was checked. Only the first checked
 * prediction of each target counts, so trying again after a miss is practice.
 */
export function scored(score, key, right) {
  if (key in score.answered) return score;
  const answered = Object.create(null);
  Object.assign(answered, score.answered);
  answered[key] = right;
  return { right: score.right + (right ? 1 : 0), asked: score.asked + 1, answered };
}

/** "3 of 4 right". */
export function scoreText(score) {
  return `${score.right} of ${score.asked} right`;
}

/**
 * The frame to draw while step `s`'s targets are still hidden: the same frame
 * with the predicted values and gradients marked unknown, so neither the graph
 * nor the panel gives them away before Reveal.
 */
export function hideTargets(model, frame, targets) {
  if (!targets.length) return frame;
  const nodes = new Map(frame.nodes);
  const edges = new Map(frame.edges);
  for (const t of targets) {
    if (t.kind === 'value') {
      nodes.set(t.node, { ...nodes.get(t.node), value: false });
      for (const e of model.outEdges.get(t.node) || []) edges.set(e.id, { ...edges.get(e.id), value: false });
    } else {
      edges.set(t.edge, { ...edges.get(t.edge), grad: false });
    }
  }
  return { ...frame, nodes, edges, hidden: new Set(targets.map((t) => t.key)) };
}
