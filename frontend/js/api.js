/**
 * The one module that knows the server's URLs and error shapes. Every call
 * answers {ok: true, data} or {ok: false, error: {type, message, span}}; it
 * never throws, so the page always has something to show.
 */

const BASE = '/api/v1';

/** Turn any failed response into one error shape the page can show at its place. */
export function readError(status, body) {
  const detail = body && body.detail;
  if (status === 422 && detail && !Array.isArray(detail) && typeof detail === 'object') {
    const problem = (p) => ({
      type: String(p.type || 'invalid'),
      message: String(p.message || 'the expression cannot be traced'),
      span: Array.isArray(p.span) ? p.span : null,
      line: p.line ?? null,
      column: p.column ?? null,
    });
    const error = problem(detail);
    // Every problem the server found, each at its own place (an extension of v1).
    if (Array.isArray(detail.problems)) error.problems = detail.problems.filter((p) => p && typeof p === 'object').map(problem);
    if (Number.isInteger(detail.problems_omitted)) error.problems_omitted = detail.problems_omitted;
    // A lesson's file names the slide that cannot be traced.
    if (Number.isInteger(detail.slide)) error.slide = detail.slide;
    return error;
  }
  if (status === 422 && Array.isArray(detail)) {
    // The framework's own request validation: a list of problems.
    const first = detail[0] || {};
    const where = Array.isArray(first.loc) ? first.loc.filter((p) => p !== 'body').join('.') : '';
    return { type: 'invalid_request', message: `${where ? `${where}: ` : ''}${first.msg || 'invalid request'}`, span: null };
  }
  if (detail && typeof detail === 'object' && !Array.isArray(detail) && typeof detail.message === 'string' && ['not_found', 'rate_limited', 'limit_exceeded'].includes(detail.type)) {
    // The lesson endpoints' errors say what and which limit: their own words are the best message.
    return { type: detail.type, message: detail.message, span: null, limit: detail.limit ?? null };
  }
  if (status === 413) return { type: 'too_large', message: 'the request is too large for this server', span: null };
  if (status === 503 || status === 429) return { type: 'busy', message: 'the server is busy; try again in a moment', span: null };
  const message = detail && typeof detail === 'string' ? detail : `the server answered ${status}`;
  return { type: 'http_error', message, span: null };
}

async function call(path, init, read = (response) => response.json()) {
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch {
    return { ok: false, error: { type: 'network', message: 'the server cannot be reached', span: null } };
  }
  if (!response.ok) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    return { ok: false, error: readError(response.status, body) };
  }
  try {
    return { ok: true, data: await read(response) };
  } catch {
    return { ok: true, data: null };
  }
}

/** A trace request's body: `constants` only when some input is named as data (version 1's body otherwise). */
function traceBody({ expression, values, check, constants }) {
  const body = { expression, values, check: Boolean(check) };
  if (constants && constants.length) body.constants = [...constants];
  return body;
}

function post(body, signal) {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal };
}

function traceInit(request, signal) {
  return post(traceBody(request), signal);
}

/** One text per request: the same expression, values (in any key order), check and constants give the same key. */
export function requestKey({ expression, values, check, constants }) {
  const sorted = (v) => {
    if (Array.isArray(v)) return v.map(sorted);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted(v[k])]));
    return v;
  };
  const key = [String(expression), sorted(values || {}), Boolean(check)];
  if (constants && constants.length) key.push([...constants].sort());
  return JSON.stringify(key);
}

let carried = null;

/**
 * A page that carries its traces (the offline file, a notebook's output) has
 * no server: a trace request is answered from them, each one the answer to
 * its own `request` ({expression, values, check}).
 */
export function carryTraces(list) {
  carried = new Map(list.map(({ request, trace }) => [requestKey(request), trace]));
}

/** POST /api/v1/trace: the trace of an expression at the given values. */
export function fetchTrace(request, signal) {
  if (carried) {
    const trace = carried.get(requestKey(request));
    if (trace) return Promise.resolve({ ok: true, data: trace });
    return Promise.resolve({ ok: false, error: { type: 'offline', message: 'this file holds no trace of that expression with those values', span: null } });
  }
  return call('/trace', traceInit(request, signal));
}

/** POST /api/v1/export: the same trace as one offline HTML file (a Blob). */
export function fetchStandalone(request, signal) {
  return call('/export', traceInit(request, signal), (response) => response.blob());
}

/** POST /api/v1/by-hand: the derivation by hand of one variable of the program. */
export function fetchByHand({ expression, values, constants, of }, signal) {
  return call('/by-hand', post({ ...traceBody({ expression, values, constants }), of }, signal));
}

/** POST /api/v1/slope: the output sampled against one number of the program, with its tangent and the nudge. */
export function fetchSlope({ expression, values, constants, of, index }, signal) {
  const { check, ...body } = traceBody({ expression, values, constants });
  return call('/slope', post({ ...body, of, index: index ?? null }, signal));
}

/** POST /api/v1/jacobian: the whole Jacobian by both modes, every pass, the costs and what the incorrect way repeats. */
export function fetchJacobian({ expression, values, constants }, signal) {
  if (carried) return Promise.resolve({ ok: false, error: { type: 'offline', message: 'this file holds the trace only: the costs and the Jacobian need the server', span: null } });
  const { check, ...body } = traceBody({ expression, values, constants });
  return call('/jacobian', post(body, signal));
}

/** GET /api/v1/examples: the built-in examples. */
export function fetchExamples() {
  return call('/examples');
}

/** GET /api/v1/ops: every operation's formulas and intuition. */
export function fetchOps() {
  return call('/ops');
}

/** POST /api/v1/lessons: store a lesson; answers {id, link}, the same id for the same lesson. */
export function storeLesson(lessonJson) {
  return call('/lessons', { method: 'POST', headers: { 'content-type': 'application/json' }, body: lessonJson });
}

/** GET /api/v1/lessons/{id}: a stored lesson. */
export function fetchLesson(id) {
  return call(`/lessons/${encodeURIComponent(id)}`);
}

/** GET /api/v1/lessons/{id}/export: a stored lesson as one offline HTML file (a Blob). */
export function fetchLessonExport(id) {
  return call(`/lessons/${encodeURIComponent(id)}/export`, undefined, (response) => response.blob());
}
