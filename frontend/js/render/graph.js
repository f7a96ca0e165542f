/**
 * The graph as SVG: one group per node (data-node-id) and per wire
 * (data-edge-id), placed once from the layout; stepping changes classes
 * (and makes a text the first time a step shows it), so nothing moves.
 * Values sit above each wire and gradients below it, as in the lecture's
 * picture. Zoom and fit set the viewBox, panning translates the drawing.
 * Text reaches the SVG only through textContent.
 */

import { cancelIdle, idle } from '../idle.js';
import { SIZES } from '../layout.js';
import { formatValue } from '../format.js';
import { displayName, staleParts } from '../steps.js';

const SVG = 'http://www.w3.org/2000/svg';
const TOP_INSET = 44;
// Nodes and wires changed per frame when a jump's changes are applied a slice
// at a time: small, because a frame's paint grows with what changed in it
// (bench/findings.md has the figures).
const SETTLE_SLICE = 40;

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

let protos = null;
/**
 * The parts every node and wire has, built once and cloned per node and
 * wire: a clone is one call into the browser, building is a call per
 * element and attribute.
 */
function prototypes() {
  if (protos) return protos;
  // A node is a button for the keyboard too: Tab reaches it, Enter or Space
  // does what a click does (see installNodeKeys).
  const node = el('g', { class: 'node', tabindex: 0, role: 'button' });
  el('title', {}, node);
  el('rect', { class: 'box', rx: 8, ry: 8 }, node);
  const edge = el('g', { class: 'edge' });
  el('path', { class: 'wire', 'marker-end': 'url(#arrow)' }, edge);
  protos = { node, edge, labels: el('g', { class: 'edge-label' }) };
  return protos;
}

/** Write a text only when it differs; says whether it did. */
function setText(node, text) {
  if (node.textContent === text) return false;
  node.textContent = text;
  return true;
}

function pathThrough(points) {
  if (points.length === 0) return '';
  let d = `M${points[0].x},${points[0].y}`;
  if (points.length === 2) return `${d} L${points[1].x},${points[1].y}`;
  for (let i = 1; i < points.length - 1; i += 1) {
    const p = points[i];
    const q = points[i + 1];
    const mx = i === points.length - 2 ? q.x : (p.x + q.x) / 2;
    const my = i === points.length - 2 ? q.y : (p.y + q.y) / 2;
    d += ` Q${p.x},${p.y} ${mx},${my}`;
  }
  return d;
}

/**
 * A text measure that fits boxes to the real font: each kind's font (size,
 * weight, slant, family) is read once from a hidden SVG text styled as the
 * drawing styles it, then every width comes from one canvas `measureText`
 * in that font, cached per text and font. Measuring SVG texts instead makes
 * the browser lay each one out; a canvas measure lays nothing out. `measure.prime(items)` reads the fonts of all
 * the kinds it has not seen in one style pass and fills the cache.
 */
export function domMeasure(svg) {
  const cache = new Map();
  const fonts = new Map();
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d');
  // Reading back ctx.font gives it normalised: keep what was set instead.
  let ctxFont = null;
  // The kinds' fonts, read from probes in the SVG so the CSS stays the one
  // place that says how each kind is drawn (and measured: see .measure.t-*).
  const readFonts = (kinds) => {
    const wanted = [...new Set(kinds)].filter((kind) => !fonts.has(kind));
    if (!wanted.length) return;
    const group = el('g', { class: 'measure' });
    const probes = wanted.map((kind) => [kind, el('text', { class: `measure t-${kind}`, x: -9999, y: -9999 }, group)]);
    svg.appendChild(group);
    for (const [kind, probe] of probes) {
      const s = window.getComputedStyle(probe);
      // A canvas knows neither text-transform nor (everywhere) letter-spacing:
      // both are applied here, as the SVG applies them (the column heads).
      const spacing = parseFloat(s.letterSpacing);
      fonts.set(kind, {
        font: `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`,
        upper: s.textTransform === 'uppercase',
        spacing: Number.isFinite(spacing) ? spacing : 0,
      });
    }
    group.remove();
  };
  // An SVG text collapses its white space as HTML does: measure what is drawn.
  const drawn = (text) => String(text).replace(/[\t\n\r ]+/g, ' ').trim();
  const measure = (text, kind) => {
    if (!fonts.has(kind)) readFonts([kind]);
    const { font, upper, spacing } = fonts.get(kind);
    const key = `${kind}\u0000${text}`;
    let w = cache.get(key);
    if (w === undefined) {
      if (ctxFont !== font) {
        ctx.font = font;
        ctxFont = font;
      }
      const shown = upper ? drawn(text).toUpperCase() : drawn(text);
      w = ctx.measureText(shown).width + spacing * [...shown].length;
      cache.set(key, w);
    }
    return w;
  };
  measure.prime = (items) => {
    readFonts(items.map(([, kind]) => kind));
    for (const [text, kind] of items) measure(text, kind);
  };
  return measure;
}

