// The rules every write of an entity through the API passes, in one place: PUT and import (and
// anything later) call authoriseWrite, so a rule enforced on one path is enforced on all of them.
import { rightsFor, type Membership, type Principal, type Rights } from './auth.ts';
import { ProblemError } from './problem.ts';
import type { Entity } from '../catalog/kinds.ts';
import { userIdentityChanges } from '../catalog/service.ts';
import { entityRefOf } from '../catalog/refs.ts';

/** Annotations that claim something outside the catalog: only Admin and ingestion set them. */
export const CLAIM_ANNOTATIONS = ['github.com/project-slug'];

type Declared = ReadonlyArray<{ type: string; target?: string; targetRef?: string }>;

/** The resolved owner (status.owner: from spec.owner, CODEOWNERS, Azure tags or Entra), else spec.owner. */
export function ownerOf(entity: { spec?: Record<string, unknown>; status?: { owner?: string } } | undefined): string | undefined {
  const resolved = entity?.status?.owner;
  if (typeof resolved === 'string') return resolved;
  const owner = entity?.spec?.owner;
  return typeof owner === 'string' ? owner : undefined;
}

/**
 * A non-Admin's document keeps the claims the stored entity has, whatever it says: a
 * `github.com/project-slug` routes a repository's deployments to the entity, so a Developer's own
 * Service must not take them (GitHub ingestion sets it from the repository it read).
 */
export function keepClaims(doc: Record<string, unknown>, stored: Entity | undefined, principal: Principal): Record<string, unknown> {
  if (principal.roles.includes('Admin')) return doc;
  const metadata = (doc.metadata ?? {}) as { annotations?: Record<string, unknown> };
  const given = metadata.annotations && typeof metadata.annotations === 'object' ? metadata.annotations : undefined;
  const kept = stored?.metadata.annotations ?? {};
  if (!given && !CLAIM_ANNOTATIONS.some((a) => Object.hasOwn(kept, a))) return doc;
  const annotations: Record<string, unknown> = { ...given };
  for (const a of CLAIM_ANNOTATIONS) {
    if (Object.hasOwn(kept, a)) annotations[a] = kept[a];
    else delete annotations[a];
  }
  return { ...doc, metadata: { ...metadata, annotations } };
}

/**
 * A User's identity fields (memberOf, githubLogin, profile.email, Entra object id) decide whose
 * sign-in it is and what CODEOWNERS and e-mail owners resolve to: only Admin sets them through
 * the API (ingestion sets them from its sources). 403 naming the first field otherwise.
 */
export function checkUserIdentity(principal: Principal, before: Entity | undefined, next: Pick<Entity, 'kind' | 'metadata' | 'spec'>, where = 'body'): void {
  if (principal.roles.includes('Admin')) return;
  const changed = userIdentityChanges(before, next);
  if (!changed.length) return;
  const field = `${where}.${changed[0]}`;
  throw new ProblemError(403, `${field}: only Admin may set a User's identity fields (${changed.join(', ')}); they decide whose sign-in the User is`, { field });
}

/** Targets of the relations of `types` a document declares, lower-cased and sorted. */
function targets(declared: Declared | undefined, types: string[]): string[] {
  return [...new Set((declared ?? []).filter((d) => types.includes(d.type)).map((d) => String(d.target ?? d.targetRef).toLowerCase()))].sort();
}

/**
 * Teams and Users decide who someone is and what they may write (a Team's members and Entra group
 * grant rights over everything the Team owns): only Admin creates either through the API, only
 * Admin sets a Team's entraGroupId, and a Team's members change only with admin rights on the Team
 * entity (Admin, or TeamLead of its owner). Placing a Team in the hierarchy (spec.parent,
 * spec.children) writes onto the other Team too, so it needs admin rights on both ends.
 * `beforeDeclared` is the stored Team's declared relations.
 */
