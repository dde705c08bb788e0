import type { Flow } from '../flow/flow';
import { subnetContains } from '../net/cidr';
import { isLocalAddress, sameLink } from './context-facts';
import { holderOf, networkHolds, networkOnBridge } from './docker-holder';
import { forwardPolicyOwner, KEEP_FORWARD_ACCEPTS } from './forward-policy';
import { ufwForwardSentence, ufwRouteRemedy } from './ufw';
import type { DropCause } from './drop-cause';
import type { DiagnosisInput } from './input';
import { hopFacts } from './nat-hop';

/**
 * A SYN between two machines on one bridge, dropped by the filter rules the bridge's traffic
 * goes through (br_netfilter: bridge-nf-call-iptables = 1, which dockerd turns on), where a
 * bridged frame is forwarded from the bridge to itself. Two stories are named: Docker's own
 * rule for "icc": false, which drops everything between the containers of docker0; and a
 * bridge that is not Docker's (a KVM/libvirt host's br0 holding its uplink and its VMs' taps)
 * whose frames meet Docker's FORWARD policy DROP: installing Docker cut the VMs off (or
 * ufw's, deny routed, which starts to apply once dockerd turns br_netfilter on).
 */
export function bridgedDrop(input: DiagnosisInput, flow: Flow): DropCause | null {
  const ctx = input.context;
  if (ctx === null || ctx.sysctls['net.bridge.bridge-nf-call-iptables'] !== '1') return null;
  // To or from the host itself is no bridged traffic: INPUT decides (inputDrop).
  if (isLocalAddress(ctx, flow.clientIp) || isLocalAddress(ctx, flow.serverIp)) return null;
  const bridge = input.bridges.find((b) => subnetContains(b.subnet, flow.clientIp) && subnetContains(b.subnet, flow.serverIp));
  if (bridge === undefined) return null;
  if (!flow.interfaces.some((i) => sameLink(ctx, input.interfaceNames[i] ?? '', bridge.name))) return null;
  const network = networkOnBridge(ctx, bridge.name);
  const dockers = network !== undefined;
  // On a Docker bridge whose containers the snapshot lists, a client that is none of them came from outside (DNATed to a published port): not bridged.
  if (network?.endpoints !== undefined && !networkHolds(network, flow.clientIp)) return null;
  const facts = hopFacts(ctx, { packet: { src: flow.clientIp, dst: flow.serverIp, dstPort: flow.serverPort }, from: bridge.name, to: bridge.name });
  if (facts.dropRule === null) return null;
  const evidence = { bridge: bridge.name, forwardVerdictBy: facts.dropRule, forwardVerdict: facts.evidence['forwardVerdict'] ?? null };
  if (facts.dropRule === `-A FORWARD -i ${bridge.name} -o ${bridge.name} -j DROP`) return iccDrop(input, flow, bridge.name, facts.dropRule, evidence);
  const owner = dockers ? null : forwardPolicyOwner(ctx, facts.dropRule, flow.ipVersion);
  const bridged = `The SYNs are bridged through ${bridge.name} (${flow.clientIp} to ${flow.serverIp}), a bridge that is not Docker's, such as a VM host's bridge holding its uplink and the VMs' ports. With dockerd running, bridged frames pass iptables (br_netfilter: net.bridge.bridge-nf-call-iptables = 1) as traffic forwarded from ${bridge.name} to ${bridge.name}, and FORWARD's policy DROP drops them.`;
  if (owner === 'ufw') {
    return {
      because: `ufw's FORWARD policy DROP (deny routed) drops what ${bridge.name} bridges, now that dockerd passes bridged frames to iptables`,
      sentences: [bridged, ufwForwardSentence(bridge.name, bridge.name)],
      evidence: { ...evidence, forwardPolicyOf: owner, dockerBridge: false },
      remedy: ufwRouteRemedy(bridge.name, bridge.name),
    };
  }
  if (owner === 'docker') {
    return {
      because: `Docker's FORWARD policy DROP drops what ${bridge.name} bridges`,
      sentences: [
        bridged,
        `On a Docker host that policy is usually Docker's: dockerd sets it when it turns IP forwarding on itself (forwarding was off when it started), then accepts only its own bridges' traffic. This is how installing Docker cuts off the VMs or containers behind a host's own bridge; the host itself still reaches them (its own packets are not forwarded).`,
      ],
      evidence: { ...evidence, dockerForwardPolicy: true, forwardPolicyOf: owner, dockerBridge: false },
      remedy: [
        `Accept what ${bridge.name} bridges in DOCKER-USER, where Docker leaves rules alone (one rule for both directions, as a bridged frame comes in and goes out by ${bridge.name}): iptables -I DOCKER-USER -i ${bridge.name} -o ${bridge.name} -j ACCEPT.`,
        KEEP_FORWARD_ACCEPTS,
      ],
    };
  }
  return {
    because: `the filter rules between ${bridge.name}'s ${dockers ? 'containers' : 'machines'} drop them`,
    sentences: [`The SYNs go between two ${dockers ? 'containers' : 'machines'} of ${bridge.name}, and the filter rules its traffic passes through drop them.`, ...facts.sentences],
    evidence,
    remedy: facts.dropRemedy,
  };
}

/** Docker's rule for "icc": false, what it is and the ways around it. */
function iccDrop(input: DiagnosisInput, flow: Flow, bridge: string, dropRule: string, evidence: Record<string, unknown>): DropCause {
  const ctx = input.context!;
  const [client, server] = [holderOf(ctx, flow.clientIp) ?? flow.clientIp, holderOf(ctx, flow.serverIp) ?? flow.serverIp];
  return {
    because: `Docker's icc rule drops traffic between ${bridge}'s containers`,
    sentences: [
      `The SYNs go between two containers of ${bridge} (${client} to ${server}), and Docker does not let containers of ${bridge} talk to each other: its rule \`${dropRule}\` is what Docker writes for "icc": false (daemon.json, or com.docker.network.bridge.enable_icc=false on the network), and it drops them in the bridge's forward path. Traffic from outside through a published port is not affected.`,
    ],
    evidence: { ...evidence, interContainerTraffic: 'off (icc false)' },
    remedy: [
      `Let this traffic through, before Docker's drop: iptables -I DOCKER-USER -i ${bridge} -o ${bridge} -s ${flow.clientIp} -d ${flow.serverIp} -p tcp --dport ${flow.serverPort} -j ACCEPT.`,
      `Or do as Docker intends (icc concerns the default bridge): put the two on a user-defined network and dial ${server} by its name there (docker network create NET, then docker network connect NET ${client} and docker network connect NET ${server}).`,
      `Or let every container of ${bridge} reach every other: "icc": true in /etc/docker/daemon.json (or remove the setting), then systemctl restart docker.`,
    ],
  };
}
