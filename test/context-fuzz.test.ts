import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { bridgesFromContext } from '../src/context/context-bridges';
import { parseHostContext } from '../src/context/load';
import { SynscopeError } from '../src/errors';
import { analyzeCaptures } from '../src/hosts/analyze-captures';
import { toReportJson } from '../src/report/json';
import { findCaptures, ROOT } from './capture-helpers';

/**
 * A context file either is refused with ERR_BAD_CONTEXT or, once accepted, never makes
 * the analysis throw: whatever the schema lets through, the rules must be able to read.
 */
const SCENARIOS = findCaptures(path.join(ROOT, 'captures'), /context\.json$/).map((file) => {
  const dir = path.dirname(file);
  // node-a.context.json belongs to node-a.pcapng; a plain context.json to the folder's capture.
  const own = file.endsWith('.context.json') ? file.replace(/\.context\.json$/, '.pcapng') : null;
  const capture = own ?? findCaptures(dir)[0]!;
  return { name: path.relative(ROOT, file), doc: JSON.parse(fs.readFileSync(file, 'utf8')) as unknown, capture };
});

/** Every path to a value inside a JSON document. */
function paths(value: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [at];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...at, i])));
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...at, k]));
  return out;
}

/** Values that broke (or slipped through) the loader before it had a schema, and arbitrary JSON. */
const HOSTILE = fc.oneof(
  fc.constantFrom(33, 1.5, -1, 1e308, 2 ** 53, -0, 0, 129, null, '', 'not-an-address', '::ffff:192.168.0.1', '::ffff:10.0.0.0/104', '1.2.3.4/33', 'fd00::/129', '0.0.0.0/0', '::/0', {}, [], true, 'synscope.context/2', '+148108-07-06T14:17:00Z', 4, 6),
  fc.jsonValue({ maxDepth: 2 }),
);

type Edit = { kind: 'set'; pick: number; value: unknown } | { kind: 'delete'; pick: number };
const EDIT: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), value: HOSTILE }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
);

function apply(doc: unknown, edits: readonly Edit[]): unknown {
  let root = structuredClone(doc);
  for (const e of edits) {
    const all = paths(root);
    const where = all[e.pick % all.length]!;
    if (where.length === 0) {
      if (e.kind === 'set') root = e.value;
      continue;
    }
    let parent = root as Record<string | number, unknown>;
    for (const step of where.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
    const last = where[where.length - 1]!;
    if (e.kind === 'set') parent[last] = structuredClone(e.value);
    else if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  }
  return root;
}

test('fuzz: an edited context is refused with ERR_BAD_CONTEXT, or analysis with it runs', () => {
  assert.ok(SCENARIOS.length >= 9);
  fc.assert(
    fc.property(fc.constantFrom(...SCENARIOS), fc.array(EDIT, { minLength: 1, maxLength: 3 }), (scenario, edits) => {
      const text = JSON.stringify(apply(scenario.doc, edits)) ?? 'null';
      let context;
      try {
        context = parseHostContext(text, scenario.name);
      } catch (e) {
        if (e instanceof SynscopeError && e.code === 'ERR_BAD_CONTEXT') return;
        throw e;
      }
      const analysis = analyzeCaptures([scenario.capture], { context, bridges: bridgesFromContext(context), kernel: context.kernelEvidence ?? null });
      JSON.stringify(toReportJson(analysis));
    }),
    { numRuns: 250 },
  );
});
