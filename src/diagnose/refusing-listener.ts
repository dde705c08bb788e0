import { formatEndpoint } from '../decode/address';
import type { NamespaceCounters } from '../evidence/kernel-evidence';
import type { Flow } from '../flow/flow';
import { isLocalAddress } from './context-facts';
import type { DiagnosisInput } from './input';
import { namespaceOwning } from './kernel-facts';
import { splitEndpoint } from './nat-hop';
import { holderOf } from './docker-holder';
import { publishedElsewhere, type PublishedElsewhere } from './published-elsewhere';
import { unpublishedPort, type UnpublishedPort } from './unpublished-port';

/** What listened where a SYN was answered with a RST, when the capture's host knew it. */
export interface RefusingListener {
  /** "container app (pid:4242)", "this host". */
  where: string;
  /** The listeners there on the SYN's port, or all of them when none is on it. */
  listeners: string[];
  sentence: string;
  remedy: string[];
  /** A port published on other addresses only: those addresses and the container behind them. */
  publishedOn?: { addresses: string[]; container: string | null; rules: string[] };
  /** A port a container asked for and Docker did not publish: the container, what it asked, its networks when all are internal. */
  unpublished?: { container: string; asked: string; internalNetworks: string[] };
}

/**
 * Why a RST answered: nothing listened on the SYN's address and port in the namespace that
 * owns the address. Its listening sockets come from the snapshot (the host's own namespace)
 * or from a live window's read of the other namespaces (a container's, behind Docker's
 * DNAT). Null when they are unknown, or something listens there after all (then a
 * tcp-reset rule, or a listener that came later, is the story).
 */
export function refusingListener(input: DiagnosisInput, flow: Flow): RefusingListener | null {
  const ctx = input.context;
  const ip = flow.serverIp;
  const port = flow.serverPort;
  let where: string;
  let listeners: readonly string[] | undefined;
  let container: string | null = null;
  if (ctx !== null && isLocalAddress(ctx, ip)) {
    where = 'this host';
    listeners = ctx.listeners;
    // Docker's part, only with the host's listeners known: "nothing listens there" is a reading, not a guess.
    if (listeners !== undefined && !listeners.some((l) => accepts(l, ip, port))) {
      const at = formatEndpoint(ip, port, flow.ipVersion);
      const elsewhere = publishedElsewhere(ctx, ip, port);
      if (elsewhere !== null) return publishedOnlyThere(elsewhere, at, listeners);
      const asked = unpublishedPort(ctx, ip, port);
      if (asked !== null) return notPublished(asked, at, listeners);
    }
  } else {
    const owner: Partial<NamespaceCounters> | null = namespaceOwning(input.kernel, ip);
    if (owner === null) return null;
    container = ctx === null ? null : holderOf(ctx, ip);
    where = container === null ? `the namespace that owns ${ip} (${owner.namespace})` : `container ${container} (${owner.namespace})`;
    listeners = owner.listeners;
  }
  if (listeners === undefined || listeners.some((l) => accepts(l, ip, port))) return null;
  const onPort = listeners.filter((l) => portOf(l) === port);
  const at = formatEndpoint(ip, port, flow.ipVersion);
  const app = container === null ? 'the service' : `the application in ${container}`;
  if (onPort.length > 0) {
    return {
      where,
      listeners: onPort,
      sentence: `Nothing listens on ${at} in ${where}: it listens on ${onPort.join(', ')} only, so the kernel there answers every SYN to ${at} with a RST.`,
      remedy: [
        `Make ${app} listen on all addresses (0.0.0.0:${port} or [::]:${port}), not ${onPort.join(', ')}: ${container === null ? 'its bind or listen setting' : 'a server bound to localhost inside a container cannot be reached through a published port; set its bind address (often --host 0.0.0.0, --bind 0.0.0.0 or a HOST variable)'}.`,
      ],
    };
  }
  const others = [...listeners].sort((a, b) => portOf(a) - portOf(b));
  return {
    where,
    listeners: others,
    sentence: `Nothing listens on port ${port} in ${where}${others.length === 0 ? ' (nothing listens there at all)' : `; it listens on ${others.join(', ')}`}, so the kernel there answers every SYN to ${at} with a RST.`,
    remedy:
      others.length === 0
        ? [`Check that ${app} is running and has started its server: docker logs / docker ps, or the service's own status.`]
        : [
            container === null
              ? `Point the clients at the port the service listens on (${[...new Set(others.map(portOf))].join(', ')}), or make it listen on ${port}.`
              : `Publish the port the application listens on: docker run -p HOST_PORT:${portOf(others[0]!)} (or ports: "HOST_PORT:${portOf(others[0]!)}" in compose), instead of :${port}; or make it listen on ${port}.`,
          ],
  };
}

