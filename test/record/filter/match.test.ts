import { describe, expect, it } from 'vitest';
import { matchesFilter } from '../../../layers/record/filter/match.js';
import { parseFilter } from '../../../layers/record/filter/parse.js';
import type { PointId } from '../../../layers/record/point-id.js';

type Point = { id: PointId; payload: Record<string, unknown> };

/** The ids of `points` that pass `filter` (parsed from JSON, as a client sends it). */
function select(filter: unknown, points: readonly Point[]): PointId[] {
  const parsed = parseFilter(filter);
  return points.filter((p) => matchesFilter(parsed, p)).map((p) => p.id);
}

const one = (filter: unknown, payload: Record<string, unknown>, id: PointId = 1): boolean =>
  select(filter, [{ id, payload }]).length === 1;

// The example collection of Qdrant's filtering guide.
const cities: Point[] = [
  { id: 1, payload: { city: 'London', color: 'green' } },
  { id: 2, payload: { city: 'London', color: 'red' } },
  { id: 3, payload: { city: 'London', color: 'blue' } },
  { id: 4, payload: { city: 'Berlin', color: 'red' } },
  { id: 5, payload: { city: 'Moscow', color: 'green' } },
  { id: 6, payload: { city: 'Moscow', color: 'blue' } },
];
const london = { key: 'city', match: { value: 'London' } };
const red = { key: 'color', match: { value: 'red' } };

describe('clauses', () => {
  it('must, should, must_not and their combinations select as in the Qdrant guide', () => {
    expect(select({ must: [london, red] }, cities)).toEqual([2]);
    expect(select({ should: [london, red] }, cities)).toEqual([1, 2, 3, 4]);
    expect(select({ must_not: [london, red] }, cities)).toEqual([5, 6]);
    expect(select({ must: [london], must_not: [red] }, cities)).toEqual([1, 3]);
    expect(select({ must_not: [{ must: [london, red] }] }, cities)).toEqual([1, 3, 4, 5, 6]);
  });

  it('min_should needs at least min_count of its conditions', () => {
    const blue = { key: 'color', match: { value: 'blue' } };
    expect(select({ min_should: { conditions: [london, red, blue], min_count: 2 } }, cities)).toEqual([2, 3]);
    expect(select({ min_should: { conditions: [london, red], min_count: 3 } }, cities)).toEqual([]);
  });

  it('an empty should is no constraint, as in Qdrant’s query path; so is an empty filter', () => {
    expect(select({ should: [] }, cities)).toHaveLength(6);
    expect(select({ must: [{}] }, cities)).toHaveLength(6);
    expect(select({ must_not: [{}] }, cities)).toEqual([]);
  });

  it('takes a bare condition where a list is expected', () => {
    expect(select({ must: london, must_not: red }, cities)).toEqual([1, 3]);
  });
});

describe('match', () => {
  it('value: keywords exactly, integers only against integers, bools', () => {
    expect(one({ must: [{ key: 'c', match: { value: 'red' } }] }, { c: 'Red' })).toBe(false);
    expect(one({ must: [{ key: 'c', match: { value: 'red' } }] }, { c: ['blue', 'red'] })).toBe(true);
    expect(one({ must: [{ key: 'n', match: { value: 3 } }] }, { n: 3 })).toBe(true);
    expect(one({ must: [{ key: 'n', match: { value: 3 } }] }, { n: 3.5 })).toBe(false);
    expect(one({ must: [{ key: 'n', match: { value: 3 } }] }, { n: '3' })).toBe(false);
    expect(one({ must: [{ key: 'b', match: { value: true } }] }, { b: true })).toBe(true);
    expect(one({ must: [{ key: 'b', match: { value: true } }] }, { b: 1 })).toBe(false);
    // One level of array only: an array inside the array is not looked into.
    expect(one({ must: [{ key: 'c', match: { value: 'red' } }] }, { c: [['red']] })).toBe(false);
  });

  it('any: one of the keywords or integers', () => {
    const f = { must: [{ key: 'color', match: { any: ['black', 'yellow'] } }] };
    expect(one(f, { color: 'black' })).toBe(true);
    expect(one(f, { color: ['red', 'yellow'] })).toBe(true);
    expect(one(f, { color: 'red' })).toBe(false);
    expect(one({ must: [{ key: 'n', match: { any: [1, 2] } }] }, { n: [0, 2] })).toBe(true);
    expect(one({ must: [{ key: 'n', match: { any: [] } }] }, { n: 1 })).toBe(false);
  });

  it('except: some value is not in the list; missing, null and [] never pass', () => {
    const f = { must: [{ key: 'color', match: { except: ['black', 'yellow'] } }] };
    expect(one(f, { color: 'red' })).toBe(true);
    expect(one(f, { color: 'black' })).toBe(false);
    expect(one(f, { color: ['black', 'red'] })).toBe(true);
    expect(one(f, { color: ['black', 'yellow'] })).toBe(false);
    expect(one(f, {})).toBe(false);
    expect(one(f, { color: null })).toBe(false);
    expect(one(f, { color: [] })).toBe(false);
    // Values of another type are "not in the list".
    expect(one(f, { color: 7 })).toBe(true);
    expect(one(f, { color: true })).toBe(true);
    expect(one({ must: [{ key: 'n', match: { except: [1] } }] }, { n: 1.5 })).toBe(true);
    expect(one({ must: [{ key: 'n', match: { except: [1] } }] }, { n: 1 })).toBe(false);
  });

  it('text: every query token among the value’s tokens, case-insensitive', () => {
    const f = { must: [{ key: 'd', match: { text: 'Good cheap' } }] };
    expect(one(f, { d: 'cheap and GOOD food' })).toBe(true);
    expect(one(f, { d: 'good food' })).toBe(false);
    // Tokens, not substrings (Qdrant without a text index would match "goodness").
    expect(one({ must: [{ key: 'd', match: { text: 'good' } }] }, { d: 'goodness' })).toBe(false);
    expect(one({ must: [{ key: 'd', match: { text: 'good' } }] }, { d: ['bad', 'so-good'] })).toBe(true);
    expect(one({ must: [{ key: 'd', match: { text: '--' } }] }, { d: 'anything' })).toBe(false);
  });

  it('text_any, phrase and prefix', () => {
    expect(one({ must: [{ key: 'd', match: { text_any: 'cheap pricey' } }] }, { d: 'pricey food' })).toBe(true);
    expect(one({ must: [{ key: 'd', match: { phrase: 'cheap food' } }] }, { d: 'Cheap food!' })).toBe(true);
    expect(one({ must: [{ key: 'd', match: { phrase: 'food cheap' } }] }, { d: 'cheap food' })).toBe(false);
    expect(one({ must: [{ key: 'sku', match: { prefix: 'AB-' } }] }, { sku: 'AB-12' })).toBe(true);
    expect(one({ must: [{ key: 'sku', match: { prefix: 'ab-' } }] }, { sku: 'AB-12' })).toBe(false);
  });
});

