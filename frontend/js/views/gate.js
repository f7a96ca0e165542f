/**
 * The "Gate" view: the current node's op as the lecture's gate, its
 * forward() and backward() in Python, from the op registry (the text the
 * tests run against the engine), with this node's numbers set under the
 * lines they belong to: the arguments under forward, dz under backward, and
 * under each downstream line "dz = 1, self.y = 3, so dx = 3". The method of
 * the phase being stepped is marked. Owns no state; user text (names) goes
 * through textContent only.
 */

import { formatValue } from '../format.js';
import { gateNumbers } from '../gate.js';
import { displayName } from '../steps.js';
import { node as el } from '../render/panel.js';

/** Render the gate of `current` (a node of `model`) into `container`; `phase` is the step's. */
export function renderGate(container, model, current, ops, phase) {
  container.replaceChildren();
  const wrap = el('section', 'gate-view');
  wrap.setAttribute('aria-label', 'Gate');
  const op = current && current.op && ops ? ops.get(current.op) : null;
  const numbers = current && op ? gateNumbers(model, current, op) : null;
  if (!numbers) {
    const what = !current ? 'Step to a node' : current.constant
      ? `${displayName(current)} is a constant: data, with no gate and no gradient to compute`
      : `${displayName(current)} is an input: it has no gate. Step to an operation to see its gate`;
    wrap.append(el('h2', 'panel-head', 'Gate'), el('p', 'note', `${what}.`));
    container.append(wrap);
    return;
  }
  // "MultiplyGate: f = *" for a node the program names, "MatMulGate: W @ x" for one it does not.
  const title = current.name ? `${displayName(current)} = ${current.label}` : displayName(current);
  const head = el('h2', 'panel-head', `${numbers.name}: ${title}`);
  wrap.append(head);
  wrap.append(el('p', 'note gate-lead', 'Each node is a gate: forward() computes its output and keeps what backward() will need; backward() turns the upstream gradient dz into one downstream gradient per input, [upstream] × [local].'));

  // The numbers under each line of the gate: forward's arguments, its output, backward's dz and each gradient.
  const notes = new Map();
  const add = (row, text) => {
    if (row >= 0) notes.set(row, notes.has(row) ? `${notes.get(row)}; ${text}` : text);
  };
  const rowOf = (pattern) => numbers.lines.findIndex((line) => pattern.test(line));
  add(rowOf(/def forward\(/), numbers.forward.map((a) => `${a.name} = ${formatValue(a.value)}${a.source !== a.name ? ` (${a.source})` : ''}`).join(', '));
  add(rowOf(/^\s*return z\b/), `z = ${formatValue(numbers.output)}`);
  add(rowOf(/def backward\(/), `dz = ${formatValue(numbers.upstream)} (the upstream gradient, ∂out/∂z)`);
  for (const g of numbers.gradients) add(g.row, g.text);

  const code = el('div', 'gate-code');
  code.setAttribute('role', 'group');
  code.setAttribute('aria-label', `${numbers.name} in Python, with this node's numbers`);
  let method = null;
  numbers.lines.forEach((line, row) => {
    if (!line.trim() && (row === 0 || row === numbers.lines.length - 1)) return;
    if (/def forward\(/.test(line)) method = 'forward';
    if (/def backward\(/.test(line)) method = 'backward';
    // The indent as a margin, so a long line wraps under its own start on a narrow panel.
    const indent = line.length - line.trimStart().length;
    const div = el('div', `gate-line${method ? ` in-${method}` : ''}${method && method === phase ? ' is-phase' : ''}`, line.trim() || ' ');
    div.style.paddingLeft = `${indent}ch`;
    code.append(div);
    if (notes.has(row)) {
      const note = el('div', `gate-note${method === phase ? ' is-phase' : ''}`, `→ ${notes.get(row)}`);
      note.style.paddingLeft = `${indent}ch`;
      code.append(note);
    }
  });
  wrap.append(code);
  wrap.append(el('p', 'note', phase === 'backward'
    ? 'This step runs backward(): the marked lines, with this node\'s numbers.'
    : 'This step runs forward(): the marked lines; backward() runs in the backward pass, with the numbers shown.'));
  container.append(wrap);
}
