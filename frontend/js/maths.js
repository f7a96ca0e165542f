/**
 * The LaTeX of a step: the forward equation with its numbers, and for the
 * backward pass the lecture's [downstream] = [upstream] x [local] per input
 * edge, the local gradient's formula, and the sum at an outward branch.
 * Pure: strings in, strings out; the panel hands them to KaTeX.
 */

import { flatten, formatNumber, shapeOf, shapeText, toNumber } from './format.js';
import { displayName, isSubexpression } from './steps.js';

// Beyond this a matrix no longer fits the panel in KaTeX: the tables show it.
const MAX_MATRIX_ELEMENTS = 8;
const MAX_MATRIX_COLUMNS = 3;
const MAX_SUM_TERMS = 8;

/** Escape text for KaTeX's \text{} and \texttt{}. */
export function texText(text) {
  return String(text).replace(/[\\{}$&#^_%~]/g, (c) => {
    switch (c) {
      case '\\': return '\\textbackslash{}';
      case '~': return '\\textasciitilde{}';
      case '^': return '\\textasciicircum{}';
      default: return `\\${c}`;
    }
  });
}

/** A name of the program as a maths symbol: x stays x, W_1 and long names stay readable. */
export function texName(name) {
  if (/^[A-Za-z]$/.test(name)) return name;
  return `\\mathit{${texText(name)}}`;
}

/** One number in LaTeX; infinities and NaN spelled the way students read them. */
export function texNumber(x) {
  const v = toNumber(x);
  if (Number.isNaN(v)) return '\\text{NaN}';
  if (v === Infinity) return '\\infty';
  if (v === -Infinity) return '-\\infty';
  const text = formatNumber(v);
  const m = /^(-?[0-9.]+)e(-?[0-9]+)$/.exec(text);
  if (m) return `${m[1]} \\times 10^{${m[2]}}`;
  return text;
}

/** A value in LaTeX: a small vector as a column, a small matrix as itself, a big one by its shape. */
export function texValue(value) {
  const shape = shapeOf(value);
  if (shape.length === 0) return texNumber(value);
  if (flatten(value).length > MAX_MATRIX_ELEMENTS || (shape.length === 2 && shape[1] > MAX_MATRIX_COLUMNS)) return `\\text{(${shapeText(shape)})}`;
  const rows = shape.length === 1 ? value.map((v) => [v]) : value;
  const body = rows.map((r) => r.map(texNumber).join(' & ')).join(' \\\\ ');
  return `\\begin{bmatrix} ${body} \\end{bmatrix}`;
}

/** A value as an operand: negative numbers in parentheses so 3 \cdot (-2) reads right. */
function texOperand(value) {
  const t = texValue(value);
  return t.startsWith('-') ? `(${t})` : t;
}

/**
 * The symbol of a node, from its one display name (see displayName in
 * steps.js): a name in italics, a constant as its number, an unnamed
 * subexpression as its text in parentheses.
 */
export function texSymbol(model, node) {
  if (node.kind === 'constant') return texValue(node.value);
  const name = displayName(node);
  if (!isSubexpression(model, node)) return texName(name);
  if (name === node.id) return `\\text{${texText(node.label)}}_{${texText(node.id)}}`;
  return `(\\text{${texText(name)}})`;
}

/** The placeholders of an op's syntax in order: "max(a, b)" → ["a", "b"]. */
export function placeholders(syntax) {
  const out = [];
  const re = /[A-Za-z_][A-Za-z0-9_]*/g;
  let m;
  while ((m = re.exec(syntax || '')) !== null) {
    const before = syntax[m.index - 1];
    const after = syntax[re.lastIndex];
    if (before === '.' || after === '(') continue;
    if (!out.includes(m[0])) out.push(m[0]);
  }
  return out;
}

/**
 * Put arguments into a generic formula: each whole-word placeholder of the
 * op's syntax becomes the given LaTeX, while commands (\max), and the insides
 * of \operatorname{...}, \text{...} and \mathbf{...} stay as they are.
 */
export function substitute(latex, names, args) {
  const map = new Map(names.map((n, i) => [n, args[i]]));
  // Placeholders are single words of letters: A_{ik} is A with a subscript.
  const re = /\\(?:operatorname|text|mathrm|mathbf|mathit|texttt)\*?\{[^{}]*\}|\\[A-Za-z]+|[A-Za-z][A-Za-z0-9]*/g;
  return String(latex).replace(re, (word) => (map.has(word) ? `{${map.get(word)}}` : word));
}

function opInfo(ops, node) {
  return (ops && node.op && ops.get(node.op)) || null;
}

/**
 * The forward step of a node: its equation in symbols, then in numbers, then
 * the value: b = max(y, z) = max(2, 0) = 2.
 */
export function forwardLatex(model, node, ops) {
  const sym = texSymbol(model, node);
  if (node.kind === 'input') return `${sym} = ${texValue(node.value)}`;
  if (node.kind === 'constant') return `${texValue(node.value)}`;
  const ins = model.inEdges.get(node.id) || [];
  const srcs = ins.map((e) => model.nodeById.get(e.source));
  const info = opInfo(ops, node);
  // An operator's negative operand is parenthesised; a function's arguments need none: max(-1, 2).
  const operand = info && info.symbol === null ? texValue : texOperand;
  const symbolic = opLatex(info, node.label, srcs.map((n) => texSymbol(model, n)));
  const numeric = opLatex(info, node.label, srcs.map((n) => operand(n.value)));
  const lhs = node.name ? `${sym} = ` : '';
  return `${lhs}${symbolic} = ${numeric} = ${texValue(node.value)}`;
}

