/**
 * The vector layer's public face: nearest-neighbour search over a record-layer collection, with
 * Qdrant's distances and scores. `exactSearch` answers from the collection's HNSW graphs when they
 * hold enough points (and scores exactly what they do not yet hold, or everything when asked);
 * a `VectorIndexer` running on the database links points into the graphs, and a `VectorCache`
 * kept across searches holds their decoded parts.
 * @packageDocumentation
 */
export { exactSearch, exactSearch as search, type Hit, type SearchSpec } from './exact.js';
export { VectorCache } from './cache.js';
export { VectorIndexer, type IndexerOptions } from './indexer.js';
export { indexedCount } from './vector-index.js';
export { DISTANCES, higherIsBetter, passesThreshold, preprocess, score, type Distance } from './distance.js';
