import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

/**
 * What a real-Docker lab (test/lab/docker-lab.sh) must leave as it found it, for the tests
 * that run one: the root namespace's network, and no namespace, process, mount, cgroup or
 * directory of the lab.
 */

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * The root namespace's network as the lab must leave it: links, routes, rules, iptables and
 * the sysctls dockerd writes. Other engineers' namespace labs briefly create veths named
 * ss<pid>-tmp1/2 in the root namespace before moving them away (netns-lab.sh lab_link), so
 * those are left out; so are iptables counters, which count traffic, not configuration.
 */
export function rootNetwork(): string {
  const links = run('ip', ['-o', 'link', 'show'])
    .split('\n')
    .filter((l) => !/^\d+: ss\d+-tmp[12][@:]/.test(l));
  const routes = run('ip', ['route', 'show', 'table', 'all']);
  const rules = run('ip', ['rule', 'show']);
  const iptables = run('iptables-save', [])
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/, '[-]'))
    .join('\n');
  // What dockerd sets in its own namespace; both are per network namespace on Linux 6.x.
  const sysctls = ['net/ipv4/ip_forward', 'net/bridge/bridge-nf-call-iptables'].map((k) => {
    const file = `/proc/sys/${k}`;
    return `${k} = ${fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '(absent)'}`;
  });
  return ['# links', ...links, '# routes', routes, '# rules', rules, '# iptables', iptables, '# sysctls', ...sysctls].join('\n');
}

export function readEnv(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) env[line.slice(0, at)] = line.slice(at + 1);
  }
  return env;
}

/** What a torn-down lab must not leave: namespaces, processes, mounts, cgroups, files. */
export function leftovers(lab: string, tmp: string): string[] {
  const found: string[] = [];
  for (const ns of run('ip', ['netns', 'list']).split('\n')) if (ns.startsWith(`${lab}-`)) found.push(`namespace ${ns}`);
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue; // gone meanwhile
    }
    if (cmdline.includes(tmp)) found.push(`process ${pid}: ${cmdline}`);
  }
  // ss12 must not match the mounts of lab ss123: a lab's names go on with - or .
  const ofLab = new RegExp(`\\b${lab}[-.]`);
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    if (line.includes(tmp) || ofLab.test(line)) found.push(`mount ${line}`);
  }
  const cgroups = run('find', ['/sys/fs/cgroup', '-type', 'd', '-name', `synscope-${lab}-*`]).trim();
  if (cgroups !== '') found.push(...cgroups.split('\n').map((c) => `cgroup ${c}`));
  if (fs.existsSync(tmp)) found.push(`directory ${tmp}`);
  return found;
}

/**
 * What the lab of a finished lab script left, known only by its name (netns-lab.sh's LAB is
 * ss<pid of its bash>): its namespaces, and its Docker directories wherever docker_node made them.
 */
export function labLeftovers(lab: string): string[] {
  const prefix = `synscope-docker-${lab}.`;
  const dirs = fs.readdirSync('/tmp').filter((d) => d.startsWith(prefix)).map((d) => `/tmp/${d}`);
  return dirs.length === 0 ? leftovers(lab, `/tmp/${prefix}`) : dirs.flatMap((d) => leftovers(lab, d));
}
