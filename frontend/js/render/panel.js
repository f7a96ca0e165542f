/**
 * The panel for the current step, set with KaTeX: the forward equation with
 * numbers; in the backward pass, per input edge, [downstream] = [upstream] x
 * [local] with the local gradient's formula and value; the node's
 * intuition; the sum at an outward branch; tensors as tables; warnings and
 * the numeric check. User text goes through textContent or KaTeX only.
 */

import katex from '/vendor/katex/katex.mjs';
import { definitionLatex, edgeChainLatex, forwardLatex, localLatex, sumLatex } from '../maths.js';
import { formatNumber, formatOperand, formatValue, isDiagonal, jacobianRows, shapeOf, shapeText } from '../format.js';
import { displayName, frameAt, gradientSources, isSubexpression } from '../steps.js';
import { jacobianFormTable, matrixTable, valueTable } from './tensor.js';
import { idleSlot } from '../idle.js';

export function node(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function maths(latex, className = 'maths') {
  const div = node('div', className);
  // Inline mode with \displaystyle: full-size fractions, and long equations
  // may break after = and + instead of running off the panel.
  katex.render(`\\displaystyle ${latex}`, div, { throwOnError: false, trust: false, displayMode: false, output: 'htmlAndMathml' });
  return div;
}

function isTensor(v) {
  return shapeOf(v).length > 0;
}

const MAX_SOURCES = 6;

/** A node as the factor of a derivative, ∂f/∂(x + y): its display name, a subexpression's in parentheses. */
function symbolText(model, n) {
  const name = displayName(n);
  return isSubexpression(model, n) ? `(${name})` : name;
}

/**
 * Where a node's gradient comes from, in words: each consumer with the
 * share it sends back (upstream x local = downstream), and for max or min
 * which input the gradient was routed to.
 */
function renderSources(container, model, current, ops) {
  const sources = gradientSources(model, current.id, ops);
  if (!sources.length) return;
  const out = symbolText(model, model.nodeById.get(model.output));
  const wrap = node('div', 'sources');
  const lead = sources.length > 1
    ? `∂${out}/∂${symbolText(model, current)} comes from its ${sources.length} consumers, summed:`
    : `∂${out}/∂${symbolText(model, current)} comes from one consumer:`;
  wrap.appendChild(node('p', 'sources-lead', lead));
  const list = node('ul', 'source-list');
  // A value used all over a long program: the first few consumers, then a count.
  const shown = sources.length > MAX_SOURCES ? sources.slice(0, MAX_SOURCES - 1) : sources;
  for (const src of shown) {
    const li = node('li', 'source');
    li.dataset.edgeId = src.edge.id;
    li.appendChild(node('strong', '', `from ${displayName(src.consumer)}`));
    const scalar = !isTensor(src.edge.downstream) && !isTensor(src.edge.upstream) && src.edge.local !== null && !isTensor(src.edge.local);
    const numbers = scalar
      ? `upstream ${formatOperand(src.edge.upstream)} × local ${formatOperand(src.edge.local)} = ${formatNumber(src.edge.downstream)}`
      : `downstream ${formatValue(src.edge.downstream)}`;
    li.appendChild(document.createTextNode(` (its argument ${src.argument}): ${numbers}`));
    const why = sourceReason(model, src, ops);
    if (why) li.appendChild(node('span', 'source-why', ` (${why})`));
    list.appendChild(li);
  }
  if (shown.length < sources.length) list.appendChild(node('li', 'source more', `and ${sources.length - shown.length} more`));
  wrap.appendChild(list);
  container.appendChild(wrap);
}

function sourceReason(model, src, ops) {
  const label = src.consumer.label;
  if (src.routing) {
    const rule = `${label} routes the gradient to the ${src.routing} input`;
    if (!src.routedTo) return `${rule}; here the inputs tie, and it is split between them`;
    return `${rule}: here ${displayName(model.nodeById.get(src.routedTo.source))}`;
  }
  const info = src.consumer.op && ops ? ops.get(src.consumer.op) : null;
  // The registry's rule in a few words ("* switches").
  return (info && info.short_intuition) || '';
}

/** Render the panel for `frame`; `options.jacobianForm` switches the gradient's form. */
export function renderPanel(container, model, frame, ops, options = {}) {
  while (container.firstChild) container.removeChild(container.firstChild);
  const step = frame.step;
  if (!step) return;
  const current = model.nodeById.get(step.node);
  const phaseName = step.phase === 'forward' ? 'Forward pass' : 'Backward pass';
  const head = node('h2', `panel-head phase-${step.phase}`, phaseName);
  // The step's number is also under the graph: presenting hides this copy to keep the heading on one line.
  head.appendChild(node('span', 'head-step', ` · step ${step.index + 1} of ${model.steps.length}`));
  container.appendChild(head);

  if (step.phase === 'forward') {
    container.appendChild(maths(forwardLatex(model, current, ops)));
    const definition = definitionLatex(ops, current);
    // Only definitions that say more than the equation itself (the sigmoid, matmul's indices).
    if (definition && definition.includes('=')) container.appendChild(maths(definition, 'maths definition'));
    if (isTensor(current.value)) container.appendChild(valueTable(current.value, symbolText(model, current), current.shape));
    appendIntuition(container, current, ops);
  } else {
    renderBackward(container, model, current, ops, options);
  }
  for (const w of model.warningsByNode.get(current.id) || []) {
    const p = node('p', 'warning');
    p.appendChild(node('strong', '', `⚠ ${w.kind.replace(/_/g, ' ')}: `));
    p.appendChild(document.createTextNode(w.message));
    container.appendChild(p);
  }
}

/** What the op does with gradients, in words, from the op registry. */
function appendIntuition(container, current, ops) {
  const info = current.op && ops ? ops.get(current.op) : null;
  if (!info || !info.intuition) return;
  const p = node('p', 'intuition');
  // "max routes: ..." names its op already; "an elementwise function: ..." gets the name in front.
  if (!info.intuition.startsWith(`${current.label} `)) p.appendChild(node('strong', '', `${current.label}: `));
  p.appendChild(document.createTextNode(info.intuition));
  container.appendChild(p);
}

function renderBackward(container, model, current, ops, options) {
  const outs = model.outEdges.get(current.id) || [];
  if (current.constant) {
    // Data, not a parameter: the step says so and computes nothing (the trace still carries its grad).
    container.appendChild(node('p', 'note constant', `${symbolText(model, current)} is a constant, and a constant needs no gradient: none is computed or drawn for it.`));
    return;
  }
  container.appendChild(maths(sumLatex(model, current)));
  if (current.id === model.output) {
    container.appendChild(node('p', 'note', 'The backward pass starts here: the output\'s gradient with respect to itself is 1.'));
  } else if (outs.length > 1) {
    const name = symbolText(model, current);
    container.appendChild(node('p', 'note branch', `${name} feeds ${outs.length} nodes: gradients sum at outward branches.`));
  }
  renderSources(container, model, current, ops);
  if (isTensor(current.grad)) container.appendChild(gradientTable(current.grad, `∂${symbolText(model, model.nodeById.get(model.output))}/∂${symbolText(model, current)}`, current.shape, options));
  if (model.check && current.kind === 'input' && current.name && model.check[current.name]) {
    const c = model.check[current.name];
    const p = node('p', `check ${c.ok ? 'is-ok' : 'is-failed'}`);
    p.textContent = `Numeric check (central differences): ${formatValue(c.numeric)}, largest error ${formatNumber(c.max_abs_error)}: ${c.ok ? 'agrees ✓' : 'DISAGREES ✗'}`;
    container.appendChild(p);
  }

  // The op's rule in words before its edges' numbers: on a projector the
  // panel's first screen carries it, without scrolling.
  appendIntuition(container, current, ops);
  const ins = model.inEdges.get(current.id) || [];
  for (const edge of ins) {
    const src = model.nodeById.get(edge.source);
    const section = node('section', 'edge-step');
    section.dataset.edgeId = edge.id;
    if (src.constant) {
      section.appendChild(node('h3', '', `To ${displayName(src)} (argument ${edge.index + 1})`));
      section.appendChild(node('p', 'note constant', `${displayName(src)} is a constant: no gradient to send it.`));
      container.appendChild(section);
      continue;
    }
    const shared = (model.outEdges.get(src.id) || []).length > 1;
    // The heading reads "To W @ x (argument 1)": the equations below keep the brackets.
    section.appendChild(node('h3', '', `To ${displayName(src)} (argument ${edge.index + 1})${shared ? ': one share of its gradient' : ''}`));
    const chain = edgeChainLatex(model, edge);
    section.appendChild(maths(chain.symbolic));
    section.appendChild(maths(localLatex(model, edge, ops), 'maths local'));
    if (chain.numeric) {
      section.appendChild(maths(chain.numeric, 'maths numbers'));
    } else {
      const tables = node('div', 'tables');
      tables.appendChild(tensorOrNumber(edge.upstream, 'upstream', options));
      if (edge.local !== null && isTensor(edge.local)) {
        const rows = jacobianRows(edge.local, edge.local_shape, model.nodeById.get(edge.target).shape);
        const diagonal = isDiagonal(rows);
        tables.appendChild(matrixTable(rows, `local Jacobian (${shapeText(edge.local_shape)})${diagonal ? ': diagonal' : ''}`, { diagonal }));
      } else if (edge.local === null) {
        tables.appendChild(node('p', 'note', `local Jacobian ${shapeText(edge.local_shape)}: too large to send`));
      } else {
        tables.appendChild(node('p', 'note', `local = ${formatNumber(edge.local)}`));
      }
      tables.appendChild(isTensor(edge.downstream)
        ? gradientTable(edge.downstream, 'downstream', src.shape, options)
        : node('p', 'note', `downstream = ${formatNumber(edge.downstream)}`));
      section.appendChild(tables);
    }
    container.appendChild(section);
  }
}

function gradientTable(value, label, shape, options) {
  return options.jacobianForm ? jacobianFormTable(value, label, shape) : valueTable(value, label, shape);
}

function tensorOrNumber(value, label, options) {
  if (isTensor(value)) return gradientTable(value, label, shapeOf(value), options);
  return node('p', 'note', `${label} = ${formatNumber(value)}`);
}

/**
 * The panels already set, kept per step so stepping back and forth moves
 * them in and out instead of setting their equations again (KaTeX is most
 * of a step's cost). A panel depends on the trace, the op registry (the
 * intuitions) and the gradient's form, so a change of any of them starts
 * afresh. The oldest panels are dropped past `limit`.
 */
export class PanelCache {
  constructor(limit = 400) {
    this.limit = limit;
    this.entries = new Map();
    this.model = null;
    this.ops = null;
    this.prefetching = idleSlot();
  }

  key(model, frame, ops, options) {
    if (model !== this.model || ops !== this.ops) {
      this.entries.clear();
      this.model = model;
      this.ops = ops;
    }
    return `${frame.index}:${options.jacobianForm ? 'jacobian' : 'shape'}`;
  }

  /** The panel's elements for this frame, set now if they are not kept yet. */
  build(model, frame, ops, options = {}) {
    const key = this.key(model, frame, ops, options);
    let nodes = this.entries.get(key);
    if (nodes) {
      // Most recently used last: the oldest go first.
      this.entries.delete(key);
    } else {
      const scratch = document.createElement('div');
      renderPanel(scratch, model, frame, ops, options);
      nodes = [...scratch.childNodes];
    }
    this.entries.set(key, nodes);
    while (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value);
    return nodes;
  }

  /** Show the panel for `frame` in `container`. */
  show(container, model, frame, ops, options = {}) {
    container.replaceChildren(...this.build(model, frame, ops, options));
  }

  /**
   * While the reader looks at step `index`, set the panels of the steps
   * either side in idle time, so the next key only moves them in.
   */
  prefetch(model, index, ops, options = {}) {
    const wanted = [index + 1, index - 1].filter((i) => i >= 0 && i < model.steps.length);
    const next = () => {
      const i = wanted.shift();
      if (i === undefined) return;
      const frame = frameAt(model, i);
      if (!this.entries.has(this.key(model, frame, ops, options))) this.build(model, frame, ops, options);
      this.prefetching.run(next);
    };
    this.prefetching.run(next);
  }
}
