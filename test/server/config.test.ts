import { describe, expect, it } from 'vitest';
import { KNOBS, parseListen, parseServeArgs, serveHelp } from '../../src/server/config.js';

describe('strata serve flags and knobs', () => {
  it('defaults every knob as FoundationDB does where it has one', () => {
    const { knobs, flags, trustedSubnets } = parseServeArgs([], {});
    expect(knobs).toMatchObject({
      public_key_file_refresh_interval_seconds: 300,
      token_cache_size: 2000,
      allow_tokenless_tenant_access: false,
      bad_certificate_throttle_seconds: 9,
      token_clock_skew_seconds: 0,
      max_token_size_bytes: 8192,
      audit_time_window_seconds: 5,
      vector_cache_bytes: 256 * 1024 * 1024,
      vector_index_batch_ms: 250,
    });
    expect(flags).toEqual({});
    expect(trustedSubnets).toEqual([]);
  });

  it('reads --flag VALUE, --flag=VALUE, repeatable trusted subnets and --knob_NAME=VALUE', () => {
    const c = parseServeArgs(
      ['--listen', '0.0.0.0:7000', '--data-dir=/d', '--trusted-subnet-office=10.0.0.0/8', '--trusted-subnet-v6=fd00::/8', '--knob_token_cache_size=5', '--knob_allow_tokenless_tenant_access=true'],
      {},
    );
    expect(c.flags).toEqual({ listen: '0.0.0.0:7000', 'data-dir': '/d' });
    expect(c.trustedSubnets).toEqual([['office', '10.0.0.0/8'], ['v6', 'fd00::/8']]);
    expect(c.knobs.token_cache_size).toBe(5);
    expect(c.knobs.allow_tokenless_tenant_access).toBe(true);
  });

  it('takes knobs from STRATA_KNOB_* with the command line winning', () => {
    const env = { STRATA_KNOB_TOKEN_CACHE_SIZE: '7', STRATA_KNOB_BAD_CERTIFICATE_THROTTLE_SECONDS: '30' };
    const c = parseServeArgs(['--knob_token_cache_size=9'], env);
    expect(c.knobs.token_cache_size).toBe(9);
    expect(c.knobs.bad_certificate_throttle_seconds).toBe(30);
  });

  it.each([
    [['--knob_nope=1']],
    [['--knob_token_cache_size=many']],
    [['--knob_allow_tokenless_tenant_access=yes']],
    [['--knob_token_clock_skew_seconds=61']],
    [['--knob_vector_cache_bytes=0']],
    [['--knob_vector_index_batch_ms=0']],
    [['--knob_max_in_flight_requests=0']],
    [['--bogus', 'x']],
    [['stray']],
    [['--listen']],
    [['--data-dir', '/a', '--cluster-file', '/b']],
  ])('refuses %j with ERR_CLI_INVALID_ARGUMENT', args => {
    expect(() => parseServeArgs(args, {})).toThrow(expect.objectContaining({ code: 'ERR_CLI_INVALID_ARGUMENT' }));
  });

  it('parses listen addresses, IPv6 in brackets', () => {
    expect(parseListen('127.0.0.1:6333')).toEqual({ host: '127.0.0.1', port: 6333 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(() => parseListen('6333')).toThrow();
    expect(() => parseListen('h:70000')).toThrow();
  });

  it('lists every knob with its default in --help', () => {
    const help = serveHelp();
    for (const [name, knob] of Object.entries(KNOBS)) expect(help).toContain(`--knob_${name}=${String(knob.default)}`);
    expect(help).toContain('--trusted-subnet-NAME=CIDR');
  });
});
