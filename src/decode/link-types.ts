import { Layer, type LayerId } from './layer';

/** LINKTYPE_* values (tcpdump.org/linktypes.html) the decoders handle. */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

const NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'NULL'],
  [1, 'ETHERNET'],
  [6, 'IEEE802_5'],
  [8, 'SLIP'],
  [9, 'PPP'],
  [10, 'FDDI'],
  [50, 'PPP_HDLC'],
  [51, 'PPP_ETHER'],
  [101, 'RAW'],
  [104, 'C_HDLC'],
  [105, 'IEEE802_11'],
  [108, 'LOOP'],
  [113, 'LINUX_SLL'],
  [119, 'IEEE802_11_PRISM'],
  [127, 'IEEE802_11_RADIOTAP'],
  [147, 'USER0'],
  [160, 'USER13'],
  [162, 'USER15'],
  [192, 'PPI'],
  [195, 'IEEE802_15_4_WITHFCS'],
  [220, 'USB_LINUX_MMAPPED'],
  [228, 'IPV4'],
  [229, 'IPV6'],
  [231, 'DBUS'],
  [249, 'NETLINK'],
  [252, 'WIRESHARK_UPPER_PDU'],
  [253, 'NETANALYZER'],
  [263, 'ETW'],
  [276, 'LINUX_SLL2'],
]);

/** LINKTYPE_ name without the prefix ("ETHERNET"), or "LINKTYPE_<n>" when unknown. */
export function linkTypeName(linkType: number): string {
  return NAMES.get(linkType) ?? `LINKTYPE_${linkType}`;
}

/**
 * First layer to decode for a link type, or DONE when unsupported. LINKTYPE_IPV4/IPV6
 * go straight to the IPv4/IPv6 decoder, whose version check turns a packet of the
 * other version into `invalid-ip-version` (as tcpdump does).
 */
export function firstLayer(linkType: number): LayerId {
  switch (linkType) {
    case LinkType.ETHERNET:
      return Layer.ETHERNET;
    case LinkType.LINUX_SLL:
      return Layer.SLL;
    case LinkType.LINUX_SLL2:
      return Layer.SLL2;
    case LinkType.NULL:
      return Layer.NULL_LOOPBACK;
    case LinkType.LOOP:
      return Layer.LOOP;
    case LinkType.RAW:
      return Layer.RAW_IP;
    case LinkType.IPV4:
      return Layer.IPV4;
    case LinkType.IPV6:
      return Layer.IPV6;
    default:
      return Layer.DONE;
  }
}

/** True when decodeFrame can decode packets of this link type. */
export function isSupportedLinkType(linkType: number): boolean {
  return firstLayer(linkType) !== Layer.DONE;
}

/** The supported link types, for `--help` and reports. */
export const SUPPORTED_LINK_TYPES: readonly number[] = Object.values(LinkType);
