/**
 * The quiz view, "predict, then reveal": for the step shown, a box per value
 * or gradient the step computes, Check to mark each prediction right or
 * wrong, Reveal to show the answers, and the score. Renders from the state
 * and the step's targets (quiz.js); what is typed goes back as intents.
 */

import { formatValue } from '../format.js';
import { scoreText } from '../quiz.js';

export class QuizView {
  /**
   * `intents.type(key, text)` as a box changes, `intents.check()` on Check or
   * Enter in a box, `intents.reveal()` on Reveal.
   */
  constructor(root, intents) {
    this.root = root;
    this.intents = intents;
    const doc = root.ownerDocument;
    this.form = doc.createElement('form');
    this.form.className = 'quiz-form';
    this.form.noValidate = true;
    this.heading = doc.createElement('h3');
    this.heading.className = 'quiz-heading';
    this.list = doc.createElement('ol');
    this.list.className = 'quiz-items';
    const buttons = doc.createElement('div');
    buttons.className = 'quiz-buttons';
    this.checkButton = doc.createElement('button');
    this.checkButton.type = 'submit';
    this.checkButton.textContent = 'Check';
    this.revealButton = doc.createElement('button');
    this.revealButton.type = 'button';
    this.revealButton.textContent = 'Reveal';
    this.score = doc.createElement('p');
    this.score.className = 'quiz-score';
    this.score.setAttribute('aria-live', 'polite');
    buttons.append(this.checkButton, this.revealButton);
    this.form.append(this.heading, this.list, buttons);
    root.append(this.form, this.score);
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      intents.check();
    });
    this.revealButton.addEventListener('click', () => intents.reveal());
    this.rows = new Map();
    this.shownStep = null;
  }

  /**
   * Show the quiz of `step` (its `targets`), with `answers` (the step's
   * {texts, results, revealed}) and the `score`; hidden when `on` is false.
   */
  render({ on, step, phase, targets, answers, score }) {
    this.root.hidden = !on;
    if (!on) return;
    const doc = this.root.ownerDocument;
    this.score.textContent = score.asked ? `Score: ${scoreText(score)}` : 'Score: nothing asked yet';
    this.form.hidden = !targets.length;
    if (!targets.length) return;
    const revealed = answers.revealed;
    this.heading.textContent = revealed
      ? 'The answers'
      : phase === 'forward'
        ? 'Predict the value this step computes'
        : 'Predict the gradients this step sends back';
    if (this.shownStep !== step) {
      this.list.replaceChildren();
      this.rows.clear();
      for (const target of targets) {
        const li = doc.createElement('li');
        li.className = 'quiz-item';
        li.dataset.key = target.key;
        const label = doc.createElement('label');
        const id = `quiz-${target.key.replace(/[^A-Za-z0-9]/g, '-')}`;
        label.htmlFor = id;
        label.textContent = target.label;
        const input = doc.createElement('input');
        input.id = id;
        input.type = 'text';
        input.autocomplete = 'off';
        input.spellcheck = false;
        input.addEventListener('input', () => this.intents.type(target.key, input.value));
        const mark = doc.createElement('span');
        mark.className = 'quiz-mark';
        const answer = doc.createElement('span');
        answer.className = 'quiz-answer';
        li.append(label, input, mark, answer);
        this.list.appendChild(li);
        this.rows.set(target.key, { li, input, mark, answer });
      }
      this.shownStep = step;
    }
    for (const target of targets) {
      const row = this.rows.get(target.key);
      const text = answers.texts[target.key] ?? '';
      if (row.input.value !== text && doc.activeElement !== row.input) row.input.value = text;
      const result = answers.results[target.key];
      row.li.classList.toggle('is-right', Boolean(result && result.right));
      row.li.classList.toggle('is-wrong', Boolean(result && result.ok && !result.right));
      // Right and wrong in words as well as colour.
      row.mark.textContent = !result ? '' : !result.ok ? result.error : result.right ? '✓ right' : `✗ wrong${result.reason ? `: ${result.reason}` : ''}`;
      row.answer.textContent = revealed ? `= ${formatValue(target.answer)}` : '';
      row.input.readOnly = revealed;
    }
    this.checkButton.disabled = revealed;
    this.revealButton.disabled = revealed;
  }
}
