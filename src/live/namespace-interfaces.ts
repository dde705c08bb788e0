import * as fs from 'node:fs';

/**
 * Names of the network interfaces of the namespace the main thread is in. /proc/net is
 * /proc/self/net, which follows the main thread's namespace (so this works inside
 * inNetns); /sys/class/net would show the namespace sysfs was mounted in.
 */
export function namespaceInterfaces(): string[] {
  let text: string;
  try {
    text = fs.readFileSync('/proc/net/dev', 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .slice(2)
    .map((line) => line.split(':')[0]!.trim())
    .filter((name) => name !== '')
    .sort();
}
