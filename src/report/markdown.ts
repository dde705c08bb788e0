import { noFindingsReason } from './no-findings';
import type { Analysis } from '../analysis';
import { plural } from '../diagnose/group';
import { LIST_ITEMS, keyInWords, valueInWords } from './evidence-words';
import { findingCauses, type FindingCause } from './finding-causes';
import { flowJson } from './json';
import { renderAttemptLadders } from './ladder';

const FLOW_ROWS = 10;

/**
 * The report as Markdown for a ticket: the capture and its counts, the handshakes as a
 * table, the findings one section per cause (evidence in words, remedy as numbered steps),
 * the ladders of failed NAT paths in a code block, the first failed flows as a table, and
 * the warnings. Text from the analysis is escaped so that it renders as written.
 */
export function renderMarkdown(a: Analysis): string {
  const s = a.summary;
  const out: string[] = [];
  const source = a.inputs.length === 1 ? a.inputs[0]!.source : `${a.inputs.length} files`;
  out.push(`# synscope: ${inline(source)}`, '');
  out.push(`${n(s.packets)} packets (${n(s.tcpPackets)} TCP), ${n(s.flows)} TCP flows, ${n(a.findings.length)} finding${a.findings.length === 1 ? '' : 's'}.`, '');
  for (const i of a.inputs) {
    const dropped = i.droppedByCapture === null ? '' : `, ${n(i.droppedByCapture)} dropped by capture`;
    out.push(`- ${inline(i.source)}: ${i.format}, ${inline(i.linkTypes.join('/') || 'no interfaces')}, interfaces ${inline(i.interfaces.join(', ') || '-')}, ${n(i.packets)} packets${dropped}`);
  }
  for (const h of a.hosts ?? []) out.push(`- host ${inline(h.name)}: ${h.noAnswer === undefined ? inline(h.sources.join(', ')) : `did not answer: ${inline(h.noAnswer)}`}`);

  const h = s.handshakes;
  out.push('', '## Handshakes', '');
  out.push(...table(['attempted', 'completed', 'unanswered', 'rejected', 'SYN-ACK lost'], [[h.attempted, h.completed, h.unanswered, h.rejected, h.synAckLost].map(n)], true));

  out.push('');
  if (a.findings.length === 0) {
    out.push('## Findings', '', `None: ${noFindingsReason(h)}.`);
  } else {
    const causes = findingCauses(a.findings);
    out.push(causes.length === a.findings.length ? `## Findings (${a.findings.length})` : `## Findings (${a.findings.length}, from ${plural(causes.length, 'cause')})`);
    for (const c of causes) out.push('', ...causeSection(c));
  }

  // The ladders come as a heading, a blank line, then the pictures.
  const [ladderHeading, , ...ladders] = renderAttemptLadders(a.attempts, a.flows);
  if (ladderHeading !== undefined) out.push('', `## ${inline(ladderHeading)}`, '', ...fenced(ladders));

  const failed = a.flows.filter((f) => f.outcome !== null && f.outcome !== 'completed');
  if (failed.length > 0) {
    const total = failed.length + a.flowsLeftOut;
    const shown = Math.min(FLOW_ROWS, failed.length);
    out.push('', `## Failed flows${total > shown ? ` (first ${n(shown)} of ${n(total)}; ${n(total - shown)} left out, --json lists ${a.flowsLeftOut > 0 ? `${n(failed.length)}, up to 32 per group` : 'all'})` : ''}`, '');
    const rows = failed.slice(0, FLOW_ROWS).map((f) => {
      const j = flowJson(f, a.interfaceNames);
      return [j.client, j.server, j.outcome ?? '-', `${j.state} ${j.history}`, n(j.syns), n(j.synAcks), j.firstSeen?.replace('T', ' ').replace('Z', '') ?? '-'];
    });
    out.push(...table(['client', 'server', 'outcome', 'state/history', 'SYNs', 'SYN-ACKs', 'first seen (UTC)'], rows));
  }

  const problems = Object.entries(s.decodeProblems);
  if (problems.length > 0 || a.warnings.length > 0) {
    out.push('', '## Warnings', '');
    if (problems.length > 0) out.push(`- packets not fully decoded: ${problems.map(([k, v]) => `${inline(k)} ${n(v)}`).join(', ')}`);
    for (const w of a.warnings) out.push(`- ${inline(w)}`);
  }
  return out.join('\n') + '\n';
}

