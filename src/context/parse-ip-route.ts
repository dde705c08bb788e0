import { canonicalAddress, canonicalPrefix } from './canonical';
import type { Route } from './host-context';
import { isObject, num, parseJsonArray, str, type JsonObject } from './json-fields';

/**
 * Routes from `ip -j -4 route show table all` or `ip -j -6 ...` (the output carries no
 * family, so the caller says which). Main-table routes print no table, unicast routes
 * no type. Entries whose destination cannot be read are skipped.
 */
export function parseIpRoute(text: string, family: 4 | 6): Route[] {
  const out: Route[] = [];
  for (const r of parseJsonArray(text, `ip -j -${family} route show table all`)) {
    const dst = str(r, 'dst');
    const destination = dst === null ? null : canonicalPrefix(dst, family);
    if (destination === null) continue;
    const prefsrc = str(r, 'prefsrc');
    const route: Route = {
      table: str(r, 'table') ?? 'main',
      family,
      type: str(r, 'type') ?? 'unicast',
      destination,
      gateway: gatewayOf(r),
      device: str(r, 'dev'),
      metric: num(r, 'metric') ?? 0,
      source: prefsrc === null ? null : (canonicalAddress(prefsrc)?.text ?? null),
      scope: str(r, 'scope'),
      protocol: str(r, 'protocol'),
    };
    const hops = Array.isArray(r['nexthops']) ? r['nexthops'].filter(isObject) : [];
    if (hops.length > 0) {
      route.nexthops = hops.map((h) => ({ gateway: gatewayOf(h), device: str(h, 'dev'), weight: num(h, 'weight') ?? 1 }));
      route.gateway ??= route.nexthops[0]!.gateway;
      route.device ??= route.nexthops[0]!.device;
    }
    out.push(route);
  }
  return out;
}

/** `gateway`, or `via.host` when the gateway is of the other family (RFC 5549 IPv4 via IPv6). */
function gatewayOf(r: JsonObject): string | null {
  const via = r['via'];
  const text = str(r, 'gateway') ?? (isObject(via) ? str(via, 'host') : null);
  return text === null ? null : (canonicalAddress(text)?.text ?? null);
}
