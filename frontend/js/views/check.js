/**
 * The "Check" view: the numeric gradient check shown whole, as the lecture's
 * last slides do it. For each checked input element: h, f(x + h), f(x - h),
 * the central difference (f(x + h) - f(x - h)) / 2h, the gradient of the
 * backward pass, and the relative error; the tolerance each passed against;
 * and the lecture's caveats in this trace's numbers: it is approximate, it is
 * slow (two forward passes per element, and how many that was here, where
 * one backward pass gave every gradient), and a kink can fail it. Renders
 * the trace's `check` (POST /api/v1/trace with check: true); owns no state.
 */

import { formatNumber } from '../format.js';
import { node as el } from '../render/panel.js';
import { displayName } from '../steps.js';

/** Rows listed per input; the rest are counted in one line (a 64 x 64 matrix has 4,096). */
export const MAX_ROWS = 24;


function indexText(name, index) {
  return index && index.length ? `${name}[${index.join(', ')}]` : name;
}

/**
 * Render into `container`. `intents.run()` asks for a trace with the check
 * when the trace shown has none; `current` is the node of the step shown
 * (its input's rows are marked).
 */
export function renderCheck(container, model, ops, current, intents) {
  container.replaceChildren();
  const wrap = el('section', 'check-view');
  wrap.setAttribute('aria-label', 'Numeric check');
  wrap.append(el('h2', 'panel-head', 'Numeric check: central differences'));
  if (!model.check) {
    wrap.append(el('p', 'note', 'Each gradient of the backward pass is compared with (f(x + h) − f(x − h)) / 2h, the output nudged each way by a tiny h, one input element at a time.'));
    const run = el('button', 'primary check-run', 'Run the numeric check');
    run.type = 'button';
    run.addEventListener('click', () => intents.run());
    wrap.append(run);
    container.append(wrap);
    return;
  }
  const names = Object.keys(model.check);
  const elements = names.reduce((n, name) => n + (model.check[name].elements || []).length, 0);
  const passes = names.reduce((n, name) => n + (model.check[name].evaluations ?? 2 * (model.check[name].elements || []).length), 0);
  const failed = names.reduce((n, name) => n + (model.check[name].elements || []).filter((r) => !r.ok).length, 0);
  const verdict = el('p', `check-verdict ${failed ? 'is-failed' : 'is-ok'}`,
    failed ? `${failed} of ${elements} element${elements === 1 ? '' : 's'} ${failed === 1 ? 'disagrees' : 'disagree'} ✗` : `${elements === 1 ? 'The element agrees' : `All ${elements} elements agree`} ✓`);
  wrap.append(verdict);

  const caveats = el('ul', 'check-caveats');
  caveats.append(
    el('li', null, 'Approximate: a central difference is the slope of a chord, not of the tangent; its error shrinks with h² until rounding in f takes over.'),
    el('li', null, `Slow: two forward passes per input element, ${elements} element${elements === 1 ? '' : 's'} here, so ${passes} forward passes; the backward pass gave every gradient in one.`),
  );
  wrap.append(caveats);

  for (const name of names) {
    const c = model.check[name];
    const input = model.nodes.find((n) => n.kind === 'input' && n.name === name);
    const section = el('section', `check-input${input && current && input.id === current.id ? ' is-current' : ''}`);
    section.append(el('h3', null, `${name}: passes when |backward − difference| ≤ tolerance = ${formatNumber(c.tolerance, 3)}`));
    const rows = c.elements || [];
    // One card per element: every number of the check, in a column that fits a side panel.
    const cards = el('div', 'check-cards');
    for (const r of rows.slice(0, MAX_ROWS)) cards.append(elementCard(name, r));
    section.append(cards);
    if (rows.length > MAX_ROWS) section.append(el('p', 'note', `and ${rows.length - MAX_ROWS} more elements, ${rows.slice(MAX_ROWS).filter((r) => !r.ok).length} of them failed`));
    wrap.append(section);
  }
  const skipped = model.nodes.filter((n) => n.kind === 'input' && n.constant && n.name && !model.check[n.name]);
  for (const n of skipped) wrap.append(el('p', 'note', `${displayName(n)} is a constant: it needs no gradient, so it is not checked.`));

  wrap.append(kinkNote(model, ops));
  container.append(wrap);
}

/** One element's check: its x and h, f on either side, their central difference, the backward pass's gradient, the error. */
function elementCard(name, r) {
  const card = el('table', `check-card ${r.ok ? 'is-ok' : 'is-failed'}`);
  const caption = el('caption', null, `${indexText(name, r.index)} = ${formatNumber(r.x, 6)} ${r.ok ? '✓' : '✗'}`);
  card.append(caption);
  const rows = [
    ['h', formatNumber(r.h, 3)],
    ['f(x + h)', formatNumber(r.f_plus, 12)],
    ['f(x − h)', formatNumber(r.f_minus, 12)],
    ['difference / 2h', formatNumber(r.numeric, 10)],
    ['backward pass', formatNumber(r.analytic, 10)],
    ['relative error', formatNumber(r.relative_error, 2)],
  ];
  const body = el('tbody');
  for (const [label, value] of rows) {
    const tr = el('tr');
    tr.append(el('th', null, label), el('td', null, value));
    body.append(tr);
  }
  card.append(body);
  return card;
}

/** Why a kink can fail the check: in general, then for this trace's ops with a kink and their conventions. */
function kinkNote(model, ops) {
  const box = el('div', 'check-kink');
  box.append(el('h3', null, 'Why a kink can fail it'));
  box.append(el('p', null, 'At a kink (relu, abs or max at a tie) the two nudged points straddle two slopes, so the difference reads their average: relu at 0 gives (h − 0) / 2h = 0.5, while the backward pass takes one side by convention. Both are right about a different thing; the check reports the difference.'));
  const seen = new Set();
  for (const n of model.nodes) {
    const op = n.op && ops ? ops.get(n.op) : null;
    if (!op || !op.has_kink || !op.convention || seen.has(op.name)) continue;
    seen.add(op.name);
    box.append(el('p', 'note', `Here: ${op.convention}.`));
  }
  return box;
}
