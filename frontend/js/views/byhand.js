/**
 * The "By hand" view: the chain rule from the output down to one variable,
 * as the lecture derives ds/db. Every path is written as a product of local
 * Jacobians in the program's names, then in closed form, then in numbers;
 * several paths are summed; δ, the local error signal where the paths to
 * several inputs part, is shown as computed once and reused; the answer is
 * given in the Jacobian form and in the shape convention side by side.
 *
 * It renders the body of POST /api/v1/by-hand and owns no state: which
 * variable and which path are shown come in, and picking another goes back
 * out as an intent. User text reaches the page through textContent or KaTeX.
 */

import { maths, node as el } from '../render/panel.js';
import { pathWords, shapesLatex, variablesOf } from '../derivation.js';

/** Light one path and mark the δ nodes on the graph: classes (styled in the CSS) and a δ above each δ node. */
export function lightGraph(svg, highlight, deltaNodes) {
  for (const e of svg.querySelectorAll('.on-path, .is-delta')) e.classList.remove('on-path', 'is-delta');
  for (const badge of svg.querySelectorAll('.delta-badge')) badge.remove();
  const mark = (attribute, id, cls) => {
    for (const e of svg.querySelectorAll(`[${attribute}="${CSS.escape(id)}"]`)) e.classList.add(cls);
  };
  for (const id of highlight.nodes) mark('data-node-id', id, 'on-path');
  for (const id of highlight.edges) mark('data-edge-id', id, 'on-path');
  for (const id of deltaNodes) {
    mark('data-node-id', id, 'is-delta');
    const g = svg.querySelector(`g[data-node-id="${CSS.escape(id)}"]`);
    const box = g && g.querySelector('.box');
    if (!box) continue;
    // The lecture's name for the gradient at this node, above its box.
    const badge = document.createElementNS('http://www.w3.org/2000/svg', 'text');
    badge.setAttribute('class', 'delta-badge');
    badge.setAttribute('x', String(Number(box.getAttribute('width')) / 2));
    badge.setAttribute('y', '-7');
    badge.textContent = 'δ';
    g.append(badge);
    // A node at the top of a fitted graph has no room above it: the δ goes inside its box's corner.
    if (badge.getBoundingClientRect().top < svg.getBoundingClientRect().top) {
      badge.setAttribute('x', '6');
      badge.setAttribute('y', '20');
      badge.style.textAnchor = 'start';
    }
  }
}

/** Clear everything the view put on the graph. */
export function unlightGraph(svg) {
  lightGraph(svg, { nodes: [], edges: [] }, []);
}

/**
 * Render the view into `container`.
 * view: {body (the by-hand response) | null, error | null, loading, of, path}
 * intents: {pick(name), path(k)}
 */
export function renderByHand(container, model, view, intents) {
  container.replaceChildren();
  const wrap = el('section', 'by-hand');
  wrap.setAttribute('aria-label', 'By hand');
  const out = model.nodeById.get(model.output);
  const outName = out ? out.display_name || 'f' : 'f';

  const picker = el('label', 'by-hand-pick');
  picker.append(el('span', null, `Derive ∂${outName}/∂ `));
  const select = el('select');
  select.setAttribute('aria-label', 'Variable to derive');
  for (const v of variablesOf(model)) {
    const option = el('option', null, v.name);
    option.value = v.name;
    if (v.name === view.of) option.selected = true;
    select.append(option);
  }
  select.addEventListener('change', () => intents.pick(select.value));
  picker.append(select);
  wrap.append(picker);

  if (view.error) {
    wrap.append(el('p', 'error', view.error.message));
    container.append(wrap);
    return;
  }
  if (!view.body) {
    wrap.append(el('p', 'note', view.loading ? 'Deriving…' : 'Pick a variable to see its derivation.'));
    container.append(wrap);
    return;
  }
  const d = view.body.derivations[0];
  const lines = el('div', 'by-hand-lines');
  // A line of matrices has nowhere to break but after its "=": it stays whole and scrolls instead.
  for (const line of d.latex) lines.append(line.includes('bmatrix') ? maths(`{${line}}`, 'maths by-hand-numbers') : maths(line));
  wrap.append(lines);

  renderPaths(wrap, model, d, view.path, intents);
  // Each local Jacobian's shape, [size of its output × size of its input], and the product's.
  wrap.append(el('h3', null, d.paths.length > 1 ? 'Shapes of this path\'s factors' : 'Shapes of the factors'));
  const shapes = el('div', 'by-hand-shapes');
  for (const piece of shapesLatex(d, view.path)) shapes.append(maths(piece));
  wrap.append(shapes);
  renderDeltas(wrap, view.body.shared.filter((s) => d.paths.some((p) => p.delta && p.delta.node === s.node)));
  renderForms(wrap, d);
  container.append(wrap);
}

function renderPaths(wrap, model, d, current, intents) {
  const count = typeof d.path_count === 'string' ? d.path_count : String(d.path_count);
  const head = el('h3', null, d.paths.length === 1 && count === '1'
    ? 'One path from the output'
    : `${count} paths from the output: gradients sum at outward branches`);
  wrap.append(head);
  const list = el('ol', 'by-hand-paths');
  d.paths.forEach((path, k) => {
    const item = el('li');
    const button = el('button', 'by-hand-path');
    button.type = 'button';
    button.setAttribute('aria-pressed', String(k === current));
    button.append(el('span', 'path-words', pathWords(model, path)));
    button.addEventListener('click', () => intents.path(k));
    button.addEventListener('keydown', (event) => {
      const step = { ArrowDown: 1, ArrowUp: -1 }[event.key];
      if (!step) return;
      event.preventDefault();
      event.stopPropagation();
      const next = Math.max(0, Math.min(d.paths.length - 1, k + step));
      intents.path(next);
    });
    item.append(button);
    if (k === current && d.paths.length > 1) {
      const detail = el('div', 'path-detail');
      detail.append(maths(path.latex.symbols), maths(`= ${path.latex.closed}`), maths(`= ${path.latex.numbers}`), maths(`= ${path.latex.product}`));
      item.append(detail);
    }
    list.append(item);
  });
  wrap.append(list);
  if (d.summary) wrap.append(el('p', 'note', d.summary));
}

function renderDeltas(wrap, shared) {
  for (const s of shared) {
    const box = el('div', 'by-hand-delta');
    box.append(el('h3', null, `δ: ${s.label}`));
    for (const line of s.latex) box.append(maths(line));
    box.append(el('p', 'note', `${s.note[0].toUpperCase()}${s.note.slice(1)}.`));
    wrap.append(box);
  }
}

function renderForms(wrap, d) {
  const forms = d.forms;
  wrap.append(el('h3', null, 'Two shapes of the same answer'));
  const row = el('div', 'by-hand-forms');
  for (const [title, form] of [['Jacobian form', forms.jacobian], ['Shape convention', forms.shape_convention]]) {
    const col = el('div', 'by-hand-form');
    col.append(el('h4', null, `${title} · ${form.shape.join(' × ') || 'a number'}`));
    col.append(maths(form.latex));
    col.append(el('p', 'note', form.note));
    row.append(col);
  }
  wrap.append(row);
  wrap.append(el('p', 'note', forms.explanation));
  if (forms.outer) {
    const box = el('div', 'by-hand-outer');
    box.append(el('h4', null, 'Why the transposes: an outer product'));
    for (const line of forms.outer.latex) box.append(maths(line));
    box.append(el('p', 'note', forms.outer.note));
    wrap.append(box);
  }
}
