// The Nexus portal: sign-in, then one page per hash route. Everything it shows comes from the
// authenticated API; the page itself holds no data.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { whenUnauthorized } from './api.ts';
import { href, useRoute, type Route } from './router.ts';
import { clearToken, getToken } from './session.ts';
import { Page } from './ui.tsx';
import { Approvals } from './views/approvals.tsx';
import { Browse } from './views/browse.tsx';
import { Dashboard } from './views/dashboard.tsx';
import { EntityPage } from './views/entity.tsx';
import { Search } from './views/search.tsx';
import { SignIn, type PortalConfig } from './views/sign-in.tsx';
import { RunPage, StackRuns, Stacks } from './views/stacks.tsx';
import { DriftPage } from './views/drift.tsx';
import { CompliancePage } from './views/compliance.tsx';

function View(props: { route: Route }) {
  const r = props.route;
  switch (r.page) {
    case 'search': return <Search q={r.q} kind={r.kind} />;
    case 'browse': return <Browse kind={r.kind} />;
    case 'entity': return <EntityPage kind={r.kind} namespace={r.namespace} name={r.name} />;
    case 'me': return <Dashboard />;
    case 'stacks': return <Stacks />;
    case 'stack': return <StackRuns stack={r.stack} />;
    case 'run': return <RunPage id={r.id} />;
    case 'drift': return <DriftPage stack={r.stack} run={r.run} />;
    case 'compliance': return <CompliancePage scope={r.scope} />;
    case 'approvals': return <Approvals status={r.status} />;
    case 'not-found': return <Page title="Page not found"><p>Nothing lives at <code>{r.hash}</code>. <a href={href.search('')}>Search the catalog</a>.</p></Page>;
  }
}

function Nav(props: { route: Route; onSignOut: () => void }) {
  const current = (pages: Route['page'][]) => (pages.includes(props.route.page) ? 'page' : undefined);
  return (
    <nav aria-label="Main">
      <ul>
        <li><a href="#/search" aria-current={current(['search', 'browse', 'entity'])}>Catalog</a></li>
        <li><a href={href.me()} aria-current={current(['me'])}>My dashboard</a></li>
        <li><a href={href.stacks()} aria-current={current(['stacks', 'stack', 'run', 'drift'])}>Stacks and runs</a></li>
        <li><a href={href.compliance()} aria-current={current(['compliance'])}>Compliance</a></li>
        <li><a href={href.approvals()} aria-current={current(['approvals'])}>Approvals</a></li>
        <li><button type="button" class="link" onClick={props.onSignOut}>Sign out</button></li>
      </ul>
    </nav>
  );
}

function App() {
  const route = useRoute();
  const [signedIn, setSignedIn] = useState(() => !!getToken());
  const [notice, setNotice] = useState<string | undefined>();
  const [config, setConfig] = useState<PortalConfig | undefined>();
  useEffect(() => {
    fetch('/portal/config.json').then((r) => (r.ok ? r.json() : undefined)).then(setConfig, () => undefined);
    whenUnauthorized((message) => {
      setNotice(`Please sign in again: ${message}`);
      setSignedIn(false);
    });
  }, []);

  return (
    <>
      {/* Not a hash link: the hash is the router's. */}
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
      <header>
        <a class="brand" href="#/search">Nexus</a>
        {signedIn ? <Nav route={route} onSignOut={() => { clearToken(); setNotice(undefined); setSignedIn(false); }} /> : null}
      </header>
      <main id="main" tabIndex={-1}>
        {signedIn ? <View route={route} /> : <SignIn config={config} notice={notice} onSignedIn={() => { setNotice(undefined); setSignedIn(true); }} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
