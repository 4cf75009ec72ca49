// One entity: what it is, who owns it, its spec, and its relations in both directions as links.
import { Fragment } from 'preact';
import { get, path } from '../api.ts';
import { EntityList, Loaded, Page, RefLink, When, ownerOf, ownerRef, useLoad } from '../ui.tsx';

import type { Relation, StoredEntity as Entity, Team } from '../api-types.ts';

function scalar(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/** Only http(s) links are rendered as links: catalog data is not trusted with javascript: URLs. */
function safeUrl(url: string): string | undefined {
  try {
    const u = new URL(url, location.href);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}


/** A team's people and everything it owns (/api/v1/teams/{name}: teams of the default namespace). */
function TeamSection(props: { name: string }) {
  const [load] = useLoad(() => get<Team>(path`/api/v1/teams/${props.name}`), [props.name]);
  return (
    <Loaded load={load}>
      {(t) => (
        <>
          <h2>Members</h2>
          <EntityList items={t.members} empty="No members in the catalog." />
          {t.claimedMembers?.length ? (
            <>
              <h2>Claimed members</h2>
              <p class="hint">These Users name the team in their own memberOf, but the team does not list them: they get none of its rights.</p>
              <EntityList items={t.claimedMembers} empty="" />
            </>
          ) : null}
          {t.children.length ? <><h2>Sub-teams</h2><EntityList items={t.children} empty="" /></> : null}
          <h2>Owns</h2>
          <EntityList items={t.owned} empty="This team owns nothing in the catalog." />
        </>
      )}
    </Loaded>
  );
}

export function EntityPage(props: { kind: string; namespace: string; name: string }) {
  const base = path`/api/v1/entities/${props.kind}/${props.namespace}/${props.name}`;
  const [load] = useLoad(
    () => Promise.all([get<Entity>(base), get<{ items: Relation[] }>(`${base}/relations`)]),
    [base],
  );
  const title = load.state === 'done' ? load.data[0].metadata.title ?? load.data[0].metadata.name : props.name;
  return (
    <Page title={title}>
      <Loaded load={load}>
        {([e, rels]) => {
          const owner = ownerOf(e);
          const spec = Object.entries(e.spec ?? {}).filter(([k]) => k !== 'owner');
          return (
            <>
              <p class="kind-line"><span class="kind">{e.kind}</span> in namespace <code>{e.metadata.namespace ?? 'default'}</code>{e.status?.orphaned ? <strong> · orphaned (its source no longer reports it)</strong> : null}</p>
              {e.metadata.description ? <p>{e.metadata.description}</p> : null}
              <dl class="facts">
                <dt>Owner</dt>
                <dd>{owner ? <RefLink target={ownerRef(owner)} label={owner} /> : 'nobody'}{e.status?.ownerSource ? <span class="note"> (from {e.status.ownerSource})</span> : null}</dd>
                {e.metadata.tags?.length ? <><dt>Tags</dt><dd>{e.metadata.tags.join(', ')}</dd></> : null}
                {e.status?.source?.name ? <><dt>Source</dt><dd>{e.status.source.name}{e.status.source.scope ? ` (${e.status.source.scope})` : ''}</dd></> : null}
                {e.status?.lastSeen ? <><dt>Last seen</dt><dd><When at={e.status.lastSeen} /></dd></> : null}
              </dl>
              {e.metadata.links?.length ? (
                <>
                  <h2>Links</h2>
                  <ul>{e.metadata.links.map((l) => {
                    const url = safeUrl(l.url);
                    return <li key={l.url}>{url ? <a href={url} rel="noopener noreferrer">{l.title ?? l.url}</a> : <span>{l.title ?? l.url}</span>}</li>;
                  })}</ul>
                </>
              ) : null}
              {e.kind === 'Team' && (e.metadata.namespace ?? 'default') === 'default' ? <TeamSection name={e.metadata.name} /> : null}
              <h2 id="relations-title">Relations</h2>
              {rels.items.length === 0 ? <p>No relations.</p> : (
                <table aria-labelledby="relations-title">
                  <thead><tr><th scope="col">Relation</th><th scope="col">Entity</th></tr></thead>
                  <tbody>
                    {rels.items.map((r) => (
                      <tr key={r.type + r.targetRef}>
                        <td>{r.type}</td>
                        <td><RefLink target={r.targetRef} resolved={r.resolved} /></td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              {spec.length ? (
                <>
                  <h2>Spec</h2>
                  <dl class="facts">
                    {spec.map(([k, v]) => (
                      <Fragment key={k}>
                        <dt>{k}</dt>
                        <dd>{scalar(v) ? String(v) : Array.isArray(v) && v.every(scalar) ? v.join(', ') : <pre>{JSON.stringify(v, null, 2)}</pre>}</dd>
                      </Fragment>
                    ))}
                  </dl>
                </>
              ) : null}
            </>
          );
        }}
      </Loaded>
    </Page>
  );
}
