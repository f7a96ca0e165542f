/**
 * Finding a node by what the page calls it: the box above the graph takes a
 * name ("h", "z", "W", "v123") and the page jumps to that node's step. Pure.
 */

import { displayName, stepOfNode } from './steps.js';

/**
 * The node a typed name means: one called exactly that (its display name,
 * its name or its id), else the same without regard to case, else the
 * first whose display name starts with it. Null when none does.
 */
export function findNode(model, text) {
  const wanted = String(text).trim();
  if (!model || !wanted) return null;
  const names = (n) => [displayName(n), n.name, n.id].filter((x) => x !== undefined && x !== null).map(String);
  const lower = wanted.toLowerCase();
  const tests = [
    (n) => names(n).includes(wanted),
    (n) => names(n).some((x) => x.toLowerCase() === lower),
    (n) => displayName(n).toLowerCase().startsWith(lower),
  ];
  for (const test of tests) {
    const found = model.nodes.find(test);
    if (found) return found.id;
  }
  return null;
}

/**
 * The step to jump to for a found node: its forward step, or, when that is
 * the step shown already, its backward step (so Enter again goes on to where
 * its gradient is computed), and back.
 */
export function stepToFind(model, id, at) {
  const forward = stepOfNode(model, id, 'forward');
  const backward = stepOfNode(model, id, 'backward');
  if (at === forward && backward !== undefined) return backward;
  return forward ?? backward;
}
