import type { BridgeSubnet } from '../../context/bridge';
import { LEGACY_SAVE, type DockerNetwork, type HostContext } from '../../context/host-context';
import type { Flow } from '../../flow/flow';
import { bridgePlace, bridgeUplink, sentByHost, untranslatedEvidence } from '../bridge-uplink';
import { networkOnBridge } from '../docker-holder';
import { contextInterface } from '../context-facts';
import type { Finding } from '../finding';
import { distinct, groupBy, plural, serviceOf } from '../group';
import type { DiagnosisInput } from '../input';
import { forwardDrop, SNAT_HOOK } from '../nat-hop';
import { rulesetOf, traverseHook } from '../netfilter-walk';

/** A failed attempt from a bridge's subnet that leaves (or would leave) the host with its private source. */
interface Untranslated {
  flow: Flow;
  bridge: BridgeSubnet;
  /** The device the host routes the server by (eth0): where the SYN leaves. */
  uplink: string;
  /** True when the capture saw the SYN on the uplink, untranslated. */
  seenLeaving: boolean;
  /** True when it saw the SYN on the bridge (false: the bridge was not captured). */
  seenOnBridge: boolean;
  route: string;
}

/**
 * `nat-path-break` for the translation that never happened: an unanswered IPv4 attempt from
 * a container (an address in a local bridge's subnet) to a server beyond the host, which
 * the host routes out of a device that is not a bridge, while the snapshot's nat
 * POSTROUTING surely neither masquerades nor SNATs it. The SYN leaves with the container's
 * private source, and the answer, addressed to a network nobody beyond the host routes back
 * to it, never comes. Seen on the uplink untranslated: high confidence; the uplink not
 * captured: medium. A rule that may masquerade it (a match synscope does not model) claims
 * nothing; so does no nat table in the snapshot, unless the capture saw the SYN leave or
 * Docker's whole ruleset is gone under a network it masquerades.
 */
export function masqueradeMissingRule(input: DiagnosisInput): Finding[] {
  const ctx = input.context;
  if (ctx === null) return [];
  const found: Untranslated[] = [];
  // A flood's sample repeats a few client/server pairs: route and rule walks once per pair.
  const paths = new Map<string, Path | null>();
  for (const flow of input.failedFlows) {
    if (flow.outcome !== 'unanswered' || flow.clientIp.includes(':')) continue;
    const key = `${flow.clientIp}|${flow.serverIp}|${flow.serverPort}`;
    let path = paths.get(key);
    if (path === undefined) paths.set(key, (path = untranslatedPath(input, ctx, flow)));
    if (path === null) continue;
    const names = flow.interfaces.map((i) => input.interfaceNames[i]);
    const onBridge = names.includes(path.bridge.name);
    const onUplink = names.includes(path.uplink);
    // With no nat chain in the snapshot at all, only the capture itself shows the translation
    // missing, unless Docker's whole ruleset is gone while its network expects masquerade.
    if (path.noNat && !onUplink && !path.wipedUnderMasquerade) continue;
    // Captured on the uplink alone (tcpdump -i eth0), the SYN is a container's leaving when the host sent it.
    if (!onBridge && !(onUplink && sentByHost(input, ctx, flow.clientIp, path.uplink))) continue;
    found.push({ flow, bridge: path.bridge, uplink: path.uplink, route: path.route, seenOnBridge: onBridge, seenLeaving: onUplink });
  }
  const groups = groupBy(found, (u) => `${u.bridge.name}|${u.uplink}|${serviceOf(u.flow)}|${u.seenLeaving}`);
  return [...groups.values()].map((group) => finding(group, input, ctx));
}

/**
 * Where the untranslated SYN goes; `noNat`: the snapshot has no nat chain at all (both listings
 * read); `wipedUnderMasquerade`: and that is Docker's whole ruleset gone under a network it
 * masquerades, with nothing left that drops the SYN before it leaves.
 */
type Path = Pick<Untranslated, 'bridge' | 'uplink' | 'route'> & { noNat: boolean; wipedUnderMasquerade: boolean };

