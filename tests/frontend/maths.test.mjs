import test from 'node:test';
import assert from 'node:assert/strict';
import {
  edgeChainLatex, forwardLatex, stripParens, syntaxLatex, localLatex, placeholders, substitute, sumLatex, texNumber, texSymbol, texText, texValue,
} from '../../frontend/js/maths.js';
import { prepareTrace } from '../../frontend/js/steps.js';
import { fixture } from './helpers.mjs';

// Op descriptions as GET /api/v1/ops gives them: generic argument names.
const OPS = new Map([
  ['add', { name: 'add', syntax: 'a + b', arity: 2, forward_latex: 'a + b', local_latex: ['1', '1'], intuition: 'distributes the upstream gradient', elementwise: true }],
  ['mul', { name: 'mul', syntax: 'a * b', arity: 2, forward_latex: 'a \\cdot b', local_latex: ['b', 'a'], intuition: 'switches', elementwise: true }],
  ['max', { name: 'max', syntax: 'max(a, b)', arity: 2, forward_latex: '\\max(a, b)', local_latex: ['\\mathbf{1}(a > b)', '\\mathbf{1}(b > a)'], intuition: 'routes', elementwise: true }],
]);

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
  assert.equal(forwardLatex(model, model.nodeById.get('n4'), null), '\\max(y, z) = \\max(2, 0) = 2');
});

test('an unnamed subexpression is named by its text, the unnamed output f', () => {
  const model = prepareTrace(fixture('lecture_scalar'));
  assert.equal(texSymbol(model, model.nodeById.get('n2')), '(\\text{x + y})');
  assert.equal(texSymbol(model, model.nodeById.get('n5')), 'f');
  // The engine's span of (x + y) may include its parentheses: no doubling.
  const spanned = fixture('lecture_scalar');
  spanned.nodes[2].span = [0, 7];
  const withParens = prepareTrace(spanned);
  assert.equal(texSymbol(withParens, withParens.nodeById.get('n2')), '(\\text{x + y})');
  assert.equal(stripParens('(a) * (b)'), '(a) * (b)');
  assert.equal(stripParens('((a))'), 'a');
  // A program that names something f keeps f for it; the output becomes "out".
  const raw = fixture('lecture_scalar');
  raw.nodes[0].name = 'f';
  const other = prepareTrace(raw);
  assert.equal(texSymbol(other, other.nodeById.get('n5')), '\\mathrm{out}');
});

test('ops are written from their syntax', () => {
  assert.equal(syntaxLatex('a / b', '/', ['1', '2']), '\\frac{1}{2}');
  assert.equal(syntaxLatex('a ** b', '**', ['x', '3']), '{x}^{3}');
  assert.equal(syntaxLatex('A @ B', '@', ['W', 'x']), 'W\\,x');
  assert.equal(syntaxLatex('a.T', '.T', ['W']), '{W}^{\\top}');
  assert.equal(syntaxLatex('-a', '-', ['x']), '-x');
  assert.equal(syntaxLatex('sigmoid(x)', 'sigmoid', ['z']), '\\sigma(z)');
  assert.equal(syntaxLatex('relu(x)', 'relu', ['z']), '\\operatorname{relu}(z)');
});

test('index formulas keep their letters, with the mapping beside them', () => {
  const model = prepareTrace(fixture('neural_net'));
  const ops = new Map([['matmul', { name: 'matmul', syntax: 'A @ B', forward_latex: '(AB)_{ij}', local_latex: ['\\delta_{ik} B_{lj}', 'A_{ik}\\,\\delta_{jl}'], elementwise: false }]]);
  const local = localLatex(model, model.edgeById.get('e1'), ops);
  assert.match(local, /A_\{ik\}\\,\\delta_\{jl\} \\quad \(A = W,\\ B = x\)$/);
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
