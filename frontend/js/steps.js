/**
 * Trace → frames to replay. A trace is computed once by the server; a frame
 * says, for one step, which values and gradients are already known, which
 * node and edges the step works on, and how gradients sum at a branch.
 * Pure, no DOM, so stepping back is as cheap as stepping forward.
 */

import { toNumber, toNumbers } from './format.js';

/**
 * Read a contract trace into a model: numbers instead of the strings of
 * non-finite values, and indexes by id and by edge direction.
 */
export function prepareTrace(raw) {
  const nodes = raw.nodes.map((n) => ({
    ...n,
    value: toNumbers(n.value),
    grad: toNumbers(n.grad),
  }));
  const edges = raw.edges.map((e) => ({
    ...e,
    upstream: toNumbers(e.upstream),
    local: e.local === null || e.local === undefined ? null : toNumbers(e.local),
    downstream: toNumbers(e.downstream),
  }));
  const nodeById = new Map(nodes.map((n) => [n.id, n]));
  const edgeById = new Map(edges.map((e) => [e.id, e]));
  const inEdges = new Map(nodes.map((n) => [n.id, []]));
  const outEdges = new Map(nodes.map((n) => [n.id, []]));
  for (const e of edges) {
    if (inEdges.has(e.target)) inEdges.get(e.target).push(e);
    if (outEdges.has(e.source)) outEdges.get(e.source).push(e);
  }
  for (const list of inEdges.values()) list.sort((a, b) => a.index - b.index);

  const forwardAt = new Map();
  const backwardAt = new Map();
  let forwardCount = 0;
  for (const s of raw.steps) {
    if (s.phase === 'forward') {
      forwardAt.set(s.node, s.index);
      forwardCount += 1;
    } else backwardAt.set(s.node, s.index);
  }
  const gradients = Object.create(null);
  for (const key of Object.keys(raw.gradients || {})) gradients[key] = toNumbers(raw.gradients[key]);
  let check = null;
  if (raw.check) {
    check = Object.create(null);
    for (const key of Object.keys(raw.check)) {
      const c = raw.check[key];
      check[key] = { ...c, numeric: toNumbers(c.numeric), max_abs_error: toNumber(c.max_abs_error) };
    }
  }
  const warningsByNode = new Map();
  for (const w of raw.warnings || []) {
    if (w.node === null || w.node === undefined) continue;
    if (!warningsByNode.has(w.node)) warningsByNode.set(w.node, []);
    warningsByNode.get(w.node).push(w);
  }
  return {
    raw,
    expression: raw.expression,
    output: raw.output,
    value: toNumbers(raw.value),
    gradients,
    check,
    warnings: raw.warnings || [],
    warningsByNode,
    nodes,
    edges,
    steps: raw.steps,
    nodeById,
    edgeById,
    inEdges,
    outEdges,
    forwardAt,
    backwardAt,
    forwardCount,
  };
}

/** The steps of each phase as [start, end) ranges, for the scrubber's marks. */
export function phaseRanges(model) {
  const n = model.steps.length;
  return { forward: [0, model.forwardCount], backward: [model.forwardCount, n] };
}

/**
 * What is known at step `s`. During the forward pass a node's value shows
 * once its step has run (later nodes stay empty) and a wire carries its
 * source's value; during the backward pass a wire's downstream gradient shows
 * once its target's step has run, and a node's gradient once its own has.
 */
export function frameAt(model, s) {
  const step = model.steps[s];
  // Whether a node's step in a phase has run by step s.
  const ran = (at, id) => {
    const i = at.get(id);
    return i !== undefined && i <= s;
  };
  const nodes = new Map();
  // A constant (a literal, or an input the request names as data) needs no
  // gradient: none is drawn on it or on the wires into it.
  const needed = (id) => !model.nodeById.get(id)?.constant;
  for (const n of model.nodes) {
    nodes.set(n.id, {
      value: ran(model.forwardAt, n.id),
      grad: ran(model.backwardAt, n.id) && needed(n.id),
      current: step !== undefined && step.node === n.id,
    });
  }
  const currentEdges = new Set(step ? step.edges : []);
  // At a branch the backward step of a node adds up its outgoing wires.
  const summing = new Set();
  const outs = step ? model.outEdges.get(step.node) || [] : [];
  if (step && step.phase === 'backward' && outs.length > 1) {
    for (const e of outs) summing.add(e.id);
  }
  const edges = new Map();
  for (const e of model.edges) {
    edges.set(e.id, {
      value: ran(model.forwardAt, e.source),
      grad: ran(model.backwardAt, e.target) && needed(e.source),
      current: currentEdges.has(e.id),
      summing: summing.has(e.id),
    });
  }
  return { index: s, step, phase: step ? step.phase : null, nodes, edges };
}

/**
 * What a drawing still has to change to show `frame`: the ids of the nodes
 * and wires whose shown state differs from the frame's. `shown` holds, per
 * id, the state last applied to that node or wire (a wire's with the phase
 * it was drawn in); a drawing that applies only part of a change at once
 * (what is on screen first) asks again for what is left.
 */
export function staleParts(shown, frame) {
  const nodes = [];
  for (const [id, s] of frame.nodes) {
    const p = shown.nodes.get(id);
    if (!p || p.value !== s.value || p.grad !== s.grad || p.current !== s.current) nodes.push(id);
  }
  const edges = [];
  for (const [id, s] of frame.edges) {
    const p = shown.edges.get(id);
    if (!p || p.phase !== frame.phase || p.value !== s.value || p.grad !== s.grad || p.current !== s.current || p.summing !== s.summing) edges.push(id);
  }
  return { nodes, edges };
}

/** The first step at which a node does something in a phase: a click on a node jumps there. */
export function stepOfNode(model, nodeId, phase) {
  const at = phase === 'backward' ? model.backwardAt : model.forwardAt;
  return at.get(nodeId);
}

/**
 * A node's one name, as the server made it (the trace's `display_name`):
 * the step texts, the panel, the graph and what a screen reader says all
 * use it. A trace without it (an older server) falls back to the name or id.
 */
export function displayName(node) {
  return node.display_name ?? node.name ?? node.id;
}

/** Whether a node is named by the text it came from (an unnamed op inside the program), not by a name. */
export function isSubexpression(model, node) {
  return node.kind === 'op' && !node.name && node.id !== model.output;
}

/**
 * Where a node's gradient comes from at its backward step: one part per
 * outgoing wire, with the consumer, the argument it fills, the wire's
 * upstream, local and downstream, and for an op the registry says routes
 * its gradient (max to the larger input, min to the smaller) the input it
 * went to (none when a tie splits it).
 */
export function gradientSources(model, nodeId, ops) {
  if (nodeId === model.output) return [];
  return (model.outEdges.get(nodeId) || []).map((edge) => {
    const consumer = model.nodeById.get(edge.target);
    const info = ops && consumer.op ? ops.get(consumer.op) : null;
    const routing = (info && info.routes_to) || null;
    let routedTo = null;
    if (routing) {
      const ins = model.inEdges.get(consumer.id) || [];
      const taken = ins.filter((e) => typeof e.local === 'number' && e.local !== 0);
      if (taken.length === 1 && ins.length > 1) routedTo = taken[0];
    }
    return { edge, consumer, argument: edge.index + 1, routing, routedTo };
  });
}
