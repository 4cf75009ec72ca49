// Who is who: Users by e-mail, GitHub login and Entra object id, and Teams by Entra group. An
// identity names one User: the one created first keeps it, so a User written later (say, from a
// pushed catalog-info.yaml) cannot take over someone's identity.
import type { Entity } from '../kinds.ts';
import type { Indexed } from './types.ts';

/** Annotations that carry a User's Entra object id (Backstage's Microsoft Graph provider writes the first). */
export const OID_ANNOTATIONS = ['graph.microsoft.com/user-id', 'nexus.io/entra-object-id'];

/** The fields of a User that say who it is: e-mails, GitHub logins and Entra object ids, lower case. */
export function userIdentity(e: Pick<Entity, 'spec' | 'metadata'>): { emails: string[]; logins: string[]; oids: string[] } {
  const str = (v: unknown) => (typeof v === 'string' && v.trim() ? [v.trim().toLowerCase()] : []);
  const profile = e.spec.profile as { email?: unknown } | undefined;
  const ann = e.metadata.annotations ?? {};
  return {
    emails: str(profile?.email),
    logins: str(e.spec.githubLogin),
    oids: [...new Set([...str(e.spec.entraObjectId), ...OID_ANNOTATIONS.flatMap((a) => str(ann[a]))])],
  };
}

/** What the identity index reads of the rest of the index. */
export interface IdentitySource {
  get(key: string): Indexed | undefined;
  /** Keys of every User. */
  users(): Iterable<string>;
}

/** Which of two Users holds an identity both claim: the one created first, then the lower key. */
export function claimsFirst(a: Indexed, b: Indexed): boolean {
  const ca = a.entity.status?.createdAt ?? '', cb = b.entity.status?.createdAt ?? '';
  return ca !== cb ? ca < cb : a.key < b.key;
}

export class IdentityIndex {
  private readonly byEmail = new Map<string, string>();
  private readonly byLogin = new Map<string, string>();
  private readonly byOid = new Map<string, string>();
  private readonly teamsByEntra = new Map<string, Set<string>>();
  private readonly maps: Array<[Map<string, string>, (e: Entity) => string[]]> = [
    [this.byEmail, (e) => userIdentity(e).emails],
    [this.byLogin, (e) => userIdentity(e).logins],
    [this.byOid, (e) => userIdentity(e).oids],
  ];

  constructor(private readonly source: IdentitySource) {}

  userByEmail(email: string): string | undefined {
    return this.byEmail.get(email.toLowerCase());
  }

  userByLogin(login: string): string | undefined {
    return this.byLogin.get(login.toLowerCase());
  }

  userByOid(oid: string): string | undefined {
    return this.byOid.get(oid.toLowerCase());
  }

  /** The User an actor names by object id, login or e-mail (in that order). */
  userOfActor(actorLower: string): string | undefined {
    return this.byOid.get(actorLower) ?? this.byLogin.get(actorLower) ?? this.byEmail.get(actorLower);
  }

  teamsByEntraGroups(groupIds: string[]): string[] {
    const out = new Set<string>();
    for (const g of groupIds) for (const t of this.teamsByEntra.get(g.toLowerCase()) ?? []) out.add(t);
    return [...out];
  }

  /** Call after the item is in the source. */
  add(item: Indexed): void {
    const e = item.entity;
    if (e.kind === 'User') this.claim(item);
    if (e.kind === 'Team' && typeof e.spec.entraGroupId === 'string') {
      const g = e.spec.entraGroupId.toLowerCase();
      let s = this.teamsByEntra.get(g);
      if (!s) this.teamsByEntra.set(g, (s = new Set()));
      s.add(item.key);
    }
  }

  /** Call while the item is still in the source. */
  remove(item: Indexed): void {
    const e = item.entity;
    if (e.kind === 'User') this.release(item);
    if (e.kind === 'Team' && typeof e.spec.entraGroupId === 'string') {
      const g = e.spec.entraGroupId.toLowerCase();
      const s = this.teamsByEntra.get(g);
      if (s) { s.delete(item.key); if (!s.size) this.teamsByEntra.delete(g); }
    }
  }

  private claim(item: Indexed): void {
    for (const [map, values] of this.maps) {
      for (const v of values(item.entity)) {
        const holder = map.get(v);
        const other = holder && holder !== item.key ? this.source.get(holder) : undefined;
        if (!other || claimsFirst(item, other)) map.set(v, item.key);
      }
    }
  }

  /** Gives up the item's claims; another User with the same value (the oldest) takes it over. */
  private release(item: Indexed): void {
    for (const [map, values] of this.maps) {
      for (const v of values(item.entity)) {
        if (map.get(v) !== item.key) continue;
        map.delete(v);
        let next: Indexed | undefined;
        for (const k of this.source.users()) {
          const u = k === item.key ? undefined : this.source.get(k);
          if (u && values(u.entity).includes(v) && (!next || claimsFirst(u, next))) next = u;
        }
        if (next) map.set(v, next.key);
      }
    }
  }
}
