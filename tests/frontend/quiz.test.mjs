import test from 'node:test';
import assert from 'node:assert/strict';
import { checkPrediction, emptyScore, hideTargets, quizTargets, scoreText, scored } from '../../frontend/js/quiz.js';
import { frameAt, prepareTrace } from '../../frontend/js/steps.js';
import { fixture } from './helpers.mjs';

const lecture = () => prepareTrace(fixture('lecture_scalar'));

test('a forward step asks for its node\'s value; inputs ask nothing', () => {
  const model = lecture();
  assert.deepEqual(quizTargets(model, 0), []);
  const [target] = quizTargets(model, 2); // x + y
  assert.deepEqual([target.kind, target.node, target.answer], ['value', 'n2', 3]);
});

test('a backward step asks for the downstream gradient of each input wire', () => {
  const model = lecture();
  const targets = quizTargets(model, 7); // max(y, z): routes the 3 to y, 0 to z
  assert.deepEqual(targets.map((t) => [t.edge, t.answer]), [['e2', 3], ['e3', 0]]);
  // z is given data on this slide: its gradient is not asked.
  assert.deepEqual(quizTargets(model, 7, { constants: ['z'] }).map((t) => t.edge), ['e2']);
  assert.deepEqual(quizTargets(model, 10), []); // y's own step computes nothing new
});

test('predictions are checked with a tolerance, and must have the answer\'s shape', () => {
  assert.deepEqual(checkPrediction('3', 3), { ok: true, right: true });
  assert.equal(checkPrediction('3.02', 3).right, true);
  assert.equal(checkPrediction('3.1', 3).right, false);
  assert.equal(checkPrediction('0.004', 0).right, true);
  assert.equal(checkPrediction('-3', 3).right, false);
  assert.equal(checkPrediction('[0.5, -1]', [0.5, -1]).right, true);
  assert.equal(checkPrediction('[0.5, 1]', [0.5, -1]).right, false);
  assert.equal(checkPrediction('0.5', [0.5, -1]).right, false);
  assert.equal(checkPrediction('nan', NaN).right, true);
  assert.equal(checkPrediction('inf', Infinity).right, true);
  assert.equal(checkPrediction('three', 3).ok, false);
});

test('the score counts each target\'s first checked prediction only', () => {
  let score = emptyScore();
  score = scored(score, 'a', false);
  score = scored(score, 'a', true);
  score = scored(score, 'b', true);
  assert.equal(scoreText(score), '1 of 2 right');
});

test('until Reveal, the predicted value and gradients are not in the frame', () => {
  const model = lecture();
  const forwardFrame = hideTargets(model, frameAt(model, 2), quizTargets(model, 2));
  assert.equal(forwardFrame.nodes.get('n2').value, false);
  assert.equal(forwardFrame.edges.get('e4').value, false); // x + y's wire to *
  assert.equal(forwardFrame.nodes.get('n1').value, true);
  const backwardFrame = hideTargets(model, frameAt(model, 7), quizTargets(model, 7));
  assert.equal(frameAt(model, 7).edges.get('e2').grad, true);
  assert.equal(backwardFrame.edges.get('e2').grad, false);
  assert.equal(backwardFrame.edges.get('e3').grad, false);
  assert.equal(backwardFrame.nodes.get('n4').grad, true); // the upstream is known
  const noTargets = frameAt(model, 0);
  assert.equal(hideTargets(model, noTargets, []), noTargets);
});
