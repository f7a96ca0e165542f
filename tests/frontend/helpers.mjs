// Shared by the pure-module tests: the hand-written traces of the contract,
// the shared number-format cases and the server's op registry itself.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export function fixture(name) {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8'));
}

/** The cases of docs/number-format.md, the same file the server's tests read. */
export function numberFormatCases() {
  return JSON.parse(readFileSync(new URL('../fixtures/number-format.json', import.meta.url), 'utf8'));
}

let ops = null;
/**
 * The op registry as GET /api/v1/ops and the page data send it, read from
 * the engine in this checkout (its virtual environment), so the page's
 * tests can never drift from the registry: a Map by op name, as the page keeps it.
 */
export function registry() {
  if (!ops) {
    const python = new URL('../../.venv/bin/python', import.meta.url).pathname;
    const listing = execFileSync(python, ['-c', 'import json; from gradtrace.ops import describe_ops; print(json.dumps(describe_ops()))'], { encoding: 'utf8' });
    ops = new Map(JSON.parse(listing).map((op) => [op.name, op]));
  }
  return ops;
}

/**
 * A trace of the engine in this checkout, as POST /api/v1/trace sends it:
 * `request` is {expression, values, check?, constants?}.
 */
export function engineTrace(request) {
  const python = new URL('../../.venv/bin/python', import.meta.url).pathname;
  const script = [
    'import json, sys',
    'import gradtrace',
    'from gradtrace.jsonform import dumps',
    'r = json.loads(sys.argv[1])',
    "t = gradtrace.trace(r['expression'], r['values'], check=r.get('check', False), constants=r.get('constants', ()))",
    'sys.stdout.write(dumps(t.to_dict()).decode())',
  ].join('\n');
  return JSON.parse(execFileSync(python, ['-c', script, JSON.stringify(request)], { encoding: 'utf8' }));
}

/** The derivation by hand of `of`, as POST /api/v1/by-hand sends it, from the engine in this checkout. */
export function engineByHand(expression, values, of) {
  const python = new URL('../../.venv/bin/python', import.meta.url).pathname;
  const script = [
    'import json, sys',
    'import gradtrace',
    'from gradtrace.jsonform import dumps',
    'sys.stdout.write(dumps(gradtrace.by_hand(sys.argv[1], json.loads(sys.argv[2]), of=sys.argv[3])).decode())',
  ].join('\n');
  return JSON.parse(execFileSync(python, ['-c', script, expression, JSON.stringify(values), of], { encoding: 'utf8' }));
}
