#!/usr/bin/env node
// Usage: node test/lab/remedy-steps.js REPORT.json CLIENT
// Turns the remedy of the ERROR finding (or, for a refused client, the WARNING) that names CLIENT (synscope.report/2 JSON) into the
// steps docker-remedy-apply.sh carries out, one per line, tab-separated: KIND, COMMAND, the
// remedy line as printed. Nothing is guessed: a line either holds commands this parser knows
// how to run as printed, or it is a hand step / advice and says so.
//   docker   a `docker ...` command, run against the lab's node (dk NODE ...)
//   host     an iptables/ip/sysctl/nstat command, run in the node's network namespace
//   hand     what a person must do that no command in the line spells out (the lab does it
//            with the scenario's own commands and logs that it did)
//   ctr      a command in a container's network namespace, printed as
//            `nsenter -t $(docker inspect -f '{{.State.Pid}}' CTR) -n CMD`: COMMAND is "CTR CMD"
//            (docker-remedy-apply.sh runs CMD there through bash, quotes and all)
//   ufw      a `ufw ...` command, run with the lab's own ufw configuration in the node
//            (docker-real-helpers.sh's lab_ufw; never the machine's /etc/ufw)
//   config   a daemon.json setting (merged into the node's daemon.json; takes effect when
//            dockerd restarts, which the lab does not do)
//   global   a host-wide kernel setting no network namespace may change (net.netfilter.nf_conntrack_max:
//            one limit for the whole machine): logged, not applied, as the lab must not change the
//            machine it runs on; the scenario's other steps have to make the client connect
//   advice   a sentence with no command (read, not run), a command that would not return
//            (another capture), or an alternative ("Or ...") to the steps before it
'use strict';
const fs = require('node:fs');

const [reportFile, client] = process.argv.slice(2);
const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
// The client's one ERROR; a client whose failure is not silent (a RST: rejected) has one WARNING instead.
const naming = (severity) => report.findings.filter((f) => f.severity === severity && (f.evidence?.clients ?? []).includes(client));
const findings = naming('error').length > 0 ? naming('error') : naming('warning');
if (findings.length !== 1) {
  console.error(`remedy-steps: ${findings.length} ERROR (or, without one, WARNING) findings name ${client} (want exactly one)`);
  process.exit(1);
}

const HOST_TOOLS = /^(iptables|ip6tables|ip|sysctl|nstat|conntrack|nft)\b/;
const out = [];
const step = (kind, command, line) => out.push([kind, command.trim(), line.trim()].join('\t'));

for (const raw of findings[0].remedy) {
  // A step's own comment follows three spaces: "docker swarm leave --force   (the only manager: ...)".
  const line = raw.trim().replace(/\s{3,}\(.*\)$/, '');
  const inContainer = /nsenter -t \$\(docker inspect -f '\{\{\.State\.Pid\}\}' (\S+)\) -n (.*?)(?=;\s*nsenter -t |$)/g;
  const ctrSteps = [...line.matchAll(inContainer)];
  if (ctrSteps.length > 0) {
    // "... confirms it." / "... (Recv-Q = ...)": the command ends before the words about it.
    for (const m of ctrSteps) step('ctr', `${m[1]} ${m[2].replace(/ \(Recv-Q.*$/, '').replace(/ rising while .*$/, '').replace(/\.$/, '')}`, raw);
    continue;
  }
  // "Or ...": another way to the same end, read, not applied after the first.
  if (/^Or\b/.test(line)) {
    step('advice', '', raw);
    continue;
  }
  if (/^Make the application accept\(\) faster/.test(line)) {
    step('hand', 'accept-faster', raw);
    continue;
  }
  if (/^If clients on the network should reach it, publish it on all addresses: recreate \S+ with -p /.test(line)) {
    step('hand', 'publish-all', raw);
    continue;
  }
  if (/^Make the application in \S+ listen on all addresses/.test(line)) {
    step('hand', 'listen-all', raw);
    continue;
  }
  const hostWide = line.match(/\bsysctl -w (net\.netfilter\.nf_conntrack_max=\d+)/);
  if (hostWide !== null) {
    step('global', `sysctl -w ${hostWide[1]}`, raw);
    continue;
  }
  if (/^docker\s/.test(line)) {
    step('docker', line, raw);
  } else if (/^note what the swarm holds.*: (docker .*)$/.test(line)) {
    for (const cmd of line.replace(/^[^:]*: /, '').split(/;\s*/)) step('docker', cmd, raw);
  } else if (/^[^:]*: (docker network connect \S+ \S+)$/.test(line)) {
    // "Put the client's container on the server's network: docker network connect back cli".
    step('docker', line.replace(/^[^:]*: /, ''), raw);
  } else if (/^create the services, secrets, configs and overlay networks noted above again$/.test(line)) {
    step('hand', 'recreate the services noted above', raw);
  } else if (/\/etc\/docker\/daemon\.json: (\{.*\})\.?$/.test(line)) {
    step('config', line.match(/daemon\.json: (\{.*\})\.?$/)[1], raw);
  } else if (/^[^:;]*: ufw (route )?(allow|insert) [^;()]*\.$/.test(line)) {
    // "Allow it in ufw, ...: ufw allow in on docker0 from ... proto tcp." (one ufw command, nothing after it)
    step('ufw', line.replace(/^[^:]*: /, '').replace(/\.$/, ''), raw);
  } else if (/: (iptables|ip6tables|ip|sysctl|nstat|conntrack|nft) .*\.$/.test(line)) {
    // "Watch its counter while a client retries: iptables -L DOCKER-USER -v -n --line-numbers."
    // "... conntrack -L -p tcp --orig-port-dst 8080 shows the translation ...": the command ends before "shows".
    for (const cmd of line.replace(/^[^:]*: /, '').replace(/\.$/, '').replace(/ shows .*$/, '').split(/;\s*(?:and )?/)) {
      step(HOST_TOOLS.test(cmd) ? 'host' : 'advice', cmd, raw);
    }
  } else {
    step('advice', '', raw);
  }
}
process.stdout.write(out.join('\n') + '\n');
