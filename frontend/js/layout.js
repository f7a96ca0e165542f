/**
 * The graph's layout, computed once per trace (a large one's again when a
 * group opens or closes, see groupedPositions): what each node and wire
 * shows and the box it needs (measured on the page), the positions of those
 * boxes (dagre, run in the layout worker), and the two joined. Boxes are
 * sized for the widest text they will ever show (the final value and
 * gradient), so nothing moves while the user steps. Pure.
 */

import { formatNumber, formatValue, shapeText } from './format.js';
import { displayName } from './steps.js';
import { groupsOf } from './groups.js';

export const SIZES = {
  title: 18,
  value: 16,
  edge: 15,
  head: 13,
  padX: 14,
  padY: 8,
  lineGap: 6,
};

/**
 * The space around the type. Presenting uses the compact spacing: the graph
 * is fitted to the screen, so every unit of padding or gap saved is type
 * made larger for the back of the hall.
 */
export const SPACING = {
  normal: { padX: SIZES.padX, padY: SIZES.padY, lineGap: SIZES.lineGap, nodesep: 30, rankPad: 22, minRanksep: 56, margin: 24 },
  compact: { padX: 7, padY: 5, lineGap: 3, nodesep: 16, rankPad: 18, minRanksep: 40, margin: 6 },
};

// Tensors on the graph stay narrow: a small vector is written as a column
// (as the lecture writes x in R^n), a small matrix row by row, anything
// larger as its range; the panel's tables carry every number.
const DIGITS = 3;
const MAX_SIDE = 4;

function tensorRows(value, shape) {
  if (shape.length === 1 && shape[0] <= MAX_SIDE) return value.map((v) => formatNumber(v, DIGITS));
  if (shape.length === 2 && shape[0] <= MAX_SIDE && shape[1] <= MAX_SIDE) {
    return value.map((row) => `[${row.map((v) => formatNumber(v, DIGITS)).join(', ')}]`);
  }
  return [formatValue(value, { maxElements: 0, digits: DIGITS }).replace(/^\S+ /, '')];
}

/**
 * The lines a node shows, as their final text: they size its box. Each line
 * has a `part` (title, value, grad, check) that the stepping shows or hides,
 * a `kind` that sets its type size, and a `row`. By default a vector puts its
 * value and its gradient side by side (`column` left and right), one row per
 * element, so the box stays short; with `stack` (a wide graph on a projector)
 * its gradient rows go under its value rows, so the box stays narrow. A matrix
 * always puts its rows of values above its rows of gradients. A tensor's
 * numbers sit under the words "value" and "grad". `presenting` leaves an op's
 * shape out of its title, and writes those words as large as the numbers: a
 * hall tells values and gradients apart in words, not by colour alone.
 */
