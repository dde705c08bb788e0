/**
 * What the skb drop reasons that bear on a silent SYN mean (enum skb_drop_reason,
 * include/net/dropreason-core.h, names as tracefs prints them, Linux 6.x). A reason not
 * listed is shown by its name alone.
 */
export const DROP_REASON_MEANINGS: Readonly<Record<string, string>> = {
  NETFILTER_DROP: 'a netfilter rule (iptables, nftables) dropped it',
  IP_RPFILTER: 'the reverse-path filter (rp_filter) dropped it',
  NO_SOCKET: 'nothing listens on its port (a SYN gets a RST)',
  TCP_LISTEN_OVERFLOW: 'the accept queue was full when the handshake completed',
  TCP_RFC7323_PAWS: 'PAWS: its TCP timestamp was older than the connection had seen',
  TCP_RFC7323_TW_PAWS: 'PAWS against a TIME-WAIT socket of the same 4-tuple',
  TCP_INVALID_SYN: 'a SYN for a connection that already exists (answered with a challenge ACK)',
  SOCKET_BACKLOG: "a socket's backlog was full",
  OTHERHOST: "its destination MAC was another host's",
  IP_INNOROUTES: 'no route for it on input',
  IP_INADDRERRORS: 'its destination is not an address this host accepts',
  IP_OUTNOROUTES: 'no route to send it',
  IP_LOCAL_SOURCE: 'it came in with one of this host\'s own addresses as its source',
  IP_INVALID_SOURCE: 'its source address is invalid (martian)',
  NEIGH_FAILED: 'the next hop did not answer ARP or neighbour discovery',
  QDISC_DROP: 'a queueing discipline dropped it on output',
  TC_INGRESS: 'a tc ingress filter dropped it',
  TC_EGRESS: 'a tc egress filter dropped it',
  XFRM_POLICY: 'an IPsec policy refused it',
  SECURITY_HOOK: 'a security module (LSM) refused it',
  BPF_CGROUP_EGRESS: 'a cgroup BPF program refused it',
  TCP_CSUM: 'bad TCP checksum',
  IP_CSUM: 'bad IPv4 header checksum',
};
