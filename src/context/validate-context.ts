import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { parseAddress } from '../decode/address';
import { parseSubnet } from '../net/cidr';
import { isObject, type JsonObject } from './json-fields';

/** The published JSON Schema of synscope.context/1, shipped in the package beside dist/. */
export const CONTEXT_SCHEMA_PATH = path.join(__dirname, '..', '..', '..', 'schema', 'context.schema.json');

/** The validator written at build time (write-context-validator.ts), beside this file in dist/. */
export const PRECOMPILED_VALIDATOR = 'context-validator.js';

let compiled: ValidateFunction | null = null;

function validator(): ValidateFunction {
  compiled ??= precompiledValidator() ?? compileContextSchema().validate;
  return compiled;
}

/** The build's validator, or null when the build did not write one (a bare tsc) or wrote it from another schema: then it is compiled here. */
export function precompiledValidator(file = path.join(__dirname, PRECOMPILED_VALIDATOR)): ValidateFunction | null {
  if (!fs.existsSync(file)) return null;
  const built = require(file) as ValidateFunction & { schemaDigest?: string };
  return built.schemaDigest === contextSchemaDigest() ? built : null;
}

/** sha256 of the schema file as it is now. */
export function contextSchemaDigest(): string {
  return crypto.createHash('sha256').update(fs.readFileSync(CONTEXT_SCHEMA_PATH)).digest('hex');
}

/** The schema compiled by ajv now (about 0.2 s); `source` keeps the code for writing it out. */
export function compileContextSchema(options: { source?: boolean } = {}): { ajv: import('ajv').default; validate: ValidateFunction } {
  // `message` is the schema's own wording for a failed field: an annotation, no check of its own.
  // Loaded here, not at the top: ajv takes about 60 ms to load and only a run without the build's validator needs it.
  const Ajv = (require('ajv') as typeof import('ajv')).default;
  const ajv = new Ajv({ allErrors: false, strict: true, verbose: true, code: { source: options.source === true } }).addKeyword({ keyword: 'message', schemaType: 'string' });
  return { ajv, validate: ajv.compile(JSON.parse(fs.readFileSync(CONTEXT_SCHEMA_PATH, 'utf8')) as object) };
}

/**
 * The first problem of a parsed context document as "JSON pointer: what is wrong"
 * ("/interfaces/3/addresses/0/prefixLength: must be <= 32 for an IPv4 address"), or
 * null when it is a valid synscope.context/1 snapshot: the schema first, then what a
 * schema cannot say (addresses and CIDRs that parse, a route's gateway of its family).
 */
export function contextProblem(doc: unknown): string | null {
  const validate = validator();
  if (!validate(doc)) return schemaProblem(validate.errors ?? []);
  return semanticProblem(doc as JsonObject);
}

function schemaProblem(errors: readonly ErrorObject[]): string {
  // With allErrors off, a failed `if`/`then` reports the inner failure first and itself after.
  const e = errors.find((x) => x.keyword !== 'if') ?? errors[0]!;
  const where = e.instancePath === '' ? '/' : e.instancePath;
  const own = (e.parentSchema as { message?: unknown } | undefined)?.message;
  // A field's own wording says what its value must look like; a value of the wrong type keeps ajv's "must be string".
  if (typeof own === 'string' && e.keyword !== 'type' && e.keyword !== 'required') return `${where}: ${own}`;
  if (e.keyword === 'enum') return `${where}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  if (e.keyword === 'required') return `${where}: missing "${(e.params as { missingProperty: string }).missingProperty}"`;
  return `${where}: ${e.message ?? 'is not valid'}`;
}

/** Checks on a document the schema accepted. */
function semanticProblem(doc: JsonObject): string | null {
  const checks: Array<[string, unknown, 'address' | 'cidr']> = [];
  const each = (key: string, fn: (item: JsonObject, at: string) => void) => {
    const list = doc[key];
    if (Array.isArray(list)) list.forEach((item, i) => fn(item as JsonObject, `/${key}/${i}`));
  };
  each('interfaces', (itf, at) => (itf['addresses'] as JsonObject[]).forEach((a, k) => checks.push([`${at}/addresses/${k}/address`, a['address'], 'address'])));
  each('routes', (r, at) => {
    checks.push([`${at}/destination`, r['destination'], 'cidr'], [`${at}/gateway`, r['gateway'], 'address'], [`${at}/source`, r['source'], 'address']);
    if (Array.isArray(r['nexthops'])) (r['nexthops'] as JsonObject[]).forEach((h, k) => checks.push([`${at}/nexthops/${k}/gateway`, h['gateway'], 'address']));
  });
  each('rules', (r, at) => checks.push([`${at}/from`, r['from'], 'cidr'], [`${at}/to`, r['to'], 'cidr']));
  each('dockerNetworks', (n, at) => {
    (n['subnets'] as string[]).forEach((s, k) => checks.push([`${at}/subnets/${k}`, s, 'cidr']));
    (n['gateways'] as string[]).forEach((g, k) => checks.push([`${at}/gateways/${k}`, g, 'address']));
  });
  const kernel = doc['kernelEvidence'];
  if (isObject(kernel) && Array.isArray(kernel['events'])) {
    (kernel['events'] as JsonObject[]).forEach((e, i) => {
      if (e['kind'] === 'synack-retransmit') checks.push([`/kernelEvidence/events/${i}/serverAddress`, e['serverAddress'], 'address'], [`/kernelEvidence/events/${i}/clientAddress`, e['clientAddress'], 'address']);
    });
  }
  for (const [where, value, kind] of checks) {
    if (typeof value !== 'string') continue;
    const problem = kind === 'address' ? addressProblem(value) : cidrProblem(value);
    if (problem !== null) return `${where}: ${problem}`;
  }
  return routeFamilyProblem(doc);
}

function addressProblem(text: string): string | null {
  return parseAddress(text) === null ? `"${text}" is not an IP address` : null;
}

function cidrProblem(text: string): string | null {
  const slash = text.indexOf('/');
  const address = addressProblem(text.slice(0, slash));
  if (address !== null) return address;
  return parseSubnet(text) === null ? `"${text}" is not a CIDR (prefix 0..32 for IPv4, 0..128 for IPv6)` : null;
}

/** A route's gateway of the other family (an IPv4 route via fe80::1 exists: RFC 5549), so only nexthop-less IPv6 routes via IPv4 are refused. */
function routeFamilyProblem(doc: JsonObject): string | null {
  const routes = doc['routes'];
  if (!Array.isArray(routes)) return null;
  for (const [i, r] of (routes as JsonObject[]).entries()) {
    if (r['family'] === 6 && typeof r['gateway'] === 'string' && !r['gateway'].includes(':')) return `/routes/${i}/gateway: an IPv6 route cannot go via the IPv4 address "${r['gateway']}"`;
  }
  return null;
}
