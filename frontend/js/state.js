/**
 * The app state and its URL form: `/?expression=...&values=...&step=N`
 * (values as JSON), so a link reopens the same expression, values and step.
 * Pure, no DOM: the page calls these with location.search and history.
 */

/** A fresh state: nothing traced yet. */
export function initialState() {
  return {
    expression: '',
    values: Object.create(null),
    check: false,
    step: 0,
    presenting: false,
  };
}

/**
 * Read the state a URL query carries. Bad parts are dropped, not fatal: a
 * hand-edited link still opens the page.
 */
export function stateFromQuery(search) {
  const state = initialState();
  const params = new URLSearchParams(search);
  if (params.has('expression')) state.expression = params.get('expression');
  if (params.has('values')) {
    try {
      const parsed = JSON.parse(params.get('values'));
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        for (const key of Object.keys(parsed)) state.values[key] = parsed[key];
      }
    } catch {
      // a broken values parameter leaves the boxes empty
    }
  }
  if (params.has('step')) {
    const step = Number.parseInt(params.get('step'), 10);
    if (Number.isFinite(step) && step >= 0) state.step = step;
  }
  const check = params.get('check');
  state.check = check === '1' || check === 'true';
  state.presenting = params.get('present') === '1';
  return state;
}

/** The query string for a state, in the contract's order. */
export function queryFromState(state) {
  const params = new URLSearchParams();
  params.set('expression', state.expression);
  // No prototype: an input named __proto__ must stay an ordinary key.
  const values = Object.create(null);
  for (const key of Object.keys(state.values)) values[key] = state.values[key];
  params.set('values', JSON.stringify(values));
  params.set('step', String(state.step));
  if (state.check) params.set('check', '1');
  if (state.presenting) params.set('present', '1');
  return `?${params.toString()}`;
}

/** Clamp a step index into a trace of `count` steps. */
export function clampStep(step, count) {
  if (count <= 0) return 0;
  return Math.min(Math.max(0, Math.trunc(step) || 0), count - 1);
}