describe('range', () => {
  it('numbers, integers and floats alike; other types never', () => {
    const f = { must: [{ key: 'price', range: { gte: 100.0, lt: 450 } }] };
    expect(one(f, { price: 100 })).toBe(true);
    expect(one(f, { price: 449.99 })).toBe(true);
    expect(one(f, { price: 450 })).toBe(false);
    expect(one(f, { price: '200' })).toBe(false);
    expect(one(f, { price: [10, 200] })).toBe(true);
  });

  it('datetime bounds compare datetime strings as instants; numbers never match them', () => {
    // The example of Qdrant's guide, with a space-separated bound.
    const f = { must: [{ key: 'date', range: { gt: '2023-02-08T10:49:00Z', gte: null, lt: null, lte: '2024-01-31 10:14:31Z' } }] };
    expect(one(f, { date: '2023-06-01' })).toBe(true);
    expect(one(f, { date: '2023-02-08T11:49:00+01:00' })).toBe(false);
    expect(one(f, { date: '2023-02-08T11:49:00.000001+01:00' })).toBe(true);
    expect(one(f, { date: 1_700_000_000 })).toBe(false);
    expect(one(f, { date: 'soon' })).toBe(false);
    expect(one({ must: [{ key: 'n', range: { gte: 0 } }] }, { n: '2023-06-01' })).toBe(false);
  });
});

describe('values_count, is_empty, is_null', () => {
  it('values_count counts an array’s elements, 1 for a scalar, 0 for null or missing', () => {
    const gt1 = { must: [{ key: 'comments', values_count: { gt: 1 } }] };
    expect(one(gt1, { comments: ['a', 'b'] })).toBe(true);
    expect(one(gt1, { comments: 'a' })).toBe(false);
    expect(one({ must: [{ key: 'comments', values_count: { lt: 1 } }] }, {})).toBe(true);
    expect(one({ must: [{ key: 'comments', values_count: { lt: 1 } }] }, { comments: null })).toBe(true);
  });

  it('values_count is checked per value found, not summed', () => {
    const payload = { posts: [{ tags: ['a'] }, { tags: ['b'] }] };
    expect(one({ must: [{ key: 'posts[].tags', values_count: { gte: 2 } }] }, payload)).toBe(false);
    expect(one({ must: [{ key: 'posts', values_count: { gte: 2 } }] }, payload)).toBe(true);
  });

  it('is_empty: missing, null or [] (the Qdrant guide’s cases)', () => {
    const f = { must: [{ is_empty: { key: 'reports' } }] };
    expect(one(f, {})).toBe(true);
    expect(one(f, { reports: null })).toBe(true);
    expect(one(f, { reports: [] })).toBe(true);
    expect(one(f, { reports: [null] })).toBe(false);
    expect(one(f, { reports: 'x' })).toBe(false);
  });

  it('is_null: an explicit null only', () => {
    const f = { must: [{ is_null: { key: 'reports' } }] };
    expect(one(f, { reports: null })).toBe(true);
    expect(one(f, {})).toBe(false);
    expect(one(f, { reports: [] })).toBe(false);
    expect(one(f, { reports: [null] })).toBe(false);
  });

  it('the field spellings differ: is_empty true when SOME value is empty, is_null sees [null]', () => {
    const payload = { a: [{ b: null }, { b: 1 }] };
    expect(one({ must: [{ is_empty: { key: 'a[].b' } }] }, payload)).toBe(false);
    expect(one({ must: [{ key: 'a[].b', is_empty: true }] }, payload)).toBe(true);
    expect(one({ must: [{ key: 'x', is_empty: false }] }, {})).toBe(false);
    expect(one({ must: [{ key: 'x', is_null: true }] }, { x: [null] })).toBe(true);
    expect(one({ must: [{ key: 'x', is_null: false }] }, {})).toBe(true);
  });
});