export function nodeLines(model, node, { stack = false, presenting = false } = {}) {
  // An op the program names, and the output, carry their name beside their symbol: "z = +", "f = *".
  const named = node.kind === 'op' && (node.name || node.id === model.output);
  const title = named ? `${displayName(node)} = ${node.label}` : node.label;
  const tensor = node.shape && node.shape.length > 0;
  // Presenting, an op's shape is left to its rows and its wires, which say
  // it too; an input keeps it, as the lecture writes W (2×3).
  const shaped = tensor && (!presenting || node.kind !== 'op');
  const head = presenting ? 'head-large' : 'head';
  const lines = [{ part: 'title', kind: 'title', row: 0, text: shaped ? `${title} (${shapeText(node.shape)})` : title }];
  // The head of a statement group also has the group's title, shown when the group is closed
  // (see groups.js), cut to the box the node needs for itself: groups change no layout.
  const group = groupsOf(model).size ? model.groupHeads.get(node.id) : null;
  if (group) lines.push({ part: 'title', kind: 'title', row: 0, text: group.title, group: true });
  let checkText = null;
  let checkOk = true;
  if (model.check && node.kind === 'input' && node.name && model.check[node.name]) {
    const c = model.check[node.name];
    checkOk = Boolean(c.ok);
    // A failed check carries a cross as well as its word and its red.
    const verdict = c.ok ? 'ok' : 'FAILED ✗';
    checkText = tensor ? `check ${verdict}` : `check ${formatValue(c.numeric)} ${verdict}`;
  }
  let row = 1;
  if (!tensor) {
    // A constant's label is its number already: its value line stays empty rather than repeat it.
    const valueText = node.kind === 'constant' && node.label === formatValue(node.value) ? '' : formatValue(node.value);
    lines.push({ part: 'value', kind: 'value', row: row++, text: valueText });
    // A constant needs no gradient: its box keeps no line for one.
    if (!node.constant) lines.push({ part: 'grad', kind: 'grad', row: row++, text: `grad ${formatValue(node.grad)}` });
  } else if (node.shape.length === 2 || stack) {
    // A matrix's rows are wide already: value above gradient.
    lines.push({ part: 'value', kind: head, row: row++, text: 'value' });
    for (const text of tensorRows(node.value, node.shape)) lines.push({ part: 'value', kind: 'value', row: row++, text });
    if (!node.constant) lines.push({ part: 'grad', kind: head, row: row++, text: 'grad' });
    if (!node.constant) for (const text of tensorRows(node.grad, node.shape)) lines.push({ part: 'grad', kind: 'grad', row: row++, text });
  } else {
    lines.push({ part: 'value', kind: head, row, column: 'left', text: 'value' });
    if (!node.constant) lines.push({ part: 'grad', kind: head, row, column: 'right', text: 'grad' });
    row += 1;
    const values = tensorRows(node.value, node.shape);
    const grads = node.constant ? [] : tensorRows(node.grad, node.shape);
    for (let i = 0; i < Math.max(values.length, grads.length); i += 1) {
      if (values[i] !== undefined) lines.push({ part: 'value', kind: 'value', row, column: 'left', text: values[i] });
      if (grads[i] !== undefined) lines.push({ part: 'grad', kind: 'grad', row, column: 'right', text: grads[i] });
      row += 1;
    }
  }
  if (checkText) lines.push({ part: 'check', kind: 'check', row, text: checkText, ok: checkOk });
  return lines;
}

const COLUMN_GAP = 18;

/**
 * Place a node's lines inside its box: rows top to bottom, single lines
 * centred, the value column right-aligned on the left and the gradient
 * column right-aligned on the right (numbers line up by their last digit).
 */
export function placeLines(lines, measure, spacing = SPACING.normal) {
  const widthOf = (l) => measure(l.text, l.kind);
  let left = 0;
  let right = 0;
  let single = 0;
  for (const l of lines) {
    if (l.group) continue;
    if (l.column === 'left') left = Math.max(left, widthOf(l));
    else if (l.column === 'right') right = Math.max(right, widthOf(l));
    else single = Math.max(single, widthOf(l));
  }
  const columns = left || right ? left + COLUMN_GAP + right : 0;
  const width = Math.max(spacing === SPACING.normal ? 56 : 40, single, columns) + 2 * spacing.padX;
  const rows = Math.max(...lines.map((l) => l.row)) + 1;
  const rowSize = new Array(rows).fill(0);
  for (const l of lines) rowSize[l.row] = Math.max(rowSize[l.row], fontFor(l.kind));
  const rowY = [];
  let y = spacing.padY;
  for (let r = 0; r < rows; r += 1) {
    y += rowSize[r];
    rowY.push(y);
    y += spacing.lineGap;
  }
  const height = y - spacing.lineGap + spacing.padY + 4;
  const colStart = (width - columns) / 2;
  // Each line placed, written out field by field: a spread of thousands of lines is slow.
  const placed = lines.map((l) => {
    if (l.group) l = { ...l, text: fitText(l.text, width - 2 * spacing.padX, (text) => measure(text, l.kind)) };
    const at = l.column === 'left' ? colStart + left : l.column === 'right' ? colStart + columns : width / 2;
    return { part: l.part, kind: l.kind, row: l.row, column: l.column, text: l.text, ok: l.ok, group: l.group, x: at, y: rowY[l.row], anchor: l.column ? 'end' : 'middle' };
  });
  return { width, height, lines: placed };
}

/**
 * A text cut, with an ellipsis, to what fits in `room`: a closed group's
 * title takes its head's box as it is (see groups.js), so the layout is the
 * same whether groups exist or not.
 */
