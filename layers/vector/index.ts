/**
 * The vector layer's public face: nearest-neighbour search over a record-layer collection, with
 * Qdrant's distances and scores. Search is exact today; the HNSW index plugs in behind `exactSearch`.
 * @packageDocumentation
 */
export { exactSearch, type Hit, type SearchSpec } from './exact.js';
export { DISTANCES, higherIsBetter, passesThreshold, preprocess, score, type Distance } from './distance.js';
