import { describe, expect, it } from 'vitest';
import { API_KEY_LAST_USED, API_KEYS, parseApiKey } from '../../src/auth/apikeys.js';
import { narrowAccess } from '../../src/auth/exchange.js';
import { ISSUING_KEYS } from '../../src/auth/issuing-keys.js';
import { REFRESH_FAMILIES, REFRESH_TOKENS } from '../../src/auth/refresh-tokens.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('credential layouts (on-disk: changing them loses every key)', () => {
  it('keeps keys, last uses, refresh tokens, families and issuing keys in the system subspace', () => {
    // \xfe then the tuple ('auth', NAME, id): strings are \x02 … \x00.
    expect(hex(API_KEYS.pack(['0123456789abcdef']))).toBe('fe' + '0261757468' + '00' + '02617069' + '6b6579' + '00' + '02' + '30313233343536373839616263646566' + '00');
    expect(Buffer.from(API_KEYS.pack(['id'])).toString('latin1')).toBe('\xfe\x02auth\x00\x02apikey\x00\x02id\x00');
    expect(Buffer.from(API_KEY_LAST_USED.pack(['id'])).toString('latin1')).toBe('\xfe\x02auth\x00\x02apikey_used\x00\x02id\x00');
    expect(Buffer.from(REFRESH_TOKENS.pack(['h'])).toString('latin1')).toBe('\xfe\x02auth\x00\x02refresh\x00\x02h\x00');
    expect(Buffer.from(REFRESH_FAMILIES.pack(['f'])).toString('latin1')).toBe('\xfe\x02auth\x00\x02refresh_family\x00\x02f\x00');
    expect(Buffer.from(ISSUING_KEYS.pack(['k'])).toString('latin1')).toBe('\xfe\x02auth\x00\x02issuing\x00\x02k\x00');
  });
});

describe('parseApiKey', () => {
  const secret = 'A'.repeat(42) + '_';
  it('splits a key at the first underscore after the prefix (the secret may hold underscores)', () => {
    expect(parseApiKey(`strata_0123456789abcdef_${secret}`)).toEqual({ id: '0123456789abcdef', secret });
  });
  it.each([
    ['another prefix', `stratb_0123456789abcdef_${secret}`],
    ['an id of the wrong length', `strata_0123456789abcde_${secret}`],
    ['an id that is not hex', `strata_0123456789abcdeg_${secret}`],
    ['a short secret', 'strata_0123456789abcdef_abc'],
    ['a secret with other characters', `strata_0123456789abcdef_${'A'.repeat(42)}=`],
    ['no secret', 'strata_0123456789abcdef'],
    ['a JWT', 'eyJhbGciOiJFUzI1NiJ9.eyJ9.sig'],
  ])('refuses %s', (_what, text) => {
    expect(parseApiKey(text)).toBeUndefined();
  });
});

describe('narrowAccess (a token never reaches beyond its key)', () => {
  const docsRw = [{ collection: 'docs', access: 'rw' as const }];
  it.each([
    ['full → read', undefined, 'r', 'r'],
    ['full → collection list', undefined, docsRw, docsRw],
    ['read → read list', 'r', [{ collection: 'x', access: 'r' }], [{ collection: 'x', access: 'r' }]],
    ['rw → prw on the same collection', docsRw, [{ collection: 'docs', access: 'prw' }], [{ collection: 'docs', access: 'prw' }]],
    ['prefix → a name under it', [{ collection: 'team-*', access: 'rw' }], [{ collection: 'team-a', access: 'r' }], [{ collection: 'team-a', access: 'r' }]],
    ['scope → the same scope and more', [{ collection: 'docs', access: 'rw', payload: { org: 1 } }], [{ collection: 'docs', access: 'r', payload: { org: 1, user: 'u' } }], [{ collection: 'docs', access: 'r', payload: { org: 1, user: 'u' } }]],
  ])('allows %s', (_what, held, wanted, expected) => {
    expect(narrowAccess(held as never, wanted)).toEqual(expected);
  });
  it.each([
    ['read → full', 'r', 'm'],
    ['read → write on a collection', 'r', docsRw],
    ['list → read everywhere', docsRw, 'r'],
    ['list → another collection', docsRw, [{ collection: 'other', access: 'r' }]],
    ['list → a wider prefix', docsRw, [{ collection: 'd*', access: 'r' }]],
    ['prw → rw', [{ collection: 'docs', access: 'prw' }], docsRw],
    ['scope → dropped', [{ collection: 'docs', access: 'rw', payload: { org: 1 } }], docsRw],
    ['scope → another value', [{ collection: 'docs', access: 'rw', payload: { org: 1 } }], [{ collection: 'docs', access: 'rw', payload: { org: 2 } }]],
  ])('refuses %s', (_what, held, wanted) => {
    expect(() => narrowAccess(held as never, wanted)).toThrow(expect.objectContaining({ code: 'ERR_AUTH_GRANT_EXCEEDS_KEY' }));
  });
});
