import { noFindingsReason } from './no-findings';
import type { Analysis } from '../analysis';
import { groupBy } from '../diagnose/group';
import { attemptPath, type AttemptPath } from '../flow/attempt-path';
import type { Flow } from '../flow/flow';
import { keyInWords, valueInWords } from './evidence-words';
import { findingCauses, type FindingCause } from './finding-causes';
import { escapeHtml as e } from './html-escape';
import { ladderSvg } from './html-ladder-svg';
import { timelineLegend, timelineNotes, timelineSvg, type TimelineGrouping } from './html-timeline-svg';
import { OUTCOME_WORDS, sightingsOf, stopNote } from './ladder';

const LADDERS_SHOWN = 12;

/** Colours and layout, inline: the page must open from a file with no network. */
const STYLE = `
body { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', sans-serif; color: #1f2937; background: #fff; margin: 0 auto; padding: 20px 28px 40px; max-width: 1040px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 30px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #d5dae2; }
h3 { font-size: 16px; margin: 0 0 6px; }
.sources, .note, .stop { color: #4b5563; font-size: 14px; margin: 2px 0; }
table.counts { border-collapse: collapse; margin: 10px 0; }
table.counts th, table.counts td { padding: 3px 14px 3px 0; text-align: right; font-variant-numeric: tabular-nums; }
table.counts th { font-weight: 600; color: #4b5563; font-size: 13px; }
.cause { border: 1px solid #d5dae2; border-left: 6px solid var(--severity); border-radius: 6px; padding: 12px 16px; margin: 14px 0; }
.error { --severity: #b42318; } .warning { --severity: #b54708; } .info { --severity: #1f5fa8; }
.badge { display: inline-block; background: var(--severity); color: #fff; font-size: 12px; font-weight: 700; padding: 1px 7px; border-radius: 4px; letter-spacing: .04em; }
.code { font-family: ui-monospace, 'DejaVu Sans Mono', monospace; font-size: 13px; margin: 0 6px; }
.confidence { color: #6b7280; font-size: 13px; }
.title { font-weight: 600; margin: 6px 0; }
.titles, .subjects { margin: 4px 0 8px; font-size: 14px; }
dl.evidence { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 6px 0 8px; font-size: 14px; }
dl.evidence dt { color: #4b5563; } dl.evidence dd { margin: 0; overflow-wrap: anywhere; }
ul.remedy { margin: 4px 0; padding-left: 20px; }
ul.remedy li.sub { margin-left: 22px; list-style: circle; }
ul.remedy li { font-family: ui-monospace, 'DejaVu Sans Mono', monospace; font-size: 12.5px; white-space: pre-wrap; overflow-wrap: anywhere; margin: 2px 0; }
h4 { font-size: 13px; text-transform: uppercase; letter-spacing: .05em; color: #6b7280; margin: 10px 0 2px; }
.picture { margin: 12px 0 18px; }
svg { max-width: 100%; height: auto; display: block; }
ul.legend { display: flex; flex-wrap: wrap; gap: 4px 20px; list-style: none; padding: 0; margin: 8px 0; font-size: 13px; color: #4b5563; }
ul.legend li { display: flex; align-items: center; gap: 6px; }
.warnings li { color: #b54708; }
`;

/**
 * The report as one self-contained HTML page (`--format html`): no script, no stylesheet or
 * image to fetch, so it opens offline and attaches to a ticket as one file. The findings by
 * cause with their evidence in words and remedy, the ladder of each failed attempt's path
 * (html-ladder-svg.ts) and a timeline of the attempts per service and per client subnet
 * (html-timeline-svg.ts), all drawn as inline SVG.
 */
