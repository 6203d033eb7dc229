import { describe, expect, it } from 'vitest';
import { parseServeArgs, serveHelp } from '../../src/server/config.js';

// The identity provider flags of `strata serve`: repeatable, paired by order, checked at start-up.

const URL_A = 'https://a.example.com/.well-known/jwks.json';
const URL_B = 'https://b.example.com/jwks';

describe('strata serve identity provider flags', () => {
  it('has no providers by default, and the knobs’ defaults', () => {
    const c = parseServeArgs([], {});
    expect(c.jwks).toEqual([]);
    expect(c.knobs.jwks_refresh_interval_seconds).toBe(300);
    expect(c.knobs.jwks_tenants_claim).toBe('tenants');
  });

  it('pairs URLs with issuers by order, with one audience for all or one each', () => {
    const shared = parseServeArgs(
      ['--authorization-jwks-url', URL_A, '--authorization-jwks-issuer', 'https://a/', '--authorization-jwks-url', URL_B, '--authorization-jwks-issuer=https://b/', '--authorization-jwks-audience', 'strata'],
      {},
    );
    expect(shared.jwks).toEqual([
      { url: URL_A, issuer: 'https://a/', audience: 'strata' },
      { url: URL_B, issuer: 'https://b/', audience: 'strata' },
    ]);
    // The repeatable flags stay out of `flags`, which holds one value per flag.
    expect(shared.flags).toEqual({});
    const each = parseServeArgs(
      [
        `--authorization-jwks-url=${URL_A}`, `--authorization-jwks-url=${URL_B}`,
        '--authorization-jwks-issuer=https://a/', '--authorization-jwks-issuer=https://b/',
        '--authorization-jwks-audience=aud-a', '--authorization-jwks-audience=aud-b',
        '--authorization-jwks-ca-file=idp-ca.pem', '--knob_jwks_tenants_claim=https://example.com/tenants', '--knob_jwks_refresh_interval_seconds=60',
      ],
      {},
    );
    expect(each.jwks.map(p => [p.issuer, p.audience])).toEqual([['https://a/', 'aud-a'], ['https://b/', 'aud-b']]);
    expect(each.flags['authorization-jwks-ca-file']).toBe('idp-ca.pem');
    expect(each.knobs.jwks_tenants_claim).toBe('https://example.com/tenants');
    expect(each.knobs.jwks_refresh_interval_seconds).toBe(60);
  });

  const one = ['--authorization-jwks-url', URL_A, '--authorization-jwks-issuer', 'https://a/', '--authorization-jwks-audience', 'strata'];
  it.each([
    ['an http: URL', ['--authorization-jwks-url', 'http://a.example.com/jwks', '--authorization-jwks-issuer', 'i', '--authorization-jwks-audience', 'a'], /https: URL/],
    ['a URL that is not one', ['--authorization-jwks-url', 'jwks.json', '--authorization-jwks-issuer', 'i', '--authorization-jwks-audience', 'a'], /https: URL/],
    ['credentials in the URL', ['--authorization-jwks-url', 'https://u:p@a.example.com/', '--authorization-jwks-issuer', 'i', '--authorization-jwks-audience', 'a'], /credentials/],
    ['no issuer', ['--authorization-jwks-url', URL_A, '--authorization-jwks-audience', 'a'], /one --authorization-jwks-issuer per/],
    ['more issuers than URLs', [...one, '--authorization-jwks-issuer', 'https://b/'], /one --authorization-jwks-issuer per/],
    ['no audience', ['--authorization-jwks-url', URL_A, '--authorization-jwks-issuer', 'i'], /--authorization-jwks-audience/],
    ['two audiences for three URLs', [...one, '--authorization-jwks-url', URL_B, '--authorization-jwks-issuer', 'b', '--authorization-jwks-url', 'https://c/', '--authorization-jwks-issuer', 'c', '--authorization-jwks-audience', 'x'], /one per URL/],
    ['an empty issuer', ['--authorization-jwks-url', URL_A, '--authorization-jwks-issuer=', '--authorization-jwks-audience', 'a'], /issuer .* is empty/],
    ['an empty audience', ['--authorization-jwks-url', URL_A, '--authorization-jwks-issuer', 'i', '--authorization-jwks-audience='], /audience .* is empty/],
    ['one issuer twice', [...one, '--authorization-jwks-url', URL_B, '--authorization-jwks-issuer', 'https://a/'], /share the issuer/],
    ['an issuer without a URL', ['--authorization-jwks-issuer', 'i'], /need an --authorization-jwks-url/],
    ['a CA file without a URL', ['--authorization-jwks-ca-file', 'ca.pem'], /need an --authorization-jwks-url/],
    ['an empty tenants claim', [...one, '--knob_jwks_tenants_claim='], /jwks_tenants_claim/],
    ['a zero refresh interval', [...one, '--knob_jwks_refresh_interval_seconds=0'], /at least 1/],
  ])('refuses %s with ERR_CLI_INVALID_ARGUMENT', (_what, args, why) => {
    expect(() => parseServeArgs(args, {})).toThrow(expect.objectContaining({ code: 'ERR_CLI_INVALID_ARGUMENT', message: expect.stringMatching(why) }));
  });

  it('lists the flags in --help', () => {
    const help = serveHelp();
    for (const flag of ['--authorization-jwks-url URL', '--authorization-jwks-issuer ISS', '--authorization-jwks-audience AUD', '--authorization-jwks-ca-file FILE']) {
      expect(help).toContain(flag);
    }
  });
});
