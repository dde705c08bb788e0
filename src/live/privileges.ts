import * as fs from 'node:fs';
import { ErrorCode, SynscopeError } from '../errors';

const CAP_NET_RAW = 13;
const CAP_SYS_ADMIN = 21;

/**
 * Refuse early, with the capability named, what the kernel would refuse later with a
 * bare EPERM: capturing needs CAP_NET_RAW, entering another namespace CAP_SYS_ADMIN.
 */
export function checkLivePrivileges(needsNamespaces: boolean): void {
  const effective = effectiveCapabilities();
  if (effective === null) return;
  if (!has(effective, CAP_NET_RAW)) {
    throw new SynscopeError(
      ErrorCode.PERMISSION,
      'live capture needs CAP_NET_RAW (and CAP_NET_ADMIN for the ring buffer): run as root (sudo synscope live ...) or `setcap cap_net_raw,cap_net_admin+eip $(command -v node)`',
    );
  }
  if (needsNamespaces && !has(effective, CAP_SYS_ADMIN)) {
    throw new SynscopeError(ErrorCode.PERMISSION, '--netns needs CAP_SYS_ADMIN to enter another network namespace (setns): run as root');
  }
}

/** The CapEff mask of this process, or null when /proc does not say. */
function effectiveCapabilities(): bigint | null {
  try {
    const line = /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return line === null ? null : BigInt(`0x${line[1]}`);
  } catch {
    return null;
  }
}

function has(mask: bigint, capability: number): boolean {
  return (mask & (1n << BigInt(capability))) !== 0n;
}
