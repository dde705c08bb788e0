import { Command } from 'commander';
import { collectHostContext } from '../../context/collect';
import { DEFAULT_DOCKER_SOCKET } from '../../context/docker-api';
import type { HostContext } from '../../context/host-context';
import { hostContextJson, writeHostContext } from '../../context/write-context';
import { ErrorCode, SynscopeError } from '../../errors';
import { loadNativeAddon } from '../../native/addon';
import { resolveNamespaceSpec } from '../../netns/namespace-spec';
import type { CliIo } from '../io';

const EXAMPLES = `
Examples:
  $ sudo synscope context --output host.json
  $ synscope context | jq '.interfaces[] | select(.kind == "bridge") | .name'
  $ sudo ip netns exec lab synscope context --output lab.json
  $ sudo synscope context --netns /var/run/docker/netns/ingress_sbox --output ingress.json
  $ synscope context --docker-socket /run/user/1000/docker.sock --output host.json
  $ synscope analyze eth0.pcap --context host.json

Reads the network namespace it runs in. Every source is optional: what could not be
read (no Docker socket, no iptables...) is listed under "unavailable" with the reason.
Run as root for nft rules and the Docker socket.`;

interface ContextFlags {
  output?: string;
  dockerSocket: string;
  netns?: string;
}

/** `synscope context`: write the host-context snapshot (synscope.context/1) as JSON. */
export function contextCommand(io: CliIo, setExit: (code: number) => void): Command {
  return new Command('context')
    .description("record this host's bridges, routes, policy rules, Docker networks, sysctls and counters as JSON")
    .option('-o, --output <FILE>', 'write the snapshot to FILE instead of stdout')
    .option('--docker-socket <PATH>', 'Docker Engine API socket', DEFAULT_DOCKER_SOCKET)
    .option('--netns <NS>', 'read another network namespace: a name under /run/netns, a path, or a PID')
    .addHelpText('after', EXAMPLES)
    .action(async (flags: ContextFlags) => {
      const namespaceLabel = flags.netns === undefined ? undefined : enterNamespaceForGood(flags.netns);
      const ctx = await collectHostContext({ dockerSocket: flags.dockerSocket, namespaceLabel });
      if (flags.output === undefined) {
        io.stdout(hostContextJson(ctx));
      } else {
        writeHostContext(flags.output, ctx);
        io.stderr(`${summary(flags.output, ctx)}\n`);
      }
      setExit(0);
    });
}

/**
 * Move this process's main thread into the namespace for the rest of its life: the
 * collection is asynchronous, and its tools and /proc reads must all happen there.
 * Returns the namespace's label.
 */
function enterNamespaceForGood(spec: string): string {
  const namespace = resolveNamespaceSpec(spec);
  const load = loadNativeAddon();
  if ('reason' in load) throw new SynscopeError(ErrorCode.CAPTURE_UNAVAILABLE, `--netns ${spec}: ${load.reason}`);
  try {
    load.addon.enterNetns(namespace.path);
  } catch (e) {
    const err = e as Error & { code?: string };
    const code = err.code === 'EPERM' ? ErrorCode.PERMISSION : ErrorCode.NETNS_NOT_FOUND;
    throw new SynscopeError(code, `--netns ${spec}: ${err.message}`);
  }
  return namespace.label;
}

/** "wrote host.json: 12 interfaces, 3 bridges, 40 routes, 2 Docker networks; unavailable: docker (no socket at ...)" */
export function summary(file: string, ctx: HostContext): string {
  const counts = [
    count(ctx.interfaces.length, 'interface'),
    count(ctx.interfaces.filter((i) => i.kind === 'bridge').length, 'bridge'),
    count(ctx.routes.length, 'route'),
    count(ctx.rules.length, 'policy rule'),
  ];
  if (ctx.dockerNetworks !== null) counts.push(count(ctx.dockerNetworks.length, 'Docker network'));
  const missing = ctx.unavailable.map((u) => `${u.source} (${u.reason})`);
  return `wrote ${file}: ${counts.join(', ')}${missing.length > 0 ? `; unavailable: ${missing.join(', ')}` : ''}`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
