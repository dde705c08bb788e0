import type { PacketRecord } from '../capture/record';
import { decodeFrame } from '../decode/dispatch';
import { linkTypeName } from '../decode/link-types';
import { DecodedPacket, Transport } from '../decode/packet';
import { ErrorCode, SynscopeError } from '../errors';
import { loadNativeAddon, type NativeAddon, type NativeFilter } from '../native/addon';

/** What to add to a filter so it keeps the evidence a diagnosis needs. */
export const EVIDENCE_CLAUSE = 'or icmp or icmp6 or arp';
const SNAPLEN = 262144;
const LINKTYPE_ETHERNET = 1;

/**
 * Stage 1b: tcpdump's filter on the records read (`analyze -f EXPR`), compiled by libpcap
 * through the native addon for each link type the capture holds, so the packets kept are
 * the ones `tcpdump -r FILE EXPR` keeps. Counts what it kept, and the evidence it removed:
 * ICMP errors about TCP (who refused a SYN) and ARP (who asked for a client on a bridge).
 */
export class PacketFilter {
  private readonly addon: NativeAddon;
  private readonly byLinkType = new Map<number, NativeFilter>();
  private readonly scratch = new DecodedPacket();
  read = 0;
  kept = 0;
  removedIcmp = 0;
  removedArp = 0;

  constructor(readonly expression: string) {
    const load = loadNativeAddon();
    if ('reason' in load) throw new SynscopeError(ErrorCode.CAPTURE_UNAVAILABLE, `-f/--filter needs libpcap through synscope's native addon: ${load.reason}`);
    this.addon = load.addon;
    this.compiled(LINKTYPE_ETHERNET); // a syntax error is reported before any file is read
  }

  keeps(rec: PacketRecord): boolean {
    this.read++;
    if (this.compiled(rec.linkType).matches(rec.data, rec.offset, rec.caplen, rec.origLen)) {
      this.kept++;
      return true;
    }
    const pkt = this.scratch;
    decodeFrame(rec.linkType, rec.data, rec.offset, rec.offset + rec.caplen, pkt);
    if (pkt.transport === Transport.ICMP && pkt.icmpQuotesTcp) this.removedIcmp++;
    else if (pkt.transport === Transport.ARP) this.removedArp++;
    return false;
  }

  /** The warning when the filter removed evidence, with the clause that keeps it. */
  warning(): string | null {
    if (this.removedIcmp === 0 && this.removedArp === 0) return null;
    const what = [this.removedIcmp > 0 ? `${this.removedIcmp} ICMP errors about TCP (who refused a SYN)` : '', this.removedArp > 0 ? `${this.removedArp} ARP packets (who asked for a client on a bridge)` : ''].filter((w) => w !== '');
    return `the filter '${this.expression}' removed ${what.join(' and ')}, evidence the diagnosis uses: run again with -f '(${this.expression}) ${EVIDENCE_CLAUSE}'`;
  }

  private compiled(linkType: number): NativeFilter {
    let f = this.byLinkType.get(linkType);
    if (f === undefined) {
      try {
        f = this.addon.compileFilter(linkType, SNAPLEN, this.expression);
      } catch (e) {
        throw new SynscopeError(ErrorCode.BAD_USAGE, `-f '${this.expression}' (for ${linkTypeName(linkType)}): ${(e as Error).message}`);
      }
      this.byLinkType.set(linkType, f);
    }
    return f;
  }
}