export function fitText(text, room, width) {
  if (width(text) <= room) return text;
  let n = text.length - 1;
  while (n > 1 && width(`${text.slice(0, n).trimEnd()}…`) > room) n -= 1;
  return `${text.slice(0, n).trimEnd()}…`;
}

/**
 * The two texts a wire shows: its forward value above, its gradient below.
 * A tensor wire shows its shape: its numbers are on the nodes at its ends.
 */
export function edgeLines(model, edge) {
  const src = model.nodeById.get(edge.source);
  const tensor = src.shape && src.shape.length > 0;
  // A wire into a constant sends it no gradient: nothing is written under it.
  if (!tensor) return { value: formatValue(src.value), grad: src.constant ? '' : `← ${formatValue(edge.downstream)}` };
  // In brackets: a bare "2" on a wire would read as a value, not as a shape.
  const shape = `[${shapeText(src.shape)}]`;
  return { value: shape, grad: src.constant ? '' : `← ${shape}` };
}

/** The point halfway along a polyline: where a wire's texts go. */
export function midpoint(points) {
  let total = 0;
  for (let i = 1; i < points.length; i += 1) total += Math.hypot(points[i].x - points[i - 1].x, points[i].y - points[i - 1].y);
  let left = total / 2;
  for (let i = 1; i < points.length; i += 1) {
    const a = points[i - 1];
    const b = points[i];
    const d = Math.hypot(b.x - a.x, b.y - a.y);
    if (d >= left && d > 0) return { x: a.x + ((b.x - a.x) * left) / d, y: a.y + ((b.y - a.y) * left) / d };
    left -= d;
  }
  return { ...points[points.length - 1] };
}

/** Every kind of text the graph draws: a node's lines (see nodeLines) and a wire's texts. */
export const TEXT_KINDS = Object.freeze(['title', 'value', 'grad', 'head', 'head-large', 'check', 'edge']);

function fontFor(kind) {
  if (kind === 'title') return SIZES.title;
  if (kind === 'edge') return SIZES.edge;
  if (kind === 'head') return SIZES.head;
  // The words over a presented tensor's numbers: as large as the numbers.
  if (kind === 'head-large') return SIZES.value;
  return SIZES.value;
}

/** A measure that needs no DOM (node tests, and before fonts load): monospace-like widths. */
export function estimateWidth(text, kind) {
  return String(text).length * fontFor(kind) * 0.62;
}

/**
 * Each node's rank: the length of the longest path from an input to it, so
 * data always flows to the right.
 */
export function longestPathRanks(model) {
  const rank = new Map();
  for (const node of model.nodes) {
    let r = 0;
    for (const e of model.inEdges.get(node.id) || []) r = Math.max(r, (rank.get(e.source) ?? 0) + 1);
    rank.set(node.id, r);
  }
  return rank;
}

// dagre adds a hidden node per rank a wire crosses; past this many (a value
// reused across a long program) its layout takes seconds, so a plain layered
// layout takes over.
export const MAX_DAGRE_CROSSINGS = 1500;
export const MAX_DAGRE_NODES = 400;

/** How many hidden nodes dagre would add for the long wires. */
export function wireCrossings(model, rank = longestPathRanks(model)) {
  let total = 0;
  for (const e of model.edges) total += Math.max(0, rank.get(e.target) - rank.get(e.source) - 1);
  return total;
}

/** Whether a graph takes the plain layered layout (see positionGraph) rather than dagre's. */
export function usesLayered(model, rank = longestPathRanks(model)) {
  return model.nodes.length > MAX_DAGRE_NODES || wireCrossings(model, rank) > MAX_DAGRE_CROSSINGS;
}

/**
 * A node's box: its lines (see nodeLines) placed and measured. A large
 * trace's boxes and wires' texts (see wireTexts) are made a slice at a time
 * and passed to layoutRequest.
 */
export function nodeBox(model, node, measure = estimateWidth, { compact = false, stack = false } = {}) {
  return placeLines(nodeLines(model, node, { stack, presenting: compact }), measure, compact ? SPACING.compact : SPACING.normal);
}

