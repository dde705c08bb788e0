/**
 * Builds captures/tw-recycle-nat: a server on a pre-4.12 kernel with
 * net.ipv4.tcp_tw_recycle=1, three hosts behind one NAT address, and two direct clients.
 *
 * tcp_tw_recycle was removed in Linux 4.12, so no kernel here can record this: the capture
 * is written by the project's own packet writer, and the server's behaviour is a model of
 * the kernel rule (see src/diagnose/rules/paws-timestamp-reject.ts for the sources):
 * when a connection the server closed first reaches TIME-WAIT, the server keeps the
 * client's last TSval and the second it saw it per client address (tcp_remember_stamp);
 * for 60 s it drops, without an answer, a SYN from that address whose TSval is older by
 * more than 1 in a signed 32-bit compare (tcp_peer_is_proven). Dropped SYNs are
 * retransmitted after 1, 3 and 7 s, then the client gives up (a 10 s connect timeout).
 *
 * Deterministic: a seeded PRNG, integer microsecond times, a fixed start time.
 *
 * Usage (after the build): node dist/test/lab/make-tw-recycle.js
 * writes captures/tw-recycle-nat/capture.pcap and context.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MemorySink } from '../../src/capture/byte-sink';
import { PcapWriter } from '../../src/capture/pcap-writer';
import { TcpFlag } from '../../src/decode/packet';
import { Prng } from '../../src/synth/prng';
import { buildTcpFrame } from '../../src/synth/frames';

/** 2019-01-01T00:00:00Z: when kernels with tcp_tw_recycle were still common. */
const START_SEC = 1546300800;
const DURATION_US = 180_000_000;
const SERVER = '192.0.2.10';
export const NAT_ADDRESS = '203.0.113.7';
export const DIRECT_CLIENTS = ['198.51.100.21', '198.51.100.22'] as const;
/** A port the server's firewall drops: the direct client's SYNs there are `filtered`, not PAWS. */
const FIREWALLED_PORT = 9000;
const ROUTER_MAC = '02:00:00:00:00:01';
const SERVER_MAC = '02:00:00:00:00:0a';
/** The server's own TSval clock: jiffies at HZ=250 on a 4.4 kernel. */
const SERVER_TS_HZ = 250;
const SERVER_TS_OFFSET = 987_654_321;
const PAWS_MSL = 60;
const PAWS_WINDOW = 1;
/** SYN retransmissions after 1, 3 and 7 s (RTO 1 s, doubling); the client gives up at 10 s. */
const SYN_RETRIES_US = [1_000_000, 3_000_000, 7_000_000];

interface Client {
  /** Address the server sees (the NAT's for hosts behind it). */
  readonly ip: string;
  readonly rateHz: number;
  readonly tsOffset: number;
  readonly ttl: number;
  /** Round-trip time from the server, µs. */
  readonly rttUs: number;
  /** Mean time between this client's connections, µs. */
  readonly meanGapUs: number;
}

/**
 * Hosts behind the NAT: 1000 Hz clocks with offsets far apart. On the 2^32 circle each is
 * "newer" than one other (a - c wraps), so the signed compare matters: after host c's
 * connection, host a's SYNs pass and host b's are dropped.
 */
const NATTED: readonly Client[] = [
  { ip: NAT_ADDRESS, rateHz: 1000, tsOffset: 150_000_000, ttl: 63, rttUs: 1200, meanGapUs: 6_000_000 },
  { ip: NAT_ADDRESS, rateHz: 1000, tsOffset: 700_000_000, ttl: 63, rttUs: 1500, meanGapUs: 6_000_000 },
  { ip: NAT_ADDRESS, rateHz: 1000, tsOffset: 2_600_000_000, ttl: 63, rttUs: 900, meanGapUs: 6_000_000 },
];
const DIRECT: readonly Client[] = [
  { ip: DIRECT_CLIENTS[0], rateHz: 1000, tsOffset: 41_000_000, ttl: 61, rttUs: 800, meanGapUs: 8_000_000 },
  { ip: DIRECT_CLIENTS[1], rateHz: 250, tsOffset: 3_000_000, ttl: 57, rttUs: 2000, meanGapUs: 8_000_000 },
];

