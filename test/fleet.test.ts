import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadHostContext } from '../src/context/load';
import { demuxDockerStream } from '../src/fleet/docker-log-frames';
import { ChunkAssembler, asChunk, chunkedEvent, MAX_EVENT_BYTES } from '../src/fleet/event-chunks';
import { fleetServiceSpec } from '../src/fleet/fleet-service';
import { nodeEventLines } from '../src/fleet/node-events';
import { decodeNodeEvidence, encodeNodeEvidence, MAX_NODE_FLOWS } from '../src/fleet/node-evidence';
import { NodeFlowSample, sentNodeFlows } from '../src/fleet/node-flow-sample';
import { fleetReport } from '../src/fleet/run-fleet';
import { parseBridgeFlag } from '../src/context/bridge';
import { writeFloodCapture } from '../bench/flood-capture';
import { analyzeFiles } from '../src/analysis';
import { hostAnalysis } from '../src/hosts/analyze-hosts';
import * as fs from 'node:fs';
import Ajv from 'ajv';
import { toReportJson } from '../src/report/json';
import * as os from 'node:os';
import { ServiceLogLines, type TaskLine } from '../src/fleet/service-log-lines';
import type { SwarmNode, SwarmTask } from '../src/fleet/swarm-api';
import { analyzeHost, analyzeHosts, joinHosts } from '../src/hosts/analyze-hosts';
import { eventLine } from '../src/report/ndjson';
import { isSynscopeError } from '../src/errors';
import { REPO } from './cli-harness';
import { handMadeFlow } from './flow-fixtures';

const SCENARIO = path.join(REPO, 'captures', 'redis-address-collision');
const redisHosts = () => ['node-a', 'node-b'].map((name) => ({ name, files: [path.join(SCENARIO, `${name}.pcapng`)], context: loadHostContext(path.join(SCENARIO, `${name}.context.json`)) }));

