/**
 * Numbers and tensors as text: the one place that decides how a value reads,
 * so the graph, the panel and the status line agree. Pure, no DOM.
 */

/** The contract sends non-finite numbers as "NaN", "Infinity", "-Infinity": Number() reads all three. */
export function toNumber(x) {
  return typeof x === 'number' ? x : Number(x);
}

/** Recursively turn a contract value (number, string or nested list) into numbers. */
export function toNumbers(value) {
  if (value === null || value === undefined) return value;
  if (Array.isArray(value)) return value.map(toNumbers);
  return toNumber(value);
}

/**
 * One float64 as a person reads it, by the rule of docs/number-format.md
 * (the server's step texts follow the same): NaN, inf and -inf; both zeros
 * 0; an integer below 1e9 with all its digits; anything else rounded to
 * `digits` significant digits as C's %g does, ties to even, in exponent form
 * when the rounded exponent is below -4 or at least `digits`.
 */
export function formatNumber(x, digits = 4) {
  const v = toNumber(x);
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (v === 0) return '0';
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  const sign = v < 0 ? '-' : '';
  const { figures, exponent } = roundSignificant(Math.abs(v), digits);
  if (exponent < -4 || exponent >= digits) {
    const mantissa = trimZeros(`${figures[0]}.${figures.slice(1)}`);
    return `${sign}${mantissa}e${exponent}`;
  }
  const point = exponent + 1;
  const fixed = point <= 0 ? `0.${'0'.repeat(-point)}${figures}` : `${figures.slice(0, point)}.${figures.slice(point)}`;
  return sign + trimZeros(fixed);
}

/**
 * The first `digits` significant figures of a positive float64, rounded
 * half to even on its exact binary value (toExponential rounds a tie away
 * from zero), and the exponent of the first.
 */
function roundSignificant(abs, digits) {
  // toExponential rounds to the nearest on the exact value: only a tie, whose
  // next figure is a 5, needs the exact figures (the others are most numbers
  // of a large trace, and this is the cheap way).
  const near = abs.toExponential(digits);
  if (digits >= 1 && near[digits + 1] !== '5') {
    const [m, e] = abs.toExponential(digits - 1).split('e');
    return { figures: m.replace('.', ''), exponent: Number(e) };
  }
  // A hundred figures hold every float64 a tie can be (a tie has digits + 1 figures).
  const [mantissa, exp] = abs.toExponential(99).split('e');
  const all = mantissa.replace('.', '');
  let exponent = Number(exp);
  const kept = all.slice(0, digits);
  const next = all[digits];
  const rest = all.slice(digits + 1);
  const tie = next === '5' && !/[1-9]/.test(rest);
  const up = next > '5' || (next === '5' && !tie) || (tie && Number(kept.at(-1)) % 2 === 1);
  if (!up) return { figures: kept, exponent };
  let figures = (BigInt(kept) + 1n).toString();
  if (figures.length > digits) {
    figures = figures.slice(0, digits);
    exponent += 1;
  }
  return { figures, exponent };
}

function trimZeros(text) {
  if (!text.includes('.')) return text;
  return text.replace(/0+$/, '').replace(/\.$/, '');
}

/**
 * A number as an operand of an operator: in parentheses when it starts
 * with a minus, so `x**2` at -2 reads (-2)**2 and 3 × (-2) reads as the
 * lecture writes it (docs/number-format.md).
 */
export function formatOperand(x, digits = 4) {
  const text = formatNumber(x, digits);
  return text.startsWith('-') ? `(${text})` : text;
}

/** Shape of a number or a rectangular nested list, like numpy's. */
export function shapeOf(value) {
  const shape = [];
  let v = value;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  return shape;
}

/** Number of elements of a shape. */
export function sizeOf(shape) {
  return shape.reduce((a, b) => a * b, 1);
}

/** "scalar", "3" or "2×3": how a shape reads next to a value. */
export function shapeText(shape) {
  if (!shape || shape.length === 0) return 'scalar';
  return shape.join('×');
}

/** All elements of a nested list, in row-major order. */
export function flatten(value) {
  if (!Array.isArray(value)) return [toNumber(value)];
  const out = [];
  const walk = (v) => {
    if (Array.isArray(v)) v.forEach(walk);
    else out.push(toNumber(v));
  };
  walk(value);
  return out;
}

/**
 * Rows of a value seen as a matrix: a scalar is 1×1, a vector a column (the
 * lecture writes x ∈ R^n as a column), a matrix itself.
 */
export function asRows(value) {
  const shape = shapeOf(value);
  if (shape.length === 0) return [[toNumber(value)]];
  if (shape.length === 1) return value.map((v) => [toNumber(v)]);
  return value.map((row) => row.map(toNumber));
}

/**
 * The local Jacobian of an edge as a matrix: its shape is target.shape +
 * source.shape, so rows index the target's elements and columns the source's.
 */
export function jacobianRows(local, localShape, targetShape) {
  const flat = flatten(local);
  const rows = sizeOf(targetShape);
  const cols = sizeOf(localShape.slice(targetShape.length));
  const out = [];
  for (let i = 0; i < rows; i += 1) out.push(flat.slice(i * cols, (i + 1) * cols));
  return out;
}

/** Whether every off-diagonal element of a square matrix is zero: diag(f'(z)). */
export function isDiagonal(rows) {
  if (rows.length < 2 || rows.some((r) => r.length !== rows.length)) return false;
  return rows.every((r, i) => r.every((x, j) => i === j || x === 0));
}

/**
 * A value as one line of text: scalars in full, small tensors written out,
 * large ones summarized by shape and range so the graph stays readable.
 */
export function formatValue(value, { maxElements = 6, digits = 4 } = {}) {
  if (value === null || value === undefined) return '';
  const shape = shapeOf(value);
  if (shape.length === 0) return formatNumber(value, digits);
  const flat = flatten(value);
  if (flat.length <= maxElements) {
    const fmt = (v) => (Array.isArray(v) ? `[${v.map(fmt).join(', ')}]` : formatNumber(v, digits));
    return fmt(value);
  }
  return `${shapeText(shape)} ${summaryRange(flat, digits)}`;
}

function summaryRange(flat, digits = 4) {
  let lo = Infinity;
  let hi = -Infinity;
  let bad = 0;
  for (const v of flat) {
    if (!Number.isFinite(v)) bad += 1;
    else {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  const range = lo <= hi ? `${formatNumber(lo, digits)}…${formatNumber(hi, digits)}` : '';
  return bad ? `${range} (${bad} non-finite)`.trim() : range;
}

/**
 * A colour-blind-safe diverging scale (blue for negative, orange for
 * positive, white at zero); the number is always printed too, so colour is
 * never the only carrier of meaning. Returns {background, color}.
 */
export function divergingColour(x, maxAbs) {
  const v = toNumber(x);
  if (!Number.isFinite(v)) return { background: 'rgb(120, 120, 120)', color: 'rgb(255, 255, 255)' };
  const t = maxAbs > 0 ? Math.max(-1, Math.min(1, v / maxAbs)) : 0;
  const base = t < 0 ? [33, 102, 172] : [179, 88, 6];
  const k = Math.abs(t);
  const mix = base.map((c) => Math.round(255 + (c - 255) * k));
  const dark = k > 0.55;
  return {
    background: `rgb(${mix[0]}, ${mix[1]}, ${mix[2]})`,
    color: dark ? 'rgb(255, 255, 255)' : 'rgb(17, 17, 17)',
  };
}

/** The largest finite absolute value, the scale's end. */
export function maxAbsFinite(flat) {
  let m = 0;
  for (const v of flat) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  return m;
}
