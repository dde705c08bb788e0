import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { NativeCapture } from '../src/capture/native-capture';
import { loadNativeAddon, type NativeAddon, type NativeCaptureHandle, type NativeCaptureOptions } from '../src/native/addon';
import { inNetns } from '../src/netns/in-netns';
import { resolveNamespaceSpec } from '../src/netns/namespace-spec';

/**
 * The batched libpcap capture of the native addon, on a veth pair between two throw-away
 * namespaces (the host's own interfaces are never touched). Needs root and a built addon
 * (`npm run build:native`): without them the tests fail, they do not skip.
 */
const NS_CAPTURE = `sscap${process.pid}`;
const NS_PEER = `${NS_CAPTURE}-peer`;
const CAPTURE_ADDR = '10.199.77.1';
const PEER_ADDR = '10.199.77.2';
const CLOSED_PORT = 9;
const SYNS = 200;
const STEP_TIMEOUT_MS = 10_000;
const LINKTYPE_ETHERNET = 1;

let addon: NativeAddon;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe', timeout: STEP_TIMEOUT_MS });
}

/** Open a capture on eth0 of the capture namespace (the handle keeps that namespace). */
function openInCaptureNamespace(options: Omit<NativeCaptureOptions, 'device'> & { device?: string }): NativeCaptureHandle {
  return inNetns(resolveNamespaceSpec(NS_CAPTURE), () => addon.openCapture({ device: 'eth0', ...options }));
}

/** Run a Node script in the capture namespace and wait for it. */
function runInCaptureNamespace(script: string): void {
  execFileSync('ip', ['netns', 'exec', NS_CAPTURE, process.execPath, '-e', script], { stdio: 'pipe', timeout: STEP_TIMEOUT_MS });
}

/** `count` connection attempts to a closed port of the peer: each is one SYN answered by a RST. */
function sendSyns(count: number): void {
  runInCaptureNamespace(`
    const net = require('net');
    (async () => {
      for (let i = 0; i < ${count}; i++) {
        await new Promise((done) => {
          const s = net.connect(${CLOSED_PORT}, '${PEER_ADDR}');
          s.setTimeout(1000, () => { s.destroy(); done(); });
          s.on('error', done);
          s.on('connect', () => { s.destroy(); done(); });
        });
      }
    })();`);
}

function sendUdp(count: number, payloadBytes: number): void {
  runInCaptureNamespace(`
    const s = require('dgram').createSocket('udp4');
    let sent = 0;
    const next = () => (sent++ < ${count} ? s.send(Buffer.alloc(${payloadBytes}), ${CLOSED_PORT}, '${PEER_ADDR}', next) : s.close());
    next();`);
}

/** A SYN without ACK to the closed port, read from an Ethernet/IPv4/TCP frame. */
function isSynToClosedPort(data: Buffer, offset: number, caplen: number): boolean {
  if (caplen < 34 || data.readUInt16BE(offset + 12) !== 0x0800 || data[offset + 23] !== 6) return false;
  const tcp = offset + 14 + (data[offset + 14]! & 0x0f) * 4;
  if (tcp + 14 > offset + caplen) return false;
  return data.readUInt16BE(tcp + 2) === CLOSED_PORT && (data[tcp + 13]! & 0x12) === 0x02;
}

/** Poll on a 2 ms timer, as the live capture does, until `done()` or the timeout. */
async function pollUntil(done: () => boolean, poll: () => void, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) {
    poll();
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

before(() => {
  assert.equal(process.getuid?.(), 0, 'this test creates network namespaces (ip netns add) and needs root; run the tests as root');
  const load = loadNativeAddon();
  assert.ok('addon' in load, 'reason' in load ? load.reason : '');
  addon = load.addon;
  for (const ns of [NS_CAPTURE, NS_PEER]) {
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    // IPv6 router and neighbour chatter would only add noise.
    execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], { stdio: 'pipe' });
  }
  ip('-n', NS_CAPTURE, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS_PEER);
  for (const [ns, addr] of [
    [NS_CAPTURE, CAPTURE_ADDR],
    [NS_PEER, PEER_ADDR],
  ] as const) {
    ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
  }
});

after(() => {
  for (const ns of [NS_CAPTURE, NS_PEER]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // Never created (before failed early).
    }
  }
});

