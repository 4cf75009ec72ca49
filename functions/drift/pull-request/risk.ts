// The risk of a drift pull request, 0-100, with the factors that made it: how high the scope is
// (tenant root > intermediate management group > management group > subscription > resource
// group), what kind of resource (who-may-do-what and deny policies weigh most), how many resources,
// and who changed them (a person's portal change weighs more than a pipeline's or a policy's).
import type { DriftItem } from '../model.ts';

export interface RiskFactor {
  factor: 'scope' | 'kind' | 'count' | 'actor';
  points: number;
  /** Of at most this many. */
  max: number;
  why: string;
}

export interface Risk {
  score: number;
  level: 'low' | 'medium' | 'high';
  factors: RiskFactor[];
}

export interface RiskContext {
  tenantRootId: string;
  /** Management groups (lower case) that have child groups. */
  intermediateGroups: ReadonlySet<string>;
}

const SCOPE_MAX = 40;
const KIND_MAX = 25;
const COUNT_MAX = 15;
const ACTOR_MAX = 20;

type Scope = { points: number; label: string };

/** The scope a resource id sits at, highest first. */
export function scopeOf(resourceId: string, ctx: RiskContext): Scope {
  const id = resourceId.toLowerCase();
  const mg = /^\/providers\/microsoft\.management\/managementgroups\/([^/]+)/.exec(id)?.[1];
  if (mg !== undefined) {
    if (mg === ctx.tenantRootId.toLowerCase()) return { points: 40, label: `the tenant root group (${mg})` };
    if (ctx.intermediateGroups.has(mg)) return { points: 30, label: `intermediate management group ${mg}` };
    return { points: 22, label: `management group ${mg}` };
  }
  const rg = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)/.exec(id);
  if (rg) return { points: 8, label: `resource group ${rg[2]}` };
  const sub = /^\/subscriptions\/([^/]+)/.exec(id);
  if (sub) return { points: 15, label: `subscription ${sub[1]}` };
  return { points: 5, label: 'another scope' };
}

function denies(item: DriftItem): boolean {
  // The effect parameter (either side) or a policy rule's effect set to deny.
  return item.properties.some((p) => /effect/i.test(p.path) && [p.desired, p.live].some((v) => JSON.stringify(v ?? '').toLowerCase().includes('deny')));
}

function kindOf(item: DriftItem): Scope {
  const t = item.resourceType.toLowerCase();
  if (/roleassignments$|roledefinitions$/.test(t)) return { points: 25, label: 'role assignments or definitions (who may do what)' };
  if (/policyassignments$/.test(t) && denies(item)) return { points: 25, label: 'a policy assignment with a deny effect' };
  if (/managementgroups$/.test(t)) return { points: 20, label: 'management groups' };
  if (/policyassignments$|policyexemptions$|policy(set)?definitions$/.test(t)) return { points: 15, label: 'policy assignments or definitions' };
  return { points: 8, label: 'other resources' };
}

const ACTOR_POINTS: Record<string, number> = { person: 20, unknown: 15, pipeline: 8, policy: 3, nexus: 0 };

function actors(item: DriftItem): string[] {
  const fromProps = item.properties.map((p) => p.changedBy?.actor).filter((a): a is NonNullable<typeof a> => !!a);
  const all = fromProps.length ? fromProps : item.changes.map((c) => c.actor);
  return all.length ? all : ['unknown'];
}

export function driftRisk(items: DriftItem[], ctx: RiskContext): Risk {
  const best = <T extends Scope>(list: T[]): T | undefined => list.reduce<T | undefined>((a, b) => (!a || b.points > a.points ? b : a), undefined);
  const scope = best(items.map((i) => scopeOf(i.resourceId, ctx)));
  const kind = best(items.map(kindOf));
  const who = best(items.flatMap(actors).map((a) => ({ points: Object.hasOwn(ACTOR_POINTS, a) ? ACTOR_POINTS[a]! : ACTOR_POINTS.unknown!, label: a })));
  const count = Math.min(COUNT_MAX, 3 * items.length);
  const factors: RiskFactor[] = [
    { factor: 'scope', points: scope?.points ?? 0, max: SCOPE_MAX, why: scope ? `highest scope: ${scope.label}` : 'no resources' },
    { factor: 'kind', points: kind?.points ?? 0, max: KIND_MAX, why: kind ? `weightiest kind: ${kind.label}` : 'no resources' },
    { factor: 'count', points: count, max: COUNT_MAX, why: `${items.length} resource${items.length === 1 ? '' : 's'}` },
    { factor: 'actor', points: who?.points ?? 0, max: ACTOR_MAX, why: who ? `changed by: ${who.label === 'person' ? 'a person' : who.label === 'pipeline' ? 'a pipeline' : who.label}` : 'nobody known' },
  ];
  const score = Math.min(100, factors.reduce((s, f) => s + f.points, 0));
  return { score, level: score >= 70 ? 'high' : score >= 40 ? 'medium' : 'low', factors };
}