/**
 * An op applied to arguments, in LaTeX, from the registry's template (#1
 * and #2 stand for the arguments); an op the registry does not describe is
 * written as a named function of them.
 */
export function opLatex(info, label, args) {
  if (info && info.latex) return info.latex.replace(/#([1-9])/g, (_, i) => args[Number(i) - 1] ?? '');
  return `\\operatorname{${texText(label)}}(${args.join(', ')})`;
}

/** The registry's generic definition of an op (e.g. the sigmoid), shown under the equation. */
export function definitionLatex(ops, node) {
  const info = opInfo(ops, node);
  return info && info.forward_latex ? info.forward_latex : null;
}

function frac(top, bottom) {
  return `\\frac{\\partial ${top}}{\\partial ${bottom}}`;
}

/**
 * The chain rule on one input edge, the lecture's way:
 * [downstream] = [upstream] x [local], in symbols and (for scalars) numbers.
 */
export function edgeChainLatex(model, edge) {
  const out = texSymbol(model, model.nodeById.get(model.output));
  const src = model.nodeById.get(edge.source);
  const tgt = model.nodeById.get(edge.target);
  const s = texSymbol(model, src);
  const t = texSymbol(model, tgt);
  // At a branch this is one share of the source's gradient; the panel says so in words.
  const symbolic = `\\underbrace{${frac(out, s)}}_{\\text{downstream}} = \\underbrace{${frac(out, t)}}_{\\text{upstream}} \\times \\underbrace{${frac(t, s)}}_{\\text{local}}`;
  const scalar = shapeOf(edge.upstream).length === 0 && shapeOf(edge.downstream).length === 0 && edge.local !== null && shapeOf(edge.local).length === 0;
  const numeric = scalar
    ? `${texNumber(edge.downstream)} = ${texOperand(edge.upstream)} \\times ${texOperand(edge.local)}`
    : null;
  return { symbolic, numeric };
}

/**
 * The local gradient of one edge: its formula from the op registry with the
 * node's own arguments, and its value: ∂b/∂y = 1(y > z) = 1.
 */
export function localLatex(model, edge, ops) {
  const src = model.nodeById.get(edge.source);
  const tgt = model.nodeById.get(edge.target);
  const head = frac(texSymbol(model, tgt), texSymbol(model, src));
  const info = opInfo(ops, tgt);
  let formula = '';
  if (info && Array.isArray(info.local_latex) && info.local_latex[edge.index]) {
    const names = placeholders(info.syntax);
    const srcs = (model.inEdges.get(tgt.id) || []).map((e) => texSymbol(model, model.nodeById.get(e.source)));
    const generic = info.local_latex[edge.index];
    if (info.elementwise) {
      const applied = substitute(generic, names, srcs);
      // A formula that is its number already (+ gives 1) is not written twice: = 1, not = 1 = 1.
      if (shapeOf(edge.local).length === 0 && edge.local !== null && applied.trim() === texNumber(edge.local)) return `${head} = ${applied.trim()}`;
      formula = ` = ${applied}`;
    } else {
      // Index formulas (matmul's delta_{ik} B_{lj}) keep their letters, with the mapping beside them.
      const mapping = names.map((n, i) => (srcs[i] ? `${n} = ${srcs[i]}` : null)).filter(Boolean).join(',\\ ');
      formula = `: \\quad ${generic}${mapping ? ` \\quad (${mapping})` : ''}`;
    }
  }
  if (edge.local === null) return `${head}${formula} \\quad \\text{(${shapeText(edge.local_shape)}, too large to send)}`;
  const value = shapeOf(edge.local).length === 0 ? ` = ${texNumber(edge.local)}` : '';
  return `${head}${formula}${value}`;
}

/**
 * How a node's gradient is made: seeded with 1 at the output, otherwise the
 * sum over its outgoing wires, written out at a branch: 2 + 3 = 5.
 */
export function sumLatex(model, node) {
  const out = texSymbol(model, model.nodeById.get(model.output));
  const head = frac(out, texSymbol(model, node));
  if (node.id === model.output) return `${head} = 1`;
  const outs = model.outEdges.get(node.id) || [];
  const shape = shapeOf(node.grad);
  const scalar = shape.length === 0;
  // A tensor gradient has the input's shape (the shape convention); its numbers go in a table.
  const space = `\\in \\mathbb{R}^{${shape.join(' \\times ')}}`;
  if (outs.length <= 1) return scalar ? `${head} = ${texValue(node.grad)}` : `${head} ${space}`;
  if (!scalar) {
    const terms = outs.map((e) => `\\left.${frac(out, texSymbol(model, node))}\\right|_{${texSymbol(model, model.nodeById.get(e.target))}}`);
    return `${head} = ${terms.join(' + ')} ${space}`;
  }
  const parts = outs.map((e, i) => {
    const t = texNumber(e.downstream);
    return i > 0 && t.startsWith('-') ? `(${t})` : t;
  });
  // A long sum keeps its ends and its count: twenty-five terms would fill the panel.
  const terms = parts.length > MAX_SUM_TERMS
    ? `${parts.slice(0, 3).join(' + ')} + \\cdots + ${parts.slice(-2).join(' + ')}\\ \\text{(${parts.length} terms)}`
    : parts.join(' + ');
  return `${head} = ${terms} = ${texNumber(node.grad)}`;
}
