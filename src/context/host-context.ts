/**
 * What the host knows that a capture cannot say: bridges and their subnets, routes
 * and policy rules, Docker networks, sysctls, kernel counters. `synscope context`
 * writes it as JSON (schema synscope.context/1); `analyze --context FILE` reads it.
 * Every source is optional: a missing one is listed in `unavailable` with the reason.
 */
import type { ConntrackTable } from '../evidence/conntrack-table';
import type { KernelEvidence } from '../evidence/kernel-evidence';

export const CONTEXT_SCHEMA = 'synscope.context/1';

export interface HostContext {
  schema: typeof CONTEXT_SCHEMA;
  /** When the snapshot was taken (ISO-8601). */
  capturedAt: string;
  hostname: string;
  /** Network namespace the facts were read in: a label such as "host", a netns name or path. */
  namespace: string;
  /** `uname -r` style release, e.g. "6.1.0-18-amd64", or null when unknown. */
  kernelRelease: string | null;
  interfaces: NetInterface[];
  /** Routes of every table (main, local, numbered ones). */
  routes: Route[];
  /** Policy routing rules (`ip rule`), in priority order. */
  rules: PolicyRule[];
  /** Docker networks from the Engine API, or null when the socket was not there. */
  dockerNetworks: DockerNetwork[] | null;
  /** The ports running containers asked to publish (GET /containers/ID/json); absent in older snapshots and without the Docker API. */
  dockerPorts?: DockerPortRequest[];
  /** The node's swarm role from the Engine API's /info; absent or null when unknown (no Docker, an older snapshot). */
  dockerSwarm?: DockerSwarm | null;
  /** Relevant sysctls by full name, e.g. "net.ipv4.conf.eth0.rp_filter": "1"; a live run's, as its window ended. */
  sysctls: Record<string, string>;
  /** Written by `synscope live` only: the sysctls that changed during the capture's window. */
  sysctlChanges?: SysctlChange[];
  /** /proc/net/netstat and /proc/net/snmp counters as "TcpExt.PAWSPassive", "Ip.InDiscards"... */
  counters: Record<string, number>;
  /** The connection-tracking table (its holders when nearly full), or null without nf_conntrack. */
  conntrack: ConntrackTable | null;
  /**
   * The namespace's listening TCP sockets (/proc/net/tcp and tcp6) as "0.0.0.0:22",
   * "127.0.0.1:8000", "[::]:80"; absent in older snapshots or when unreadable.
   */
  listeners?: string[];
  /** Netfilter rules as text (the raw, mangle, nat, filter and security tables of `iptables-save`; `nft list ruleset`), null when the tool is missing. */
  natRules: { iptables: string | null; nft: string | null };
  /** Sources that could not be read, each with the reason. */
  unavailable: { source: string; reason: string }[];
  /**
   * Written by `synscope live --write` only: the kernel counters and trace events of the
   * capture's window, so that analyzing the written files reaches the live run's findings.
   */
  kernelEvidence?: KernelEvidence;
}

export type InterfaceKind = 'bridge' | 'veth' | 'vxlan' | 'dummy' | 'physical' | 'loopback' | 'vlan' | 'bond' | 'tun' | 'other';

export interface InterfaceAddress {
  family: 4 | 6;
  /** Canonical text address. */
  address: string;
  prefixLength: number;
}

export interface NetInterface {
  name: string;
  index: number;
  kind: InterfaceKind;
  mac: string | null;
  mtu: number;
  up: boolean;
  addresses: InterfaceAddress[];
  /** The bridge (or bond) this interface is enslaved to. */
  master: string | null;
  /** For a bridge: the names of its ports. */
  ports: string[];
}

