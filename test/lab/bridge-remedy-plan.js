#!/usr/bin/env node
// Usage: node test/lab/bridge-remedy-plan.js REPORT.json CLIENT
// Turns the remedy of the one ERROR finding that names CLIENT (synscope.report/2 JSON) into
// the steps docker-bridge-remedy.sh carries out in a real-Docker lab, one per line,
// tab-separated: KIND, ARGUMENT, the remedy line as printed. Only what the printed line says
// is done; a line this parser does not know makes it fail, so a new remedy text cannot pass
// the remedy test unapplied.
//   daemon-json  a JSON object the line says to set in /etc/docker/daemon.json (merged, its keys win)
//   restart      the line says to restart docker (`systemctl restart docker`): dockerd restarted
//   docker       a docker command as printed (after "run:" or "then"); <new name> is filled in
//   move         "move the containers to it" with no container named: every container on the old
//                network reconnected to the new one (docker network connect NEW, disconnect OLD)
//   note         a sentence to read, not a step (what the subnets were checked against)
'use strict';
const fs = require('node:fs');

const [reportFile, client] = process.argv.slice(2);
const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
const errors = report.findings.filter((f) => f.severity === 'error' && (f.evidence?.clients ?? []).includes(client));
if (errors.length !== 1) {
  console.error(`bridge-remedy-plan: ${errors.length} ERROR findings name ${client} (want exactly one)`);
  process.exit(1);
}
const out = [];
// An empty argument is '-': bash's read takes a run of tabs as one separator.
const step = (kind, arg, line) => out.push([kind, arg || '-', line].join('\t'));

for (const line of errors[0].remedy) {
  let m;
  if ((m = /^Move docker0 off \S+: in \/etc\/docker\/daemon\.json set (\{.*\}) and run: systemctl restart docker(.*)$/.exec(line))) {
    step('daemon-json', JSON.stringify(JSON.parse(m[1])), line);
    step('restart', '', line);
    // Container names may hold dots; the sentence's own full stop is not part of the last one.
    const start = /docker start ([\w.-]+(?: [\w.-]+)*)/.exec(m[2].replace(/\.$/, ''));
    if (start) step('docker', `docker start ${start[1]}`, line);
  } else if ((m = /^Recreate the network (\S+) \(bridge \S+\) on a free subnet: (docker network create --subnet \S+ <new name>), move the containers to it \((.*); or in compose: .*\), then (docker network rm \S+)\.$/.exec(line))) {
    step('docker', m[2], line);
    // The containers by name, as printed; "<container>" means the line names none: every container on the network is moved.
    if (m[3].includes('<container>')) step('move', m[1], line);
    else for (const cmd of m[3].split(/;\s*/)) step('docker', cmd, line);
    step('docker', m[4], line);
  } else if ((m = /^To keep new networks off .+ range, set in \/etc\/docker\/daemon\.json: (\{.*\}) and restart docker\.$/.exec(line))) {
    step('daemon-json', JSON.stringify(JSON.parse(m[1])), line);
    step('restart', '', line);
  } else if (/^\S+( and \S+ were| was) checked against /.test(line)) {
    step('note', '', line);
  } else {
    console.error(`bridge-remedy-plan: a remedy line no step is known for: ${line}`);
    process.exit(1);
  }
}
process.stdout.write(out.join('\n') + '\n');
