/**
 * --format html: one self-contained page, checked as text (nothing fetched from elsewhere,
 * everything escaped) and as Chromium renders it (the findings' titles and the SVG ladder
 * with its hops in the DOM, a screenshot that is not blank).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFloodCapture } from '../bench/flood-capture';
import { analyzeFiles, type Analysis } from '../src/analysis';
import { analyzeOptionsFromFlags, parseAnalyzeArgs } from '../src/cli/analyze-options';
import { analyzeCaptures } from '../src/hosts/analyze-captures';
import { resolveScenarioArgs } from '../src/regress/expectation';
import { escapeHtml } from '../src/report/html-escape';
import { renderHtml } from '../src/report/html';
import { REPO, runCli } from './cli-harness';
import { dumpDom, screenshot } from './headless-chromium';
import { hostilePcapng } from './hostile-pcapng';
import { colourCounts, readPng } from './png-pixels';

/** A failed attempt stitched across three hops (eth0, docker_gwbridge, eth0@ingress_sbox): the ladder has four lanes. */
const SWARM = path.join(REPO, 'captures', 'docker-real-swarm-ingress');
/** Single-hop failures: refused by RST, by ICMP, and unanswered. */
const REFUSALS = path.join(REPO, 'captures', 'refusals');

function scenarioArgs(dir: string): string[] {
  const expect = JSON.parse(fs.readFileSync(path.join(dir, 'expect.json'), 'utf8')) as { args?: string[] };
  return [path.join(dir, 'capture.pcapng'), ...resolveScenarioArgs(expect.args ?? [], dir, fs.existsSync)];
}

function analysisOf(dir: string): Analysis {
  const [capture, ...args] = scenarioArgs(dir);
  return analyzeCaptures([capture!], analyzeOptionsFromFlags(parseAnalyzeArgs(args)));
}

/** `synscope analyze ... --format html` of a stored scenario, written to a file in `out`. */
async function writeHtmlReport(dir: string, out: string): Promise<string> {
  const r = await runCli('analyze', ...scenarioArgs(dir), '--format', 'html');
  assert.equal(r.code, 0, r.stderr);
  const file = path.join(out, `${path.basename(dir)}.html`);
  fs.writeFileSync(file, r.stdout);
  return file;
}

/** Whatever would make a browser fetch something: a URL, a protocol-relative path, a source or stylesheet that is not a data: URI. */
function externalReferences(html: string): string[] {
  const patterns = [/https?:/gi, /\/\//g, /\b(?:src|href|xlink:href)\s*=\s*(?!["']?data:)["']?[^\s>]*/gi, /url\(\s*(?!["']?data:)[^)]*\)/gi, /@import/gi, /<link\b/gi];
  return patterns.flatMap((p) => html.match(p) ?? []);
}

/** Text as Chromium's --dump-dom serializes it in an element's content. */
function asDomText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\u00a0/g, '&nbsp;');
}

/** The SVG elements of a class in serialized markup, each with the text of its <text> elements. */
function svgTexts(dom: string, className: string): string[][] {
  const svgs = dom.match(new RegExp(`<svg\\b[^>]*class="${className}"[^>]*>[\\s\\S]*?</svg>`, 'g')) ?? [];
  return svgs.map((svg) => [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!));
}

function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-html-'));
  return run(dir).finally(() => fs.rmSync(dir, { recursive: true, force: true }));
}

test('the external-reference check finds what a browser would fetch', () => {
  assert.deepEqual(externalReferences('<p>a / b</p><svg viewBox="0 0 1 1"></svg><img src="data:image/png;base64,AA">'), []);
  assert.equal(externalReferences('<img src="logo.png">').length, 1);
  assert.equal(externalReferences('<script src=app.js></script>').length, 1);
  assert.ok(externalReferences('<link rel="stylesheet" href="https://cdn.example/x.css">').length >= 2);
  assert.equal(externalReferences('<div style="background: url(bg.png)">').length, 1);
});