/**
 * What a node says to a screen reader and in its tooltip at this step:
 * "y = 2, gradient 5", "max(y, z) = 2", or "h, not computed yet".
 */
export function nodeDescription(title, node, state) {
  const known = state.value && !(node.kind === 'constant' && title === formatValue(node.value));
  const parts = [state.value ? (known ? `${title} = ${formatValue(node.value)}` : title) : `${title}, not computed yet`];
  if (state.grad) parts.push(`gradient ${formatValue(node.grad)}`);
  if (state.current) parts.push('current step');
  return parts.join(', ');
}

export class GraphView {
  /** `state` is the page's state (see state.js): presenting sets how far the view zooms. */
  constructor(svg, state, { onNodeClick } = {}) {
    this.svg = svg;
    this.state = state;
    this.onNodeClick = onNodeClick || (() => {});
    this.view = { x: 0, y: 0, w: 100, h: 100 };
    this.bounds = { width: 100, height: 100 };
    this.nodeEls = new Map();
    this.edgeEls = new Map();
    this.shown = { nodes: new Map(), edges: new Map() };
    this.settleHandle = null;
    this.installPanZoom();
    this.installNodeKeys();
    // The editor above can grow (more value boxes, an error): refit to the new size.
    if (typeof ResizeObserver !== 'undefined') {
      new ResizeObserver(() => {
        if (this.model) this.fit(false);
      }).observe(svg);
    }
  }

  /** The largest zoom a fit takes: a small graph is not blown up past readable. */
  get maxScale() {
    return this.state.presenting ? 3 : 2;
  }

  /**
   * The smallest zoom a fit takes before it follows the current node
   * instead: below it a node's type is too small to read on a laptop, and
   * presenting keeps type a hall can read.
   */
  get minAutoScale() {
    if (!this.state.presenting) return 0.5;
    // A hall reads what a laptop's 16 px value type is at 1280 px wide, and
    // grows with the screen as the presented type does (the CSS's --p).
    const grow = Math.min(1.6, Math.max(1, window.innerWidth / 1280));
    return 0.9 * grow;
  }

  /**
   * Empty the drawing ahead of a new one. Done before the page measures what
   * the new drawing needs: a resize of the SVG (the status line's height
   * changes with the trace) then lays out nothing of the old drawing.
   */
  clear() {
    // Drawing again (presenting changes the spacing) keeps the keyboard's place.
    if (document.activeElement && this.svg.contains(document.activeElement)) {
      this.refocus = document.activeElement.getAttribute('data-node-id');
    }
    if (this.fillHandle) cancelIdle(this.fillHandle);
    this.fillHandle = null;
    this.fillQueue = null;
    while (this.svg.firstChild) this.svg.removeChild(this.svg.firstChild);
  }