/** The bridge the client is on and the uplink toward the server, when nothing surely translates the pair between them; else null. */
function untranslatedPath(input: DiagnosisInput, ctx: HostContext, flow: Flow): Path | null {
  const way = bridgeUplink(input, ctx, flow);
  if (way === null) return null;
  const { bridge, uplink } = way;
  const t = traverseHook(rulesetOf(ctx), SNAT_HOOK, { src: flow.clientIp, dst: flow.serverIp, dstPort: flow.serverPort, inInterface: bridge.name, outInterface: uplink, srcLocal: false, dstLocal: false });
  const translates = (v: string | null) => v === 'MASQUERADE' || v === 'SNAT' || v === 'NETMAP';
  // No nat chain at all translates nothing only when both listings were read (iptables-save and nft list ruleset).
  if (t === null && !natRulesRead(ctx)) return null;
  if (t !== null && (translates(t.verdict) || t.maybe.some((rule) => translates(rule.target)))) return null;
  const noNat = t === null;
  // What is left of a wiped ruleset may still drop the SYN on its way to the uplink (a forward policy drop): then it never leaves.
  const wipedUnderMasquerade =
    noNat &&
    wipedRuleset(ctx) !== null &&
    expectsMasquerade(ctx, bridge.name) &&
    forwardDrop(ctx, { packet: { src: flow.clientIp, dst: flow.serverIp, dstPort: flow.serverPort }, from: bridge.name, to: uplink }) === null;
  return { ...way, noNat, wipedUnderMasquerade };
}

/** The bridge is a Docker network's that Docker masquerades (its default). */
function expectsMasquerade(ctx: HostContext, bridge: string): boolean {
  const network = networkOnBridge(ctx, bridge);
  return network !== undefined && network.masquerade !== false;
}

/** Both of the snapshot's rule listings were read, and iptables-save noted no legacy tables beside them: a table neither shows is not there. */
function natRulesRead(ctx: HostContext): boolean {
  return ctx.natRules.iptables !== null && ctx.natRules.nft !== null && !ctx.unavailable.some((u) => u.source === LEGACY_SAVE);
}

/**
 * The tables left of a ruleset replaced whole under a running Docker, when both listings were
 * read: no ip nat or ip filter table and none of Docker's chains anywhere, as loading an
 * nftables file that begins with `flush ruleset` (Debian's /etc/nftables.conf) leaves it.
 * Null otherwise (rules flushed by iptables leave its tables: reason() tells that story).
 */
function wipedRuleset(ctx: HostContext): string[] | null {
  if (!natRulesRead(ctx)) return null;
  const ruleset = rulesetOf(ctx);
  if (ruleset.has('nat') || ruleset.has('filter')) return null;
  for (const chains of ruleset.values()) for (const name of chains.keys()) if (name.startsWith('DOCKER')) return null;
  return [...ruleset.keys()];
}

