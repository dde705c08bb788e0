import type { Flow } from '../flow/flow';
import { forwardedWay } from './context-facts';
import { networkOnBridge } from './docker-holder';
import type { DropCause } from './drop-cause';
import type { DiagnosisInput } from './input';
import { hopFacts } from './nat-hop';

/** What to say of a DOCKER-USER rule that drops the replies to a connection a container opened. */
export interface DockerUserReplies {
  sentence: string;
  remedy: string[];
}

/**
 * DOCKER-USER comes first in FORWARD, before Docker's own accept of replies: a rule there
 * meant for new connections to published ports drops the SYN-ACKs of containers' own
 * outbound connections too. Null when `rule` is not in DOCKER-USER.
 */
export function dockerUserReplies(rule: string | null): DockerUserReplies | null {
  if (rule === null || !rule.startsWith('-A DOCKER-USER ')) return null;
  return {
    sentence:
      "DOCKER-USER comes first in FORWARD, before Docker's own accept of replies (RELATED,ESTABLISHED), so a rule there meant for new connections to published ports also drops the replies to connections the containers opened themselves.",
    remedy: [
      `Let replies through before the rule, as Docker's documentation pairs the two: iptables -I DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT.`,
      `It goes first, so \`${rule}\` still drops new connections from others to the published ports; keep it where that rule is kept (it goes when the host restarts).`,
      `Watch the counters while a container connects out: iptables -L DOCKER-USER -v -n --line-numbers.`,
    ],
  };
}

/**
 * `filtered`'s cause for a container's outbound SYNs captured on its bridge alone (the
 * uplink they leave by not captured): whatever the server answers comes back by the uplink,
 * and the snapshot's DOCKER-USER rule drops it on its way back to the bridge. Medium: the
 * capture cannot show that an answer came.
 */
export function dockerUserReplyDrop(input: DiagnosisInput, flow: Flow): DropCause | null {
  const ctx = input.context;
  const way = forwardedWay(input, flow);
  if (ctx === null || way === null) return null;
  const { iif: bridge, out } = way;
  if (networkOnBridge(ctx, bridge) === undefined || input.interfaceNames.includes(out)) return null;
  const back = hopFacts(ctx, {
    packet: { src: flow.serverIp, dst: flow.clientIp, dstPort: flow.clientPort },
    established: true,
    from: out,
    to: bridge,
    reply: { client: flow.clientIp, from: flow.serverIp, iif: out, back: bridge },
  });
  const replies = dockerUserReplies(back.dropRule);
  if (replies === null) return null;
  return {
    because: `a DOCKER-USER rule drops the replies coming back by ${out}`,
    sentences: [
      `The SYNs left ${bridge} toward ${out}, which this capture does not include; whatever ${flow.serverIp} answers comes back by ${out}, and the snapshot's filter rules drop it there: \`${back.dropRule}\` applies to ${flow.serverIp} → ${flow.clientIp}:${flow.clientPort} from ${out} to ${bridge}.`,
      replies.sentence,
    ],
    evidence: { leavesBy: out, replyDroppedBy: back.dropRule },
    remedy: [...replies.remedy, `Capture ${out} too to see the SYN-ACKs arrive and go no further: synscope live -i ${bridge} -i ${out}.`],
    confidence: 'medium',
  };
}