/**
 * What a layout needs to know of a trace, measured on the page (the worker
 * that positions it has no fonts): each node's box and lines, each wire's
 * texts, and the graph to position (see positionGraph), made only of
 * numbers and ids so it crosses to the worker whole. `compact` takes the
 * presenting spacing and leaves an op's shape out of its title; `stack` puts a
 * vector's gradient under its value (see nodeLines).
 */
export function layoutRequest(model, measure = estimateWidth, { compact = false, stack = false } = {}, made = null) {
  const spacing = compact ? SPACING.compact : SPACING.normal;
  const rank = longestPathRanks(model);
  const layered = usesLayered(model, rank);
  const wires = (made && made.wires) || wireTexts(model, rank, layered);
  // Wire texts sit in the gap between ranks, so the gap is as wide as the widest of them.
  let widest = 0;
  for (const w of wires.values()) widest = Math.max(widest, measure(w.cut ? `${w.from}: ${w.value}` : w.value, 'edge'), measure(w.grad, 'edge'));
  const ranksep = Math.min(220, Math.max(spacing.minRanksep, widest + spacing.rankPad));
  const boxes = (made && made.boxes) || new Map(model.nodes.map((node) => [node.id, nodeBox(model, node, measure, { compact, stack })]));
  const graph = {
    layered,
    band: model.nodes.length > BAND_NODES,
    ranksep,
    nodesep: spacing.nodesep,
    margin: spacing.margin,
    nodes: model.nodes.map((n) => ({ id: n.id, width: boxes.get(n.id).width, height: boxes.get(n.id).height, rank: rank.get(n.id) })),
    edges: model.edges.map((e) => ({ id: e.id, source: e.source, target: e.target, bundled: Boolean(wires.get(e.id).bundle), cut: Boolean(wires.get(e.id).cut) })),
  };
  return { boxes, wires, graph };
}

/** Nodes from which on the layered layout is banded (see layeredPositions): about where the drawing culls. */
export const BAND_NODES = 500;
/** Wires out of one node from which on they are bundled: one trunk, one label with the count. */
export const BUNDLE_MIN = 6;
/** Ranks a wire of the layered layout spans from which on it is cut short (see wireTexts). */
export const CUT_RANKS = 6;

/**
 * Each wire's texts (see edgeLines), and how it is drawn. A node that feeds
 * BUNDLE_MIN wires or more sends them as a bundle: one label, on its trunk,
 * says the value and how many wires carry it (`bundle.first`); each wire's
 * own texts go by its target, shown when a step works on that wire. On the
 * layered layout of a large program a wire that spans CUT_RANKS ranks or
 * more (an input read again far on) is cut short: a stub out of its source,
 * a stub into its target, whose label names where the value comes from.
 */
export function wireTexts(model, rank, layered, edges = model.edges) {
  const wires = new Map();
  for (const e of edges) {
    const texts = edgeLines(model, e);
    const outs = model.outEdges.get(e.source) || [];
    // Where a wire is cut (see placeLayout), its label names its source.
    texts.from = displayName(model.nodeById.get(e.source));
    if (layered && rank.get(e.target) - rank.get(e.source) >= CUT_RANKS) texts.cut = true;
    if (outs.length >= BUNDLE_MIN) texts.bundle = { count: outs.length, first: outs[0].id === e.id };
    wires.set(e.id, texts);
  }
  for (const [id, texts] of wires) {
    if (!texts.bundle || !texts.bundle.first) continue;
    // The bundle's label, on its first wire: the value once, with the count.
    wires.set(id, { ...texts, value: `${edgeLines(model, model.edgeById.get(id)).value} ×${texts.bundle.count}`, grad: '' });
  }
  return wires;
}

/**
 * Position a graph of boxes left to right, inputs on the left and the output
 * on the right: dagre (the library module, passed in so the worker and the
 * pure tests bring their own copy), or for large programs the plain layered
 * layout. Answers each node's centre and each wire's points.
 */