export function renderHtml(a: Analysis): string {
  const source = a.inputs.length === 1 ? a.inputs[0]!.source : `${a.inputs.length} files`;
  const body = [
    `<h1>synscope report</h1>`,
    ...summary(a),
    `<h2>Findings</h2>`,
    ...findings(a),
    ...ladders(a),
    ...timelines(a),
    ...warnings(a.warnings),
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>synscope: ${e(source)}</title>
<style>${STYLE}</style>
</head>
<body>
${body.join('\n')}
</body>
</html>
`;
}

function summary(a: Analysis): string[] {
  const s = a.summary;
  const h = s.handshakes;
  const lines = [`<p class="sources">${n(s.packets)} packets (${n(s.tcpPackets)} TCP), ${n(s.flows)} TCP flows</p>`];
  for (const i of a.inputs) lines.push(`<p class="sources">${e(i.source)}: ${i.format}, interfaces ${e(i.interfaces.join(', ') || '-')}, ${n(i.packets)} packets</p>`);
  if (s.filter !== undefined) lines.push(`<p class="sources">filter ${e(s.filter.expression)}: kept ${n(s.filter.kept)} of ${n(s.filter.read)} packets</p>`);
  const heads = ['attempted', 'completed', 'unanswered', 'rejected', 'SYN-ACK lost'];
  const values = [h.attempted, h.completed, h.unanswered, h.rejected, h.synAckLost];
  lines.push(`<table class="counts"><tr>${heads.map((x) => `<th>${x}</th>`).join('')}</tr><tr>${values.map((v) => `<td>${n(v)}</td>`).join('')}</tr></table>`);
  return lines;
}

function findings(a: Analysis): string[] {
  if (a.findings.length === 0) {
    return [`<p>None: ${e(noFindingsReason(a.summary.handshakes))}.</p>`];
  }
  const causes = findingCauses(a.findings);
  const count = `${a.findings.length} finding${a.findings.length === 1 ? '' : 's'}${causes.length === a.findings.length ? '' : `, from ${causes.length} causes`}`;
  return [`<p class="note">${count}</p>`, ...causes.map(cause)];
}

/** One cause: as the text report shows it, the first finding's evidence and remedy standing for all. */
function cause(c: FindingCause): string {
  const first = c.findings[0]!;
  const parts = [`<section class="cause ${c.severity}">`, `<h3><span class="badge">${c.severity.toUpperCase()}</span><span class="code">${e(c.code)}${c.findings.length > 1 ? ` x${c.findings.length}` : ''}</span><span class="confidence">confidence ${c.confidence}</span></h3>`];
  if (c.findings.length === 1) {
    parts.push(`<p class="title">${e(first.title)}</p>`);
  } else {
    const clients = `${c.clientCountAtLeast ? 'at least ' : ''}${n(c.clientCount)} client${c.clientCount === 1 ? '' : 's'}`;
    parts.push(`<p class="title">${n(c.flowCount)} attempts from ${clients}, one cause in ${c.findings.length} places</p>`);
    parts.push(`<ul class="titles">${c.findings.map((f) => `<li>${e(f.title)}</li>`).join('')}</ul>`);
  }
  parts.push(`<p>${e(first.explanation)}</p>`);
  if (c.findings.length === 1 && first.flowCount !== undefined && (first.flowCount > first.flows.length || (first.clientCount ?? 0) > (first.clients?.length ?? 0))) {
    parts.push(`<p class="note">covers ${n(first.flowCount)} attempts from ${n(first.clientCount ?? 0)} clients${first.countsEstimated === true ? ' (estimated from the listed ones)' : ''}; the lists below are cut</p>`);
  }
  const evidence = Object.entries(first.evidence).filter(([, v]) => v !== null && !(Array.isArray(v) && v.length === 0));
  if (evidence.length > 0) {
    parts.push(`<h4>Evidence${c.findings.length > 1 ? ` (for ${e(c.subjects[0]!)}; --json has each)` : ''}</h4>`);
    parts.push(`<dl class="evidence">${evidence.map(([k, v]) => `<dt>${e(keyInWords(k))}</dt><dd>${e(valueInWords(v))}</dd>`).join('')}</dl>`);
  }
  if (first.remedy.length > 0) {
    parts.push(`<h4>What to do${c.findings.length > 1 ? ` (for ${e(c.subjects[0]!)}; for the others the same with their own addresses and ports)` : ''}</h4>`);
    // A step indented in the remedy's text is part of the step before it.
    parts.push(`<ul class="remedy">${first.remedy.map((r) => `<li${/^\s/.test(r) ? ' class="sub"' : ''}>${e(r.trim())}</li>`).join('')}</ul>`);
  }
  parts.push('</section>');
  return parts.join('\n');
}

/**
 * A ladder per failed path: first the attempts stitched across NAT hops, then the failed
 * flows seen at one hop only (client to the capture's interface). Attempts alike (the same
 * hops, service, outcome and reply) share one ladder: a flood is one picture, not hundreds.
 */
function ladders(a: Analysis): string[] {
  const flowsById = new Map(a.flows.map((f) => [f.id, f]));
  const stitched = a.attempts.filter((t) => t.outcome !== 'completed');
  const inAttempts = new Set(a.attempts.flatMap((t) => t.flows));
  const alone = a.flows.filter((f) => f.outcome !== null && f.outcome !== 'completed' && !inAttempts.has(f.id));
  const paths = [...stitched, ...alone.map((f) => attemptPath([f], [interfacesOf(f, a.interfaceNames)]))];
  if (paths.length === 0) return [];
  const kinds = [...groupBy(paths, (p) => pathShape(p, flowsById)).values()];
  const sampled = a.flowsLeftOut > 0;
  const shownNote = kinds.length > LADDERS_SHOWN ? ` (the first ${LADDERS_SHOWN} of ${n(kinds.length)} kinds${sampled ? ', from the sample the report holds' : ''})` : '';
  const lines = [`<h2>Paths of failed attempts${shownNote}</h2>`];
  for (const alike of kinds.slice(0, LADDERS_SHOWN)) {
    const more = alike.length > 1 ? `${n(alike.length - 1)} more attempt${alike.length === 2 ? '' : 's'}${sampled ? ' held in the report' : ''} took the same path with the same outcome` : null;
    lines.push(ladder(alike[0]!, flowsById, more));
  }
  return lines;
}

/** What makes two paths one picture: their hops, the service the client asked for, the outcome and which hops saw which reply. */
function pathShape(path: AttemptPath, flowsById: ReadonlyMap<string, Flow>): string {
  const hops = path.hops.map((h) => `${h.interface} ${h.synAcks > 0 ? 'SYN-ACK' : (flowsById.get(h.flow)?.rejection?.by ?? '-')}`);
  return [path.outcome, path.hops[0]!.server, ...hops].join('\n');
}

function ladder(path: AttemptPath, flowsById: ReadonlyMap<string, Flow>, alike: string | null): string {
  const outer = path.hops[0]!;
  const note = stopNote(path, sightingsOf(path, flowsById, (name) => name), flowsById);
  return [
    `<div class="picture">`,
    `<h3>attempt ${e(path.id)}: ${e(outer.client)} → ${e(outer.server)} (${OUTCOME_WORDS[path.outcome]})</h3>`,
    ladderSvg(path, flowsById),
    `<p class="stop">${e(note)}</p>`,
    ...(alike === null ? [] : [`<p class="note">${e(alike)}</p>`]),
    `</div>`,
  ].join('\n');
}

/** The interfaces a flow was seen on, as one lane's name. */
function interfacesOf(f: Flow, names: readonly string[]): string {
  return f.interfaces.map((i) => names[i] ?? `interface ${i}`).join(' + ') || 'capture';
}

function timelines(a: Analysis): string[] {
  const charts: [TimelineGrouping, string, string][] = [
    ['service', 'By service', 'services'],
    ['clientSubnet', 'By client subnet', 'client subnets'],
  ];
  const drawn = charts.map(([grouping, heading, rows]) => ({ heading, rows, ...timelineSvg(a, grouping) }));
  if (drawn.every((d) => d.svg === '')) return [];
  const lines = [`<h2>Timeline of connection attempts</h2>`, timelineLegend()];
  for (const d of drawn) {
    lines.push(`<h3>${d.heading}</h3>`, `<div class="picture">${d.svg}</div>`);
    if (d.rowsLeftOut > 0) lines.push(`<p class="note">${n(d.rowsLeftOut)} more ${d.rows} are not drawn.</p>`);
  }
  for (const note of timelineNotes(a)) lines.push(`<p class="note">${e(note)}</p>`);
  return lines;
}

function warnings(list: readonly string[]): string[] {
  if (list.length === 0) return [];
  return [`<h2>Warnings</h2>`, `<ul class="warnings">${list.map((w) => `<li>${e(w)}</li>`).join('')}</ul>`];
}

function n(v: number): string {
  return v.toLocaleString('en-US');
}