describe('has_id', () => {
  it('selects by id, normalizing UUID spellings', () => {
    const uuid = '550e8400-e29b-41d4-a716-446655440000';
    const points: Point[] = [{ id: 1, payload: {} }, { id: 2, payload: {} }, { id: uuid, payload: {} }];
    expect(select({ must: [{ has_id: [1, 3, 5, 7, 9, 11] }] }, points)).toEqual([1]);
    expect(select({ must: [{ has_id: [uuid.toUpperCase().replaceAll('-', '')] }] }, points)).toEqual([uuid]);
    expect(select({ must: [{ has_id: [] }] }, points)).toEqual([]);
  });
});

describe('array paths and nested', () => {
  // The examples of the Qdrant guide's "nested key" and "nested object filter" sections.
  const countries: Point[] = [
    { id: 1, payload: { country: { name: 'Germany', cities: [{ name: 'Berlin', population: 3.7, sightseeing: ['Brandenburg Gate', 'Reichstag'] }, { name: 'Munich', population: 1.5, sightseeing: ['Marienplatz', 'Olympiapark'] }] } } },
    { id: 2, payload: { country: { name: 'Japan', cities: [{ name: 'Tokyo', population: 9.3, sightseeing: ['Tokyo Tower', 'Tokyo Skytree'] }, { name: 'Osaka', population: 2.7, sightseeing: ['Osaka Castle', 'Universal Studios Japan'] }] } } },
    { id: 3, payload: { country: { name: 'Japan', cities: [{ name: 'Kyoto', population: 1.5, sightseeing: ['Kiyomizu-dera', 'Fushimi Inari Taisha'] }] } } },
    { id: 4, payload: { country: { name: 'Mexico', cities: [{ name: 'Mexico City', population: 8.9, sightseeing: ['Zocalo', 'Chapultepec Park'] }] } } },
  ];

  it('reads through arrays with [] only', () => {
    expect(select({ should: [{ key: 'country.name', match: { value: 'Germany' } }] }, countries)).toEqual([1]);
    expect(select({ should: [{ key: 'country.cities[].population', range: { gte: 9.0 } }] }, countries)).toEqual([2]);
    expect(select({ should: [{ key: 'country.cities[].sightseeing', match: { value: 'Osaka Castle' } }] }, countries)).toEqual([2]);
    expect(select({ should: [{ key: 'country.cities.population', range: { gte: 9.0 } }] }, countries)).toEqual([]);
    expect(select({ must: [{ key: 'country.cities', values_count: { gt: 1 } }] }, countries)).toEqual([1, 2]);
  });

  const dinosaurs: Point[] = [
    { id: 1, payload: { dinosaur: 't-rex', diet: [{ food: 'leaves', likes: false }, { food: 'meat', likes: true }] } },
    { id: 2, payload: { dinosaur: 'diplodocus', diet: [{ food: 'leaves', likes: true }, { food: 'meat', likes: false }] } },
  ];

  it('nested tests each element against the whole inner filter', () => {
    const flat = { must: [{ key: 'diet[].food', match: { value: 'meat' } }, { key: 'diet[].likes', match: { value: true } }] };
    expect(select(flat, dinosaurs)).toEqual([1, 2]);
    const nested = { must: [{ nested: { key: 'diet', filter: { must: [{ key: 'food', match: { value: 'meat' } }, { key: 'likes', match: { value: true } }] } } }] };
    expect(select(nested, dinosaurs)).toEqual([1]);
    expect(select({ must_not: nested.must }, dinosaurs)).toEqual([2]);
  });

  it('nested skips elements that are not objects and finds nothing in a non-array', () => {
    const f = { must: [{ nested: { key: 'diet', filter: { must: [{ key: 'food', match: { value: 'meat' } }] } } }] };
    expect(one(f, { diet: ['meat', null, { food: 'meat' }] })).toBe(true);
    expect(one(f, { diet: { food: 'meat' } })).toBe(false);
  });
});