export function positionGraph(graph, dagre) {
  if (graph.groups) return groupedPositions(graph, dagre);
  if (graph.layered) return layeredPositions(graph);
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: graph.nodesep, ranksep: graph.ranksep, edgesep: 20, marginx: graph.margin, marginy: graph.margin });
  g.setDefaultEdgeLabel(() => ({}));
  // dagre stacks a rank's nodes in reverse order of insertion: insert the
  // last first, so the first input (x of x, y, z) comes out on top.
  for (const node of [...graph.nodes].reverse()) g.setNode(node.id, { width: node.width, height: node.height });
  for (const edge of [...graph.edges].reverse()) g.setEdge(edge.source, edge.target, {}, edge.id);
  dagre.layout(g);
  const nodes = graph.nodes.map((node) => {
    const n = g.node(node.id);
    return { id: node.id, x: n.x, y: n.y };
  });
  const edges = graph.edges.map((edge) => ({
    id: edge.id,
    points: g.edge(edge.source, edge.target, edge.id).points.map((p) => ({ x: p.x, y: p.y })),
  }));
  const { width, height } = g.graph();
  return { nodes, edges, width, height };
}

/**
 * A large program's layout with its groups (see layoutGroups in groups.js),
 * as TensorBoard's graph lays out its name scopes: what is visible is laid
 * out, one box per group. A closed group is its head's box (its hidden
 * members sit under it); an open group is a box as large as its members'
 * own layout (`inner`: dagre on the group's members alone, made when it is
 * first opened and kept by the page, so it opens the same each time); a node
 * of no group is its own box. Those boxes are laid out as a graph is (dagre,
 * or the layered layout for many), and each node lands at its box's place
 * plus its place inside it. A wire inside an open group keeps its inner
 * path; a wire between boxes takes the path laid out between them, from its
 * own source to its own target. Answers positionGraph's, with `inner` the
 * layouts of the open groups.
 */
