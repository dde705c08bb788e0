import type { Flow } from '../src/flow/flow';

/**
 * A hand-made flow for rule, stitching and report tests: one hop's unanswered IPv4
 * attempt from 198.51.100.7:40000 to 192.0.2.1:8080 at t=1000 unless `fields` say
 * otherwise (a completed one gets state SF and one SYN-ACK).
 */
export function handMadeFlow(fields: Partial<Flow> & { id: string }): Flow {
  const outcome = fields.outcome ?? 'unanswered';
  return {
    ipVersion: 4,
    clientIp: '198.51.100.7',
    clientPort: 40000,
    serverIp: '192.0.2.1',
    serverPort: 8080,
    state: outcome === 'completed' ? 'SF' : 'S0',
    history: 'S',
    syns: 1,
    synAcks: outcome === 'completed' ? 1 : 0,
    origPackets: 1,
    respPackets: 0,
    firstSeen: 1000,
    lastSeen: 1000,
    firstSynAt: 1000,
    firstSynAckAt: null,
    isn: 123456789,
    synOptions: { mss: 1460, windowScale: 7, sackPermitted: true, tsVal: 55555, tsEcr: 0 },
    synIpId: 4242,
    synTtl: 64,
    interfaces: [0],
    outcome,
    rejection: null,
    ...fields,
  };
}
