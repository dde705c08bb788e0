import { EtherType } from './ether-types';
import { Layer, type LayerId } from './layer';
import type { DecodedPacket } from './packet';
import { Problem, fail } from './problems';

/**
 * BSD loopback address families. AF_INET is 2 everywhere; AF_INET6 differs per OS:
 * 10 Linux, 24 NetBSD/OpenBSD/BSD/OS, 28 FreeBSD/DragonFly, 30 macOS/iOS.
 */
function nextForFamily(pkt: DecodedPacket, family: number): LayerId {
  switch (family) {
    case 2:
      pkt.etherType = EtherType.IPV4;
      return Layer.IPV4;
    case 10:
    case 24:
    case 28:
    case 30:
      pkt.etherType = EtherType.IPV6;
      return Layer.IPV6;
    default:
      return fail(pkt, Problem.UNSUPPORTED_ADDRESS_FAMILY);
  }
}

/**
 * LINKTYPE_NULL (0): a 4-byte family in the byte order of the host that wrote the
 * file, which the file does not record. Families are small, so a value with bits in
 * the upper half was written in the other byte order (tcpdump's print-null.c rule).
 */
export function decodeNullLoopback(buf: Buffer, off: number, end: number, pkt: DecodedPacket): LayerId {
  const view = pkt.view;
  if (end - off < 4) return fail(pkt, Problem.TRUNCATED_NULL_LOOPBACK);
  let family = view.getUint32(off, true);
  if ((family & 0xffff0000) !== 0) family = view.getUint32(off);
  pkt.cursor = off + 4;
  return nextForFamily(pkt, family);
}

/** LINKTYPE_LOOP (108, OpenBSD): the same 4-byte family, always in network byte order. */
export function decodeLoop(buf: Buffer, off: number, end: number, pkt: DecodedPacket): LayerId {
  const view = pkt.view;
  if (end - off < 4) return fail(pkt, Problem.TRUNCATED_NULL_LOOPBACK);
  pkt.cursor = off + 4;
  return nextForFamily(pkt, view.getUint32(off));
}