function groupedPositions(graph, dagre) {
  const box = new Map(graph.nodes.map((n) => [n.id, n]));
  const unitOf = new Map();
  const inner = { ...(graph.inner || {}) };
  const units = [];
  for (const group of graph.groups) for (const id of group.members) unitOf.set(id, group);
  // Each group's own wires, found in one pass: a link may open thousands of groups.
  const own = new Map();
  for (const e of graph.edges) {
    const g = unitOf.get(e.source);
    if (!g || g !== unitOf.get(e.target)) continue;
    if (!own.has(g.id)) own.set(g.id, []);
    own.get(g.id).push(e);
  }
  for (const group of graph.groups) {
    if (group.closed) {
      const head = box.get(group.head);
      units.push({ id: group.id, width: head.width, height: head.height, group });
      continue;
    }
    if (!inner[group.id]) {
      inner[group.id] = positionGraph({
        ...graph,
        groups: null,
        layered: false,
        margin: 0,
        nodes: group.members.map((id) => box.get(id)),
        edges: own.get(group.id) || [],
      }, dagre);
    }
    units.push({ id: group.id, width: inner[group.id].width, height: inner[group.id].height, group });
  }
  for (const n of graph.nodes) {
    if (unitOf.has(n.id)) continue;
    const unit = { id: n.id, width: n.width, height: n.height, group: null };
    unitOf.set(n.id, unit);
    units.push(unit);
  }
  const unitId = (id) => unitOf.get(id).id;
  // The boxes in the order of the nodes (which is topological): a box's rank is after all it reads.
  const order = new Map(graph.nodes.map((n, i) => [n.id, i]));
  const last = (u) => (u.group ? Math.max(...u.group.members.map((m) => order.get(m))) : order.get(u.id));
  units.sort((a, b) => last(a) - last(b));
  const between = new Map();
  for (const e of graph.edges) {
    const s = unitId(e.source);
    const t = unitId(e.target);
    if (s !== t && !between.has(`${s} ${t}`)) between.set(`${s} ${t}`, { id: `${s} ${t}`, source: s, target: t });
  }
  const rank = new Map();
  const into = new Map();
  for (const e of between.values()) {
    if (!into.has(e.target)) into.set(e.target, []);
    into.get(e.target).push(e.source);
  }
  for (const u of units) rank.set(u.id, Math.max(-1, ...(into.get(u.id) || []).map((s) => rank.get(s) ?? 0)) + 1);
  let crossings = 0;
  for (const e of between.values()) crossings += Math.max(0, rank.get(e.target) - rank.get(e.source) - 1);
  const outs = new Map();
  for (const e of between.values()) outs.set(e.source, (outs.get(e.source) || 0) + 1);
  // As in the whole graph (see wireTexts): a box read by many sends one trunk, a long wire is cut.
  const edges = [...between.values()].map((e) => ({
    ...e,
    bundled: outs.get(e.source) >= BUNDLE_MIN,
    cut: rank.get(e.target) - rank.get(e.source) >= CUT_RANKS,
  }));
  const top = positionGraph({
    ...graph,
    groups: null,
    layered: units.length > MAX_DAGRE_NODES || crossings > MAX_DAGRE_CROSSINGS,
    // Banded at any size: a long program's closed statements read in lines, not one long row.
    band: true,
    nodes: units.map((u) => ({ id: u.id, width: u.width, height: u.height, rank: rank.get(u.id) })),
    edges,
  }, dagre);
  const at = new Map(top.nodes.map((n) => [n.id, n]));
  const centres = new Map();
  for (const u of units) {
    const c = at.get(u.id);
    if (!u.group) centres.set(u.id, { x: c.x, y: c.y });
    else if (u.group.closed) for (const m of u.group.members) centres.set(m, { x: c.x, y: c.y, head: u.group.head });
    else {
      const { nodes, width, height } = inner[u.id];
      for (const n of nodes) centres.set(n.id, { x: c.x - width / 2 + n.x, y: c.y - height / 2 + n.y });
    }
  }
  const paths = new Map(top.edges.map((e) => [e.id, e]));
  const innerPaths = new Map();
  for (const g of graph.groups) if (!g.closed) for (const e of inner[g.id].edges) innerPaths.set(e.id, { g: g.id, points: e.points });
  const out = graph.edges.map((e) => {
    const s = centres.get(e.source);
    const t = centres.get(e.target);
    // A wire into a closed group's hidden member comes into its head's box.
    const a = { x: s.x + box.get(s.head || e.source).width / 2, y: s.y };
    const b = { x: t.x - box.get(t.head || e.target).width / 2, y: t.y };
    const own = innerPaths.get(e.id);
    if (own) {
      const c = at.get(own.g);
      const { width, height } = inner[own.g];
      return { id: e.id, points: own.points.map((p) => ({ x: c.x - width / 2 + p.x, y: c.y - height / 2 + p.y })) };
    }
    const path = paths.get(`${unitId(e.source)} ${unitId(e.target)}`);
    if (!path) return { id: e.id, points: [s, s] }; // inside a closed group: not drawn
    return { id: e.id, cut: path.cut, points: [a, ...path.points.slice(1, -1), b] };
  });
  const nodes = graph.nodes.map((n) => ({ id: n.id, x: centres.get(n.id).x, y: centres.get(n.id).y }));
  return { nodes, edges: out, width: top.width, height: top.height, inner };
}

/**
 * The plain layered layout for large programs: columns by rank, nodes in
 * topological order down each column, wires as curves. Linear time, and
 * still left to right with the output last. Above BAND_NODES nodes the
 * columns wrap into bands, one under the other, so the whole graph is about
 * a screen's shape (its overview and minimap show it, not a thin line); a
 * wire from one band to another is cut into two stubs.
 */
