/**
 * Groups: each statement's nodes, and each call of a function the program
 * defines (the trace's `groups`), can be drawn as one box and opened again.
 * A closed call is a composite gate, as the lecture's sigmoid gate: one
 * wire per input, carrying the gate's own local gradient and downstream.
 * Pure, no DOM: what is hidden, which node heads each box, and where the
 * wires that cross a box's edge go.
 *
 * A graph below COLLAPSE_NODES opens with its groups open and is laid out
 * as it always was; closing a group there moves nothing: the group is drawn
 * on its output node's box (its head, which already shows the statement's
 * value and gradient; the group's title is cut to that box), its other
 * members are hidden, and a wire from outside into a hidden member is drawn
 * into the head instead. A small graph's space is worth keeping still.
 *
 * A larger graph opens closed, and there a closed group's kept space would
 * be most of the drawing: it is laid out as what is visible, one box per
 * group (layoutGroups here, positioned by groupedPositions in layout.js),
 * as TensorBoard's graph and Model Explorer lay out their scopes. A group
 * opened is laid out on its own, once, and that layout is kept (per group,
 * on the model), so it opens the same each time; the graph around it makes
 * room, and the page keeps the group's box where it was on the screen, so
 * what the user looks at does not jump. Two levels, statements and what is
 * outside them, are enough: a call inside an open statement closes in
 * place, as in a small graph. Nested compound layouts (dagre's included)
 * were not chosen: they lay out every member again on each toggle, so an
 * opened group would not keep its arrangement.
 */

import { toNumbers } from './format.js';

/**
 * From this many nodes on, a graph opens with its groups closed: about a
 * screen and a half of boxes at readable type, past which a program reads
 * better statement by statement.
 */
export const COLLAPSE_NODES = 150;

/** A group's title when closed: its statement, shortened to fit a box. */
const TITLE_CHARS = 28;

/**
 * The groups of a model that can close (the trace lists those of two nodes
 * or more: one node is its own box already); a statement only when it is
 * not the whole program (closing it would leave one box).
 */
export function groupsOf(model) {
  if (model.groups) return model.groups;
  const groups = new Map();
  const all = (model.raw && model.raw.groups) || [];
  let computed = 0;
  for (const n of model.nodes) if (n.kind !== 'input') computed += 1;
  const whole = (g) => g.kind === 'statement' && g.nodes.length >= computed;
  // A statement that is one call (h1 = neuron(W1, x, b1)) is the same box as its call: kept once,
  // as the statement, whose title shows the call.
  const statementOf = new Map(all.filter((g) => g.kind === 'statement' && !whole(g)).map((g) => [g.output, g]));
  for (const raw of all) {
    if (raw.nodes.length < 2 || whole(raw)) continue;
    const same = statementOf.get(raw.output);
    if (raw.kind === 'call' && same && same.nodes.length === raw.nodes.length) continue;
    const wires = new Map((raw.wires || []).map((w) => [w.source, {
      ...w,
      local: w.local === null || w.local === undefined ? null : toNumbers(w.local),
      downstream: toNumbers(w.downstream),
    }]));
    groups.set(raw.id, { ...raw, members: new Set(raw.nodes), title: groupTitle(model.expression, raw), wires });
  }
  const headOf = new Map();
  const groupOfNode = new Map();
  for (const g of groups.values()) {
    headOf.set(g.output, g);
    for (const id of g.nodes) groupOfNode.set(id, g);
  }
  model.groups = groups;
  model.groupHeads = headOf;
  model.groupOfNode = groupOfNode;
  return groups;
}

/** The statement's text, on one line, cut with an ellipsis past TITLE_CHARS. */
export function groupTitle(expression, group) {
  const text = String(expression).slice(group.span[0], group.span[1]).replace(/\s+/g, ' ').trim();
  return text.length > TITLE_CHARS ? `${text.slice(0, TITLE_CHARS - 1)}…` : text;
}

