import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SynscopeError } from '../src/errors';
import { openBytes, readAll } from './capture-helpers';
import { HOSTILE_IDB_OFFSET, hostilePcapng, micros, type HostileInterface } from './hostile-pcapng';

function refusal(iface: HostileInterface): SynscopeError {
  try {
    readAll(openBytes(hostilePcapng(iface, [micros(1_700_000_000)]), undefined, 'clock.pcapng'));
  } catch (e) {
    if (e instanceof SynscopeError) return e;
    throw e;
  }
  assert.fail(`accepted ${JSON.stringify(iface, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
}

test('if_tsresol finer than libpcap accepts (10^-19, 2^-63) is refused at the interface block', () => {
  for (const tsresol of [0x7f, 20, 0x80 | 64, 0xff]) {
    const e = refusal({ tsresol });
    assert.equal(e.code, 'ERR_BAD_TIME_OPTION');
    assert.equal(e.offset, HOSTILE_IDB_OFFSET);
    assert.match(e.oneLine(), /^clock\.pcapng: byte 28: interface 0: if_tsresol 0x[0-9a-f]{2} /);
  }
});

test('if_tsoffset beyond year 9999 either way is refused', () => {
  for (const tsoffset of [1n << 62n, -(1n << 62n), 253402300800n, -253402300800n, (1n << 63n) - 1n, -(1n << 63n)]) {
    const e = refusal({ tsoffset });
    assert.equal(e.code, 'ERR_BAD_TIME_OPTION');
    assert.match(e.message, /if_tsoffset .* beyond year 9999/);
  }
});

test('the coarsest and finest accepted clocks, and a negative offset, read exactly', () => {
  const read = (iface: HostileInterface, ts: bigint) => readAll(openBytes(hostilePcapng(iface, [ts])))[0]!;
  assert.deepEqual([read({ tsresol: 0 }, 1_700_000_000n).tsSec, read({ tsresol: 0x80 }, 1_700_000_000n).tsNsec], [1_700_000_000, 0]);
  const fine = read({ tsresol: 19 }, 17_000_000_000_000_000_000n);
  assert.deepEqual([fine.tsSec, fine.tsNsec], [1, 700_000_000]);
  const binary = read({ tsresol: 0x80 | 63 }, 3n << 62n);
  assert.deepEqual([binary.tsSec, binary.tsNsec], [1, 500_000_000]);
  assert.equal(read({ tsoffset: -3600n }, micros(1_700_000_000)).tsSec, 1_700_000_000 - 3600);
});
