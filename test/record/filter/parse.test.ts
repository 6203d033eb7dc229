import { describe, expect, it } from 'vitest';
import { StrataError } from '../../../src/errors.js';
import { FILTER_LIMITS, conditionCount, parseFilter } from '../../../layers/record/filter/parse.js';

/** The error `parseFilter` throws for `json`; fails the test when it accepts it. */
function refusal(json: unknown): StrataError {
  try {
    parseFilter(json);
  } catch (err) {
    if (err instanceof StrataError) return err;
    throw err;
  }
  throw new Error(`parseFilter accepted ${JSON.stringify(json)?.slice(0, 200)}`);
}

const field = (i: number) => ({ key: `k${i}`, match: { value: i } });

describe('parseFilter accepts the grammar', () => {
  it('returns the typed form, with clauses as lists', () => {
    const f = parseFilter({
      must: { key: 'a.b[]', match: { value: 'x' } },
      should: null,
      must_not: [{ has_id: [1, 'ABCDEF00-0000-0000-0000-000000000000'] }],
      min_should: { conditions: [{ key: 'n', range: { gte: 1, lt: null } }], min_count: 1 },
    });
    expect(f.must).toEqual([{ kind: 'match_value', key: expect.objectContaining({ text: 'a.b[]' }), value: 'x' }]);
    expect(f.should).toEqual([]);
    expect(f.mustNot[0]).toEqual({ kind: 'has_id', ids: new Set([1, 'abcdef00-0000-0000-0000-000000000000']) });
    expect(f.minShould).toEqual({ conditions: [{ kind: 'range', key: expect.anything(), bounds: { gte: 1 } }], minCount: 1 });
  });

  it('decides numeric or datetime range by the JSON type of the bounds', () => {
    expect(parseFilter({ must: [{ key: 't', range: { gte: '2020-03-01' } }] }).must[0]).toMatchObject({
      kind: 'datetime_range',
      bounds: { gte: Date.UTC(2020, 2, 1) * 1000 },
    });
    expect(parseFilter({ must: [{ key: 't', range: { gte: 5 } }] }).must[0]).toMatchObject({ kind: 'range', bounds: { gte: 5 } });
  });

  it('counts conditions at every depth', () => {
    const f = parseFilter({
      must: [field(1), { should: [field(2), field(3)] }],
      must_not: [{ nested: { key: 'n', filter: { must: [field(4)] } } }],
      min_should: { conditions: [field(5)], min_count: 1 },
    });
    expect(conditionCount(f)).toBe(7);
  });

  it('accepts filters at the depth and count limits', () => {
    let deep: unknown = { must: [field(0)] };
    for (let i = 1; i < FILTER_LIMITS.maxDepth; i++) deep = { must: [deep] };
    expect(() => parseFilter(deep)).not.toThrow();
    const wide = { should: Array.from({ length: FILTER_LIMITS.maxConditions }, (_, i) => field(i)) };
    expect(conditionCount(parseFilter(wide))).toBe(FILTER_LIMITS.maxConditions);
  });
});

