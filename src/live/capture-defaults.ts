/**
 * What `synscope live` keeps unless told otherwise: every TCP packet (the handshake and
 * the end of each connection), ICMP and ICMPv6 errors that refuse or redirect a SYN, ARP
 * (who a host looks for on a bridge), and VXLAN (swarm overlay traffic, decoded inside).
 * Everything else (UDP payload traffic, multicast chatter) is left in the kernel.
 */
export const DEFAULT_FILTER = 'tcp or icmp or icmp6 or arp or (udp port 4789)';

/**
 * Bytes kept per packet: enough for Ethernet + two VLAN tags + VXLAN's outer headers +
 * an inner IPv6 header with options + a TCP header with every option (60 bytes), but no
 * payload, so a busy host costs headers only.
 */
export const DEFAULT_SNAPLEN = 256;

/** Kernel ring buffer per interface: about 0.5 s of 100k packets/s of 256-byte snaps with libpcap's overhead. */
export const DEFAULT_BUFFER_BYTES = 32 * 1024 * 1024;