export interface TwRecycleScenario {
  pcap: Buffer;
  /** context.json text (synscope.context/1). */
  context: string;
  /** SYNs the modelled server dropped by the rule (its TcpExt.PAWSPassive). */
  pawsPassive: number;
}

interface Packet {
  us: number;
  seq: number;
  frame: Buffer;
}

/** Builds the scenario's capture and context snapshot in memory. */
export function makeTwRecycle(): TwRecycleScenario {
  const rng = new Prng(0x7717ec);
  const packets: Packet[] = [];
  const queue: { us: number; seq: number; run: () => void }[] = [];
  let seq = 0;
  const at = (us: number, run: () => void) => queue.push({ us, seq: seq++, run });
  /** Per client address: the server's tcp_metrics timestamp entry. */
  const remembered = new Map<string, { ts: number; stamp: number }>();
  let pawsPassive = 0;
  let nextPort = 32768;

  const tsOf = (c: Client, us: number) => (c.tsOffset + Math.floor((c.rateHz * us) / 1e6)) >>> 0;
  const serverTs = (us: number) => (SERVER_TS_OFFSET + Math.floor((SERVER_TS_HZ * us) / 1e6)) >>> 0;
  const emit = (us: number, fromClient: boolean, c: Client, port: number, serverPort: number, s: number, a: number, flags: number, tsVal: number, tsEcr: number, payloadLength = 0, syn = false) => {
    packets.push({
      us,
      seq: seq++,
      frame: buildTcpFrame({
        src: fromClient ? c.ip : SERVER,
        dst: fromClient ? SERVER : c.ip,
        srcMac: fromClient ? ROUTER_MAC : SERVER_MAC,
        dstMac: fromClient ? SERVER_MAC : ROUTER_MAC,
        srcPort: fromClient ? port : serverPort,
        dstPort: fromClient ? serverPort : port,
        seq: s >>> 0,
        ack: a >>> 0,
        flags,
        window: syn ? 64240 : 502,
        options: syn ? { mss: 1460, sackPermitted: true, tsVal, tsEcr, windowScale: 7 } : { tsVal, tsEcr },
        payloadLength,
        ipId: rng.int(0, 0xffff),
        ttl: fromClient ? c.ttl : 64,
      }),
    });
  };

  /** tcp_peer_is_proven(..., paws_check = true): false means the SYN is dropped. */
  const peerIsProven = (ip: string, us: number, tsVal: number) => {
    const tm = remembered.get(ip);
    const now = START_SEC + Math.floor(us / 1e6);
    return !(tm !== undefined && now - tm.stamp < PAWS_MSL && ((tm.ts - tsVal) | 0) > PAWS_WINDOW);
  };
  /** tcp_remember_stamp(): the server's socket went to TIME-WAIT. */
  const rememberStamp = (ip: string, us: number, tsRecent: number) => {
    const now = START_SEC + Math.floor(us / 1e6);
    const tm = remembered.get(ip);
    if (tm === undefined || ((tm.ts - tsRecent) | 0) <= 0 || (now - tm.stamp > PAWS_MSL && tm.stamp <= now)) remembered.set(ip, { ts: tsRecent, stamp: now });
  };

  const connect = (c: Client, startUs: number, serverPort: number, firewalled: boolean) => {
    const port = nextPort++;
    const isn = rng.nextUint32();
    const serverClosesFirst = rng.next() < 0.75;
    const trySyn = (n: number, us: number) => {
      const ts = tsOf(c, us);
      emit(us, true, c, port, serverPort, isn, 0, TcpFlag.SYN, ts, 0, 0, true);
      const dropped = firewalled || !peerIsProven(c.ip, us, ts);
      if (dropped) {
        if (!firewalled) pawsPassive++;
        const retry = SYN_RETRIES_US[n];
        if (retry !== undefined && startUs + retry < DURATION_US) at(startUs + retry, () => trySyn(n + 1, startUs + retry));
        return;
      }
      exchange(c, us, port, serverPort, isn, ts, serverClosesFirst);
    };
    trySyn(0, startUs);
  };

  /** Handshake, a request, a response, and the close, as seen on the server's interface. */
  const exchange = (c: Client, t: number, port: number, serverPort: number, isn: number, synTs: number, serverClosesFirst: boolean) => {
    const sisn = rng.nextUint32();
    const d = c.rttUs;
    const A = TcpFlag.ACK;
    emit(t + 40, false, c, port, serverPort, sisn, isn + 1, TcpFlag.SYN | A, serverTs(t + 40), synTs, 0, true);
    emit(t + d, true, c, port, serverPort, isn + 1, sisn + 1, A, tsOf(c, t + d), serverTs(t + 40));
    emit(t + d + 100, true, c, port, serverPort, isn + 1, sisn + 1, TcpFlag.PSH | A, tsOf(c, t + d + 100), serverTs(t + 40), 78);
    const resp = t + d + 2100;
    emit(resp, false, c, port, serverPort, sisn + 1, isn + 79, TcpFlag.PSH | A, serverTs(resp), tsOf(c, t + d + 100), 512);
    if (serverClosesFirst) {
      // HTTP/1.0 style: the server closes, so its socket ends in TIME-WAIT.
      emit(resp + 30, false, c, port, serverPort, sisn + 513, isn + 79, TcpFlag.FIN | A, serverTs(resp + 30), tsOf(c, t + d + 100));
      const ack = resp + 30 + d;
      emit(ack, true, c, port, serverPort, isn + 79, sisn + 514, A, tsOf(c, ack), serverTs(resp + 30));
      const fin = ack + 300;
      emit(fin, true, c, port, serverPort, isn + 79, sisn + 514, TcpFlag.FIN | A, tsOf(c, fin), serverTs(resp + 30));
      emit(fin + 40, false, c, port, serverPort, sisn + 514, isn + 80, A, serverTs(fin + 40), tsOf(c, fin));
      at(fin, () => rememberStamp(c.ip, fin, tsOf(c, fin)));
    } else {
      // The client closes first: TIME-WAIT is on the client, the server remembers nothing.
      const fin = resp + d + 300;
      emit(fin, true, c, port, serverPort, isn + 79, sisn + 513, TcpFlag.FIN | A, tsOf(c, fin), serverTs(resp));
      emit(fin + 40, false, c, port, serverPort, sisn + 513, isn + 80, TcpFlag.FIN | A, serverTs(fin + 40), tsOf(c, fin));
      emit(fin + 40 + d, true, c, port, serverPort, isn + 80, sisn + 514, A, tsOf(c, fin + 40 + d), serverTs(fin + 40));
    }
  };

  for (const c of [...NATTED, ...DIRECT]) {
    for (let us = rng.int(0, 3_000_000); us < DURATION_US - 12_000_000; us += Math.max(500_000, Math.round(rng.exponential(c.meanGapUs)))) {
      const start = us;
      at(start, () => connect(c, start, 80, false));
    }
  }
  // The second direct client also tries a port the firewall drops, twice.
  for (const start of [40_000_000, 120_000_000]) at(start, () => connect(DIRECT[1]!, start, FIREWALLED_PORT, true));

  // Run the events in time order (ties in scheduling order); events may schedule later ones.
  while (queue.length > 0) {
    let k = 0;
    for (let i = 1; i < queue.length; i++) if (queue[i]!.us < queue[k]!.us || (queue[i]!.us === queue[k]!.us && queue[i]!.seq < queue[k]!.seq)) k = i;
    queue.splice(k, 1)[0]!.run();
  }

  packets.sort((a, b) => a.us - b.us || a.seq - b.seq);
  const sink = new MemorySink();
  const writer = new PcapWriter(sink, { linkType: 1 });
  for (const p of packets) writer.writePacket(p.frame, START_SEC + Math.floor(p.us / 1e6), (p.us % 1e6) * 1000);
  writer.close();
  return { pcap: sink.toBuffer(), context: contextJson(pawsPassive), pawsPassive };
}

