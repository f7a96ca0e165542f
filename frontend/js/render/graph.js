/**
 * The graph as SVG: one group per node (data-node-id) and per wire
 * (data-edge-id), placed once from the layout; stepping changes classes
 * (and makes a text the first time a step shows it), so nothing moves.
 * Values sit above each wire and gradients below it, as in the lecture's
 * picture. Zoom and fit set the viewBox, panning translates the drawing.
 * Text reaches the SVG only through textContent. A closed statement group
 * (see groups.js) is drawn on its head's box: its other members hidden, the
 * wires into them drawn into the head, a toggle at the box's corner.
 */

import { cancelIdle, idle, oncePerFrame } from '../idle.js';
import { SIZES } from '../layout.js';
import { formatValue } from '../format.js';
import { displayName, staleParts } from '../steps.js';
import { collapsedView, groupsOf, shownNode } from '../groups.js';
import { overviewShapes, paintShapes, wholeTransform } from './overview.js';

const SVG = 'http://www.w3.org/2000/svg';
const TOP_INSET = 44;
/**
 * Above this many nodes the drawing holds only the nodes and wires on the
 * screen or near it, made as the view reaches them and dropped when it
 * leaves them: what the browser styles, lays out and repaints stays the size
 * of a screen, whatever the size of the graph (docs/architecture.md).
 */
export const CULL_NODES = 500;
/**
 * Below this zoom a node's type is too small to read: its texts are not
 * drawn (plain boxes and wires), and a culled graph is drawn as shapes on a
 * canvas instead of in the SVG (see overview.js).
 */
export const FAR_SCALE = 0.3;

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

/** A canvas of the drawing's (made the first time), placed over it by the CSS class. */
function canvasIn(parent, cls) {
  let canvas = parent.querySelector(`canvas.${cls}`);
  if (!canvas) {
    canvas = document.createElement('canvas');
    canvas.className = cls;
    canvas.hidden = true;
    parent.appendChild(canvas);
  }
  return canvas;
}

/** A canvas's 2D context, its pixels resized only when they differ (a resize clears it). */
function sized(canvas, w, h) {
  const W = Math.max(1, Math.round(w));
  const H = Math.max(1, Math.round(h));
  if (canvas.width !== W) canvas.width = W;
  if (canvas.height !== H) canvas.height = H;
  return canvas.getContext('2d');
}

function polyline(points) {
  return points.map((p, i) => `${i ? 'L' : 'M'}${p.x},${p.y}`).join(' ');
}

/**
 * A wire's path: a curve through its points, or, for a wire cut short (a
 * long wire from an input, see layout.js), a stub out of its source and a
 * stub into its target.
 */
