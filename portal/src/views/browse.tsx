// Browsing one kind of entity, in name order, a page at a time (/api/v1/entities?kind=).
import { useState } from 'preact/hooks';
import { get } from '../api.ts';
import { href } from '../router.ts';
import { EntityList, Loaded, Page, Problem, useLoad } from '../ui.tsx';

/** The catalog's kinds (functions/catalog/kinds.ts KINDS), copied: the bundle does not carry the schemas. */
export const KINDS = [
  'Service', 'Repository', 'Pipeline', 'AzureResource', 'Environment', 'Team', 'API', 'Package',
  'Incident', 'WorkItem', 'User', 'System', 'Domain', 'Stack', 'AiResource', 'Template',
];

import type { EntityPage } from '../api-types.ts';

export function BrowseKinds() {
  return (
    <nav aria-labelledby="browse-title">
      <h2 id="browse-title">Browse by kind</h2>
      <ul class="kinds">
        {KINDS.map((k) => <li key={k}><a href={href.browse(k)}>{k}</a></li>)}
      </ul>
    </nav>
  );
}

export function Browse(props: { kind: string }) {
  const [more, setMore] = useState<{ pages: EntityPage[]; busy: boolean; error?: Error }>({ pages: [], busy: false });
  const base = `/api/v1/entities?${new URLSearchParams({ kind: props.kind, limit: '50' })}`;
  const [load] = useLoad(async () => {
    setMore({ pages: [], busy: false });
    return get<EntityPage>(base);
  }, [base]);

  async function next(cursor: string) {
    setMore((m) => ({ ...m, busy: true, error: undefined }));
    try {
      const page = await get<EntityPage>(`${base}&cursor=${encodeURIComponent(cursor)}`);
      setMore((m) => ({ pages: [...m.pages, page], busy: false }));
    } catch (error) {
      setMore((m) => ({ ...m, busy: false, error: error as Error }));
    }
  }

  return (
    <Page title={`Every ${props.kind}`}>
      <p><a href={href.search('')}>Search the catalog</a></p>
      <Loaded load={load}>
        {(first) => {
          const pages = [first, ...more.pages];
          const cursor = pages[pages.length - 1].cursor;
          return (
            <>
              <EntityList items={pages.flatMap((p) => p.items)} empty={`The catalog has no ${props.kind} yet.`} />
              {cursor ? <button type="button" disabled={more.busy} onClick={() => next(cursor)}>{more.busy ? 'Loading…' : 'More'}</button> : null}
              {more.error ? <Problem error={more.error} /> : null}
            </>
          );
        }}
      </Loaded>
    </Page>
  );
}