/** A port Docker publishes on other addresses of this host only (docker run -p 127.0.0.1:8081:80). */
function publishedOnlyThere(p: PublishedElsewhere, at: string, hostListeners: readonly string[]): RefusingListener {
  const port = splitEndpoint(at).port;
  const on = p.addresses.join(' and ');
  const who = p.container === null ? `${p.target.ip}:${p.target.port}` : `container ${p.container}`;
  const spec = (address: string) => `-p ${address.includes(':') ? `[${address}]` : address}:${port}:${p.target.port}`;
  const ip = splitEndpoint(at).ip;
  const ctr = p.container ?? 'the container';
  return {
    where: 'this host',
    listeners: hostListeners.filter((l) => portOf(l) === port),
    publishedOn: { addresses: p.addresses, container: p.container, rules: p.rules },
    sentence: `Port ${port} is published on ${on} only (${p.rules.join('; ')}), to ${who}: a SYN to ${at} matches no DNAT rule and nothing on this host listens there, so its kernel answers with a RST.`,
    remedy: [
      `If clients on the network should reach it, publish it on all addresses: recreate ${ctr} with -p ${port}:${p.target.port} instead of ${spec(p.addresses[0]!)} (compose: ports: ["${port}:${p.target.port}"]), or with ${spec(ip)} for this address only.`,
      `If it is kept on ${on} on purpose (a database, an admin page), reach it through the host instead: ssh -L ${port}:${p.addresses[0]!.includes(':') ? `[${p.addresses[0]}]` : p.addresses[0]}:${port} HOST.`,
    ],
  };
}

/** A port a container asked for that Docker did not publish: on --internal networks only, it never does. */
function notPublished(u: UnpublishedPort, at: string, hostListeners: readonly string[]): RefusingListener {
  const r = u.request;
  const c = r.container;
  const asked = `-p ${r.hostIp === '' ? '' : `${r.hostIp.includes(':') ? `[${r.hostIp}]` : r.hostIp}:`}${r.hostPort}:${r.containerPort}`;
  const names = u.internal.map((n) => n.name);
  const listed = `nothing on this host listens on ${at}`;
  const common = { where: 'this host', listeners: hostListeners.filter((l) => portOf(l) === r.hostPort), unpublished: { container: c, asked, internalNetworks: names } };
  if (names.length > 0) {
    const only = names.length === 1 ? `its only network, ${names[0]}, is` : `its networks, ${names.join(' and ')}, are all`;
    return {
      ...common,
      sentence: `Container ${c} asks for ${asked}, but Docker published nothing for it: ${only} internal (docker network create --internal), and Docker publishes no port of a container without a network that reaches outside. No DNAT rule takes a SYN to ${at} and ${listed}, so its kernel answers with a RST.`,
      remedy: [
        `Give ${c} a network that reaches outside as well: docker network connect ${u.outside ?? 'NETWORK'} ${c}   (Docker then publishes its ports; on --internal networks alone it never does)`,
        `Or, if ${names.join(' and ')} need not be internal, create ${names.length === 1 ? 'it' : 'them'} again without --internal (compose: internal: false) and recreate ${c} on ${names.length === 1 ? 'it' : 'them'}.`,
      ],
    };
  }
  return {
    ...common,
    sentence: `Container ${c} asks for ${asked}, but Docker has no mapping for it (docker port ${c} shows none): no DNAT rule takes a SYN to ${at} and ${listed}, so its kernel answers with a RST.`,
    remedy: [`See why Docker did not publish it: docker port ${c}; the daemon's log (journalctl -u docker: a port another process holds, a docker-proxy error); then recreate ${c}.`],
  };
}

function portOf(listener: string): number {
  return splitEndpoint(listener).port;
}

/** Does a listener ("0.0.0.0:80", "[::]:80", "172.17.0.2:80") take a SYN to ip:port? "[::]" takes IPv4 too (bindv6only is 0 by default). */
export function accepts(listener: string, ip: string, port: number): boolean {
  const l = splitEndpoint(listener);
  return l.port === port && (l.ip === ip || l.ip === '::' || (l.ip === '0.0.0.0' && !ip.includes(':')));
}