/** One frame of Docker's multiplexed stream. */
function frame(stream: 1 | 2, text: string): Buffer {
  const body = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

const details = (node: string, task: string) => `2026-12-06T09:00:00.123456789Z com.docker.swarm.node.id=${node},com.docker.swarm.service.id=svc1,com.docker.swarm.task.id=${task} `;

test('log demux: stdout and stderr frames apart, a TTY stream as it is, a cut frame and a bad header are errors at their byte offset', () => {
  const bytes = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err\n'), frame(1, '')]);
  const frames = demuxDockerStream(bytes, false, 'logs');
  assert.deepEqual(frames.map((f) => [f.stream, f.data.toString()]), [['stdout', 'out one\n'], ['stderr', 'err\n'], ['stdout', '']]);
  assert.deepEqual(demuxDockerStream(Buffer.from('raw tty text\n'), true, 'logs').map((f) => f.data.toString()), ['raw tty text\n']);
  const cut = Buffer.concat([frame(1, 'whole\n'), frame(1, 'cut short\n').subarray(0, 12)]);
  assert.throws(() => demuxDockerStream(cut, false, 'logs'), (e: unknown) => isSynscopeError(e) && e.oneLine() === 'logs: byte 14: a frame of 10 bytes with 4 left [ERR_BAD_HOST_OUTPUT]');
  assert.throws(() => demuxDockerStream(Buffer.from('{"message":"x"}'), false, 'logs'), (e: unknown) => isSynscopeError(e) && /byte 0: not a frame header/.test(e.oneLine()));
  assert.throws(() => demuxDockerStream(frame(1, 'x').subarray(0, 5), false, 'logs'), /less than a frame header/);
});

test('service log lines: details name node and task; a message split by the log driver is joined again per task', () => {
  const lines = new ServiceLogLines();
  lines.push({ stream: 'stdout', data: Buffer.from(`${details('n1', 't1')}first half, `) });
  lines.push({ stream: 'stdout', data: Buffer.from(`${details('n2', 't2')}other node\n`) });
  lines.push({ stream: 'stdout', data: Buffer.from(`${details('n1', 't1')}second half\n`) });
  lines.push({ stream: 'stderr', data: Buffer.from(`${details('n1', 't1')}synscope: oops\n`) });
  lines.push({ stream: 'stdout', data: Buffer.from(`${details('n1', 't1')}cut at the end`) });
  assert.deepEqual(lines.finish(), [
    { nodeId: 'n2', taskId: 't2', stream: 'stdout', text: 'other node' },
    { nodeId: 'n1', taskId: 't1', stream: 'stdout', text: 'first half, second half' },
    { nodeId: 'n1', taskId: 't1', stream: 'stderr', text: 'synscope: oops' },
    { nodeId: 'n1', taskId: 't1', stream: 'stdout', text: 'cut at the end' },
  ]);
});

test('chunks: an event over the limit becomes chunk lines under it, put back together in any order, multibyte text included', () => {
  const big = eventLine('node-evidence', { node: 'n', text: 'ä"\\€𝄞'.repeat(6000), n: 1 });
  assert.ok(Buffer.byteLength(big) > 16 * 1024);
  const lines = chunkedEvent(big, 'n.1');
  assert.ok(lines.length > 1);
  for (const l of lines) assert.ok(Buffer.byteLength(l) <= MAX_EVENT_BYTES, `${Buffer.byteLength(l)} bytes`);
  const assembler = new ChunkAssembler();
  const shuffled = [...lines.slice(1).reverse(), lines[0]!];
  const results = shuffled.map((l) => assembler.add(asChunk(JSON.parse(l))!));
  assert.deepEqual(results.slice(0, -1), new Array(lines.length - 1).fill(null));
  assert.equal(results.at(-1), big);
  assert.deepEqual(assembler.incomplete(), []);
  const small = eventLine('summary', { packets: 1 });
  assert.deepEqual(chunkedEvent(small, 'x'), [small]);
  const partial = new ChunkAssembler();
  partial.add(asChunk(JSON.parse(lines[0]!))!);
  assert.deepEqual(partial.incomplete(), [{ id: 'n.1', have: 1, count: lines.length }]);
  assert.throws(() => partial.add({ id: 'n.1', index: 0, count: lines.length + 1, data: '' }), /count/);
});

test('node evidence: encode, JSON, decode gives the join the same report as analyze --host', () => {
  const direct = analyzeHosts(redisHosts());
  const viaEvidence = joinHosts(
    redisHosts().map((h) => {
      const host = analyzeHost(h);
      const wire = JSON.parse(JSON.stringify(encodeNodeEvidence(h.name, host.analysis, host)));
      return decodeNodeEvidence(wire);
    }),
  );
  assert.deepEqual(viaEvidence.findings, direct.findings);
  assert.deepEqual(viaEvidence.hosts, direct.hosts);
  assert.deepEqual(viaEvidence.summary, direct.summary);
  assert.equal(viaEvidence.findings.filter((f) => f.code === 'address-collision').length, 1);
  assert.throws(() => decodeNodeEvidence({ node: 'x', bridges: [] }), /ownAddresses missing/);
});

test('node evidence carries the VXLAN legs and own interfaces: the attempt across two nodes is the same one ladder as with analyze --host', () => {
  const dir = path.join(REPO, 'captures', 'docker-real-swarm-ingress-cross-node');
  const hosts = () => ['node1', 'node2'].map((name) => ({ name, files: [path.join(dir, `${name}.pcapng`)], context: loadHostContext(path.join(dir, `${name}.context.json`)) }));
  const direct = analyzeHosts(hosts());
  const viaEvidence = joinHosts(hosts().map((h) => {
    const host = analyzeHost(h);
    return decodeNodeEvidence(JSON.parse(JSON.stringify(encodeNodeEvidence(h.name, host.analysis, host))));
  }));
  const spanning = (a: typeof direct) => a.attempts.filter((p) => p.hops.some((h) => h.via !== undefined));
  assert.equal(spanning(direct).length, 1);
  assert.deepEqual(spanning(viaEvidence), spanning(direct));
  assert.deepEqual(viaEvidence.findings, direct.findings);
  assert.deepEqual(viaEvidence.summary, direct.summary);
});

test('node evidence: flows beyond the cap are counted, failed and bridge flows kept first', () => {
  const host = analyzeHost(redisHosts()[0]!);
  const many = Array.from({ length: MAX_NODE_FLOWS + 5 }, (_, i) => handMadeFlow({ id: `f${i + 1}`, clientIp: '10.9.0.1', clientPort: 1000 + i, serverIp: '10.9.0.2', outcome: 'completed' }));
  const failed = handMadeFlow({ id: `f${MAX_NODE_FLOWS + 6}`, clientIp: '10.9.0.1', serverIp: '10.9.0.3', outcome: 'unanswered' });
  const evidence = encodeNodeEvidence('node-a', { ...host.analysis, flows: [...many, failed] }, host);
  assert.equal(evidence.flows.length, MAX_NODE_FLOWS);
  assert.equal(evidence.flowsNotSent, 6);
  assert.ok(evidence.flows.some((f) => f.id === failed.id));
  const decoded = decodeNodeEvidence(JSON.parse(JSON.stringify(evidence)));
  assert.ok(decoded.analysis.warnings.some((w) => w.startsWith('6 flows not sent')));
});

test('node flow sample: a flood of flows held in bounded memory, and the same flows sent as from the whole list', () => {
  const bridges = [parseBridgeFlag('docker0=172.17.0.0/16')];
  const outcomes = ['completed', 'unanswered', 'rejected', null] as const;
  const sample = new NodeFlowSample(bridges);
  const all = [];
  let held = 0;
  // Times out of order, as flows leave the tracker; every rank well past its cap.
  for (let i = 0; i < 5 * MAX_NODE_FLOWS * 4; i++) {
    const flow = handMadeFlow({
      id: `f${i + 1}`,
      clientIp: i % 3 === 0 ? `172.17.${(i >> 8) & 255}.${i & 255}` : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      clientPort: 1024 + (i % 60000),
      outcome: outcomes[(i * 7) % 4]!,
      firstSeen: 1000 + ((i * 7919) % 10007) / 100,
    });
    all.push(flow);
    sample.add(flow);
    held = Math.max(held, (sample as unknown as { kept: unknown[][] }).kept.reduce((n, l) => n + l.length, 0));
  }
  assert.ok(held <= 4 * 2 * MAX_NODE_FLOWS, `held ${held}`);
  assert.equal(sample.seen, all.length);
  const expected = sentNodeFlows(all, bridges).map((f) => f.id);
  assert.deepEqual(sentNodeFlows(sample.flows(), bridges).map((f) => f.id), expected);
  const host = analyzeHost(redisHosts()[0]!);
  const evidence = encodeNodeEvidence('node-a', { ...host.analysis, flows: sample.flows() }, { ...host, bridges }, sample.seen);
  assert.deepEqual(evidence.flows.map((f) => f.id), expected);
  assert.equal(evidence.flowsNotSent, all.length - MAX_NODE_FLOWS);
});

test('node evidence of a flood: flows sampled while captured, groups sent as counts and the ids of sent flows, a small event', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-fleet-flood-'));
  try {
    const file = path.join(dir, 'flood.pcap');
    writeFloodCapture({ syns: 30_000, out: file, spoofed: false, answered: false, synsPerSecond: 30_000 / 2 });
    const sample = new NodeFlowSample([]);
    const analysis = analyzeFiles([file], { allFlows: true, onFlow: (f) => sample.add(f) });
    assert.equal(analysis.flows.length, 0, 'streamed, not held');
    const host = hostAnalysis('node-a', { ...analysis, flows: sample.flows() }, null, []);
    const evidence = encodeNodeEvidence('node-a', host.analysis, host, sample.seen);
    assert.equal(evidence.flows.length, MAX_NODE_FLOWS);
    assert.equal(evidence.flowsNotSent, 30_000 - MAX_NODE_FLOWS);
    const sent = new Set(evidence.flows.map((f) => f.id));
    const listed = evidence.report.failedGroups.flatMap((g) => g.sample);
    assert.ok(listed.length > 0 && listed.every((id) => sent.has(id)));
    const bytes = JSON.stringify(evidence).length;
    assert.ok(bytes < 1_500_000, `${bytes} bytes`);
    const decoded = decodeNodeEvidence(JSON.parse(JSON.stringify(evidence)));
    assert.deepEqual(decoded.analysis.failedGroups.map((g) => [g.clientSubnet, g.flows, g.sample.length]), analysis.failedGroups.map((g) => [g.clientSubnet, g.flows, g.sample.filter((f) => sent.has(f.id)).length]));
    assert.equal(decoded.analysis.failedGroups.reduce((n, g) => n + g.flows, 0), 30_000);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('fleet report: nodes joined from their log lines (chunked), the collision across them, the silent nodes with their reasons', () => {
  const nodes: SwarmNode[] = [
    { id: 'ida', hostname: 'node-a', state: 'ready', availability: 'active' },
    { id: 'idb', hostname: 'node-b', state: 'ready', availability: 'active' },
    { id: 'idc', hostname: 'node-c', state: 'ready', availability: 'active' },
    { id: 'idd', hostname: 'node-d', state: 'ready', availability: 'active' },
    { id: 'ide', hostname: 'node-e', state: 'down', availability: 'active' },
  ];
  const task = (id: string, nodeId: string, state: string, error = ''): SwarmTask => ({ id, nodeId, state, desiredState: 'complete', message: '', error, exitCode: state === 'failed' ? 2 : state === 'complete' ? 0 : null });
  const tasks = [task('ta', 'ida', 'complete'), task('tb', 'idb', 'complete'), task('tc', 'idc', 'rejected', 'No such image: synscope:0.1.0'), task('td', 'idd', 'failed')];
  const lines: TaskLine[] = [];
  for (const [h, id] of redisHosts().map((h, i) => [h, ['ida', 'idb'][i]!] as const)) {
    const host = analyzeHost(h);
    // Other handshakes of the node make its evidence longer than one log line.
    const others = Array.from({ length: 100 }, (_, i) => handMadeFlow({ id: `f${1000 + i}`, clientIp: `10.9.${id.length}${h.name.at(-1) === 'a' ? 1 : 2}.1`, clientPort: 1000 + i, serverIp: '10.9.0.2', outcome: 'completed' }));
    const events = nodeEventLines(h.name, { ...host.analysis, flows: [...host.analysis.flows, ...others] }, host);
    assert.ok(events.some((e) => JSON.parse(e).type === 'chunk'), 'the evidence is over the limit: chunks');
    for (const text of events) lines.push({ nodeId: id, taskId: `t${id}`, stream: 'stdout', text: text.trimEnd() });
  }
  lines.push({ nodeId: 'idd', taskId: 'td', stream: 'stderr', text: 'synscope: found nothing to capture on [ERR_BAD_USAGE]' });
  const report = fleetReport(nodes, tasks, lines, 80_000);
  assert.deepEqual(report.findings.filter((f) => f.code === 'address-collision').map((f) => f.title), ['172.17.0.55 is a different machine on node-a and node-b']);
  assert.deepEqual(report.hosts!.map((h) => [h.name, h.noAnswer ?? 'answered']), [
    ['node-a', 'answered'],
    ['node-b', 'answered'],
    ['node-c', 'task rejected: No such image: synscope:0.1.0; no log lines'],
    ['node-d', 'task failed (exit 2); no node-evidence event in 1 log lines; synscope: found nothing to capture on [ERR_BAD_USAGE]'],
    ['node-e', 'no task: the node is down, availability active'],
  ]);
  assert.equal(report.hosts![1]!.clockMatches, 1);
  assert.deepEqual(report.hosts![0]!.sources, [`node-a/${path.join(SCENARIO, 'node-a.pcapng')}`]);
  assert.ok(report.warnings.includes('node-c did not answer: task rejected: No such image: synscope:0.1.0; no log lines'));
  const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile(JSON.parse(fs.readFileSync(path.join(REPO, 'schema', 'report.schema.json'), 'utf8')) as object);
  const json = JSON.parse(JSON.stringify(toReportJson(report))) as { hosts: object[] };
  assert.ok(validate(json), JSON.stringify(validate.errors?.slice(0, 3)));
  assert.equal(validate({ ...json, hosts: [{ ...json.hosts[2], noAnswer: 7 }] }), false, 'noAnswer is text');
});

test('the global job: host network, NET_RAW and SYS_ADMIN only, socket and sandboxes read-only, never restarted', () => {
  const spec = fleetServiceSpec({ name: 's', image: 'img', args: ['fleet-node'], hostNetworkId: 'hostid', nodeDockerSocket: '/var/run/docker.sock', nodeNetnsDir: '/var/run/docker/netns', constraints: [], until: new Date('2026-12-06T10:00:20Z') }) as any;
  assert.deepEqual(spec.Mode, { GlobalJob: {} });
  assert.deepEqual(spec.TaskTemplate.ContainerSpec.CapabilityDrop, ['ALL']);
  assert.deepEqual(spec.TaskTemplate.ContainerSpec.CapabilityAdd, ['CAP_NET_RAW', 'CAP_SYS_ADMIN']);
  assert.ok(spec.TaskTemplate.ContainerSpec.Mounts.every((m: { ReadOnly: boolean }) => m.ReadOnly));
  assert.deepEqual(spec.TaskTemplate.Networks, [{ Target: 'hostid' }]);
  assert.equal(spec.TaskTemplate.RestartPolicy.Condition, 'none');
  assert.deepEqual(spec.Labels, { 'io.synscope.fleet': '1', 'io.synscope.fleet.until': '2026-12-06T10:00:20.000Z' });
});