function pathThrough(points, cut = false) {
  if (cut) return `M${points[0].x},${points[0].y} L${points[1].x},${points[1].y} M${points[2].x},${points[2].y} L${points[3].x},${points[3].y}`;
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
  /**
   * The quick measure, for a graph too large to measure each text: the sum
   * of its characters' widths (each measured once), a pixel over for the
   * kerning it leaves out.
   */
  const chars = new Map();
  measure.fast = (text, kind) => {
    let w = 1;
    for (const c of drawn(text)) {
      const key = `${kind}\u0000${c}`;
      let cw = chars.get(key);
      if (cw === undefined) {
        // A lone space is trimmed as the SVG trims it: measured between two letters instead.
        cw = c === ' ' ? measure('a a', kind) - measure('aa', kind) : measure(c, kind);
        chars.set(key, cw);
      }
      w += cw;
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

/** A gate's number on a wire: a scalar in full, a tensor by its shape, as the wires' own texts. */
function wireNumber(value) {
  const shape = [];
  for (let v = value; Array.isArray(v); v = v[0]) shape.push(v.length);
  return shape.length ? `[${shape.join('×')}]` : formatValue(value);
}

function sameView(a, b) {
  const close = (p, q) => Math.abs(p - q) <= 1e-6 * Math.max(1, Math.abs(p), Math.abs(q));
  return close(a.x, b.x) && close(a.y, b.y) && close(a.w, b.w) && close(a.h, b.h);
}

export class GraphView {
  /** `state` is the page's state (see state.js): presenting sets how far the view zooms. */
  constructor(svg, state, { onNodeClick, onCull, onGroupToggle } = {}) {
    this.svg = svg;
    this.state = state;
    this.onNodeClick = onNodeClick || (() => {});
    this.onGroupToggle = onGroupToggle || (() => {});
    this.groupView = { hidden: new Map(), heads: new Map(), routes: new Map() };
    this.view = { x: 0, y: 0, w: 100, h: 100 };
    this.bounds = { width: 100, height: 100 };
    this.nodeEls = new Map();
    this.edgeEls = new Map();
    this.shown = { nodes: new Map(), edges: new Map() };
    this.onCull = onCull || (() => {});
    // The whole graph as shapes (far zoom on a culled graph) and the minimap, both canvases over the drawing.
    const area = svg.parentElement;
    this.overview = canvasIn(area, 'overview');
    this.overview.setAttribute('aria-hidden', 'true');
    this.minimap = canvasIn(area, 'minimap');
    this.minimap.setAttribute('role', 'img');
    this.minimap.setAttribute('aria-label', 'Map of the whole graph: click or drag to move the view there');
    this.paintSoon = oncePerFrame(() => this.paint());
    this.installPanZoom();
    this.installNodeKeys();
    this.installMinimap();
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
    this.culled = model.nodes.length > CULL_NODES;
    groupsOf(model);
    this.groupView = collapsedView(model, this.state.collapsed || []);
    this.litHead = null;
    const defs = el('defs');
    // A fixed size in user units: a thick current wire keeps a normal arrowhead.
    const marker = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 12, markerHeight: 12, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' }, defs);
    el('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }, marker);
    this.root = el('g', { class: 'viewport' });
    this.layers = {
      edges: el('g', { class: 'edges' }, this.root),
      labels: el('g', { class: 'edge-labels' }, this.root),
      nodes: el('g', { class: 'nodes' }, this.root),
    };
    this.nodeEls.clear();
    this.edgeEls.clear();
    // Nothing of a frame is shown yet: the next update sets every node and wire.
    this.shown = { nodes: new Map(), edges: new Map() };
    this.frame = null;
    this.shapes = overviewShapes(model, layout);
    // Each wire's extent, for the culling's test of what is near the view.
    this.edgeBoxes = model.edges.map((edge) => {
      const { points } = layout.edges.get(edge.id);
      const xs = points.map((p) => p.x);
      const ys = points.map((p) => p.y);
      const x0 = Math.min(...xs);
      const y0 = Math.min(...ys);
      return { id: edge.id, box: { x: (x0 + Math.max(...xs)) / 2, y: (y0 + Math.max(...ys)) / 2, width: Math.max(...xs) - x0, height: Math.max(...ys) - y0 } };
    });
    if (!this.culled) {
      for (const edge of model.edges) this.makeEdge(edge.id);
      for (const node of model.nodes) this.makeNode(node.id);
    }
    this.svg.replaceChildren(defs, this.root);
    this.bounds = { width: layout.width, height: layout.height };
    this.currentId = null;
    this.fitted = null;
    this.fit(false, size);
    if (focused && this.nodeEls.has(focused)) this.nodeEls.get(focused).g.focus({ preventScroll: true });
    if (!this.culled) this.fillHandle = idle((deadline) => this.fillTexts(deadline));
    // A drawing's number, for whoever waits for it to be on the page (the benchmarks, the tests).
    this.svg.dataset.drawn = String(Number(this.svg.dataset.drawn || 0) + 1);
  }

  /** Make a wire's group and its labels' group, in the drawing. */
  makeEdge(id) {
    const box = this.layout.edges.get(id);
    const proto = prototypes();
    const g = proto.edge.cloneNode(true);
    g.setAttribute('data-edge-id', id);
    // A bundle's bus is drawn straight: its wires lie on one line until they turn off it.
    g.firstChild.setAttribute('d', box.bundle && !box.cut && box.points.length === 4 ? polyline(box.points) : pathThrough(box.points, box.cut));
    if (box.bundle) g.classList.add('bundled');
    if (box.cut) g.classList.add('cut');
    this.layers.edges.appendChild(g);
    const labels = proto.labels.cloneNode(false);
    labels.setAttribute('data-edge-id', id);
    if (box.bundle) labels.classList.add(box.bundle.first ? 'bundle-head' : 'bundled');
    this.layers.labels.appendChild(labels);
    const v = { g, labels, value: null, grad: null, box, route: undefined };
    this.edgeEls.set(id, v);
    this.routeEdge(id, v);
    return v;
  }

  /**
   * Draw a wire as the closed groups want it: hidden inside a closed group,
   * into its head when its target is hidden, as laid out otherwise. A wire
   * into a closed box carries the box's gate: its downstream under it, and
   * the gate's local gradient for this input under that.
   */
  routeEdge(id, v) {
    const route = this.groupView.routes.get(id);
    if (route === v.route) return;
    v.route = route;
    const hide = route === 'hidden';
    v.g.classList.toggle('in-collapsed', hide);
    v.labels.classList.toggle('in-collapsed', hide);
    this.gateTexts(v, route && !hide ? route.wire : null);
    const { box } = v;
    const path = v.g.firstChild;
    if (route && !hide && route.moved && !this.layout.grouped) {
      const head = this.layout.nodes.get(route.head);
      const from = box.points[0];
      const to = { x: head.x - head.width / 2, y: head.y };
      const mid = { x: (from.x + to.x) / 2, y: (from.y + to.y) / 2 };
      path.setAttribute('d', pathThrough([from, mid, to]));
      v.labels.setAttribute('transform', `translate(${mid.x - box.x},${mid.y - box.y})`);
      v.g.classList.add('into-group');
    } else {
      path.setAttribute('d', box.bundle && !box.cut && box.points.length === 4 ? polyline(box.points) : pathThrough(box.points, box.cut));
      v.labels.removeAttribute('transform');
      v.g.classList.remove('into-group');
    }
  }

  /** The texts of a wire into a closed box: the gate's downstream for its input, and its local. */
  gateTexts(v, wire) {
    const { box } = v;
    v.gradText = wire ? `← ${wireNumber(wire.downstream)}` : null;
    if (v.grad) v.grad.textContent = v.gradText || box.grad;
    if (v.local) v.local.remove();
    v.local = null;
    if (!wire) return;
    const local = wire.local === null || wire.local_shape.length ? `local [${wire.local_shape.join('×')}]` : `local ${wireNumber(wire.local)}`;
    v.local = el('text', { class: 't-edge edge-local', x: box.x, y: box.y + 12 + 2 * SIZES.edge, 'text-anchor': 'middle' }, v.labels);
    v.local.textContent = local;
  }

  /** Show a node as the closed groups want it: hidden, a closed group's head, or itself; with its toggle if it heads a group. */
  styleGroup(id, v) {
    const view = this.groupView;
    v.g.classList.toggle('in-collapsed', view.hidden.has(id));
    const group = this.model.groupHeads.get(id);
    if (!group) return;
    const closed = view.heads.has(id);
    v.g.classList.toggle('is-collapsed', closed);
    if (closed && !v.groupTitle) {
      // The group's title takes the place of the node's own while closed: made now, dropped when opened.
      const line = v.lines.find((l) => l.group);
      v.groupTitle = el('text', { class: `t-${line.kind} node-title group-title`, x: line.x, y: line.y, 'text-anchor': line.anchor });
      v.groupTitle.textContent = line.text;
      v.g.insertBefore(v.groupTitle, v.title.nextSibling.nextSibling);
    } else if (!closed && v.groupTitle) {
      v.groupTitle.remove();
      v.groupTitle = null;
    }
    if (!v.toggle) {
      const { box } = v;
      // Just left of the box's top corner: clear of its title, above the wires that come in at its middle.
      v.toggle = el('g', { class: 'group-toggle', role: 'button', tabindex: 0, 'data-group-id': group.id, transform: `translate(${box.x - box.width / 2 - 14},${box.y - box.height / 2 + 13})` });
      el('rect', { class: 'group-toggle-box', x: -11, y: -11, width: 22, height: 22, rx: 5 }, v.toggle);
      el('text', { class: 'group-toggle-mark', x: 0, y: 5, 'text-anchor': 'middle' }, v.toggle);
      this.layers.nodes.appendChild(v.toggle);
    }
    // A call inside a closed statement is hidden with it, its toggle too.
    v.toggle.classList.toggle('in-collapsed', view.hidden.has(id));
    const what = `group ${group.title}`;
    v.toggle.setAttribute('aria-label', closed ? `Open ${what} (${group.nodes.length} nodes)` : `Close ${what} into one box`);
    v.toggle.setAttribute('aria-expanded', String(!closed));
    setText(v.toggle.lastChild, closed ? '+' : '−');
  }

  /** Close or open groups: `collapsed` is the set of closed groups' ids. Nothing moves here (see groups.js). */
  setCollapsed(collapsed) {
    if (!this.model) return;
    this.groupView = collapsedView(this.model, collapsed);
    for (const [id, v] of this.nodeEls) this.styleGroup(id, v);
    for (const [id, v] of this.edgeEls) this.routeEdge(id, v);
    this.shown.nodes.clear();
    if (this.frame) this.update(this.frame);
  }

  /** Make a node's group (its box, title and warning badge), in the drawing. */
  makeNode(id) {
    const node = this.model.nodeById.get(id);
    const box = this.layout.nodes.get(id);
    const g = prototypes().node.cloneNode(true);
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
    const warnings = this.model.warningsByNode.get(node.id) || [];
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
    this.layers.nodes.appendChild(g);
    this.nodeEls.set(id, v);
    this.styleGroup(id, v);
    return v;
  }

  /**
   * On a culled graph: make what has come near the view, and drop what is
   * now far from it (a margin of half a screen to make, a screen to drop, so
   * a small pan back and forth makes nothing twice). A node or wire made
   * takes the frame shown at once, with all its texts. Far zoomed out, the
   * drawing holds nothing: the canvas draws it.
   */
  cull() {
    if (!this.culled || !this.model) return;
    const far = this.isFar();
    const made = [];
    const pass = (list, els, make, apply, shown) => {
      for (const { id, box } of list) {
        const has = els.has(id);
        if (!far && !has && this.nearView(box, 0.5)) {
          make.call(this, id);
          made.push(id);
          if (this.frame) apply.call(this, id, true);
        } else if (has && (far || !this.nearView(box, 1))) {
          const v = els.get(id);
          v.g.remove();
          if (v.labels) v.labels.remove();
          if (v.toggle) v.toggle.remove();
          els.delete(id);
          shown.delete(id);
        }
      }
    };
    if (!this.nodeList || this.nodeList.model !== this.model) {
      this.nodeList = this.model.nodes.map((n) => ({ id: n.id, box: this.layout.nodes.get(n.id) }));
      this.nodeList.model = this.model;
    }
    pass(this.edgeBoxes, this.edgeEls, this.makeEdge, this.applyEdge, this.shown.edges);
    pass(this.nodeList, this.nodeEls, this.makeNode, this.applyNode, this.shown.nodes);
    if (made.length) this.onCull();
  }

  /** Whether the view is zoomed out past readable type (see FAR_SCALE). */
  isFar() {
    return this.scale() < FAR_SCALE;
  }

  /** The zoom: screen pixels per layout unit. */
  scale() {
    const { w } = this.size();
    return w / this.view.w;
  }

  /**
   * The canvases: the minimap (when the graph does not show whole) and, on
   * a culled graph zoomed out past readable type, the view as shapes.
   */
  paint() {
    if (!this.model || !this.shapes) {
      this.overview.hidden = true;
      this.minimap.hidden = true;
      return;
    }
    const states = this.frame ? this.frame.nodes : null;
    const { w, h } = this.size();
    const ratio = window.devicePixelRatio || 1;
    const far = this.culled && this.isFar();
    this.svg.classList.toggle('is-far', this.isFar());
    this.overview.hidden = !far;
    if (far) {
      const ctx = sized(this.overview, w * ratio, h * ratio);
      const k = (w / this.view.w) * ratio;
      paintShapes(ctx, this.shapes, states, { k, x: this.view.x, y: this.view.y }, { hidden: this.groupView.hidden, lit: this.litHead });
    }
    const v = this.view;
    const whole = v.x <= 0 && v.y <= 0 && v.x + v.w >= this.bounds.width && v.y + v.h >= this.bounds.height;
    this.minimap.hidden = whole;
    if (whole) return;
    // A long, flat graph (a deep program) gets a long, flat map.
    this.minimap.classList.toggle('is-wide', this.bounds.width > 4 * this.bounds.height);
    const rect = { w: this.minimap.clientWidth || 200, h: this.minimap.clientHeight || 120 };
    const ctx = sized(this.minimap, rect.w * ratio, rect.h * ratio);
    this.mapTransform = wholeTransform(this.bounds.width, this.bounds.height, rect.w, rect.h);
    const t = this.mapTransform;
    paintShapes(ctx, this.shapes, states, { k: t.k * ratio, x: t.x, y: t.y }, { wires: false, view: this.view, hidden: this.groupView.hidden, lit: this.litHead });
  }

  /**
   * A click or drag on the minimap moves the view's centre to the node
   * nearest the pointer on the map: a pixel of the map of a long program is
   * more than a screen of the graph, so a point alone could land between nodes.
   */
  installMinimap() {
    let dragging = false;
    const move = (ev) => {
      if (!this.mapTransform || !this.model) return;
      const r = this.minimap.getBoundingClientRect();
      const t = this.mapTransform;
      const px = ev.clientX - r.left - this.minimap.clientLeft;
      const py = ev.clientY - r.top - this.minimap.clientTop;
      const { ids, boxes } = this.shapes;
      let best = -1;
      let bestD = Infinity;
      for (let i = 0; i < ids.length; i += 1) {
        const dx = (boxes[i * 4] + boxes[i * 4 + 2] / 2 - t.x) * t.k - px;
        const dy = (boxes[i * 4 + 1] + boxes[i * 4 + 3] / 2 - t.y) * t.k - py;
        const d = dx * dx + dy * dy;
        if (d < bestD) {
          bestD = d;
          best = i;
        }
      }
      if (best >= 0) this.centreOn(ids[best]);
    };
    this.minimap.addEventListener('pointerdown', (ev) => {
      dragging = true;
      this.minimap.setPointerCapture(ev.pointerId);
      move(ev);
    });
    this.minimap.addEventListener('pointermove', (ev) => {
      if (dragging) move(ev);
    });
    const end = () => {
      dragging = false;
    };
    this.minimap.addEventListener('pointerup', end);
    this.minimap.addEventListener('pointercancel', end);
  }

  /** Make a node's texts of one part (title, value, grad, check), in their place among the others. */
  makePart(v, part) {
    if (v.made.has(part)) return;
    v.made.add(part);
    for (let i = 0; i < v.lines.length; i += 1) {
      const line = v.lines[i];
      if (line.part !== part) continue;
      // A group's title is made only while its group is closed (see styleGroup).
      if (line.group) continue;
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
    t.textContent = part === 'grad' && v.gradText ? v.gradText : box[part];
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
   * string, makes the browser lay the whole drawing out again). Everything
   * the drawing holds changes at once (a culled graph holds about a screen's
   * worth, and what it makes later takes the frame as it is made), so a jump
   * (End, Home, a click) shows its final frame in one go.
   */
  update(frame) {
    if (!this.model) return;
    const wasCurrent = this.currentId;
    // A step inside a closed group lights the group's box, and the view follows that.
    this.currentId = frame.step ? shownNode(this.groupView, frame.step.node) : null;
    this.frame = frame;
    const lit = frame.step && this.currentId !== frame.step.node ? this.currentId : null;
    if (lit !== this.litHead) {
      for (const id of [this.litHead, lit]) if (id) this.shown.nodes.delete(id);
      this.litHead = lit;
    }
    if (this.currentId && this.currentId !== wasCurrent) this.follow(this.currentId);
    if (this.culled) {
      for (const id of this.nodeEls.keys()) this.applyNode(id);
      for (const id of this.edgeEls.keys()) this.applyEdge(id);
    } else {
      const stale = staleParts(this.shown, frame);
      for (const id of stale.nodes) this.applyNode(id);
      for (const id of stale.edges) this.applyEdge(id);
    }
    this.paintSoon();
  }

  /** Whether a box is on screen or within `margin` screens of it. */
  nearView(box, margin = 0.5) {
    if (!box) return false;
    const v = this.view;
    const w = box.width || 0;
    const h = box.height || 0;
    return box.x + w / 2 >= v.x - margin * v.w && box.x - w / 2 <= v.x + (1 + margin) * v.w
      && box.y + h / 2 >= v.y - margin * v.h && box.y - h / 2 <= v.y + (1 + margin) * v.h;
  }

  applyNode(id, all = false) {
    const state = this.frame.nodes.get(id);
    const shown = this.shown.nodes.get(id);
    if (shown && shown.value === state.value && shown.grad === state.grad && shown.current === state.current) return;
    const node = this.model.nodeById.get(id);
    const v = this.nodeEls.get(id);
    const current = state.current || id === this.litHead;
    v.g.classList.toggle('is-current', current);
    v.g.classList.toggle('has-value', state.value);
    v.g.classList.toggle('has-grad', state.grad);
    v.g.classList.toggle('is-pending', !state.value);
    if (state.value || all) this.makePart(v, 'value');
    if (state.grad || all) {
      this.makePart(v, 'grad');
      this.makePart(v, 'check');
    }
    if (current) v.g.setAttribute('aria-current', 'step');
    else v.g.removeAttribute('aria-current');
    const closed = this.groupView.heads.get(id);
    const title = closed ? `${closed.title}, a closed group of ${closed.nodes.length} nodes` : this.spokenTitle(node, v.titleText);
    const description = nodeDescription(title, node, { ...state, current });
    if (setText(v.title, description)) v.g.setAttribute('aria-label', description);
    this.shown.nodes.set(id, state);
  }

  applyEdge(id, all = false) {
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
    if (state.value || all) this.makeEdgeText(v, 'value');
    if (state.grad || all) this.makeEdgeText(v, 'grad');
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
    const toggleOf = (target) => {
      const g = target && target.closest ? target.closest('g.group-toggle') : null;
      return g && this.svg.contains(g) ? g : null;
    };
    this.svg.addEventListener('click', (ev) => {
      const toggle = toggleOf(ev.target);
      if (toggle) {
        this.onGroupToggle(toggle.getAttribute('data-group-id'));
        return;
      }
      const g = nodeOf(ev.target);
      if (g) this.onNodeClick(g.getAttribute('data-node-id'));
    });
    this.svg.addEventListener('keydown', (ev) => {
      const toggle = toggleOf(ev.target);
      const g = toggle || nodeOf(ev.target);
      if (!g || ev.target !== g) return;
      if (ev.key !== 'Enter' && ev.key !== ' ' && ev.key !== 'Spacebar') return;
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      ev.preventDefault();
      ev.stopPropagation();
      if (toggle) this.onGroupToggle(toggle.getAttribute('data-group-id'));
      else this.onNodeClick(g.getAttribute('data-node-id'));
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
    this.cull();
    this.paintSoon();
  }

  /**
   * Fit the graph to the screen, no larger than maxScale and never below
   * readable type: a graph that does not show whole at readable type is
   * shown around the current node, and the view follows it while stepping
   * (the minimap shows where that is). Fit asked for again (`all`, the Fit
   * button and F) on a view it has just fitted shows the whole graph,
   * zoomed out as far as it takes (drawn as plain shapes past readable).
   */
  fit(all = true, size = this.size()) {
    const { w, h } = size;
    // The zoom and export buttons float over the top edge: keep the graph below them.
    const top = Math.min(TOP_INSET, h / 4);
    const whole = this.wholeScale(this.bounds, size);
    const again = all && this.fitted && sameView(this.fitted, this.view);
    const scale = again ? whole : Math.max(whole, this.minAutoScale);
    const vw = w / scale;
    const vh = h / scale;
    const shift = top / scale;
    this.view = { x: (this.bounds.width - vw) / 2, y: (this.bounds.height - vh - shift) / 2, w: vw, h: vh };
    if (scale > whole && this.currentId) this.centreOn(this.currentId);
    else this.applyView();
    this.fitted = again ? null : { ...this.view };
  }

  /** The zoom at which a layout of this size shows whole on the screen, no larger than maxScale. */
  wholeScale({ width, height }, size = this.size()) {
    const { w, h } = size;
    const top = Math.min(TOP_INSET, h / 4);
    return Math.min(w / width, (h - top) / height, this.maxScale);
  }

  /** Where a node is on the screen now, for keepAnchor after the graph is laid out again. */
  anchorOf(nodeId) {
    const box = this.layout && this.layout.nodes.get(nodeId);
    return box ? { nodeId, dx: box.x - this.view.x, dy: box.y - this.view.y, w: this.view.w, h: this.view.h } : null;
  }

  /** The view at the zoom it had, moved so the anchor's node is where it was on the screen. */
  keepAnchor(anchor) {
    const box = this.layout && this.layout.nodes.get(anchor.nodeId);
    if (!box) return;
    this.view = { x: box.x - anchor.dx, y: box.y - anchor.dy, w: anchor.w, h: anchor.h };
    this.fitted = null;
    this.applyView();
  }

  /** Move the view (not its zoom) so a node is in the middle. */
  centreOn(nodeId) {
    const box = this.layout && this.layout.nodes.get(nodeId);
    if (!box) return;
    this.centreAt(box.x, box.y);
  }

  /** Move the view (not its zoom) so a point of the layout is in the middle. */
  centreAt(x, y) {
    this.view = { ...this.view, x: x - this.view.w / 2, y: y - this.view.h / 2 };
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
