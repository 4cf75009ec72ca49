// The relation graph: every declared relation, in both directions, by entity key.
import { inverseOf } from '../relations.ts';

export type Edge = { type: string; target: string };

export class RelationGraph {
  /** key -> relations (type|target -> relation) in both directions. */
  private readonly edges = new Map<string, Map<string, Edge>>();

  /**
   * @param declares whether the entity `from` itself declares relation `type` to `to`: an edge
   * both sides declare stays until neither does.
   */
  constructor(private readonly declares: (from: string, type: string, to: string) => boolean) {}

  /** The entity's edges (both directions), unordered; undefined when it has none. */
  of(key: string): Iterable<Edge> | undefined {
    return this.edges.get(key)?.values();
  }

  link(from: string, type: string, to: string): void {
    this.add(from, type, to);
    this.add(to, inverseOf(type), from);
  }

  unlink(from: string, type: string, to: string): void {
    const inv = inverseOf(type);
    // Keep the edge when the other side declares the same relation itself (a Team lists its members
    // and each User says memberOf): it goes only when neither side declares it any more.
    if (this.declares(to, inv, from)) return;
    this.del(from, `${type}|${to}`);
    this.del(to, `${inv}|${from}`);
  }

  private add(a: string, t: string, b: string): void {
    let m = this.edges.get(a);
    if (!m) this.edges.set(a, (m = new Map()));
    m.set(`${t}|${b}`, { type: t, target: b });
  }

  private del(a: string, key: string): void {
    const m = this.edges.get(a);
    if (!m) return;
    m.delete(key);
    if (!m.size) this.edges.delete(a);
  }
}