  /**
   * Clear and draw a laid-out trace. The drawing is built apart from the
   * page and attached once, from prototypes cloned per node and wire. Only
   * the texts shown from the first step on (the nodes' titles) are made
   * now: a value, gradient or check text is made when a step first shows
   * it, and the rest in idle time after the first paint (see fillTexts), so
   * the first frame styles and lays out only the texts it shows and
   * stepping later only changes classes.
   */
  draw(model, layout) {
    // The drawing's size does not depend on what is drawn in it: read it
    // before writing, so the draw costs one layout, not a forced one more.
    const size = this.size();
    this.clear();
    const focused = this.refocus || null;
    this.refocus = null;
    this.model = model;
    this.layout = layout;
    const defs = el('defs');
    // A fixed size in user units: a thick current wire keeps a normal arrowhead.
    const marker = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 12, markerHeight: 12, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' }, defs);
    el('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }, marker);
    this.root = el('g', { class: 'viewport' });
    const edgeLayer = el('g', { class: 'edges' }, this.root);
    const labelLayer = el('g', { class: 'edge-labels' }, this.root);
    const nodeLayer = el('g', { class: 'nodes' }, this.root);
    this.nodeEls.clear();
    this.edgeEls.clear();
    // Nothing of a frame is shown yet: the next update sets every node and wire.
    this.shown = { nodes: new Map(), edges: new Map() };
    this.frame = null;
    this.later = null;
    const proto = prototypes();

    for (const edge of model.edges) {
      const box = layout.edges.get(edge.id);
      const g = proto.edge.cloneNode(true);
      g.setAttribute('data-edge-id', edge.id);
      g.firstChild.setAttribute('d', pathThrough(box.points));
      edgeLayer.appendChild(g);
      const labels = proto.labels.cloneNode(false);
      labels.setAttribute('data-edge-id', edge.id);
      labelLayer.appendChild(labels);
      this.edgeEls.set(edge.id, { g, labels, value: null, grad: null, box });
    }

    for (const node of model.nodes) {
      const box = layout.nodes.get(node.id);
      const g = proto.node.cloneNode(true);
      g.setAttribute('class', `node kind-${node.kind}`);
      g.setAttribute('data-node-id', node.id);
      g.setAttribute('transform', `translate(${box.x - box.width / 2},${box.y - box.height / 2})`);
      const title = g.firstChild;
      const rect = title.nextSibling;
      rect.setAttribute('width', box.width);
      rect.setAttribute('height', box.height);
      const v = { g, title, box, lines: box.lines, texts: new Array(box.lines.length).fill(null), made: new Set(), end: null, titleText: '' };
      const titleLine = box.lines.find((line) => line.part === 'title');
      v.titleText = titleLine ? titleLine.text : '';
      const warnings = model.warningsByNode.get(node.id) || [];
      if (warnings.length) {
        g.classList.add('warned');
        const nonFinite = warnings.some((w) => /finite|nan|inf/i.test(w.kind));
        if (nonFinite) g.classList.add('nonfinite');
        const badge = el('g', { class: 'badge', transform: `translate(${box.width - 10},-4)` }, g);
        const badgeTitle = el('title', {}, badge);
        badgeTitle.textContent = warnings.map((w) => w.message).join('\n');
        // The badge names the kind in words (tie, kink, ∞), not by colour alone.
        const kind = nonFinite ? '∞' : String(warnings[0].kind).replace(/_/g, ' ');
        const label = `⚠ ${kind}`.slice(0, 14);
        const w = 14 + label.length * 8.5;
        el('rect', { class: 'badge-box', x: -w / 2, y: -14, width: w, height: 24, rx: 5 }, badge);
        const mark = el('text', { class: 'badge-text', x: 0, y: 4, 'text-anchor': 'middle' }, badge);
        mark.textContent = label;
        // The node's texts go before the badge: it is drawn over them.
        v.end = badge;
      }
      this.makePart(v, 'title');
      nodeLayer.appendChild(g);
      this.nodeEls.set(node.id, v);
    }
    this.svg.replaceChildren(defs, this.root);
    this.bounds = { width: layout.width, height: layout.height };
    this.currentId = null;
    this.fit(false, size);
    if (focused && this.nodeEls.has(focused)) this.nodeEls.get(focused).g.focus({ preventScroll: true });
    this.fillHandle = idle((deadline) => this.fillTexts(deadline));
  }

  /** Make a node's texts of one part (title, value, grad, check), in their place among the others. */
  makePart(v, part) {
    if (v.made.has(part)) return;
    v.made.add(part);
    for (let i = 0; i < v.lines.length; i += 1) {
      const line = v.lines[i];
      if (line.part !== part) continue;
      const failed = line.part === 'check' && line.ok === false ? ' is-failed' : '';
      const t = el('text', { class: `t-${line.kind} node-${line.part}${failed}`, x: line.x, y: line.y, 'text-anchor': line.anchor });
      // Written once: the node's class shows or hides the value, gradient and check (see the CSS).
      t.textContent = line.text;
      let next = v.end;
      for (let j = i + 1; j < v.texts.length; j += 1) {
        if (v.texts[j]) {
          next = v.texts[j];
          break;
        }
      }
      v.g.insertBefore(t, next);
      v.texts[i] = t;
    }
  }

  /** Make a wire's value text (above it) or gradient text (below it). */
  makeEdgeText(v, part) {
    if (v[part]) return;
    const { box } = v;
    const t = part === 'value'
      ? el('text', { class: 't-edge edge-value', x: box.x, y: box.y - 6, 'text-anchor': 'middle' })
      : el('text', { class: 't-edge edge-grad', x: box.x, y: box.y + 6 + SIZES.edge, 'text-anchor': 'middle' });
    t.textContent = box[part];
    // The value first, as the gradient reads under it.
    v.labels.insertBefore(t, part === 'value' ? v.labels.firstChild : null);
    v[part] = t;
  }

  /**
   * Make the texts no step has shown yet, a slice per idle period, so that
   * stepping only changes classes. They are made hidden: their node's or
   * wire's class shows them when a step reaches them.
   */
  fillTexts(deadline) {
    this.fillHandle = null;
    if (!this.model) return;
    if (!this.fillQueue) this.fillQueue = { nodes: [...this.nodeEls.values()], edges: [...this.edgeEls.values()] };
    const { nodes, edges } = this.fillQueue;
    let count = 0;
    const more = () => (count += 1) % 16 !== 0 || deadline.timeRemaining() > 2;
    while (nodes.length && more()) {
      const v = nodes.pop();
      for (const part of ['value', 'grad', 'check']) this.makePart(v, part);
    }
    while (edges.length && more()) {
      const v = edges.pop();
      this.makeEdgeText(v, 'value');
      this.makeEdgeText(v, 'grad');
    }
    if (nodes.length || edges.length) this.fillHandle = idle((d) => this.fillTexts(d));
    else this.fillQueue = null;
  }

  /** Make the focus ring of a node when the keyboard first reaches it (the CSS shows it then). */
  ring(v) {
    if (v.ring) return;
    const { box } = v;
    v.ring = el('rect', { class: 'focus-ring', x: -6, y: -6, width: box.width + 12, height: box.height + 12, rx: 12, ry: 12 }, v.g);
    // Texts made later still go under it.
    if (!v.end) v.end = v.ring;
  }

  /**
   * Show what is known at one frame: values, gradients, the current node and
   * wires. Only the nodes and wires whose state differs from what they show
   * are touched, and only their classes: the texts were written when drawn
   * and the classes show or hide them (a text write, even of the same
   * string, makes the browser lay the whole drawing out again). What is on
   * screen or near it changes at once; on a large graph a jump (End, Home, a
   * click) changes the rest a slice per frame, so no frame restyles and
   * repaints thousands of elements.
   */
  update(frame) {
    if (!this.model) return;
    const wasCurrent = this.currentId;
    this.currentId = frame.step ? frame.step.node : null;
    if (this.currentId && this.currentId !== wasCurrent) this.follow(this.currentId);
    this.frame = frame;
    const stale = staleParts(this.shown, frame);
    const later = { nodes: [], edges: [] };
    for (const id of stale.nodes) {
      if (this.nearView(this.layout.nodes.get(id))) this.applyNode(id);
      else later.nodes.push(id);
    }
    for (const id of stale.edges) {
      const edge = this.model.edgeById.get(id);
      const near = frame.edges.get(id).current || this.nearView(this.layout.nodes.get(edge.source))
        || this.nearView(this.layout.nodes.get(edge.target)) || this.nearView(this.layout.edges.get(id));
      if (near) this.applyEdge(id);
      else later.edges.push(id);
    }
    this.later = later;
    if (this.settleHandle === null && (later.nodes.length || later.edges.length)) {
      this.settleHandle = window.requestAnimationFrame(() => this.settle());
    }
  }

  /** One frame's slice of the changes left over from a jump. */
  settle() {
    this.settleHandle = null;
    if (!this.frame || !this.later) return;
    let budget = SETTLE_SLICE;
    const { nodes, edges } = this.later;
    while (budget > 0 && nodes.length) {
      this.applyNode(nodes.pop());
      budget -= 1;
    }
    while (budget > 0 && edges.length) {
      this.applyEdge(edges.pop());
      budget -= 1;
    }
    if (nodes.length || edges.length) this.settleHandle = window.requestAnimationFrame(() => this.settle());
  }

  /** Whether a box is on screen or within half a screen of it. */
  nearView(box) {
    if (!box) return false;
    const v = this.view;
    const w = box.width || 0;
    const h = box.height || 0;
    return box.x + w / 2 >= v.x - v.w / 2 && box.x - w / 2 <= v.x + 1.5 * v.w
      && box.y + h / 2 >= v.y - v.h / 2 && box.y - h / 2 <= v.y + 1.5 * v.h;
  }

  applyNode(id) {
    const state = this.frame.nodes.get(id);
    const shown = this.shown.nodes.get(id);
    if (shown && shown.value === state.value && shown.grad === state.grad && shown.current === state.current) return;
    const node = this.model.nodeById.get(id);
    const v = this.nodeEls.get(id);
    v.g.classList.toggle('is-current', state.current);
    v.g.classList.toggle('has-value', state.value);
    v.g.classList.toggle('has-grad', state.grad);
    v.g.classList.toggle('is-pending', !state.value);
    if (state.value) this.makePart(v, 'value');
    if (state.grad) {
      this.makePart(v, 'grad');
      this.makePart(v, 'check');
    }
    if (state.current) v.g.setAttribute('aria-current', 'step');
    else v.g.removeAttribute('aria-current');
    const description = nodeDescription(this.spokenTitle(node, v.titleText), node, state);
    if (setText(v.title, description)) v.g.setAttribute('aria-label', description);
    this.shown.nodes.set(id, state);
  }

  applyEdge(id) {
    const state = this.frame.edges.get(id);
    const phase = this.frame.phase;
    const shown = this.shown.edges.get(id);
    if (shown && shown.phase === phase && shown.value === state.value && shown.grad === state.grad
      && shown.current === state.current && shown.summing === state.summing) return;
    const v = this.edgeEls.get(id);
    for (const g of [v.g, v.labels]) {
      g.classList.toggle('is-current', state.current);
      g.classList.toggle('is-summing', state.summing);
      g.classList.toggle('has-value', state.value);
      g.classList.toggle('has-grad', state.grad);
      g.classList.toggle('phase-backward', phase === 'backward');
    }
    if (state.value) this.makeEdgeText(v, 'value');
    if (state.grad) this.makeEdgeText(v, 'grad');
    this.shown.edges.set(id, { ...state, phase });
  }

  /** An op is spoken by its display name ("z", "max(y, z)", "f"), not by its symbol: an input by its title, with its shape. */
  spokenTitle(node, title) {
    return node.kind === 'op' && displayName(node) !== node.id ? displayName(node) : title;
  }

  /**
   * A click on a node, or Enter or Space on a focused one, does what the
   * page says (one handler each on the drawing for all its nodes); a node
   * the keyboard reaches shows its ring and comes into view.
   */
  installNodeKeys() {
    const nodeOf = (target) => {
      const g = target && target.closest ? target.closest('g[data-node-id]') : null;
      return g && this.svg.contains(g) ? g : null;
    };
    this.svg.addEventListener('click', (ev) => {
      const g = nodeOf(ev.target);
      if (g) this.onNodeClick(g.getAttribute('data-node-id'));
    });
    this.svg.addEventListener('keydown', (ev) => {
      const g = nodeOf(ev.target);
      if (!g || ev.target !== g) return;
      if (ev.key !== 'Enter' && ev.key !== ' ' && ev.key !== 'Spacebar') return;
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      ev.preventDefault();
      ev.stopPropagation();
      this.onNodeClick(g.getAttribute('data-node-id'));
    });
    this.svg.addEventListener('focusin', (ev) => {
      const g = nodeOf(ev.target);
      if (!g) return;
      const id = g.getAttribute('data-node-id');
      const v = this.nodeEls.get(id);
      if (v) this.ring(v);
      this.follow(id);
    });
  }

  // ---- pan and zoom on the viewBox ----

  size() {
    const r = this.svg.getBoundingClientRect();
    return { w: Math.max(1, r.width), h: Math.max(1, r.height) };
  }

  /**
   * The zoom is the viewBox, the pan a translation of the drawing: a new
   * viewBox makes the browser lay every text out again, a new translation
   * does not, and following the current node
   * while stepping only pans.
   */
  applyView() {
    const { x, y, w, h } = this.view;
    const box = `0 0 ${w} ${h}`;
    if (this.svg.getAttribute('viewBox') !== box) this.svg.setAttribute('viewBox', box);
    if (this.root) this.root.setAttribute('transform', `translate(${-x},${-y})`);
  }

  /**
   * Fit the whole graph to the screen, no larger than maxScale. Unless `all`
   * is asked for, a large graph is not shrunk below readable type: the view
   * then shows the current node, and follows it while stepping.
   */
  fit(all = true, size = this.size()) {
    const { w, h } = size;
    // The zoom and export buttons float over the top edge: keep the graph below them.
    const top = Math.min(TOP_INSET, h / 4);
    const whole = this.wholeScale(this.bounds, size);
    const scale = all ? whole : Math.max(whole, this.minAutoScale);
    const vw = w / scale;
    const vh = h / scale;
    const shift = top / scale;
    this.view = { x: (this.bounds.width - vw) / 2, y: (this.bounds.height - vh - shift) / 2, w: vw, h: vh };
    if (scale > whole && this.currentId) this.centreOn(this.currentId);
    else this.applyView();
  }

  /** The zoom at which a layout of this size shows whole on the screen, no larger than maxScale. */
  wholeScale({ width, height }, size = this.size()) {
    const { w, h } = size;
    const top = Math.min(TOP_INSET, h / 4);
    return Math.min(w / width, (h - top) / height, this.maxScale);
  }

  /** Move the view (not its zoom) so a node is in the middle. */
  centreOn(nodeId) {
    const box = this.layout && this.layout.nodes.get(nodeId);
    if (!box) return;
    this.view = { ...this.view, x: box.x - this.view.w / 2, y: box.y - this.view.h / 2 };
    this.applyView();
  }

  /** Bring a node into view when stepping has moved it off screen. */
  follow(nodeId) {
    const box = this.layout && this.layout.nodes.get(nodeId);
    if (!box) return;
    const v = this.view;
    const inside = box.x - box.width / 2 >= v.x && box.x + box.width / 2 <= v.x + v.w
      && box.y - box.height / 2 >= v.y && box.y + box.height / 2 <= v.y + v.h;
    if (!inside) this.centreOn(nodeId);
  }

  /** Zoom by `factor` (>1 zooms in) around a point in screen pixels (default: the centre). */
  zoom(factor, px = null, py = null) {
    const { w, h } = this.size();
    const fx = px === null ? 0.5 : px / w;
    const fy = py === null ? 0.5 : py / h;
    const cx = this.view.x + fx * this.view.w;
    const cy = this.view.y + fy * this.view.h;
    const nw = this.view.w / factor;
    const nh = this.view.h / factor;
    this.view = { x: cx - fx * nw, y: cy - fy * nh, w: nw, h: nh };
    this.applyView();
  }

  installPanZoom() {
    const svg = this.svg;
    svg.addEventListener('wheel', (ev) => {
      ev.preventDefault();
      const r = svg.getBoundingClientRect();
      this.zoom(ev.deltaY < 0 ? 1.15 : 1 / 1.15, ev.clientX - r.left, ev.clientY - r.top);
    }, { passive: false });
    let drag = null;
    svg.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0) return;
      drag = { x: ev.clientX, y: ev.clientY, view: { ...this.view }, moved: false, id: ev.pointerId };
    });
    svg.addEventListener('pointermove', (ev) => {
      if (!drag) return;
      const dx = ev.clientX - drag.x;
      const dy = ev.clientY - drag.y;
      if (!drag.moved && Math.hypot(dx, dy) < 4) return;
      if (!drag.moved) {
        drag.moved = true;
        svg.setPointerCapture(drag.id);
        svg.classList.add('is-panning');
      }
      const { w } = this.size();
      const k = drag.view.w / w;
      this.view = { ...drag.view, x: drag.view.x - dx * k, y: drag.view.y - dy * k };
      this.applyView();
    });
    const end = () => {
      drag = null;
      svg.classList.remove('is-panning');
    };
    svg.addEventListener('pointerup', end);
    svg.addEventListener('pointercancel', end);
  }
}
