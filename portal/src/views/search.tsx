// One search box across the catalog, with the result's facets by kind as filters.
import { useEffect, useState } from 'preact/hooks';
import { get } from '../api.ts';
import { href } from '../router.ts';
import { BrowseKinds } from './browse.tsx';
import { EntityList, Loaded, Page, useLoad } from '../ui.tsx';

import type { SearchResult } from '../api-types.ts';

export function Search(props: { q: string; kind?: string }) {
  const [text, setText] = useState(props.q);
  useEffect(() => setText(props.q), [props.q]);
  const [load] = useLoad<SearchResult | undefined>(
    () => (props.q ? get<SearchResult>(`/api/v1/search?${new URLSearchParams({ q: props.q, limit: '50', ...(props.kind ? { kind: props.kind } : {}) })}`) : Promise.resolve(undefined)),
    [props.q, props.kind],
  );

  function submit(e: Event) {
    e.preventDefault();
    const q = text.trim();
    if (q) location.hash = href.search(q, props.kind);
  }

  return (
    <Page title={props.q ? `Search: ${props.q}` : 'Search the catalog'}>
      <form role="search" onSubmit={submit} class="search">
        <label for="q">Search services, repositories, pipelines, teams and Azure resources</label>
        <div class="row">
          <input id="q" name="q" type="search" value={text} required maxLength={200}
            onInput={(e) => setText((e.target as HTMLInputElement).value)} aria-describedby="q-help" />
          <button type="submit">Search</button>
        </div>
        <p id="q-help" class="note">Words match names, titles, descriptions and tags; <code>kind:service</code>, <code>owner:payments</code> and <code>tag:java</code> filter.</p>
      </form>
      {props.q ? (
        <Loaded load={load}>
          {(r) => r && (
            <div class="results">
              <nav aria-label="Filter by kind" class="facets">
                <h2>Kinds</h2>
                <ul>
                  <li><a href={href.search(props.q)} aria-current={props.kind ? undefined : 'true'}>All kinds</a></li>
                  {Object.entries(r.facets.kind ?? {}).sort((a, b) => b[1] - a[1]).map(([kind, n]) => (
                    <li key={kind}>
                      <a href={href.search(props.q, kind)} aria-current={props.kind?.toLowerCase() === kind.toLowerCase() ? 'true' : undefined}>
                        {kind} <span class="count">({n})</span>
                      </a>
                    </li>
                  ))}
                </ul>
              </nav>
              <div class="hits">
                <h2 id="hits-title">{r.total ?? r.items.length} {(r.total ?? r.items.length) === 1 ? 'match' : 'matches'}{props.kind ? ` of kind ${props.kind}` : ''}</h2>
                <EntityList items={r.items.map((h) => h.entity)} empty="Nothing matches. Try fewer or other words." />
              </div>
            </div>
          )}
        </Loaded>
      ) : <BrowseKinds />}
    </Page>
  );
}
