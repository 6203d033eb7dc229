import { generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ProviderKey, VerificationKey } from '../../src/auth/jwk-set.js';
import { KeyRing, type KeySource, type ProviderSource } from '../../src/auth/key-ring.js';

// The key ring's routing by the token's iss, with in-memory sources: which source a lookup may
// reach is the whole of its security, so each rule is checked against a source that would answer.

let cryptoKey: VerificationKey['key'];

beforeAll(async () => {
  cryptoKey = (await generateKeyPair('ES256')).publicKey;
});

const localKey = (kid: string): VerificationKey => ({ kid, alg: 'ES256', key: cryptoKey, jwk: { kid } });

class Local implements KeySource {
  generation = 1;
  constructor(readonly keys: Map<string, VerificationKey>) {}
  get(kid: string) {
    return this.keys.get(kid);
  }
}

class Provider implements ProviderSource {
  generation = 1;
  refetches = 0;
  readonly keys = new Map<string, ProviderKey>();
  constructor(readonly issuer: string, kids: string[]) {
    for (const kid of kids) this.keys.set(kid, { ...localKey(kid), issuer, audience: 'strata', tenantsClaim: 'tenants' });
  }
  get(kid: string) {
    return this.keys.get(kid);
  }
  async refetchForMiss() {
    this.refetches++;
  }
}

describe('KeyRing', () => {
  it('looks a token without a provider’s iss up in the local sources only, in order', () => {
    const first = new Local(new Map([['shared', localKey('shared')]]));
    const second = new Local(new Map([['shared', localKey('shared')], ['only-second', localKey('only-second')]]));
    const idp = new Provider('https://idp/', ['shared', 'idp-1']);
    const ring = new KeyRing({ local: [first, second], providers: [idp] });
    for (const iss of [undefined, 'https://other/', 'https://idp', '']) {
      expect(ring.get('shared', iss)).toBe(first.keys.get('shared'));
      expect(ring.get('only-second', iss)).toBe(second.keys.get('only-second'));
      // A provider's kid is never reached without its issuer.
      expect(ring.get('idp-1', iss)).toBeUndefined();
    }
  });

  it('looks a token with a provider’s iss up in that provider alone', () => {
    const local = new Local(new Map([['local-1', localKey('local-1')]]));
    const a = new Provider('https://a/', ['a-1', 'shared']);
    const b = new Provider('https://b/', ['b-1', 'shared']);
    const ring = new KeyRing({ local: [local], providers: [a, b] });
    expect(ring.get('a-1', 'https://a/')).toBe(a.keys.get('a-1'));
    expect(ring.get('shared', 'https://a/')).toBe(a.keys.get('shared'));
    expect(ring.get('shared', 'https://b/')).toBe(b.keys.get('shared'));
    expect(ring.get('b-1', 'https://a/')).toBeUndefined();
    expect(ring.get('a-1', 'https://b/')).toBeUndefined();
    // A provider's token never falls back to the local keys.
    expect(ring.get('local-1', 'https://a/')).toBeUndefined();
  });

  it('lets only the provider named by iss refetch after a miss', async () => {
    const a = new Provider('https://a/', []);
    const b = new Provider('https://b/', []);
    const ring = new KeyRing({ local: [], providers: [a, b] });
    await ring.refresh('x', 'https://a/');
    await ring.refresh('x', undefined);
    await ring.refresh('x', 'https://c/');
    expect([a.refetches, b.refetches]).toEqual([1, 0]);
  });

  it('changes its generation whenever any source’s does', () => {
    const local = new Local(new Map());
    const a = new Provider('https://a/', []);
    const b = new Provider('https://b/', []);
    const ring = new KeyRing({ local: [local], providers: [a, b] });
    const seen = new Set([ring.generation]);
    for (const source of [local, a, b, a, local]) {
      source.generation++;
      expect(seen.has(ring.generation)).toBe(false);
      seen.add(ring.generation);
    }
    expect(new KeyRing({}).generation).toBe(0);
  });

  it('refuses two providers with one issuer', () => {
    expect(() => new KeyRing({ providers: [new Provider('https://a/', []), new Provider('https://a/', [])] })).toThrow(RangeError);
  });
});
