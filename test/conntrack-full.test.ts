import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeEdited, type EditedFinding as Finding } from './scenario-edit';

interface Counters { namespace: string; deltas: Record<string, number>; conntrack?: { count: number; max: number; holders?: unknown[] } }
interface Context { conntrack: { count: number; max: number; holders?: unknown[] } | null; kernelEvidence: { counters: Counters[] } }

/** The stored conntrack-full scenario (real Docker, a published port, the node's table full) with its context changed by `edit`. */
const reportWith = (edit: (ctx: Context) => void) => analyzeEdited<Context>('docker-real-conntrack-full', edit);
const analyzeWith = async (edit: (ctx: Context) => void): Promise<Finding[]> => (await reportWith(edit)).findings;

const window = (ctx: Context) => ctx.kernelEvidence.counters[0]!;

test('SYNs dropped while the live window saw the conntrack drop counter rise are filtered by a full table, not a broken NAT hop', async () => {
  const findings = await analyzeWith(() => {});
  assert.deepEqual(findings.map((f) => f.code), ['filtered']);
  const f = findings[0]!;
  assert.deepEqual([f.confidence, f.evidence.droppedBy, f.evidence.conntrackCount, f.evidence.conntrackMax], ['high', 'conntrack-table-full', 262144, 262144]);
  assert.match(f.explanation, /drop counter \(Conntrack\.Drop, .*\) rose by \d+ during the capture while these 4 SYNs went unanswered/);
  assert.match(f.explanation, /are ESTABLISHED TCP connections to port 5432 from 172\.17\.0\.2 \(container web\)\./);
  assert.match(f.remedy[0]!, /: sysctl -w net\.netfilter\.nf_conntrack_max=524288; keep it across reboots/);
  assert.match(f.remedy[1]!, /: conntrack -D -p tcp -s 172\.17\.0\.2 --dport 5432 --state ESTABLISHED\.$/);
  assert.match(f.remedy[2]!, /: sysctl -w net\.netfilter\.nf_conntrack_tcp_timeout_established=86400\.$/);
});

test('fewer conntrack drops than unanswered SYNs do not explain them: the NAT hop finding stands', async () => {
  const findings = await analyzeWith((ctx) => {
    window(ctx).deltas['Conntrack.Drop'] = 1;
  });
  assert.deepEqual(findings.map((f) => f.code), ['nat-path-break']);
  assert.equal(findings[0]!.evidence.droppedBy, undefined);
});

test('without live counters, a snapshot of a full table names it with medium confidence; a table with room names nothing', async () => {
  const full = await analyzeWith((ctx) => {
    ctx.kernelEvidence.counters = [];
    ctx.conntrack = { count: 262100, max: 262144 };
  });
  assert.deepEqual(full.map((f) => [f.code, f.confidence, f.evidence.droppedBy]), [['filtered', 'medium', 'conntrack-table-full']]);
  assert.match(full[0]!.explanation, /The snapshot shows this host's connection-tracking table full: 262100 entries of the 262144/);
  // No holders known: the remedy says how to list them, and no timeout advice for a state it does not know.
  assert.match(full[0]!.remedy[1]!, /^List what fills the table, largest groups first: conntrack -L/);
  assert.equal(full[0]!.remedy.length, 2);
  const roomy = await analyzeWith((ctx) => {
    ctx.kernelEvidence.counters = [];
    ctx.conntrack = { count: 200000, max: 262144 };
  });
  assert.deepEqual(roomy.map((f) => f.code), ['nat-path-break']);
});

test('a table full of many small groups names no holder', async () => {
  const findings = await analyzeWith((ctx) => {
    const table = window(ctx).conntrack!;
    table.holders = [{ protocol: 'udp', state: '', destinationPort: 53, entries: 1000, sources: 3, topSource: '172.17.0.9', topSourceEntries: 900 }];
  });
  const f = findings[0]!;
  assert.equal(f.evidence.droppedBy, 'conntrack-table-full');
  assert.equal(f.evidence.conntrackHolder, undefined);
  assert.doesNotMatch(f.explanation, /Most of the table/);
});

test('closed connections from many clients filling the table: safe to delete, a shorter TIME_WAIT timeout', async () => {
  const findings = await analyzeWith((ctx) => {
    const table = window(ctx).conntrack!;
    table.holders = [{ protocol: 'tcp', state: 'TIME_WAIT', destinationPort: 8080, entries: 262000, sources: 1000, topSource: '192.0.2.100', topSourceEntries: 60000 }];
  });
  const f = findings[0]!;
  assert.match(f.explanation, /262000 of 262144 are TIME_WAIT TCP connections to port 8080 from 1000 or more addresses, the most from 192\.0\.2\.100 \(60000\)\./);
  assert.match(f.remedy[1]!, /deleting them is safe: conntrack -D -p tcp --dport 8080 --state TIME_WAIT\.$/);
  assert.match(f.remedy[2]!, /: sysctl -w net\.netfilter\.nf_conntrack_tcp_timeout_time_wait=60\.$/);
});

test('conntrack drops beyond the SYNs a finding accounts for are a warning: they never reached a captured interface', async () => {
  const exact = await reportWith(() => {});
  assert.deepEqual(exact.warnings.filter((w) => w.includes('connection-tracking')), [], 'the 4 drops are the 4 SYNs of the finding');
  const more = await reportWith((ctx) => {
    window(ctx).deltas['Conntrack.Drop'] = 10;
  });
  assert.deepEqual(more.findings.map((f) => f.evidence.droppedBy), ['conntrack-table-full']);
  const warning = more.warnings.find((w) => w.includes('connection-tracking'));
  assert.match(warning ?? '', /\(262144 of 262144 entries at the end\) was full: the kernel dropped 6 packets of new connections that no SYN in this capture accounts for/);
  assert.match(warning ?? '', /capture with -i any/);
});

test('with nothing known of the table (no snapshot of it, no live counters), the NAT hop finding counts a full table among the causes; a table known to have room is left out', async () => {
  const unknown = await analyzeWith((ctx) => {
    ctx.kernelEvidence.counters = [];
    ctx.conntrack = null;
  });
  assert.deepEqual(unknown.map((f) => [f.code, f.confidence]), [['nat-path-break', 'medium']]);
  assert.match(unknown[0]!.explanation, /a full connection-tracking table, before the DNAT; after it, a FORWARD, DOCKER-USER or DOCKER rule/);
  assert.ok(unknown[0]!.remedy.some((r) => r.startsWith('Check that the connection-tracking table has room: conntrack -C')), unknown[0]!.remedy.join('\n'));
  const roomy = await analyzeWith((ctx) => {
    ctx.kernelEvidence.counters = [];
    ctx.conntrack = { count: 12, max: 262144 };
  });
  assert.deepEqual(roomy.map((f) => f.code), ['nat-path-break']);
  assert.doesNotMatch(roomy[0]!.explanation, /connection-tracking/);
  assert.match(roomy[0]!.explanation, /after the DNAT: something in the forward path dropped it/);
  assert.ok(!roomy[0]!.remedy.some((r) => r.includes('conntrack -C')));
});
