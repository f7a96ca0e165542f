/**
 * Pure: what the "By hand" view shows of a derivation (POST /api/v1/by-hand's
 * body) and of the trace it belongs to: the variables one can derive, a path
 * in words, and what to light on the graph for a path.
 */

/** The variables a derivation can be asked for: inputs and named intermediates (not constants: data needs no gradient), in graph order. */
export function variablesOf(model) {
  const seen = new Set();
  const out = [];
  for (const n of model.nodes) {
    if (n.id === model.output || n.kind === 'constant' || n.constant || !n.name || seen.has(n.name)) continue;
    seen.add(n.name);
    out.push({ name: n.name, node: n.id, kind: n.kind });
  }
  return out;
}

/** What to light on the graph for path k of a derivation: its nodes and edges, and its δ node. */
export function pathHighlight(derivation, k) {
  const path = derivation && derivation.paths[k];
  if (!path) return { nodes: new Set(), edges: new Set(), delta: null };
  return {
    nodes: new Set(path.nodes),
    edges: new Set(path.edges),
    delta: path.delta ? path.delta.node : null,
  };
}

/** The path as the lecture reads it, from the output down: "s ← h ← z ← b". */
export function pathWords(model, path) {
  return path.nodes.map((id) => {
    const n = model.nodeById.get(id);
    return n ? n.display_name || n.name || n.label : id;
  }).join(' ← ');
}

/**
 * The shapes of a path's factors, as the lecture checks them: each local
 * Jacobian under its symbol with its shape (target size × source size), and
 * the product's, [1 × 2] = [1 × 2][2 × 2][2 × 2]: one LaTeX piece per factor
 * (the first is the product's, with its =), so a narrow panel can wrap between them.
 */
export function shapesLatex(derivation, k) {
  const path = derivation && derivation.paths[k];
  if (!path) return '';
  const dims = (shape) => (shape.length ? shape.join(' \\times ') : '1');
  const factors = path.factors.map((f) => `\\underbrace{${f.symbol}}_{${dims(f.shape)}}`);
  return [`\\underbrace{${derivation.symbol}}_{${dims(derivation.forms.jacobian.shape)}} =`, ...factors];
}
