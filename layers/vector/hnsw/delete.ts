import type { GraphStore, HnswParams, NodeId } from './graph.js';
import { maxLinks, pruneTo } from './insert.js';

/**
 * Remove a node and repair the graph around it: each former neighbour loses the link and is offered
 * the removed node's other neighbours in its place (chosen with the same heuristic), so removing
 * nodes does not cut the graph apart. Links are one-way: nodes that linked to the removed one
 * without being its neighbours are looked for among its neighbours' neighbours (where such links
 * come from: they chose it as close) and repaired the same way. A link from farther away can
 * remain; searches skip it, and it goes when that list is next rewritten.
 */
export async function deleteNode(store: GraphStore, params: HnswParams, node: NodeId): Promise<void> {
  const h = store.handle(node);
  const level = await store.level(h);
  if (level === undefined) return;
  const aroundAt: number[][] = [];
  for (let l = level; l >= 0; l--) {
    const around = await store.neighbours(l, h);
    aroundAt[l] = around;
    const twoHops = new Set<number>();
    for (const n of around) for (const x of await store.neighbours(l, n)) twoHops.add(x);
    for (const n of around) twoHops.delete(n);
    twoHops.delete(h);
    const linking: number[] = [...around];
    for (const x of twoHops) if ((await store.neighbours(l, x)).includes(h)) linking.push(x);
    for (const n of linking) {
      const list = (await store.neighbours(l, n)).filter(x => x !== h);
      await pruneTo(store, maxLinks(params, l), l, n, [...new Set([...list, ...around.filter(x => x !== n && x !== h)])]);
    }
    store.setNeighbours(l, h, undefined);
  }
  store.setLevel(h, undefined);
  const entry = await store.entry();
  if (entry?.node !== h) return;
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