test('a tcp capture on a veth end gets every SYN, with capture timestamps, through the batch wrapper', async () => {
  const capture = new NativeCapture(openInCaptureNamespace({ filter: 'tcp', snaplen: 96 }));
  try {
    assert.equal(capture.linkType, LINKTYPE_ETHERNET);
    assert.equal(capture.snaplen, 96);
    assert.equal(typeof capture.nanosecond, 'boolean');
    const sentFrom = Date.now();
    sendSyns(SYNS);
    const sentUntil = Date.now();
    let syns = 0;
    let packets = 0;
    const problems: string[] = [];
    await pollUntil(
      () => syns >= SYNS,
      () =>
        capture.poll((data, offset, caplen, origLen, tsSec, tsNsec) => {
          packets++;
          if (isSynToClosedPort(data, offset, caplen)) syns++;
          const ms = tsSec * 1000 + tsNsec / 1e6;
          if (caplen > 96 || caplen > origLen) problems.push(`caplen ${caplen} origLen ${origLen}`);
          if (tsNsec >= 1e9 || ms < sentFrom - 2000 || ms > sentUntil + 2000) problems.push(`timestamp ${tsSec}.${tsNsec}`);
        }),
    );
    assert.deepEqual(problems.slice(0, 5), []);
    assert.equal(syns, SYNS);
    assert.ok(packets >= 2 * SYNS, `${packets} packets: every SYN should have its RST`);
    const stats = capture.stats();
    assert.ok(stats.received >= packets, `stats ${JSON.stringify(stats)} vs ${packets} packets`);
    assert.equal(stats.dropped, 0);
  } finally {
    capture.close();
  }
});

test('snaplen 96 cuts long packets: caplen is 96, origLen the length on the wire', async () => {
  const handle = openInCaptureNamespace({ filter: 'udp', snaplen: 96 });
  const capture = new NativeCapture(handle);
  try {
    sendUdp(20, 1000);
    const lengths: [number, number][] = [];
    await pollUntil(
      () => lengths.length >= 20,
      () => capture.poll((_data, _offset, caplen, origLen) => lengths.push([caplen, origLen])),
    );
    // 14 Ethernet + 20 IPv4 + 8 UDP + 1000 payload.
    assert.deepEqual(lengths, Array.from({ length: 20 }, () => [96, 1042]));
  } finally {
    capture.close();
  }
});

test('dispatch stops before a record would overflow the buffer; the rest waits in the kernel', async () => {
  const handle = openInCaptureNamespace({ filter: `tcp dst port ${CLOSED_PORT}`, snaplen: 96 });
  try {
    const threeRecords = Buffer.alloc(3 * (16 + 96));
    sendSyns(SYNS);
    let syns = 0;
    let calls = 0;
    await pollUntil(
      () => syns >= SYNS,
      () => {
        const written = handle.dispatch(threeRecords);
        calls++;
        assert.ok(written <= threeRecords.length);
        let offset = 0;
        while (offset < written) {
          const caplen = threeRecords.readUInt32LE(offset + 8);
          if (isSynToClosedPort(threeRecords, offset + 16, caplen)) syns++;
          offset += 16 + ((caplen + 3) & ~3);
        }
        assert.equal(offset, written, 'records end exactly where dispatch says');
      },
    );
    assert.equal(syns, SYNS, 'no packet lost between small batches');
    assert.ok(calls >= SYNS / 3, `${calls} calls`);
    assert.equal(handle.stats().dropped, 0);
    assert.throws(() => handle.dispatch(Buffer.alloc(16 + 95)), RangeError);
  } finally {
    handle.close();
  }
});

test('open errors carry a code: EFILTER for a bad filter, ENODEV for an unknown interface', () => {
  assert.throws(
    () => openInCaptureNamespace({ filter: 'tcp and and' }),
    (e: Error & { code?: string }) => e.code === 'EFILTER' && /syntax error/.test(e.message),
  );
  // libpcap 1.10 on Linux: pcap_activate gives PCAP_ERROR_NO_SUCH_DEVICE, no details text.
  assert.throws(
    () => openInCaptureNamespace({ device: 'nosuchdev0' }),
    (e: Error & { code?: string }) => e.code === 'ENODEV' && e.message.startsWith('nosuchdev0: '),
  );
  assert.throws(() => addon.openCapture({} as NativeCaptureOptions), TypeError);
});

test('close is idempotent and a closed handle refuses dispatch and stats', () => {
  const handle = openInCaptureNamespace({ filter: 'tcp', promiscuous: false, bufferBytes: 1 << 20 });
  handle.close();
  handle.close();
  assert.throws(() => handle.dispatch(Buffer.alloc(1 << 20)), (e: Error & { code?: string }) => e.code === 'ECLOSED');
  assert.throws(() => handle.stats(), (e: Error & { code?: string }) => e.code === 'ECLOSED');
});
