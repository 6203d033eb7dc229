import { describe, expect, it } from 'vitest';
import { parseDatetime } from '../../../layers/record/datetime.js';

const MARCH_1 = Date.UTC(2020, 2, 1) * 1000;

describe('parseDatetime', () => {
  // The accepted forms of qdrant's test_datetime_deserialization (lib/segment/src/types.rs).
  it.each([
    ['2020-03-01T00:00:00Z', MARCH_1],
    ['2020-03-01T00:00:00-09:00', MARCH_1 + 9 * 3600e6],
    ['2020-03-01 00:00:00-0900', MARCH_1 + 9 * 3600e6],
    ['2020-03-01T00:00:00-0900', MARCH_1 + 9 * 3600e6],
    ['2020-03-01 00:00:00-09', MARCH_1 + 9 * 3600e6],
    ['2020-03-01T00:00:00.123456Z', MARCH_1 + 123456],
    ['2020-03-01T00:00:00', MARCH_1],
    ['2020-03-01T00:00:00.12', MARCH_1 + 120000],
    ['2020-03-01 00:00:00', MARCH_1],
    ['2020-03-01 00:00:00.123456', MARCH_1 + 123456],
    ['2020-03-01T00:00', MARCH_1],
    ['2020-03-01 00:00', MARCH_1],
    ['2020-03-01', MARCH_1],
    ['2020-03-01t00:00:00z', MARCH_1],
    ['2020-03-01 00:00:00UTC', MARCH_1],
    ['2020-3-1', MARCH_1],
    ['2020-03-01T00:00:00.123456789Z', MARCH_1 + 123456],
  ])('reads %s', (text, micros) => {
    expect(parseDatetime(text)).toBe(micros);
  });

  it('orders instants across time zones (test_timezone_ordering)', () => {
    const texts = ['2000-06-08 00:18:53+0900', '2000-06-07 07:25:34-1100', '2000-07-10T00:18:53+0100', '2000-07-11 00:25:34-01:00', '2000-07-11 00:25:35-01'];
    const micros = texts.map((t) => parseDatetime(t)!);
    expect([...micros].sort((a, b) => a - b)).toEqual(micros);
  });

  it('treats no time zone as UTC and handles years before 100 and 1970', () => {
    expect(parseDatetime('2020-03-01T01:02:03.123456')).toBe(parseDatetime('2020-03-01T01:02:03.123456Z'));
    expect(parseDatetime('0050-01-01')).toBe(-60589296000 * 1e6); // not 1950, as Date.UTC would read it
    expect(parseDatetime('1969-12-31T23:59:59.5Z')).toBe(-500000);
    expect(parseDatetime('2020-02-29')).toBe(Date.UTC(2020, 1, 29) * 1000);
  });

  it.each(['', 'March 1st', '2020-03-01T00:00:00BAD', '2020-13-01', '2020-02-30', '2021-02-29', '2020-03-01T24:00:00', '2020-03-01T00:60', '2020-03-01T00:00Z', '2020-03-01T00:00:00+24:00', '20-03-01', '2020-03-01T00:00:00.Z', ' 2020-03-01', '1583020800'])(
    'refuses %j',
    (text) => {
      expect(parseDatetime(text)).toBeUndefined();
    },
  );
});
