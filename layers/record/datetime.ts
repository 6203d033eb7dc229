/**
 * Datetime strings as Qdrant reads them in payloads and `range` bounds
 * (`DateTimeWrapper::from_str`, `lib/segment/src/types.rs`), reduced to epoch microseconds, the
 * unit Qdrant's datetime index keys on (`DateTimeWrapper::timestamp`).
 *
 * Qdrant tries, in order: RFC 3339; chrono's relaxed `DateTime` parse; `%Y-%m-%dT%H:%M:%S%.f%#z`
 * and the same with a space; then, read as UTC, `%Y-%m-%dT%H:%M:%S%.f`, `%Y-%m-%dT%H:%M` (each also
 * with a space) and `%Y-%m-%d`. Together that is the grammar below:
 *
 *   date            YYYY-M[M]-D[D]                         (chrono's `%m`/`%d` take one or two digits)
 *   date T|t|space  hh:mm                                  (UTC)
 *   date T|t|space  hh:mm:ss[.fraction] [offset]           (no offset: UTC)
 *   offset          Z | z | UTC | ±hh | ±hhmm | ±hh:mm
 *
 * Not reproduced (edge cases of chrono's lenient parsing): years other than four digits, and
 * whitespace around the offset. A fraction finer than a microsecond is truncated, as Qdrant's
 * `timestamp_micros` does; so two datetimes in the same microsecond compare equal here while Qdrant's
 * unindexed check (which compares nanoseconds) would order them.
 */

const DATETIME =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d+))?(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?)?)?$/;

/**
 * The epoch microseconds `text` denotes, or undefined when it is not a datetime Qdrant accepts.
 *
 * @example
 * parseDatetime('2020-03-01T00:00:00Z') // 1583020800000000
 * parseDatetime('2020-03-01 09:00:00+0900') // 1583020800000000
 * parseDatetime('2020-03-01') // 1583020800000000
 * parseDatetime('March 1st') // undefined
 */
export function parseDatetime(text: string): number | undefined {
  const m = DATETIME.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', offset = 'Z'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  // chrono accepts a leap second (:60) and counts it into the next second, as Date does below.
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  const offsetMinutes = parseOffset(offset);
  if (offsetMinutes === undefined) return undefined;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0 to 99 onto 1900 to 1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  const micros = Number(fraction.slice(0, 6).padEnd(6, '0'));
  return (date.getTime() - offsetMinutes * 60_000) * 1000 + micros;
}

function parseOffset(offset: string): number | undefined {
  if (offset === 'Z' || offset === 'z' || offset === 'UTC') return 0;
  const sign = offset.startsWith('-') ? -1 : 1;
  const digits = offset.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  // chrono's FixedOffset holds less than one day either way.
  if (hours > 23 || minutes > 59) return undefined;
  return sign * (hours * 60 + minutes);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
