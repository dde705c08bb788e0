import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_FILTER } from '../src/live/capture-defaults';
import { filterEvidenceWarning } from '../src/live/filter-evidence';
import { loadNativeAddon } from '../src/native/addon';

function addon() {
  const load = loadNativeAddon();
  assert.ok(!('reason' in load), 'the native addon is built (npm ci builds it)');
  return load.addon;
}

test('a live filter that keeps no ICMP errors or ARP is warned about, with the clause that keeps them', () => {
  const warning = filterEvidenceWarning(addon(), 'tcp port 8080', 1);
  assert.equal(
    warning,
    "the filter 'tcp port 8080' keeps no ICMP errors about TCP (who refused a SYN) and no ARP (who asks for a client on a bridge), evidence the diagnosis uses: capture with -f '(tcp port 8080) or icmp or icmp6 or arp'",
  );
  assert.match(filterEvidenceWarning(addon(), 'tcp or arp', 1) ?? '', /keeps no ICMP errors about TCP \(who refused a SYN\), evidence/);
  assert.match(filterEvidenceWarning(addon(), 'tcp or icmp', 1) ?? '', /keeps no ARP/);
});

test('filters that keep the evidence, and link types it cannot be tried on, get no warning', () => {
  assert.equal(filterEvidenceWarning(addon(), '(tcp port 8080) or icmp or icmp6 or arp', 1), null);
  assert.equal(filterEvidenceWarning(addon(), DEFAULT_FILTER, 1), null);
  assert.equal(filterEvidenceWarning(addon(), 'tcp port 8080', 276), null);
});
