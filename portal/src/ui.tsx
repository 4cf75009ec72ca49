// Small building blocks shared by the pages: loading data, showing problems, headings that take
// focus on navigation (so keyboard and screen-reader users land on the new page), entity links.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { refHref } from './router.ts';

export type Load<T> = { state: 'loading' } | { state: 'error'; error: Error } | { state: 'done'; data: T };

/** Runs `fn` whenever `deps` change; stale answers (after navigation) are dropped. */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[]): [Load<T>, () => void] {
  const [load, setLoad] = useState<Load<T>>({ state: 'loading' });
  const [nonce, setNonce] = useState(0);
  useEffect(() => {
    let live = true;
    setLoad({ state: 'loading' });
    fn().then(
      (data) => live && setLoad({ state: 'done', data }),
      (error: Error) => live && setLoad({ state: 'error', error }),
    );
    return () => { live = false; };
  }, [...deps, nonce]);
  return [load, () => setNonce((n) => n + 1)];
}

// The first page of a visit leaves focus where the browser put it (the top, with the skip link);
// every later page moves focus to its heading.
let visited = false;

export function Page(props: { title: string; children?: ComponentChildren }) {
  const h1 = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${props.title} · Nexus`;
    if (visited) h1.current?.focus();
    visited = true;
  }, [props.title]);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1} ref={h1}>{props.title}</h1>
      {props.children}
    </section>
  );
}

export function Problem(props: { error: Error | string }) {
  const message = typeof props.error === 'string' ? props.error : props.error.message;
  return <p class="problem" role="alert">{message}</p>;
}

export function Loading() {
  return <p class="loading" role="status">Loading…</p>;
}

/** Renders the loading and error states, and `children(data)` once loaded. */
export function Loaded<T>(props: { load: Load<T>; children: (data: T) => ComponentChildren }) {
  if (props.load.state === 'loading') return <Loading />;
  if (props.load.state === 'error') return <Problem error={props.load.error} />;
  return <>{props.children(props.load.data)}</>;
}

/** A link to an entity given its canonical ref (`service:default/payments`); plain text if it is not a ref. */
export function RefLink(props: { target: string; label?: string; resolved?: boolean }) {
  const to = refHref(props.target);
  const text = props.label ?? props.target;
  if (!to || props.resolved === false) {
    return <span class="ref-missing">{text}{props.resolved === false ? <span class="note"> (not in the catalog)</span> : null}</span>;
  }
  return <a href={to}>{text}</a>;
}

export interface EntitySummary {
  kind: string;
  metadata: { name: string; namespace?: string; title?: string; description?: string; tags?: string[] };
  spec?: Record<string, unknown>;
  status?: { owner?: string };
}

export function refOf(e: EntitySummary): string {
  return `${e.kind.toLowerCase()}:${(e.metadata.namespace ?? 'default').toLowerCase()}/${e.metadata.name.toLowerCase()}`;
}

/** An owner as written may leave out the kind: then it is a team (as the API reads it). */
export function ownerRef(owner: string): string {
  return owner.includes(':') ? owner : `team:${owner.includes('/') ? owner : `default/${owner}`}`;
}

export function ownerOf(e: EntitySummary): string | undefined {
  const o = e.status?.owner ?? e.spec?.owner;
  return typeof o === 'string' ? o : undefined;
}

/** One line per entity: link, kind, owner, description. */
export function EntityList(props: { items: EntitySummary[]; empty: string }) {
  if (props.items.length === 0) return <p>{props.empty}</p>;
  return (
    <ul class="entities">
      {props.items.map((e) => {
        const owner = ownerOf(e);
        return (
          <li key={refOf(e)}>
            <RefLink target={refOf(e)} label={e.metadata.title ?? e.metadata.name} /> <span class="kind">{e.kind}</span>
            {owner ? <span class="owner"> · owner <RefLink target={ownerRef(owner)} label={owner} /></span> : null}
            {e.metadata.description ? <div class="description">{e.metadata.description}</div> : null}
          </li>
        );
      })}
    </ul>
  );
}

export function When(props: { at?: string }) {
  if (!props.at) return <span>–</span>;
  const d = new Date(props.at);
  return <time dateTime={props.at}>{isNaN(d.getTime()) ? props.at : d.toLocaleString()}</time>;
}
