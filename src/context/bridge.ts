import { parseAddress } from '../decode/address';
import { ErrorCode, SynscopeError } from '../errors';
import { parseSubnet, type Subnet } from '../net/cidr';

/** A local bridge (docker0, docker_gwbridge, br-<id>) and the subnet it owns. */
export interface BridgeSubnet {
  readonly name: string;
  readonly subnet: Subnet;
  /** Where the fact came from: a --bridge flag or a host-context snapshot. */
  readonly source: 'flag' | 'context';
}

/** Parse a `--bridge NAME=CIDR` value, e.g. "docker0=172.17.0.0/16". Throws ERR_BAD_USAGE saying what is wrong. */
export function parseBridgeFlag(value: string): BridgeSubnet {
  const eq = value.indexOf('=');
  const name = eq > 0 ? value.slice(0, eq) : '';
  const cidr = eq > 0 ? value.slice(eq + 1) : '';
  const bad = (why: string) => new SynscopeError(ErrorCode.BAD_USAGE, `--bridge ${value}: ${why}; expected NAME=CIDR such as docker0=172.17.0.0/16`);
  if (eq < 0) throw bad('no "=CIDR"');
  if (!/^[A-Za-z0-9_.:@-]{1,64}$/.test(name)) throw bad(name === '' ? 'no bridge name' : `"${name}" is not an interface name`);
  const slash = cidr.indexOf('/');
  const address = parseAddress(slash < 0 ? cidr : cidr.slice(0, slash));
  if (address === null) throw bad(`"${slash < 0 ? cidr : cidr.slice(0, slash)}" is not an IP address`);
  if (slash < 0) throw bad('the subnet has no /prefix');
  const w = address.words;
  if (address.version === 6 && w[0] === 0 && w[1] === 0 && w[2] === 0xffff) {
    // IPv4 clients are compared as IPv4: a mapped subnet would silently match none of them.
    throw bad('an IPv4-mapped IPv6 subnet never contains an IPv4 client; give the IPv4 subnet');
  }
  const subnet = parseSubnet(cidr);
  const max = address.version === 4 ? 32 : 128;
  const prefix = cidr.slice(slash + 1);
  if (subnet === null) throw bad(/^\d{1,3}$/.test(prefix) && Number(prefix) <= max ? `"${cidr}" is not a subnet` : `prefix "${prefix}" is not 0..${max}`);
  return { name, subnet, source: 'flag' };
}
