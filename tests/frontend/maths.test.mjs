import test from 'node:test';
import assert from 'node:assert/strict';
import {
  edgeChainLatex, forwardLatex, opLatex, localLatex, placeholders, substitute, sumLatex, texNumber, texSymbol, texText, texValue,
} from '../../frontend/js/maths.js';
import { prepareTrace } from '../../frontend/js/steps.js';
import { fixture, registry } from './helpers.mjs';

// The op registry as the server sends it.
const OPS = registry();

test('LaTeX specials in user text are escaped', () => {
  assert.equal(texText('a_b{c}$'), 'a\\_b\\{c\\}\\$');
  assert.equal(texText('\\x'), '\\textbackslash{}x');
});

test('numbers and small tensors in LaTeX', () => {
  assert.equal(texNumber(3), '3');
  assert.equal(texNumber(-Infinity), '-\\infty');
  assert.equal(texNumber(2e-7), '2 \\times 10^{-7}');
  assert.equal(texValue([1, 2]), '\\begin{bmatrix} 1 \\\\ 2 \\end{bmatrix}');
  assert.equal(texValue([[1, 2], [3, 4]]), '\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}');
  assert.match(texValue(Array.from({ length: 20 }, () => 0)), /\(20\)/);
});

test('placeholders come from the syntax, and only whole words are replaced', () => {
  assert.deepEqual(placeholders('max(a, b)'), ['a', 'b']);
  assert.deepEqual(placeholders('a.T'), ['a']);
  assert.equal(substitute('\\max(a, b)', ['a', 'b'], ['y', 'z']), '\\max({y}, {z})');
  assert.equal(substitute('\\operatorname{max}(a, b)', ['a', 'b'], ['1', '2']), '\\operatorname{max}({1}, {2})');
  assert.equal(substitute('\\mathbf{1}(a > b)', ['a', 'b'], ['y', 'z']), '\\mathbf{1}({y} > {z})');
});

test('the forward step writes the equation, then its numbers, then the value', () => {
  const model = prepareTrace(fixture('lecture_scalar'));
  assert.equal(forwardLatex(model, model.nodeById.get('n4'), OPS), '\\max(y, z) = \\max(2, 0) = 2');
  assert.equal(forwardLatex(model, model.nodeById.get('n2'), OPS), 'x + y = 1 + 2 = 3');
  assert.equal(forwardLatex(model, model.nodeById.get('n5'), OPS), '(\\text{x + y}) \\cdot (\\text{max(y, z)}) = 3 \\cdot 2 = 6');
  assert.equal(forwardLatex(model, model.nodeById.get('n0'), OPS), 'x = 1');
  // Without the op registry it still says what happened.
  assert.equal(forwardLatex(model, model.nodeById.get('n4'), null), '\\operatorname{max}(y, z) = \\operatorname{max}(2, 0) = 2');
});

test('a negative number is parenthesised as an operator\'s operand, not as a function\'s argument', () => {
  const raw = fixture('lecture_scalar');
  raw.nodes.find((n) => n.id === 'n1').value = -2;
  const model = prepareTrace(raw);
  assert.equal(forwardLatex(model, model.nodeById.get('n2'), OPS), 'x + y = 1 + (-2) = 3');
  assert.equal(forwardLatex(model, model.nodeById.get('n4'), OPS), '\\max(y, z) = \\max(-2, 0) = 2');
});

test('every node is written by its one display name, from the trace', () => {
  const model = prepareTrace(fixture('lecture_scalar'));
  assert.equal(texSymbol(model, model.nodeById.get('n2')), '(\\text{x + y})');
  assert.equal(texSymbol(model, model.nodeById.get('n5')), 'f');
  assert.equal(texSymbol(model, model.nodeById.get('n0')), 'x');
  // A program that names something f: the server names the output "out", and so does the page.
  const raw = fixture('lecture_scalar');
  raw.nodes[0].name = 'f';
  raw.nodes[0].display_name = 'f';
  raw.nodes[5].display_name = 'out';
  const other = prepareTrace(raw);
  assert.equal(texSymbol(other, other.nodeById.get('n5')), '\\mathit{out}');
  // A subexpression too long to be named by its text is named by its id.
  raw.nodes[2].display_name = 'n2';
  const long = prepareTrace(raw);
  assert.equal(texSymbol(long, long.nodeById.get('n2')), '\\text{+}_{n2}');
});

