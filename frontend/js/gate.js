/**
 * Pure: the gate view's numbers. An op's gate (its entry's `gate` in the op
 * registry, the lecture's class with forward() and backward()) is read for
 * what it names: the arguments of forward (x, y), what it keeps on self
 * (self.x = x, self.z = z) and the lines of backward that give each
 * downstream gradient (dx = self.y * dz). Each name is then given this node's
 * number from the trace, so the gate reads as the lecture says it: "dz = 1,
 * self.y = 3, so dx = 3". The gate text itself is only read, never run.
 */

import { formatValue, shapeOf } from './format.js';
import { displayName } from './steps.js';

const FORWARD = /def forward\(self(?:,\s*([^)]*))?\)/;
const KEEP = /^\s*self\.(\w+)\s*=\s*(\w+)\s*(?:#.*)?$/;
const GRADIENT = /^\s*d(\w+)\s*=\s*([^#]*?)\s*(?:#.*)?$/;

/** The parts of a gate's text: its class name, forward's arguments, what self keeps (attribute -> name), backward's lines. */
export function readGate(text) {
  const lines = String(text || '').split('\n');
  const name = (/class\s+(\w+)/.exec(text || '') || [])[1] || '';
  const forward = FORWARD.exec(text || '');
  const args = forward && forward[1] ? forward[1].split(',').map((a) => a.trim()).filter(Boolean) : [];
  const keeps = new Map();
  const gradients = [];
  let inBackward = false;
  lines.forEach((line, row) => {
    if (/def backward\(/.test(line)) inBackward = true;
    else if (/def forward\(/.test(line)) inBackward = false;
    const keep = KEEP.exec(line);
    if (!inBackward && keep) keeps.set(keep[1], keep[2]);
    const grad = GRADIENT.exec(line);
    if (inBackward && grad && args.includes(grad[1])) gradients.push({ argument: grad[1], expression: grad[2], row });
  });
  return { name, args, keeps, gradients, lines };
}

/**
 * This node's numbers for its gate: {name, forward: [{name, value}], output,
 * upstream, gradients: [{argument, row, uses: [{name, value}], value, text}]}; each forward
 * argument also carries `source`, the program's name for it.
 * Values are the trace's (numbers or nested arrays); `text` is the sentence
 * "dz = 1, self.y = 3, so dx = 3". Null when the node has no gate.
 */
export function gateNumbers(model, node, op) {
  if (!op || !op.gate || node.kind !== 'op') return null;
  const gate = readGate(op.gate);
  const edges = model.inEdges.get(node.id) || [];
  const known = new Map();
  gate.args.forEach((arg, i) => {
    const edge = edges[i];
    if (edge) known.set(arg, { value: model.nodeById.get(edge.source).value, edge });
  });
  known.set('z', { value: node.value });
  // Each argument with the program's name for it: the gate's x is max's first input, whatever it is called.
  const forward = gate.args.filter((a) => known.has(a)).map((a) => ({ name: a, value: known.get(a).value, source: displayName(model.nodeById.get(known.get(a).edge.source)) }));
  const gradients = gate.gradients.map(({ argument, expression, row }) => {
    const edge = known.get(argument)?.edge;
    const uses = [];
    if (/\bdz\b/.test(expression)) uses.push({ name: 'dz', value: node.grad });
    for (const [attribute, source] of gate.keeps) {
      if (new RegExp(`\\bself\\.${attribute}\\b`).test(expression) && known.has(source)) uses.push({ name: `self.${attribute}`, value: known.get(source).value });
    }
    // A name the gate computes on the way (max's share): the local gradient it comes to.
    const other = expression.replace(/\bself\.\w+|\bnp\.\w+|\bdz\b/g, '').match(/\b[A-Za-z_]\w*\b/);
    if (other && edge && edge.local !== null && edge.local !== undefined && shapeOf(edge.local).length === 0) uses.push({ name: 'local', value: edge.local });
    const value = edge ? edge.downstream : null;
    const said = uses.map((u) => `${u.name} = ${formatValue(u.value)}`).join(', ');
    const text = value === null ? said : `${said}${said ? ', so ' : ''}d${argument} = ${formatValue(value)}`;
    return { argument, row, uses, value, text };
  });
  return { name: gate.name, lines: gate.lines, forward, output: node.value, upstream: node.grad, gradients };
}
