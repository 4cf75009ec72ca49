// "My dashboard": the signed-in user's teams, what they own, their environments, recent runs and
// open pull requests, from /api/v1/me.
import { get } from '../api.ts';
import { href } from '../router.ts';
import { EntityList, Loaded, Page, RefLink, When, useLoad } from '../ui.tsx';
import type { Me } from '../api-types.ts';

export type { Me } from '../api-types.ts';

export function Dashboard() {
  const [load] = useLoad(() => get<Me>('/api/v1/me'), []);
  return (
    <Page title="My dashboard">
      <Loaded load={load}>
        {(me) => (
          <>
            <p>
              Signed in as <strong>{me.principal.name}</strong>{me.principal.email ? ` (${me.principal.email})` : ''}
              {' '}with the roles {me.principal.roles.join(', ') || 'none'}.
              {me.user ? <> Your catalog entry: <RefLink target={`user:${me.user.metadata.namespace ?? 'default'}/${me.user.metadata.name}`} label={me.user.metadata.name} />.</> : null}
            </p>
            <h2>My teams</h2>
            <EntityList items={me.teams} empty="You belong to no team in the catalog (teams come from Entra groups, User entities or team members)." />
            <h2>What I own</h2>
            <EntityList items={me.owned} empty="You and your teams own nothing in the catalog yet." />
            <h2>My environments</h2>
            <EntityList items={me.environments} empty="None of what you own is deployed to a known environment." />
            <h2>Recent runs</h2>
            {me.recentRuns.length === 0 ? <p>No recent runs of your stacks. <a href={href.stacks()}>All stacks</a></p> : (
              <ul>
                {me.recentRuns.map((r, i) => (
                  <li key={r.id ?? i}>
                    {r.id ? <a href={href.run(r.id)}>{r.stack ?? r.id}</a> : r.stack}{' '}
                    <span class={`decision ${r.decision ?? ''}`}>{r.decision ?? r.status ?? ''}</span>{' '}
                    <When at={r.timings?.startedAt} />
                  </li>
                ))}
              </ul>
            )}
            <h2>Open pull requests</h2>
            {me.openPullRequests.length === 0 ? <p>No open pull requests.</p> : (
              <ul>
                {me.openPullRequests.map((pr, i) => (
                  <li key={i}>
                    {pr.repository ? <RefLink target={pr.repository} /> : null} #{pr.number ?? '?'} {pr.title ?? ''}
                    {pr.author ? <span class="note"> by {pr.author}</span> : null}
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </Loaded>
    </Page>
  );
}