function layeredPositions(graph) {
  const { margin, ranksep } = graph;
  const nodesep = Math.min(24, graph.nodesep);
  const columns = [];
  for (const node of graph.nodes) {
    while (columns.length <= node.rank) columns.push([]);
    columns[node.rank].push(node);
  }
  const heights = columns.map((col) => col.reduce((h, n) => h + n.height + nodesep, -nodesep));
  const tallest = Math.max(...heights);
  const widths = columns.map((col) => Math.max(...col.map((n) => n.width)));
  const bandWidth = graph.band ? bandWidthFor(widths, ranksep, tallest) : Infinity;
  const bandGap = Math.max(120, 2 * ranksep);
  const centres = new Map();
  const bandOf = new Map();
  let x = margin;
  let band = 0;
  let widest = 0;
  columns.forEach((col, r) => {
    const width = widths[r];
    // A long program reads in bands, as text does in lines: the next rank starts a band below.
    if (x > margin && x + width > margin + bandWidth) {
      widest = Math.max(widest, x - ranksep);
      x = margin;
      band += 1;
    }
    let y = margin + band * (tallest + bandGap) + (tallest - heights[r]) / 2;
    for (const n of col) {
      centres.set(n.id, { id: n.id, x: x + width / 2, y: y + n.height / 2, width: n.width, height: n.height });
      bandOf.set(n.id, band);
      y += n.height + nodesep;
    }
    x += width + ranksep;
  });
  widest = Math.max(widest, x - ranksep);
  // A stub of a cut wire is as long as half the gap between ranks.
  const stub = Math.max(24, ranksep / 2);
  const edges = graph.edges.map((e) => {
    const s = centres.get(e.source);
    const t = centres.get(e.target);
    const a = { x: s.x + s.width / 2, y: s.y };
    const b = { x: t.x - t.width / 2, y: t.y };
    if (e.cut || bandOf.get(e.source) !== bandOf.get(e.target)) {
      // The stub comes in under the wires that come whole, so its label reads apart from theirs.
      const low = { x: b.x, y: t.y + Math.max(0, t.height / 2 - 8) };
      return { id: e.id, cut: true, points: [a, { x: a.x + stub / 2, y: a.y }, { x: low.x - stub, y: low.y + 14 }, low] };
    }
    // A bundle leaves its source as one trunk, runs down a bus, and turns into each target.
    if (e.bundled) return { id: e.id, points: [a, { x: a.x + stub, y: a.y }, { x: a.x + stub, y: b.y }, b] };
    return { id: e.id, points: [a, { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 }, b] };
  });
  const nodes = graph.nodes.map((n) => ({ id: n.id, x: centres.get(n.id).x, y: centres.get(n.id).y }));
  return { nodes, edges, width: widest + margin, height: (band + 1) * tallest + band * bandGap + 2 * margin };
}

/**
 * How wide a band of a banded layout is: so many that the whole graph is
 * about a screen's shape (16:9), each band at least a screen's width of
 * ranks at readable type.
 */
function bandWidthFor(widths, ranksep, tallest) {
  const total = widths.reduce((w, c) => w + c + ranksep, 0);
  const bandHeight = tallest + Math.max(120, 2 * ranksep);
  const bands = Math.max(1, Math.round(Math.sqrt((total * 9) / (16 * bandHeight))));
  return Math.max(2400, total / bands);
}

/**
 * The layout the drawing uses: the request's boxes and wire texts at the
 * positions found for them. Keyed by node and edge id.
 */
export function placeLayout({ boxes, wires }, positions) {
  const nodes = new Map();
  for (const { id, x, y } of positions.nodes) {
    const box = boxes.get(id);
    nodes.set(id, { x, y, width: box.width, height: box.height, lines: box.lines });
  }
  const edges = new Map();
  for (const { id, points, cut } of positions.edges) {
    const texts = wires.get(id);
    // A cut wire's label is by its target; a bundle's on its trunk, its wires' own by their targets.
    let at = midpoint(points);
    if (cut) at = midpoint(points.slice(2));
    else if (texts.bundle) at = texts.bundle.first ? midpoint(points.slice(0, 2)) : midpoint(points.slice(-2));
    const value = cut && !texts.bundle?.first ? `${texts.from}: ${texts.value}` : texts.value;
    // Whether a wire is cut is the positions' to say: a large graph's groups lay it out shorter.
    edges.set(id, { points, x: at.x, y: at.y, ...texts, cut: Boolean(cut), value });
  }
  // A layout of groups (see groupedPositions) has drawn the wires into closed groups already.
  return { nodes, edges, width: positions.width, height: positions.height, grouped: Boolean(positions.inner) };
}

/** A trace laid out in one go, on this thread: the request, its positions, the layout. */
export function computeLayout(model, dagre, measure = estimateWidth, options = {}) {
  const request = layoutRequest(model, measure, options);
  return placeLayout(request, positionGraph(request.graph, dagre));
}