test('escapeHtml leaves no markup in text or attribute values', () => {
  assert.equal(escapeHtml(`<a href="x" title='y'>&amp;</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
});

test('an interface name from the capture is shown as text, never as markup', () => {
  const analysis = analysisOf(REFUSALS);
  const hostile = '<img src=x onerror=alert(1)>';
  analysis.interfaceNames = analysis.interfaceNames.map(() => hostile);
  const html = renderHtml(analysis);
  assert.ok(html.includes(escapeHtml(hostile)), 'the name is in the ladder, escaped');
  assert.ok(!html.includes('<img'), 'no element made of it');
});

test('the page holds no reference to anything outside it', async () => {
  await withTempDir(async (out) => {
    for (const dir of [SWARM, REFUSALS]) {
      const html = fs.readFileSync(await writeHtmlReport(dir, out), 'utf8');
      assert.match(html, /^<!DOCTYPE html>/);
      assert.deepEqual(externalReferences(html), [], path.basename(dir));
      assert.ok(!/<script\b/i.test(html), 'no script: the page needs none');
    }
  });
});

test('a capture clock past year 9999 gives a page, its times said to be unprintable', async () => {
  await withTempDir(async (dir) => {
    const capture = path.join(dir, 'y10000.pcapng');
    fs.writeFileSync(capture, hostilePcapng({ tsresol: 0 }, [253402300800n]));
    const r = await runCli('analyze', capture, '--format', 'html');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /seconds after a time outside years 0001\.\.9999/);
  });
});

test('a sampled analysis says so, and labels the timeline with the exact counts', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-html-flood-'));
  try {
    const file = path.join(dir, 'flood.pcap');
    writeFloodCapture({ syns: 2000, out: file, spoofed: false, answered: false, synsPerSecond: 2000 / 2 });
    const analysis = analyzeFiles([file]);
    assert.ok(analysis.flowsLeftOut > 0, 'more failed attempts than the report keeps');
    const html = renderHtml(analysis);
    const held = analysis.flows.length;
    assert.ok(html.includes(`Sampled: the report holds ${held.toLocaleString('en-US')} of 2,000 failed attempts`), 'the sample is named');
    assert.ok(html.includes('2,000 failed, 2,000 SYNs'), 'the service row counts every attempt');
    assert.ok(html.includes('10.64.0.0/24'), 'a row per client subnet');
    assert.equal(html.match(/<svg class="ladder"/g)?.length, 1, 'the alike attempts share one ladder');
    assert.ok(html.includes(`${(held - 1).toLocaleString('en-US')} more attempts held in the report took the same path`), 'and it says for how many');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('Chromium renders the findings, a ladder per failed path with its hops, and the timeline', async () => {
  await withTempDir(async (out) => {
    for (const dir of [SWARM, REFUSALS]) {
      const name = path.basename(dir);
      const analysis = analysisOf(dir);
      const dom = dumpDom(await writeHtmlReport(dir, out));
      assert.ok(analysis.findings.length > 0, `${name} has findings`);
      for (const f of analysis.findings) assert.ok(dom.includes(asDomText(f.title)), `${name}: finding title "${f.title}" rendered`);

      const ladders = svgTexts(dom, 'ladder');
      const failed = analysis.attempts.filter((t) => t.outcome !== 'completed');
      for (const attempt of failed) {
        const lanes = ['client', ...attempt.hops.map((h) => asDomText(h.interface))];
        assert.ok(ladders.some((texts) => lanes.every((lane) => texts.includes(lane))), `${name}: a ladder with the lanes ${lanes.join(', ')}`);
      }
      // Each of these scenarios' failed attempts took a path of its own (another service, another outcome).
      const singleHop = analysis.flows.filter((f) => f.outcome !== 'completed' && !analysis.attempts.some((t) => t.flows.includes(f.id)));
      assert.equal(ladders.length, failed.length + singleHop.length, `${name}: one ladder per failed path`);

      const services = new Set(analysis.failedGroups.map((g) => g.service));
      const timeline = svgTexts(dom, 'timeline')[0] ?? [];
      for (const s of services) assert.ok(timeline.some((t) => t.startsWith(s)), `${name}: the timeline has a row for ${s}`);
    }
    assert.ok(analysisOf(SWARM).attempts.some((t) => t.hops.length >= 3), 'the swarm scenario has a ladder of three hops');
  });
});

test('the screenshot of the page is a picture, not a blank', async () => {
  await withTempDir(async (out) => {
    const page = await writeHtmlReport(SWARM, out);
    const png = path.join(out, 'report.png');
    screenshot(page, png, 1200, 1600);
    const image = readPng(fs.readFileSync(png));
    assert.deepEqual([image.width, image.height], [1200, 1600]);
    const colours = colourCounts(image);
    const background = colours[0]![1] / (image.width * image.height);
    assert.ok(colours.length > 32, `${colours.length} distinct colours`);
    assert.ok(background < 0.97, `${(background * 100).toFixed(1)}% of the pixels are the background colour`);
  });
});