/**
 * The server's snapshot as `synscope context` would have written it on that host after
 * the capture: an old kernel with tcp_tw_recycle on. A PAWS drop also counts as a listen
 * drop (tcp_conn_request's drop path calls tcp_listendrop), so ListenDrops equals
 * PAWSPassive while ListenOverflows stays 0.
 */
function contextJson(pawsPassive: number): string {
  const ctx = {
    schema: 'synscope.context/1',
    capturedAt: new Date((START_SEC + DURATION_US / 1e6 + 5) * 1000).toISOString(),
    hostname: 'web1',
    namespace: 'host',
    kernelRelease: '4.4.0-142-generic',
    interfaces: [
      { name: 'lo', index: 1, kind: 'loopback', mac: '00:00:00:00:00:00', mtu: 65536, up: true, addresses: [{ family: 4, address: '127.0.0.1', prefixLength: 8 }], master: null, ports: [] },
      { name: 'eth0', index: 2, kind: 'physical', mac: SERVER_MAC, mtu: 1500, up: true, addresses: [{ family: 4, address: SERVER, prefixLength: 24 }], master: null, ports: [] },
    ],
    routes: [
      { table: 'main', family: 4, type: 'unicast', destination: '0.0.0.0/0', gateway: '192.0.2.1', device: 'eth0', metric: 0, source: null, scope: null, protocol: 'static' },
      { table: 'main', family: 4, type: 'unicast', destination: '192.0.2.0/24', gateway: null, device: 'eth0', metric: 0, source: SERVER, scope: 'link', protocol: 'kernel' },
      { table: 'local', family: 4, type: 'local', destination: '127.0.0.0/8', gateway: null, device: 'lo', metric: 0, source: '127.0.0.1', scope: 'host', protocol: 'kernel' },
      { table: 'local', family: 4, type: 'local', destination: `${SERVER}/32`, gateway: null, device: 'eth0', metric: 0, source: SERVER, scope: 'host', protocol: 'kernel' },
    ],
    rules: [
      { priority: 0, family: 4, from: null, to: null, iif: null, oif: null, fwmark: null, action: 'lookup', table: 'local', invert: false },
      { priority: 32766, family: 4, from: null, to: null, iif: null, oif: null, fwmark: null, action: 'lookup', table: 'main', invert: false },
      { priority: 32767, family: 4, from: null, to: null, iif: null, oif: null, fwmark: null, action: 'lookup', table: 'default', invert: false },
    ],
    dockerNetworks: null,
    sysctls: {
      'net.ipv4.tcp_tw_recycle': '1',
      'net.ipv4.tcp_timestamps': '1',
      'net.ipv4.tcp_syncookies': '1',
      'net.ipv4.ip_forward': '0',
      'net.ipv4.tcp_max_syn_backlog': '2048',
      'net.core.somaxconn': '128',
      'net.ipv4.conf.all.rp_filter': '0',
      'net.ipv4.conf.default.rp_filter': '0',
      'net.ipv4.conf.eth0.rp_filter': '0',
    },
    counters: {
      'TcpExt.PAWSPassive': pawsPassive,
      'TcpExt.PAWSActive': 0,
      'TcpExt.PAWSEstab': 0,
      'TcpExt.ListenOverflows': 0,
      'TcpExt.ListenDrops': pawsPassive,
      'TcpExt.TCPReqQFullDrop': 0,
    },
    conntrack: null,
    natRules: { iptables: null, nft: null },
    unavailable: [{ source: 'docker', reason: 'no socket at /var/run/docker.sock' }],
  };
  return JSON.stringify(ctx, null, 2) + '\n';
}

/** Where the scenario lives, from dist/test/lab/ or test/lab/. */
export function scenarioDir(): string {
  const repo = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');
  return path.join(repo, 'captures', 'tw-recycle-nat');
}

if (require.main === module && process.env['NODE_TEST_CONTEXT'] === undefined) {
  const s = makeTwRecycle();
  const dir = scenarioDir();
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'capture.pcap'), s.pcap);
  fs.writeFileSync(path.join(dir, 'context.json'), s.context);
  console.log(`wrote ${dir}: capture.pcap (${s.pcap.length} bytes), context.json (PAWSPassive ${s.pawsPassive})`);
}
