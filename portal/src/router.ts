// Hash routes (#/entity/service/default/payments): the server serves one page at `/`, and links
// keep working when the API sits behind any path prefix.
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'search'; q: string; kind?: string }
  | { page: 'browse'; kind: string }
  | { page: 'entity'; kind: string; namespace: string; name: string }
  | { page: 'me' }
  | { page: 'stacks' }
  | { page: 'stack'; stack: string }
  | { page: 'run'; id: string }
  | { page: 'drift'; stack: string; run?: string }
  | { page: 'compliance'; scope?: string }
  | { page: 'approvals'; status: string }
  | { page: 'not-found'; hash: string };

export function parseHash(hash: string): Route {
  const [pathPart, queryPart = ''] = hash.replace(/^#/, '').split('?');
  const parts = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
  const query = new URLSearchParams(queryPart);
  switch (parts[0]) {
    case undefined:
    case 'search':
      return { page: 'search', q: query.get('q') ?? '', kind: query.get('kind') ?? undefined };
    case 'browse':
      if (parts[1]) return { page: 'browse', kind: parts[1] };
      break;
    case 'entity':
      if (parts.length === 4) return { page: 'entity', kind: parts[1], namespace: parts[2], name: parts[3] };
      break;
    case 'me':
      return { page: 'me' };
    case 'stacks':
      if (parts.length === 1) return { page: 'stacks' };
      if (parts.length === 2) return { page: 'stack', stack: parts[1] };
      // The latest drift report of the stack, or the one of a run (?run=).
      if (parts.length === 3 && parts[2] === 'drift') return { page: 'drift', stack: parts[1], run: query.get('run') || undefined };
      break;
    case 'compliance':
      return { page: 'compliance', scope: query.get('scope') || undefined };
    case 'runs':
      if (parts[1]) return { page: 'run', id: parts[1] };
      break;
    case 'approvals':
      return { page: 'approvals', status: query.get('status') ?? 'pending' };
  }
  return { page: 'not-found', hash };
}

const enc = encodeURIComponent;

export const href = {
  search: (q: string, kind?: string) => `#/search?${new URLSearchParams({ q, ...(kind ? { kind } : {}) })}`,
  browse: (kind: string) => `#/browse/${enc(kind)}`,
  entity: (kind: string, namespace: string, name: string) => `#/entity/${enc(kind.toLowerCase())}/${enc(namespace)}/${enc(name)}`,
  me: () => '#/me',
  stacks: () => '#/stacks',
  stack: (stack: string) => `#/stacks/${enc(stack)}`,
  run: (id: string) => `#/runs/${enc(id)}`,
  drift: (stack: string, run?: string) => `#/stacks/${enc(stack)}/drift${run ? `?${new URLSearchParams({ run })}` : ''}`,
  compliance: (scope?: string) => (scope ? `#/compliance?${new URLSearchParams({ scope })}` : '#/compliance'),
  approvals: (status = 'pending') => (status === 'pending' ? '#/approvals' : `#/approvals?status=${enc(status)}`),
};

/** `service:default/payments` (the catalog's canonical ref) → the entity page's link. */
export function refHref(ref: string): string | undefined {
  const m = /^([^:]+):([^/]+)\/(.+)$/.exec(ref);
  return m ? href.entity(m[1], m[2], m[3]) : undefined;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
