import { ErrorCode, SynscopeError } from '../errors';
import { parseSubnet, type Subnet } from '../net/cidr';

/** A local bridge (docker0, docker_gwbridge, br-<id>) and the subnet it owns. */
export interface BridgeSubnet {
  readonly name: string;
  readonly subnet: Subnet;
  /** Where the fact came from: a --bridge flag or a host-context snapshot. */
  readonly source: 'flag' | 'context';
}

/** Parse a `--bridge NAME=CIDR` value, e.g. "docker0=172.17.0.0/16". */
export function parseBridgeFlag(value: string): BridgeSubnet {
  const eq = value.indexOf('=');
  const name = eq > 0 ? value.slice(0, eq) : '';
  const subnet = eq > 0 ? parseSubnet(value.slice(eq + 1)) : null;
  if (name === '' || subnet === null || !/^[A-Za-z0-9_.:@-]{1,64}$/.test(name)) {
    throw new SynscopeError(
      ErrorCode.BAD_USAGE,
      `--bridge expects NAME=CIDR such as docker0=172.17.0.0/16, got "${value}"`,
    );
  }
  return { name, subnet, source: 'flag' };
}