describe('parseFilter refuses what is off the grammar', () => {
  it.each<[string, unknown, string]>([
    ['a non-object filter', [], 'filter: must be an object'],
    ['null as the filter', null, 'filter: must be an object'],
    ['an unknown clause', { mus: [] }, 'filter: unknown field "mus"'],
    ['a clause of the wrong type', { must: 'x' }, 'filter.must: a condition must be an object'],
    ['an unknown field in a field condition', { must: [{ key: 'a', match: { value: 1 }, boost: 2 }] }, 'filter.must[0]: unknown field "boost"'],
    ['a non-string key', { must: [{ key: 7, match: { value: 1 } }] }, 'filter.must[0].key: a payload key must be a string'],
    ['a malformed key', { must: [field(0), { key: 'a..b', match: { value: 1 } }] }, 'filter.must[1].key: payload path "a..b" is malformed'],
    ['a field condition with no test', { must: [{ key: 'a' }] }, 'filter.must[0]: a field condition needs one of'],
    ['a field condition with two tests', { must: [{ key: 'a', match: { value: 1 }, range: { gt: 1 } }] }, 'not both match and range'],
    ['an empty match', { must: [field(0), field(1), { key: 'a', match: {} }] }, 'filter.must[2].match: must hold one of'],
    ['a match with two kinds', { must: [{ key: 'a', match: { value: 1, any: [1] } }] }, 'filter.must[0].match: must hold one of'],
    ['an unknown match kind', { must: [{ key: 'a', match: { regex: 'x' } }] }, 'filter.must[0].match: unknown field "regex"'],
    ['a fractional match value', { must: [{ key: 'a', match: { value: 1.5 } }] }, 'filter.must[0].match.value: must be a string, an integer or a boolean'],
    ['a null match value', { must: [{ key: 'a', match: { value: null } }] }, 'filter.must[0].match.value'],
    ['an object match value', { must: [{ key: 'a', match: { value: { $gt: 1 } } }] }, 'filter.must[0].match.value'],
    ['a mixed any list', { must: [{ key: 'a', match: { any: ['x', 1] } }] }, 'filter.must[0].match.any: must hold only strings or only integers'],
    ['bools in an except list', { must: [{ key: 'a', match: { except: [true] } }] }, 'filter.must[0].match.except'],
    ['an any that is not a list', { must: [{ key: 'a', match: { any: 'x' } }] }, 'filter.must[0].match.any'],
    ['a non-string text', { must: [{ key: 'a', match: { text: 3 } }] }, 'filter.must[0].match.text: must be a string'],
    ['a range with no bound', { must: [{ key: 'a', range: {} }] }, 'filter.must[0].range: needs at least one of'],
    ['a range of nulls', { must: [{ key: 'a', range: { gt: null } }] }, 'filter.must[0].range: needs at least one of'],
    ['an unknown range bound', { must: [{ key: 'a', range: { gt: 1, ge: 2 } }] }, 'filter.must[0].range: unknown field "ge"'],
    ['a mixed range', { must: [{ key: 'a', range: { gt: '2020-01-01', lt: 5 } }] }, 'filter.must[0].range.lt: 5 is not a datetime'],
    ['a bad datetime bound', { must: [{ key: 'a', range: { gte: '2014-01-01T00:00:00BAD' } }] }, 'filter.must[0].range.gte: "2014-01-01T00:00:00BAD" is not a datetime'],
    ['a boolean range bound', { must: [{ key: 'a', range: { gt: true } }] }, 'filter.must[0].range.gt: must be a number'],
    ['a negative values_count', { must: [{ key: 'a', values_count: { gt: -1 } }] }, 'filter.must[0].values_count.gt: must be a whole number'],
    ['a fractional values_count', { must: [{ key: 'a', values_count: { lt: 1.5 } }] }, 'filter.must[0].values_count.lt'],
    ['an empty values_count', { must: [{ key: 'a', values_count: {} }] }, 'filter.must[0].values_count: needs at least one'],
    ['a non-boolean is_empty field test', { must: [{ key: 'a', is_empty: 'yes' }] }, 'filter.must[0].is_empty: must be true or false'],
    ['is_empty without key', { must: [{ is_empty: {} }] }, 'filter.must[0].is_empty.key: a payload key must be a string'],
    ['is_null with extra fields', { must: [{ is_null: { key: 'a', strict: true } }] }, 'filter.must[0].is_null: unknown field "strict"'],
    ['is_empty beside another field', { must: [{ is_empty: { key: 'a' }, x: 1 }] }, 'filter.must[0]: unknown field "x"'],
    ['has_id that is not a list', { must: [{ has_id: 1 }] }, 'filter.must[0].has_id: must be a list of point ids'],
    ['a bad point id', { must: [{ has_id: [1, -2] }] }, 'filter.must[0].has_id[1]: point id -2'],
    ['an empty string id', { must: [{ has_id: [''] }] }, 'filter.must[0].has_id[0]'],
    ['has_id inside nested', { must: [{ nested: { key: 'n', filter: { must_not: [{ has_id: [1] }] } } }] }, 'filter.must[0].nested.filter.must_not[0]: has_id cannot be used inside nested'],
    ['has_id deeper inside nested', { must: [{ nested: { key: 'n', filter: { must: [{ should: [{ has_id: [1] }] }] } } }] }, 'has_id cannot be used inside nested'],
    ['nested without filter', { must: [{ nested: { key: 'n' } }] }, 'filter.must[0].nested.filter: is required'],
    ['nested with a bad key', { must: [{ nested: { key: '', filter: {} } }] }, 'filter.must[0].nested.key'],
    ['a condition of unknown shape', { should: [{ foo: 1 }] }, 'filter.should[0]: unknown field "foo"'],
    ['min_should without a list', { min_should: { conditions: field(0), min_count: 1 } }, 'filter.min_should.conditions: must be a list'],
    ['min_should with min_count 0', { min_should: { conditions: [field(0)], min_count: 0 } }, 'filter.min_should.min_count: must be a whole number of at least 1'],
    ['min_should with a fractional min_count', { min_should: { conditions: [field(0)], min_count: 1.5 } }, 'filter.min_should.min_count'],
    ['min_should with extra fields', { min_should: { conditions: [], min_count: 1, max_count: 2 } }, 'filter.min_should: unknown field "max_count"'],
    ['a bad condition inside min_should', { min_should: { conditions: [field(0), 3], min_count: 1 } }, 'filter.min_should.conditions[1]: a condition must be an object'],
  ])('refuses %s', (_, json, message) => {
    expect(refusal(json)).toMatchObject({ code: 'ERR_FILTER_INVALID', message: expect.stringContaining(message) });
  });

  it('names the offending place deep inside', () => {
    const json = { must: [field(0), { should: [field(1), { must_not: [{ key: 'a', match: { value: [] } }] }] }] };
    expect(refusal(json).message).toMatch(/^filter\.must\[1\]\.should\[1\]\.must_not\[0\]\.match\.value: /);
  });

  it('refuses a nesting of 10,000 filters without overflowing the stack', () => {
    let deep: unknown = field(0);
    for (let i = 0; i < 10_000; i++) deep = { must: [deep] };
    expect(refusal(deep)).toMatchObject({ code: 'ERR_FILTER_INVALID', message: expect.stringContaining('at most 32 levels') });
    let nested: unknown = { must: [field(0)] };
    for (let i = 0; i < 10_000; i++) nested = { must: [{ nested: { key: 'n', filter: nested } }] };
    expect(refusal(nested)).toMatchObject({ code: 'ERR_FILTER_INVALID' });
  });

  it('refuses more than 1,000 conditions, counting every depth, without reading them all', () => {
    const wide = { should: Array.from({ length: 1_000_000 }, (_, i) => field(i)) };
    const started = performance.now();
    expect(refusal(wide)).toMatchObject({ code: 'ERR_FILTER_INVALID', message: expect.stringContaining('filter.should[1000]: a filter may hold at most 1000 conditions') });
    expect(performance.now() - started).toBeLessThan(1000);
    const spread = { must: Array.from({ length: 20 }, () => ({ should: Array.from({ length: 50 }, (_, i) => field(i)) })) };
    expect(refusal(spread)).toMatchObject({ code: 'ERR_FILTER_INVALID', message: expect.stringContaining('at most 1000 conditions') });
  });

  it('reads only own fields, so prototype tricks are plain unknown fields', () => {
    expect(refusal(JSON.parse('{"__proto__": {"must": []}}'))).toMatchObject({ code: 'ERR_FILTER_INVALID', message: expect.stringContaining('unknown field "__proto__"') });
    expect(parseFilter(Object.create({ must: 'inherited' }) as object)).toEqual({ must: [], should: [], mustNot: [] });
  });

  it.each<[string, unknown]>([
    ['geo_radius', { must: [{ key: 'loc', geo_radius: { center: { lon: 0, lat: 0 }, radius: 1 } }] }],
    ['geo_bounding_box', { must: [{ key: 'loc', geo_bounding_box: {} }] }],
    ['has_vector', { must: [{ has_vector: 'image' }] }],
    ['slice', { must: [{ slice: { total: 2, index: 0 } }] }],
  ])('answers ERR_FEATURE_UNSUPPORTED for %s', (_, json) => {
    expect(refusal(json)).toMatchObject({ code: 'ERR_FEATURE_UNSUPPORTED' });
  });
});
