import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WatchMetrics } from '../src/watch/metrics';
import { parseMetricsAddress, serveMetrics } from '../src/watch/metrics-server';

const HANDSHAKES = { attempted: 7, completed: 4, unanswered: 2, rejected: 1, synAckLost: 0 };

test('the exposition text: counters summed over windows, drops only where libpcap counted them, open findings as a gauge that falls back to 0', () => {
  const m = new WatchMetrics(['lo@lab', 'eth0']);
  m.addWindow({
    interfaces: [
      { name: 'lo@lab', packets: 120, dropped: 0 },
      { name: 'eth0', packets: 5, dropped: null },
    ],
    handshakes: HANDSHAKES,
    openFindings: [
      { code: 'filtered', severity: 'error' },
      { code: 'filtered', severity: 'error' },
    ],
    analysisSeconds: 0.25,
    untrackedFindings: 0,
  });
  m.addWindow({ interfaces: [{ name: 'lo@lab', packets: 30, dropped: 2 }], handshakes: HANDSHAKES, openFindings: [], analysisSeconds: 0.125, untrackedFindings: 0 });
  assert.equal(
    m.exposition(),
    [
      '# HELP synscope_packets_total Packets captured, per interface.',
      '# TYPE synscope_packets_total counter',
      'synscope_packets_total{interface="lo@lab"} 150',
      'synscope_packets_total{interface="eth0"} 5',
      "# HELP synscope_capture_drops_total Packets libpcap reported dropped (ring full, ps_drop, or by the interface, ps_ifdrop), per interface.",
      '# TYPE synscope_capture_drops_total counter',
      'synscope_capture_drops_total{interface="lo@lab"} 2',
      '# HELP synscope_handshakes_total TCP connection attempts that ended, by outcome.',
      '# TYPE synscope_handshakes_total counter',
      'synscope_handshakes_total{outcome="completed"} 8',
      'synscope_handshakes_total{outcome="unanswered"} 4',
      'synscope_handshakes_total{outcome="rejected"} 2',
      'synscope_handshakes_total{outcome="syn_ack_lost"} 0',
      '# HELP synscope_findings_open Findings open after the last window, by code and severity.',
      '# TYPE synscope_findings_open gauge',
      'synscope_findings_open{code="filtered",severity="error"} 0',
      '# HELP synscope_findings_untracked_total New findings not followed because the bound of open findings was reached.',
      '# TYPE synscope_findings_untracked_total counter',
      'synscope_findings_untracked_total 0',
      "# HELP synscope_window_seconds How long the last window's analysis took to finish, in seconds.",
      '# TYPE synscope_window_seconds gauge',
      'synscope_window_seconds 0.125',
      '# HELP synscope_windows_total Analysis windows finished.',
      '# TYPE synscope_windows_total counter',
      'synscope_windows_total 2',
      '',
    ].join('\n'),
  );
});

test('open findings are counted per code and severity after each window', () => {
  const m = new WatchMetrics([]);
  m.addWindow({ interfaces: [], handshakes: HANDSHAKES, openFindings: [{ code: 'filtered', severity: 'error' }, { code: 'filtered', severity: 'error' }, { code: 'listen-overflow', severity: 'warning' }], analysisSeconds: 0, untrackedFindings: 3 });
  const text = m.exposition();
  assert.match(text, /^synscope_findings_open\{code="filtered",severity="error"\} 2$/m);
  assert.match(text, /^synscope_findings_open\{code="listen-overflow",severity="warning"\} 1$/m);
  assert.match(text, /^synscope_findings_untracked_total 3$/m);
});

test('an interface name with a quote or backslash is escaped in its label', () => {
  const text = new WatchMetrics(['we"ird\\if']).exposition();
  assert.match(text, /^synscope_packets_total\{interface="we\\"ird\\\\if"\} 0$/m);
});

test('/metrics is served with the 0.0.4 content type; other paths are 404', async () => {
  const server = await serveMetrics(parseMetricsAddress('127.0.0.1:0'), () => 'synscope_windows_total 3\n');
  try {
    const res = await fetch(`http://127.0.0.1:${server.address.port}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(await res.text(), 'synscope_windows_total 3\n');
    assert.equal((await fetch(`http://127.0.0.1:${server.address.port}/`)).status, 404);
  } finally {
    await server.close();
  }
});

test('--metrics addresses: host:port, [v6]:port, :port; anything else is bad usage', () => {
  assert.deepEqual(parseMetricsAddress('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseMetricsAddress('[::1]:9464'), { host: '::1', port: 9464 });
  assert.deepEqual(parseMetricsAddress(':9464'), { host: undefined, port: 9464 });
  for (const bad of ['9464', '127.0.0.1', '127.0.0.1:99999', '::1:9464']) assert.throws(() => parseMetricsAddress(bad), { code: 'ERR_BAD_USAGE' }, bad);
});
