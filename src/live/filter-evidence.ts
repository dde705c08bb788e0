import { EVIDENCE_CLAUSE } from '../analysis/packet-filter';
import type { NativeAddon } from '../native/addon';
import { buildArpRequest, buildIcmpUnreachable, buildTcpFrame } from '../synth/frames';

const LINKTYPE_ETHERNET = 1;
const SNAPLEN = 262144;

/**
 * A live filter runs in the kernel, so what it drops is never seen to be counted (as
 * `analyze -f` counts it). Instead the filter is tried on the evidence a diagnosis needs,
 * built as it arrives on an Ethernet interface: an ICMP port unreachable quoting a SYN
 * (who refused it) and an ARP request (who looks for a client on a bridge). Null when
 * the filter keeps both, or when the link type is not Ethernet (nothing to try it on).
 */
export function filterEvidenceWarning(addon: NativeAddon, expression: string, linkType: number): string | null {
  if (linkType !== LINKTYPE_ETHERNET) return null;
  const filter = addon.compileFilter(LINKTYPE_ETHERNET, SNAPLEN, expression);
  const syn = buildTcpFrame({ src: '198.51.100.7', dst: '192.0.2.1', srcPort: 40000, dstPort: 8080, seq: 1, ack: 0, flags: 0x02 });
  const probes = [
    { what: 'ICMP errors about TCP (who refused a SYN)', frame: buildIcmpUnreachable({ original: syn }) },
    { what: 'ARP (who asks for a client on a bridge)', frame: buildArpRequest({ senderMac: '02:00:00:00:00:01', senderIp: '172.17.0.1', targetIp: '172.17.0.50' }) },
  ];
  const dropped = probes.filter((p) => !filter.matches(p.frame, 0, p.frame.length, p.frame.length)).map((p) => p.what);
  if (dropped.length === 0) return null;
  return `the filter '${expression}' keeps no ${dropped.join(' and no ')}, evidence the diagnosis uses: capture with -f '(${expression}) ${EVIDENCE_CLAUSE}'`;
}