test('ops are written from the registry\'s templates', () => {
  const latex = (name, args) => opLatex(OPS.get(name), OPS.get(name).label, args);
  assert.equal(latex('div', ['1', '2']), '\\frac{1}{2}');
  assert.equal(latex('pow', ['x', '3']), '{x}^{3}');
  assert.equal(latex('matmul', ['W', 'x']), 'W\\,x');
  assert.equal(latex('transpose', ['W']), '{W}^{\\top}');
  assert.equal(latex('neg', ['x']), '-x');
  assert.equal(latex('sigmoid', ['z']), '\\sigma(z)');
  assert.equal(latex('relu', ['z']), '\\operatorname{relu}(z)');
  // Every op of the registry has its template, with a place for each argument.
  for (const op of OPS.values()) {
    for (let i = 1; i <= op.arity; i += 1) assert.ok(op.latex.includes(`#${i}`), `${op.name} #${i}`);
  }
});

test('index formulas keep their letters, with the mapping beside them', () => {
  const model = prepareTrace(fixture('neural_net'));
  const local = localLatex(model, model.edgeById.get('e1'), OPS);
  assert.match(local, /A_\{ik\}\\,\\mathbf\{1\}\(j = l\) \\quad \(A = W,\\ B = x\)$/);
});

test('each input edge reads [downstream] = [upstream] x [local]', () => {
  const model = prepareTrace(fixture('lecture_scalar'));
  const chain = edgeChainLatex(model, model.edgeById.get('e2'));
  assert.match(chain.symbolic, /downstream.*=.*upstream.*\\times.*local/);
  assert.equal(chain.numeric, '3 = 3 \\times 1');
  const local = localLatex(model, model.edgeById.get('e2'), OPS);
  assert.equal(local, '\\frac{\\partial (\\text{max(y, z)})}{\\partial y} = \\mathbf{1}({y} > {z}) = 1');
});

test('a local gradient that is its own number is written once: = 1, not = 1 = 1', () => {
  const model = prepareTrace(fixture('lecture_scalar'));
  assert.equal(localLatex(model, model.edgeById.get('e0'), OPS), '\\frac{\\partial (\\text{x + y})}{\\partial x} = 1');
  // A formula in symbols still shows its value: * gives the other input, here max(y, z) = 2.
  assert.match(localLatex(model, model.edgeById.get('e4'), OPS), / = \{\(\\text\{max\(y, z\)\}\)\} = 2$/);
});

test('gradients sum at an outward branch: 2 + 3 = 5', () => {
  const model = prepareTrace(fixture('lecture_scalar'));
  assert.equal(sumLatex(model, model.nodeById.get('n1')), '\\frac{\\partial f}{\\partial y} = 2 + 3 = 5');
  assert.equal(sumLatex(model, model.nodeById.get('n5')), '\\frac{\\partial f}{\\partial f} = 1');
  assert.equal(sumLatex(model, model.nodeById.get('n0')), '\\frac{\\partial f}{\\partial x} = 2');
});

test('tensor edges leave the numbers to the tables', () => {
  const model = prepareTrace(fixture('neural_net'));
  // A tensor gradient is named with its space; the table below carries the numbers.
  assert.equal(sumLatex(model, model.nodeById.get('n0')), '\\frac{\\partial s}{\\partial W} \\in \\mathbb{R}^{2 \\times 3}');
  assert.equal(texValue([[1, 2, 3, 4]]), '\\text{(1×4)}');
  const chain = edgeChainLatex(model, model.edgeById.get('e4'));
  assert.equal(chain.numeric, null);
  assert.match(chain.symbolic, /\\partial s\}\{\\partial z\}/);
});

test('a long sum at a branch keeps its ends and its count', () => {
  const raw = fixture('lecture_scalar');
  // y feeds ten nodes: copy its wire to max nine more times.
  const wire = raw.edges.find((e) => e.id === 'e2');
  for (let i = 0; i < 9; i += 1) raw.edges.push({ ...wire, id: `extra${i}`, downstream: i + 10 });
  const latex = sumLatex(prepareTrace(raw), prepareTrace(raw).nodeById.get('n1'));
  assert.match(latex, /= 2 \+ 3 \+ 10 \+ \\cdots \+ 17 \+ 18\\ \\text\{\(11 terms\)\} = 5$/);
});
