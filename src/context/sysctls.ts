import type { FileReader } from './command';

/** A host-wide sysctl worth recording, and why its absence matters (or null: absence says nothing). */
interface GlobalSysctl {
  readonly name: string;
  readonly whenAbsent: string | null;
}

const GLOBAL_SYSCTLS: readonly GlobalSysctl[] = [
  // With timestamps on, tw_recycle dropped SYNs from NATed clients (PAWS); Linux 4.12 removed it.
  { name: 'net.ipv4.tcp_tw_recycle', whenAbsent: 'absent: removed in Linux 4.12' },
  { name: 'net.ipv4.tcp_timestamps', whenAbsent: 'absent from /proc/sys' },
  { name: 'net.ipv4.ip_forward', whenAbsent: 'absent from /proc/sys' },
  { name: 'net.ipv4.tcp_syncookies', whenAbsent: null },
  { name: 'net.ipv4.tcp_max_syn_backlog', whenAbsent: null },
  { name: 'net.core.somaxconn', whenAbsent: null },
  { name: 'net.bridge.bridge-nf-call-iptables', whenAbsent: 'absent: br_netfilter not loaded' },
  { name: 'net.bridge.bridge-nf-call-ip6tables', whenAbsent: null },
];

/** Per-interface IPv4 settings, read for "all", "default" and every interface. */
const CONF_SYSCTLS = ['rp_filter', 'route_localnet', 'forwarding'] as const;

/** What `readSysctls` found: values by full sysctl name, and the absences that mean something. */
export interface SysctlReading {
  sysctls: Record<string, string>;
  unavailable: { source: string; reason: string }[];
}

/**
 * Read the relevant sysctls from /proc/sys. `interfaces` are the entries of
 * /proc/sys/net/ipv4/conf (the kernel's own list for this namespace). Names follow
 * sysctl(8): a dot inside an interface name becomes "/" ("net.ipv4.conf.eth0/10.rp_filter").
 */
export function readSysctls(readFile: FileReader, interfaces: readonly string[]): SysctlReading {
  const sysctls: Record<string, string> = {};
  const unavailable: { source: string; reason: string }[] = [];
  for (const { name, whenAbsent } of GLOBAL_SYSCTLS) {
    const value = readFile(`/proc/sys/${name.replace(/\./g, '/')}`);
    if (value !== null) sysctls[name] = value.trim();
    else if (whenAbsent !== null) unavailable.push({ source: `sysctl ${name}`, reason: whenAbsent });
  }
  const confs = ['all', 'default', ...interfaces.filter((i) => i !== 'all' && i !== 'default')];
  for (const conf of confs) {
    for (const key of CONF_SYSCTLS) {
      const value = readFile(`/proc/sys/net/ipv4/conf/${conf}/${key}`);
      if (value !== null) sysctls[`net.ipv4.conf.${conf.replace(/\./g, '/')}.${key}`] = value.trim();
    }
  }
  return { sysctls, unavailable };
}
