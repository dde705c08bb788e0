import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressIds } from '../src/evidence/address-ids';
import { parseAddress } from '../src/decode/address';

const words = (text: string): Uint32Array => parseAddress(text)!.words;

test('address ids: one id per address, in first-seen order, the same one again; find adds nothing', () => {
  const ids = new AddressIds(10);
  assert.equal(ids.id(words('2001:db8::1')), 0);
  assert.equal(ids.id(words('2001:db8::2')), 1);
  assert.equal(ids.id(words('2001:db8::1')), 0);
  // Addresses that differ only in the first, second or third word are different addresses.
  assert.equal(ids.id(words('2001:db9::1')), 2);
  assert.equal(ids.id(words('2001:db8:0:1::1')), 3);
  assert.equal(ids.find(words('fe80::1')), -1);
  assert.equal(ids.size, 4);
  assert.deepEqual([...ids.wordsOf(3, new Uint32Array(4))], [...words('2001:db8:0:1::1')]);
});

test('address ids: past the capacity a new address gets -1 and a known one keeps its id', () => {
  const ids = new AddressIds(2);
  ids.id(words('2001:db8::1'));
  ids.id(words('2001:db8::2'));
  assert.equal(ids.id(words('2001:db8::3')), -1);
  assert.equal(ids.id(words('2001:db8::2')), 1);
  assert.equal(ids.size, 2);
});

test('address ids: 100,000 addresses through every growth keep their ids and words', () => {
  const ids = new AddressIds(200_000);
  const at = (i: number) => Uint32Array.of(0x20010db8, i >>> 16, (i * 2654435761) >>> 0, i);
  for (let i = 0; i < 100_000; i++) assert.equal(ids.id(at(i)), i);
  for (let i = 0; i < 100_000; i += 997) {
    assert.equal(ids.find(at(i)), i);
    assert.deepEqual([...ids.wordsOf(i, new Uint32Array(4))], [...at(i)]);
  }
});
