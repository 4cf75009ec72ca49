// Git hosts name people by account (a GitHub login, an ADO unique name) and Git by author e-mail;
// Nexus knows them as catalog Users. This port finds the User behind either, with the groups that
// count for approvals, so reviewers can approve and commit authors can be kept from approving.
import type { CatalogService } from '../catalog/service.ts';
import type { Entity } from '../catalog/kinds.ts';
import { identities } from '../reconcile/gates/approvals.ts';

export interface CatalogUser {
  /** The User's entity ref, e.g. `user:default/mona`. */
  ref: string;
  /** Display name (spec.profile.displayName), else the entity name. */
  name: string;
  email?: string;
  githubLogin?: string;
  /**
   * Names of the Teams that list this User as a member (spec.members), as approval rules name
   * groups (`platform`). A User's own `memberOf` is not enough: anyone who may write the User
   * could claim any team (the catalog's rule for rights, MemoryIndex.teamsOfUser).
   */
  groups: string[];
}

export interface UserDirectory {
  byLogin(login: string): CatalogUser | undefined;
  byEmail(email: string): CatalogUser | undefined;
}

/** Users from the catalog's in-memory index (kept current by the catalog's own refresh). */
export function catalogUsers(catalog: Pick<CatalogService, 'index'>): UserDirectory {
  const index = catalog.index;
  const toUser = (key: string | undefined): CatalogUser | undefined => {
    const e: Entity | undefined = key ? index.entity(key) : undefined;
    if (!key || e?.kind !== 'User') return undefined;
    const profile = (e.spec.profile ?? {}) as { displayName?: unknown; email?: unknown };
    const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
    const groups = index.teamsOfUser(key).map((t) => index.entity(t)?.metadata.name).filter((n): n is string => !!n);
    return {
      ref: key, name: str(profile.displayName) ?? e.metadata.name, email: str(profile.email), githubLogin: str(e.spec.githubLogin),
      groups: [...new Set(groups)].sort(),
    };
  };
  return {
    byLogin: (login) => (login.trim() ? toUser(index.userByLogin(login.trim())) : undefined),
    byEmail: (email) => (email.trim() ? toUser(index.userByEmail(email.trim())) : undefined),
  };
}

/** The lower-cased identities of a User (name, e-mail and its local part, login), as the two-person rule compares them. */
export function identitiesOf(user: Pick<CatalogUser, 'name' | 'email' | 'githubLogin'>): string[] {
  return identities(user.name, user.email, user.githubLogin);
}
