// GET /providers/Microsoft.Management/managementGroups/{group}/descendants: every management group
// and subscription below a group, in ARM's shape (subscriptions have the type '/subscriptions').
import { ArmError, badRequest } from './errors.ts';
import { sameType, MG_TYPE } from './arm-ids.ts';
import type { Body, Tenant } from './tenant.ts';

const PATH = /^\/providers\/Microsoft\.Management\/managementGroups\/([^/]+)\/descendants\/?$/i;
const PAGE_SIZE = 500;

export function isDescendantsPath(path: string): boolean {
  return PATH.test(path);
}

export function handleDescendants(t: Tenant, method: string, path: string, q: URLSearchParams, baseUrl: string): { status: number; body: unknown } {
  if (method !== 'GET') throw new ArmError(405, 'MethodNotAllowed', `${method} is not supported on '${path}'.`);
  const name = decodeURIComponent(PATH.exec(path)![1]);
  const mg = t.get(`/providers/${MG_TYPE}/${name}`);
  if (!mg || !sameType(mg.type, MG_TYPE)) throw new ArmError(404, 'ManagementGroupNotFound', `The management group '${name}' could not be found.`);
  const items: Body[] = [];
  const seen = new Set<string>();
  // Breadth first, so parents come before their children.
  const queue = [mg];
  while (queue.length) {
    const g = queue.shift()!;
    for (const s of t.childSubscriptions(g.id)) {
      items.push({ id: s.id, type: '/subscriptions', name: s.name, properties: { displayName: s.body.displayName, parent: { id: g.id } } });
    }
    for (const c of t.childGroups(g.id)) {
      if (seen.has(c.id)) continue;
      seen.add(c.id);
      items.push({ id: c.id, type: MG_TYPE, name: c.name, properties: { displayName: c.body.properties?.displayName ?? c.name, parent: { id: g.id } } });
      queue.push(c);
    }
  }
  const top = q.get('$top') ? Number(q.get('$top')) : PAGE_SIZE;
  if (!(Number.isInteger(top) && top > 0)) throw badRequest('InvalidQueryParameter', `$top '${q.get('$top')}' must be a positive integer.`);
  const skip = Number(q.get('$skiptoken') ?? 0) || 0;
  const end = Math.min(skip + Math.min(top, PAGE_SIZE), items.length);
  const body: Body = { value: items.slice(skip, end) };
  if (end < items.length) {
    const next = new URLSearchParams(q);
    next.set('$skiptoken', String(end));
    body.nextLink = `${baseUrl}${path}?${next}`;
  }
  return { status: 200, body };
}
