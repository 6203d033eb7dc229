import type { GraphStore, HnswParams, NodeId } from './graph.js';
import { maxLinks } from './insert.js';
import { selectNeighbours, type Rank } from './layer.js';

/**
 * Remove a node and repair the graph around it: each former neighbour loses the link and is offered
 * the removed node's other neighbours in its place (chosen with the same heuristic), so removing
 * nodes does not cut the graph apart. Call while the node's vector is still readable.
 */
export async function deleteNode(store: GraphStore, rank: Rank, params: HnswParams, node: NodeId): Promise<void> {
  const level = await store.level(node);
  if (level === undefined) return;
  const aroundAt: NodeId[][] = [];
  for (let l = level; l >= 0; l--) {
    const around = await store.neighbours(l, node);
    aroundAt[l] = around;
    for (const n of around) {
      const list = (await store.neighbours(l, n)).filter(x => x !== node);
      const [base] = await store.vectors([n]);
      if (base === null || base === undefined) {
        store.setNeighbours(l, n, list);
        continue;
      }
      const pool = [...new Set([...list, ...around.filter(x => x !== n && x !== node)])];
      const vectors = await store.vectors(pool);
      const scored = pool.flatMap((p, i) => {
        const v = vectors[i];
        return v === null || v === undefined ? [] : [{ node: p, distance: rank(base, v) }];
      });
      scored.sort((a, b) => a.distance - b.distance);
      store.setNeighbours(l, n, (await selectNeighbours(store, rank, scored, maxLinks(params, l))).map(s => s.node));
    }
    store.setNeighbours(l, node, undefined);
  }
  store.setLevel(node, undefined);
  const entry = await store.entry();
  if (entry?.node !== node) return;
  // A new entry point: a former neighbour on the highest level that has one, else any node left.
  for (let l = entry.level; l >= 0; l--) {
    for (const c of aroundAt[l] ?? []) {
      const cl = await store.level(c);
      if (cl !== undefined) {
        store.setEntry({ node: c, level: cl });
        return;
      }
    }
  }
  store.setEntry(await store.anyNode());
}