function finding(group: Untranslated[], input: DiagnosisInput, ctx: HostContext): Finding {
  const { bridge, uplink, seenLeaving, seenOnBridge, route } = group[0]!;
  const flows = group.map((u) => u.flow);
  const service = serviceOf(flows[0]!);
  const clients = distinct(flows.map((f) => f.clientIp), 20);
  const subnet = bridge.subnet.text;
  const network = networkOnBridge(ctx, bridge.name);
  const dockerRule = `-s ${subnet} ! -o ${bridge.name} -j MASQUERADE`;
  const dockerNat = rulesetOf(ctx).get('nat')?.has('DOCKER') === true;
  const uplinkAddress = contextInterface(ctx, uplink)?.addresses.find((a) => !a.address.includes(':'))?.address ?? null;
  const who = bridgePlace(network, bridge);
  const how = !seenOnBridge
    ? `were seen leaving by ${uplink} untranslated (${bridge.name} was not captured)`
    : seenLeaving
      ? `were seen on ${bridge.name} and then leaving by ${uplink} untranslated`
      : `were seen on ${bridge.name}, and the host routes them out of ${uplink} (not captured)`;
  const wiped = expectsMasquerade(ctx, bridge.name) ? wipedRuleset(ctx) : null;
  const sentences = [
    `The SYNs to ${service} from ${clients.join(', ')} (${who}) ${how}; nothing came back: no SYN-ACK, RST or ICMP.`,
    `The snapshot's nat rules neither masquerade nor SNAT ${subnet} leaving by ${uplink}, so ${seenLeaving ? 'they left' : 'they leave'} with the container's private source address, and the answer, addressed to ${clients[0]}, goes to a network that nothing beyond this host routes back to it (a router or the provider drops it).`,
    ...(wiped !== null
      ? [
          `None of Docker's tables or chains is in the snapshot (iptables-save and nft list ruleset show ${wiped.length === 0 ? 'no table at all' : `only ${wiped.map((t) => `table ${t}`).join(', ')}`}) while Docker runs: its whole ruleset was replaced, as loading an nftables file that begins with \`flush ruleset\` does (Debian's /etc/nftables.conf; systemctl restart nftables, or its start after dockerd's), unless Docker was told to write no rules ("iptables": false in /etc/docker/daemon.json). Published ports may still answer, through docker-proxy (the userland proxy, on by default), which is why outbound connections are what fail.`,
        ]
      : reason(network, bridge.name, dockerRule, dockerNat)),
  ];
  const remedy =
    network?.masquerade === false
      ? [
          `Either route ${subnet} back to this host on the network beyond it (on the router: ip route add ${subnet} via ${uplinkAddress ?? "this host's address"}), or let Docker masquerade the network again (recreate it without com.docker.network.bridge.enable_ip_masquerade=false, or remove "ip-masq": false from /etc/docker/daemon.json for docker0, then restart dockerd).`,
        ]
      : [
          `Put Docker's rule back: iptables -t nat -I POSTROUTING ${dockerRule}.`,
          ...(wiped !== null
            ? [
                `Then restart dockerd, which writes all of its rules again (systemctl restart docker; containers without a restart policy stay stopped until docker start; with "iptables": false it writes none: keep the rule above yourself), and keep the nftables file from removing Docker's tables: in /etc/nftables.conf, replace \`flush ruleset\` by flushing only the tables it defines (${wiped.length > 0 ? wiped.map((t) => `flush table ${t}`).join('; ') : 'flush table inet filter'}).`,
                `Check: iptables -t nat -L POSTROUTING -v -n shows the rule's counter rising as ${clients[0]} connects again; nft list tables shows Docker's ip nat and ip filter tables after the restart.`,
              ]
            : [
                dockerNat
                  ? "Then restore whatever else was removed with it: restarting dockerd (systemctl restart docker) writes all of Docker's rules again; find what flushed them (a firewall reload or an iptables-restore of a nat table saved without Docker's rules: firewalld, netfilter-persistent, ufw, a boot script) so it does not happen again."
                  : 'The nat table has no DOCKER chain either: Docker\'s rules were flushed (restarting dockerd writes them all again: systemctl restart docker) or Docker writes none ("iptables": false in /etc/docker/daemon.json; then keep this rule yourself, or remove that setting).',
                `Check: iptables -t nat -L POSTROUTING -v -n shows the rule's counter rising as ${clients[0]} connects again; conntrack -L -s ${clients[0]} shows the new attempts translated to ${uplinkAddress ?? `${uplink}'s address`}.`,
              ]),
        ];
  return {
    code: 'nat-path-break',
    severity: 'error',
    confidence: seenLeaving ? 'high' : 'medium',
    title: `${plural(flows.length, 'attempt')} from ${bridge.name} to ${service} ${seenLeaving ? 'left' : 'leave'} by ${uplink} with the container's own address: nothing masquerades ${subnet}`,
    explanation: sentences.join(' '),
    evidence: {
      ...untranslatedEvidence(input, flows, group[0]!, seenLeaving ? uplink : bridge.name, seenLeaving),
      seenOnBridge,
      routeToServer: route,
      snatRules: [],
      ...(network !== undefined && { dockerNetwork: network.name, masquerade: network.masquerade ?? null }),
      dockerNatChain: dockerNat,
      ...(wiped !== null && { rulesetWiped: true, tablesLeft: wiped }),
    },
    flows: flows.map((f) => f.id),
    remedy,
  };
}

/** Why nothing masquerades: Docker was told not to, or its rule went away. */
function reason(network: DockerNetwork | undefined, bridge: string, rule: string, dockerNat: boolean): string[] {
  if (network === undefined) return [];
  if (network.masquerade === false) {
    return [`Docker was told not to masquerade this network (com.docker.network.bridge.enable_ip_masquerade=false; for docker0, "ip-masq": false in daemon.json): its containers' addresses must be routed back to this host by the network beyond it.`];
  }
  return [
    `Docker writes \`-A POSTROUTING ${rule}\` for ${bridge} when it creates the network${dockerNat ? ', and the rest of its nat rules are still there: that one was removed since (iptables -t nat -F POSTROUTING, a firewall reload or a restore of a nat table saved without it)' : '; the snapshot has no DOCKER chain in nat either, so Docker\'s nat rules were flushed or it was told to write none ("iptables": false)'}.`,
  ];
}
