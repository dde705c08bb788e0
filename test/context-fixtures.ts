/**
 * Hand-built HostContext snapshots and routes for the route simulation and rule tests.
 * Routes are written the way `ip route` prints them: "192.168.0.0/24 dev eth0 metric 100",
 * "default via 10.0.0.1 dev eth0", "blackhole 10.9.0.0/16 table 100".
 */
import { type HostContext, type InterfaceKind, type NetInterface, type PolicyRule, type Route } from '../src/context/host-context';
import { emptyHostContext } from '../src/context/empty-context';

/** Parse one `ip route` / `ip -6 route` line into a Route. */
export function route(line: string): Route {
  const words = line.trim().split(/\s+/);
  const types = ['unicast', 'local', 'broadcast', 'blackhole', 'unreachable', 'prohibit', 'throw'];
  const type = types.includes(words[0]!) ? words.shift()! : 'unicast';
  let destination = words.shift()!;
  const family = destination.includes(':') ? 6 : 4;
  const opt = (key: string) => {
    const i = words.indexOf(key);
    return i < 0 ? null : words[i + 1]!;
  };
  const gateway = opt('via');
  const fam: 4 | 6 = gateway?.includes(':') || family === 6 ? 6 : 4;
  if (destination === 'default') destination = fam === 4 ? '0.0.0.0/0' : '::/0';
  else if (!destination.includes('/')) destination += fam === 4 ? '/32' : '/128';
  return {
    table: opt('table') ?? 'main',
    family: fam,
    type,
    destination,
    gateway,
    device: opt('dev'),
    metric: Number(opt('metric') ?? 0),
    source: opt('src'),
    scope: opt('scope'),
    protocol: opt('proto'),
  };
}

/** Parse one `ip rule` line ("100: from 10.0.0.0/8 iif eth1 fwmark 0x1/0xff lookup 100"). */
export function rule(line: string, family: 4 | 6 = 4): PolicyRule {
  const colon = line.indexOf(':');
  const prio = line.slice(0, colon);
  const words = line.slice(colon + 1).trim().split(/\s+/);
  const opt = (key: string) => {
    const i = words.indexOf(key);
    return i < 0 ? null : words[i + 1]!;
  };
  const from = opt('from');
  const to = opt('to');
  const actions = ['lookup', 'blackhole', 'unreachable', 'prohibit', 'goto', 'nop'];
  const action = actions.find((a) => words.includes(a)) ?? 'lookup';
  return {
    priority: Number(prio),
    family,
    from: from === null || from === 'all' ? null : from,
    to: to === null || to === 'all' ? null : to,
    iif: opt('iif'),
    oif: opt('oif'),
    fwmark: opt('fwmark'),
    action,
    table: action === 'lookup' ? opt('lookup') : null,
    invert: words.includes('not'),
  };
}

/** An interface: "eth0" physical by default; addresses as "10.0.0.5/24". */
export function iface(name: string, kind: InterfaceKind, addresses: string[] = [], master: string | null = null): NetInterface {
  return {
    name,
    index: 0,
    kind,
    mac: null,
    mtu: 1500,
    up: true,
    addresses: addresses.map((a) => {
      const [address, len] = a.split('/');
      return { family: address!.includes(':') ? 6 : 4, address: address!, prefixLength: Number(len) };
    }),
    master,
    ports: [],
  };
}

/** A snapshot with only what a test sets; everything else empty. */
export function makeContext(parts: Partial<HostContext> = {}): HostContext {
  return emptyHostContext({ capturedAt: '2024-01-01T00:00:00.000Z', hostname: 'test', namespace: 'host', kernelRelease: '6.1.0', ...parts });
}