/** The groups a trace opens with closed: all of them from COLLAPSE_NODES nodes on, else none. */
export function initialCollapsed(model) {
  const groups = groupsOf(model);
  return model.nodes.length >= COLLAPSE_NODES ? new Set(groups.keys()) : new Set();
}

/** The groups closed once the user's `toggles` (group ids opened or closed since) are applied. */
export function collapsedWith(model, toggles) {
  const closed = initialCollapsed(model);
  for (const id of toggles) {
    if (!model.groups.has(id)) continue;
    if (closed.has(id)) closed.delete(id);
    else closed.add(id);
  }
  return closed;
}

/**
 * What a set of closed groups hides and moves: `hidden` (the members that
 * are not heads), `heads` (group id by head node, of closed groups),
 * `routes` (per wire: 'hidden' for a wire inside a closed group, or the
 * head a wire from outside is drawn into instead of its hidden target).
 */
export function collapsedView(model, collapsed) {
  const groups = groupsOf(model);
  // Outermost first: a call inside a closed statement is hidden with it.
  const closed = [...collapsed].map((id) => groups.get(id)).filter(Boolean).sort((a, b) => b.nodes.length - a.nodes.length);
  const hidden = new Map();
  const heads = new Map();
  const owner = new Map();
  for (const g of closed) {
    if (hidden.has(g.output)) continue;
    heads.set(g.output, g);
    for (const n of g.nodes) {
      if (owner.has(n)) continue;
      owner.set(n, g);
      if (n !== g.output) hidden.set(n, g);
    }
  }
  // Each wire into a closed box from outside: the first from each source is drawn into the box
  // and carries the gate's numbers for that input; the others are not drawn. Wires inside are not.
  const routes = new Map();
  if (owner.size) {
    const seen = new Set();
    for (const e of model.edges) {
      const into = owner.get(e.target);
      if (hidden.has(e.source) || (into && into.members.has(e.source))) {
        if (into || hidden.has(e.source)) routes.set(e.id, 'hidden');
        continue;
      }
      if (!into) continue;
      const key = `${into.id} ${e.source}`;
      if (seen.has(key)) {
        routes.set(e.id, 'hidden');
        continue;
      }
      seen.add(key);
      routes.set(e.id, { head: into.output, moved: e.target !== into.output, wire: into.wires.get(e.source) || null });
    }
  }
  return { hidden, heads, routes };
}

/** The node a step's light goes on: its own, or its closed group's head. */
export function shownNode(view, nodeId) {
  const g = view.hidden.get(nodeId);
  return g ? g.output : nodeId;
}

/** Whether a graph lays out what its closed groups show (see above), rather than everything open. */
export function laysOutGroups(model) {
  return model.nodes.length >= COLLAPSE_NODES && groupsOf(model).size > 0;
}

/**
 * The groups a large graph's layout takes (see groupedPositions in
 * layout.js): the outermost ones, each with its members, its head, and
 * whether it is closed; and `inner`, the kept layouts of those already
 * opened under these `options` (a layout for the presenting spacing is not
 * one for the normal). `keepInner` keeps the inner layouts a layout answers.
 */
export function layoutGroups(model, collapsed, options = {}) {
  const key = `${Boolean(options.compact)} ${Boolean(options.stack)}`;
  if (!model.innerLayouts) model.innerLayouts = new Map();
  if (!model.innerLayouts.has(key)) model.innerLayouts.set(key, {});
  const kept = model.innerLayouts.get(key);
  const owned = new Set();
  const groups = [];
  for (const g of [...groupsOf(model).values()].sort((a, b) => b.nodes.length - a.nodes.length)) {
    if (g.nodes.some((n) => owned.has(n))) continue;
    for (const n of g.nodes) owned.add(n);
    groups.push({ id: g.id, members: [...g.nodes], head: g.output, closed: collapsed.has(g.id) });
  }
  const inner = {};
  for (const g of groups) if (!g.closed && kept[g.id]) inner[g.id] = kept[g.id];
  return { groups, inner, keepInner: (answered) => Object.assign(kept, answered || {}) };
}
