/**
 * The reference card: the language as the op registry the page received
 * defines it (operators by binding power, functions, named numbers,
 * statements, the lecture's notation), each with an example. Pure data:
 * main.js draws it, with textContent only.
 */

/** A call's name: what a function (or an operator that may also be called) is written with. */
export function callName(op) {
  return op.call || (op.function ? op.name : null);
}

/** A function in a few words: its rule's short form, or "elementwise", or its intuition. */
function whatItDoes(op) {
  if (op.short_intuition) return op.short_intuition;
  if (op.elementwise) return `elementwise: each element times its own slope, ${op.name}'`;
  return op.intuition || op.label || op.name;
}

/**
 * The card's sections: [{title, note, columns, rows}], each row a list of cells
 * (the first an example to type, as code).
 */
export function referenceCard(ops, constants = []) {
  const list = [...(ops ? ops.values() : [])];
  const operators = list
    .filter((op) => op.symbol)
    .sort((a, b) => a.precedence - b.precedence || a.symbol.localeCompare(b.symbol));
  const levels = [...new Set(operators.map((op) => op.precedence))];
  const operatorRows = operators.map((op) => [
    op.syntax,
    op.short_intuition || op.name,
    `${levels.indexOf(op.precedence) + 1}${op.right_associative ? ', right to left: 2**3**2 is 2**9' : ''}`,
  ]);
  const functionRows = list
    .filter((op) => callName(op))
    .map((op) => [op.function ? op.syntax : `${callName(op)}(a)`, whatItDoes(op)])
    .sort((a, b) => a[0].localeCompare(b[0]));
  const sections = [
    {
      title: 'Operators',
      note: 'Binding: 1 binds loosest; a higher level binds tighter (as in Python). Parentheses group.',
      columns: ['Example', 'What', 'Binding'],
      rows: operatorRows,
    },
    { title: 'Functions', note: 'Called by name; sum, mean, max and min also have the forms shown.', columns: ['Example', 'What'], rows: functionRows },
  ];
  if (constants.length) {
    sections.push({
      title: 'Named numbers',
      note: 'A name given in Values, or assigned, wins.',
      columns: ['Example', 'Value'],
      rows: constants.map((c) => [`2 * ${c.name}`, `${c.name} = ${c.value}`]),
    });
  }
  sections.push(
    {
      title: 'Statements',
      note: 'Separate statements with ; or a new line; the last one is the output, one number.',
      columns: ['Example', 'What'],
      rows: [
        ['z = W @ x + b; h = sigmoid(z); s = u @ h', 'a small network, in three statements'],
        ['loss = -log(softmax(z)[y])', 'cross-entropy, y a class number (a value, or a literal)'],
        ['# a comment', 'ignored to the end of the line'],
      ],
    },
    {
      title: "The lecture's notation, as typed here",
      note: '',
      columns: ['Type', 'For'],
      rows: [
        ['u.T @ h', 'uᵀh'],
        ['W @ x', 'W x (matrix times vector)'],
        ['x**2', 'x²'],
        ['sum(A, axis=0)', 'Σᵢ Aᵢⱼ'],
      ],
    },
  );
  return sections;
}