export interface Route {
  /** "main", "local", "default" or the table number as text. */
  table: string;
  family: 4 | 6;
  /** unicast, local, broadcast, blackhole, unreachable, prohibit, throw, ... */
  type: string;
  /** Destination as canonical CIDR ("0.0.0.0/0" for default). */
  destination: string;
  gateway: string | null;
  device: string | null;
  /** Route metric / priority (0 when not given). */
  metric: number;
  /** Preferred source address (prefsrc), or null. */
  source: string | null;
  scope: string | null;
  protocol: string | null;
  /**
   * For a multipath route, every next hop; `gateway` and `device` then hold the first
   * one. Absent for single-path routes.
   */
  nexthops?: { gateway: string | null; device: string | null; weight: number }[];
}

export interface PolicyRule {
  priority: number;
  family: 4 | 6;
  /** Source selector as canonical CIDR, or null for "all". */
  from: string | null;
  to: string | null;
  iif: string | null;
  oif: string | null;
  /** "0x1/0xff" style, or null. */
  fwmark: string | null;
  /** lookup, blackhole, unreachable, prohibit, goto, nop. */
  action: string;
  /** Table looked up when action is "lookup". */
  table: string | null;
  /** Rule has `not` (inverted selector). */
  invert: boolean;
  /** For action "goto": the priority where evaluation continues. */
  target?: number;
}

/** A sysctl whose value at the end of a live window differs from the one at its start. */
export interface SysctlChange {
  name: string;
  atStart: string;
  atEnd: string;
}

export interface DockerNetwork {
  id: string;
  name: string;
  driver: string;
  scope: string;
  subnets: string[];
  gateways: string[];
  /** The Linux bridge device (docker0, docker_gwbridge, br-<id12>), or null (overlay, host...). */
  bridge: string | null;
  ingress: boolean;
  internal: boolean;
  /**
   * Bridge networks: whether Docker masquerades the network's traffic leaving the host
   * (com.docker.network.bridge.enable_ip_masquerade, true unless set to "false"; "ip-masq"
   * in daemon.json for docker0). Absent for other drivers and in older snapshots.
   */
  masquerade?: boolean;
  /** macvlan and ipvlan networks: the host interface their containers' links hang off (Options.parent). */
  parent?: string;
  /** macvlan and ipvlan networks: macvlan_mode (bridge, private, vepa, passthru) or ipvlan_mode (l2, l3, l3s) when set. */
  mode?: string;
  /** Who holds which address on the network (from GET /networks/ID); absent in older snapshots. */
  endpoints?: DockerEndpoint[];
}

/** A port a running container asked Docker to publish (`-p`, compose `ports:`), and whether Docker did. */
export interface DockerPortRequest {
  /** The container's name ("app"). */
  container: string;
  containerPort: number;
  /** "tcp", "udp", "sctp". */
  protocol: string;
  /** The host address asked for; "" for every address. */
  hostIp: string;
  /** The host port asked for; 0 for one Docker picks. */
  hostPort: number;
  /** Docker published it (NetworkSettings.Ports holds a binding for it). */
  published: boolean;
  /** The container's networks, by name. */
  networks: string[];
}

/** A container or Docker sandbox attached to a network. */
export interface DockerEndpoint {
  /** "web-1", "ingress-sbox", "gateway_ingress-sbox". */
  name: string;
  /** Canonical text addresses, without prefix length. */
  addresses: string[];
}

/** Docker's GET /info `Swarm` fields that decide how a swarm node is taken out and back in. */
export interface DockerSwarm {
  /** "inactive", "pending", "active", "error", "locked". */
  localNodeState: string;
  /** True on a manager. */
  controlAvailable: boolean;
  /** The address the node advertises, or null. */
  nodeAddress: string | null;
  /** Managers and nodes in the swarm: a manager knows, a worker reports null. */
  managers: number | null;
  nodes: number | null;
  /** "10.0.0.5:2377" per manager the node knows. */
  remoteManagers: string[];
}

/** The `unavailable` source saying iptables-legacy tables exist beside the listed rules: the snapshot's listings are not the whole ruleset. */
export const LEGACY_SAVE = 'iptables-legacy-save';
