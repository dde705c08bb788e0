import type { HostContext } from '../context/host-context';
import { formatEndpoint } from '../decode/address';
import type { Flow } from '../flow/flow';
import { subnetContains } from '../net/cidr';
import { isLocalAddress, synInterface } from './context-facts';
import type { DropCause } from './drop-cause';
import type { DiagnosisInput } from './input';
import { DNAT_HOOK, splitEndpoint, undoRule } from './nat-hop';
import { nftTable, ruleText, rulesetOf, traverseHook, type Traversal } from './netfilter-walk';
import { accepts } from './refusing-listener';
import { holderOf } from './docker-holder';
import { isUfwPolicyRule, isUfwUserRule, ufwActiveOn, UFW_INPUT_SENTENCE, ufwAllowRemedy, ufwAllowRule, ufwBeforeDenyRemedy } from './ufw';

const INPUT_HOOK = { hook: 'input', type: 'filter' } as const;


/**
 * A SYN addressed to this host itself (not DNATed on: a service on the host, dialled by its
 * address, such as a container reaching docker0's 172.17.0.1) that the snapshot's filter
 * INPUT chains surely drop or reject, by a rule or by the chain's policy. Null when the
 * destination is not local, a DNAT takes it elsewhere, or the walk says it is accepted or
 * may be (a match synscope does not model).
 */
export function inputDrop(input: DiagnosisInput, flow: Flow): DropCause | null {
  const ctx = input.context;
  if (ctx === null || !isLocalAddress(ctx, flow.serverIp)) return null;
  const iif = synInterface(flow, input);
  if (iif === null) return null;
  const ruleset = rulesetOf(ctx);
  const pkt = { src: flow.clientIp, dst: flow.serverIp, dstPort: flow.serverPort, inInterface: iif, dstLocal: true, srcLocal: false, ctState: 'NEW' as const };
  const nat = traverseHook(ruleset, DNAT_HOOK, pkt);
  if (nat !== null && (nat.verdict === 'DNAT' || nat.verdict === 'REDIRECT' || nat.maybe.some((r) => r.target === 'DNAT' || r.target === 'REDIRECT'))) return null;
  const t = traverseHook(ruleset, INPUT_HOOK, pkt);
  if (t === null || (t.verdict !== 'DROP' && t.verdict !== 'REJECT') || t.maybe.some((r) => r.target === 'ACCEPT')) return null;
  return describe(ctx, input, flow, iif, t);
}

function describe(ctx: HostContext, input: DiagnosisInput, flow: Flow, iif: string, t: Traversal): DropCause {
  const base = t.base!;
  const by = t.rule === null ? `the ${base.chain.name} chain's policy ${t.verdict}` : ruleText(t.rule);
  const bridge = input.bridges.find((b) => b.name === iif && subnetContains(b.subnet, flow.clientIp));
  // A container's address changes when it is recreated: its bridge's subnet is what stays.
  const from = bridge?.subnet.text ?? flow.clientIp;
  const who = bridge === undefined ? flow.clientIp : `${holderOf(ctx, flow.clientIp) ?? flow.clientIp} (a container on ${bridge.name})`;
  const fromIptables = base.table === 'filter' && ctx.natRules.iptables?.includes('*filter') === true;
  const family = flow.serverIp.includes(':') ? 'ip6' : 'ip';
  const accept = fromIptables
    ? `iptables -I ${base.chain.name} -i ${iif} -s ${from} -d ${flow.serverIp} -p tcp --dport ${flow.serverPort} -j ACCEPT`
    : `nft insert rule ${nftTable(base.table)} ${base.chain.name} iifname "${iif}" ${family} saddr ${from} ${family} daddr ${flow.serverIp} tcp dport ${flow.serverPort} accept`;
  const listening = listenersOn(ctx, flow.serverPort);
  const deaf = listening !== null && !listening.some((l) => accepts(l, flow.serverIp, flow.serverPort));
  const at = formatEndpoint(flow.serverIp, flow.serverPort, flow.ipVersion);
  // ufw's deny-incoming policy: its own allow rule is the fix that lasts, iptables' only until the next restart.
  const ufw = flow.ipVersion === 4 && fromIptables && ufwActiveOn(ctx, 'INPUT');
  const ufwPolicy = ufw && ((t.rule === null && base.chain.name === 'INPUT') || (t.rule !== null && isUfwPolicyRule(t.rule.text, 'INPUT')));
  const ufwDeny = ufw && !ufwPolicy && t.rule !== null && isUfwUserRule(t.rule.chain);
  return {
    because: `${deaf ? `nothing listens on ${at}, and ` : ''}${ufwPolicy ? "ufw's" : "the host's"} INPUT ${t.rule === null ? `policy ${t.verdict} ${t.verdict === 'DROP' ? 'drops' : 'rejects'}` : `rules ${t.verdict === 'DROP' ? 'drop' : 'reject'}`} them`,
    sentences: [
      `The SYNs from ${who} are addressed to this host itself (${flow.serverIp}, arriving on ${iif}), so they go through the filter INPUT chain, not through Docker's chains, and the snapshot's rules ${t.verdict === 'DROP' ? 'drop' : 'reject'} them: ${t.rule === null ? by : `\`${by}\``} applies to ${flow.clientIp} → ${flow.serverIp}:${flow.serverPort} arriving on ${iif}.`,
      ...(ufwPolicy ? [UFW_INPUT_SENTENCE] : []),
      ...(bridge !== undefined ? [`Containers reach the host from ${bridge.name}'s ${bridge.subnet.text} (host.docker.internal, the gateway ${flow.serverIp}); a host firewall that allows a service only from named networks easily leaves that subnet out.`] : []),
      ...(deaf
        ? [
            `Nothing listens on ${at} either (the snapshot's listeners on port ${flow.serverPort}: ${listening.length === 0 ? 'none' : listening.join(', ')}), so once accepted the SYNs would meet a RST: the service must listen on that address too.`,
          ]
        : []),
    ],
    evidence: { interface: iif, inputVerdict: t.verdict, inputVerdictBy: by, ...(ufwPolicy && { inputPolicyOf: 'ufw' }), ...(listening !== null && { listeners: listening }) },
    remedy: [
      ...(deaf
        ? [
            `Make the service listen on ${at}: bind it to 0.0.0.0 (or to ${flow.serverIp} as well)${listening.some((l) => l.startsWith('127.')) ? '; a container port published as -p 127.0.0.1:HOST_PORT:PORT is published without the 127.0.0.1: prefix' : ''}.`,
          ]
        : []),
      // A rule someone wrote for these clients is theirs to delete or narrow; a policy gets an exception before it.
      ...(ufwPolicy
        ? [ufwAllowRemedy(iif, from, flow.serverPort), `Or, until the host restarts: ${accept}.`]
        : ufwDeny
          ? ufwBeforeDenyRemedy(iif, from, flow.serverPort)
          : t.rule === null
          ? [`Accept this traffic before the drop: ${accept}.`]
          : [...undoRule(t.rule), `Or accept this traffic before it: ${accept}.`]),
      ...(ufwPolicy || ufwDeny ? [] : [`Make the change last where the host's firewall is kept (the rules file it restores at boot; with ufw: ufw ${ufwAllowRule(iif, from, flow.serverPort)}; with firewalld, a rich rule or the zone of ${iif}), or the next reload drops it again.`]),
    ],
  };
}

/** The snapshot's listeners on `port`, or null when the snapshot did not record them. */
function listenersOn(ctx: HostContext, port: number): string[] | null {
  return ctx.listeners?.filter((l) => splitEndpoint(l).port === port) ?? null;
}
