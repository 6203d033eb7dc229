import { describe, expect, it } from 'vitest';
import { BadCertificateThrottle } from '../../src/server/throttle.js';

describe('bad-certificate throttle', () => {
  it('refuses an address for the window, counts refusals, then lets it in again', () => {
    let now = 0;
    const t = new BadCertificateThrottle(9, () => now);
    t.block('10.0.0.1');
    expect(t.refuse('10.0.0.1')).toBe(true);
    expect(t.refuse('10.0.0.2')).toBe(false);
    now = 8_999;
    expect(t.refuse('10.0.0.1')).toBe(true);
    now = 9_000;
    expect(t.refuse('10.0.0.1')).toBe(false);
    expect(t.refused).toBe(2);
    expect(t.badCertificates).toBe(1);
  });

  it('forgets lapsed addresses, so a stream of bad handshakes cannot grow it without bound', () => {
    let now = 0;
    const t = new BadCertificateThrottle(1, () => now);
    for (let i = 0; i < 50_000; i++) {
      now += 10; // 100 new addresses per second, each throttled for one second
      t.block(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    }
    expect(t.size).toBeLessThanOrEqual(1024 + 100);
  });
});