/** One cause: its heading, what it is about, the explanation, the first finding's evidence and remedy. */
function causeSection(c: FindingCause): string[] {
  const first = c.findings[0]!;
  const several = c.findings.length > 1;
  const lines: string[] = [];
  if (several) {
    const clients = `${c.clientCountAtLeast ? 'at least ' : ''}${n(c.clientCount)} client${c.clientCount === 1 ? '' : 's'}`;
    lines.push(`### ${c.severity.toUpperCase()} ${c.code} x${c.findings.length}: ${n(c.flowCount)} attempts from ${clients}, one cause in ${c.findings.length} places`, '');
  } else {
    lines.push(`### ${c.severity.toUpperCase()} ${c.code}: ${inline(first.title)}`, '');
  }
  lines.push(`- **severity**: ${c.severity}`, `- **code**: \`${c.code}\``, `- **confidence**: ${c.confidence}`);
  if (several) {
    const label = c.findings.every((f) => typeof f.evidence['service'] === 'string') ? 'services' : 'findings';
    lines.push(`- **${label}**: ${listed(c.subjects)}`, `- **like the first**: ${inline(first.title)}`);
  }
  if (c.clientCount > 0) lines.push(`- **clients** (${c.clientCountAtLeast ? 'at least ' : ''}${n(c.clientCount)}): ${listed(c.clients, c.clientCount)}`);
  lines.push('', inline(first.explanation));
  const evidence = Object.entries(first.evidence).filter(([, v]) => v !== null && !(Array.isArray(v) && v.length === 0));
  if (evidence.length > 0) {
    lines.push('', several ? `**Evidence** (for ${inline(c.subjects[0]!)}; --json has each):` : '**Evidence**:', '');
    for (const [k, v] of evidence) lines.push(`- ${inline(keyInWords(k))}: ${inline(valueInWords(v))}`);
  }
  if (first.remedy.length > 0) {
    lines.push('', several ? `**What to do** (for ${inline(c.subjects[0]!)}; for the others the same with their own addresses and ports):` : '**What to do**:', '');
    lines.push(...remedySteps(first.remedy));
  }
  return lines;
}

/** The remedy as numbered steps; an entry indented in the remedy is a sub-step of the one before. */
function remedySteps(remedy: readonly string[]): string[] {
  const lines: string[] = [];
  let step = 0;
  let marker = '';
  for (const r of remedy) {
    if (/^\s/.test(r) && step > 0) {
      lines.push(`${' '.repeat(marker.length)}- ${inline(r.trim())}`);
    } else {
      marker = `${++step}. `;
      lines.push(`${marker}${inline(r.trim())}`);
    }
  }
  return lines;
}

/** The first LIST_ITEMS items, and how many there are in all when some are left out. */
function listed(items: readonly string[], total = items.length): string {
  const shown = items.slice(0, LIST_ITEMS).map(inline).join(', ');
  return total > LIST_ITEMS ? `${shown}, ... (${n(total)} in all)` : shown;
}

/** A GitHub-flavoured Markdown table; `right` aligns every column right (counts). */
function table(head: readonly string[], rows: readonly (readonly string[])[], right = false): string[] {
  const row = (cells: readonly string[]) => `| ${cells.map(inline).join(' | ')} |`;
  return [row(head), `|${head.map(() => (right ? ' ---: ' : ' --- ')).join('|')}|`, ...rows.map(row)];
}

/** Lines as a fenced code block, its fence longer than any run of backticks inside. */
function fenced(lines: readonly string[]): string[] {
  const longest = Math.max(2, ...lines.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((run) => run.length))));
  const fence = '`'.repeat(longest + 1);
  return [fence, ...lines, fence];
}

/**
 * Text that renders as written, inline or in a table cell: one line; backslash-escaped where
 * it would start emphasis, code, a link, HTML, an entity or a table cell; and escaped at the
 * start where it would make a heading, quote or list.
 */
export function inline(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .replace(/[\\`*[\]<>|~]/g, '\\$&')
    .replace(/&(?=#?\w+;)/g, '\\&')
    .replace(/(^|\W)_|_(?=\W|$)/g, (m) => m.replace('_', '\\_'))
    .replace(/^(#{1,6}|[-+]|=+$)(?=\s|$)/, '\\$1')
    .replace(/^(\d{1,9})([.)])(?=\s|$)/, '$1\\$2');
}

function n(v: number): string {
  return v.toLocaleString('en-US');
}