export function checkIdentityEntity(
  principal: Principal, before: Entity | undefined, beforeDeclared: Declared | undefined,
  next: Entity, rightsOnBefore: Rights | undefined, rightsOn: (key: string) => Rights, where = 'body',
): void {
  if (principal.roles.includes('Admin')) return;
  const ref = entityRefOf(next);
  if (!before && (next.kind === 'Team' || next.kind === 'User')) {
    throw new ProblemError(403, `${where}.kind: only Admin may create a ${next.kind} (${ref}); Teams and Users decide who may write what they own`, { field: `${where}.kind` });
  }
  if (next.kind !== 'Team' && before?.kind !== 'Team') return;
  const group = (e: Entity | undefined) => (typeof e?.spec.entraGroupId === 'string' ? e.spec.entraGroupId.trim().toLowerCase() : '');
  if (group(before) !== group(next)) {
    throw new ProblemError(403, `${where}.spec.entraGroupId: only Admin may set a Team's Entra group (${ref}); its members get the Team's rights`, { field: `${where}.spec.entraGroupId` });
  }
  const same = (a: string[], b: string[]) => a.join('\n') === b.join('\n');
  if (!same(targets(beforeDeclared, ['hasMember']), targets(next.relations, ['hasMember'])) && !rightsOnBefore?.admin) {
    throw new ProblemError(403, `${where}.spec.members: changing the members of ${ref} needs Admin, or TeamLead of its owner`, { field: `${where}.spec.members` });
  }
  const hierarchy = ['childOf', 'parentOf'];
  const was = targets(beforeDeclared, hierarchy), now = targets(next.relations, hierarchy);
  if (same(was, now)) return;
  if (!rightsOnBefore?.admin) {
    throw new ProblemError(403, `${where}.spec.parent: moving ${ref} in the team hierarchy needs Admin, or TeamLead of its owner`, { field: `${where}.spec.parent` });
  }
  for (const other of [...was.filter((t) => !now.includes(t)), ...now.filter((t) => !was.includes(t))]) {
    if (!rightsOn(other).admin) {
      throw new ProblemError(403, `${where}.spec.parent: linking ${ref} to ${other} writes onto ${other} too, and needs Admin, or TeamLead of its owner`, { field: `${where}.spec.parent` });
    }
  }
}

export interface WriteCheck {
  principal: Principal;
  me: Membership;
  /** The stored entity the write is authorised against (undefined: it does not exist). */
  existing: Entity | undefined;
  /** Its declared relations as stored. */
  existingDeclared: ReadonlyArray<{ type: string; target: string }> | undefined;
  /** The entity as it will be written (validated, relations resolved). */
  candidate: Entity;
  /** Any other entity, as this instance knows it (for rights on the far end of a relation). */
  lookup: (key: string) => Entity | undefined;
  /** Where the document came from, for the field names of problems: `body`, or an import's file. */
  where?: string;
}

/**
 * Everything a principal must be allowed for one write: identity fields, Teams and their members
 * and hierarchy, write rights on the entity as it is and as it will be, and admin rights to hand it
 * to another owner. Throws a 403 ProblemError naming the field.
 */
export function authoriseWrite(w: WriteCheck): void {
  const { principal, me, existing, candidate } = w;
  const where = w.where ?? 'body';
  const ref = entityRefOf(candidate);
  const rightsOnOwner = (owner: string | undefined) => rightsFor(principal, owner, me);
  const rightsOn = (key: string) => rightsOnOwner(ownerOf(w.lookup(key)));
  checkUserIdentity(principal, existing, candidate, where);
  const existingRights = existing ? rightsOnOwner(ownerOf(existing)) : undefined;
  checkIdentityEntity(principal, existing, existing ? w.existingDeclared ?? [] : undefined, candidate, existingRights, rightsOn, where);
  if (existing) {
    if (!existingRights!.write) throw new ProblemError(403, `${principal.name} may not change ${ref} (owned by ${ownerOf(existing) ?? 'nobody'})`, { field: where });
    if (ownerOf(existing) !== ownerOf(candidate) && !existingRights!.admin) {
      throw new ProblemError(403, `changing the owner of ${ref} needs admin rights on it`, { field: `${where}.spec.owner` });
    }
  }
  if (!rightsOnOwner(ownerOf(candidate)).write) {
    throw new ProblemError(403, `${principal.name} may only write entities owned by themselves or their teams (${ref}: owner is ${ownerOf(candidate) ?? 'missing'})`, { field: `${where}.spec.owner` });
  }
}
