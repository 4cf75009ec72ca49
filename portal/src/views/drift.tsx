// A stack's drift report (its latest, or the one made in a run): counts per kind, each drifted
// resource with its kind, action, signals, who changed it and when, and the json-diff of desired ->
// live; then the noise the rules removed, counted per rule. Every value is rendered as text.
import { driftReport } from '../api.ts';
import { href } from '../router.ts';
import { Loaded, Page, When, useLoad } from '../ui.tsx';
import type { DriftItem, DriftReport } from '../api-types.ts';

type Change = DriftItem['changes'][number];

/** A desired or live value: JSON, and "absent" when the body has no such property. */
const shown = (v: unknown): string => (v === undefined ? '(absent)' : JSON.stringify(v) ?? String(v));

/** Only web links become links: a report's URL is data, and `javascript:` must stay text. */
const webLink = (url: string): string | undefined => (/^https?:\/\//i.test(url) ? url : undefined);

function Who(props: { change?: Change }) {
  const c = props.change;
  if (!c) return <span>–</span>;
  return <span>{c.changedBy} <span class="note">({c.actor}{c.clientType ? `, ${c.clientType}` : ''})</span> at <When at={c.at} /></span>;
}

function Item(props: { item: DriftItem; n: number }) {
  const i = props.item;
  const id = `drift-item-${props.n}`;
  return (
    <article class="drift-item" aria-labelledby={id}>
      <h3 id={id}><code>{i.resourceId}</code></h3>
      <dl class="facts">
        <dt>Kind</dt><dd><span class={`drift-kind ${i.kind}`}>{i.kind}</span></dd>
        <dt>Action</dt><dd>{i.action}</dd>
        <dt>Type</dt><dd>{i.resourceType}</dd>
        <dt>Signals</dt><dd>{i.signals.join(', ') || '–'}</dd>
        <dt>Why</dt><dd>{i.why}</dd>
        {i.policyAssignmentId ? <><dt>Policy assignment</dt><dd><code>{i.policyAssignmentId}</code></dd></> : null}
        <dt>Last change</dt><dd><Who change={i.changes[0]} /></dd>
      </dl>
      {i.properties.length ? (
        <table>
          <caption>Properties of {i.resourceId}</caption>
          <thead><tr><th scope="col">Property</th><th scope="col">Desired</th><th scope="col">Live</th><th scope="col">Changed by</th></tr></thead>
          <tbody>
            {i.properties.map((p) => (
              <tr key={p.path}>
                <th scope="row"><code>{p.path}</code></th>
                <td><code>{shown(p.desired)}</code></td>
                <td><code>{shown(p.live)}</code></td>
                <td><Who change={p.changedBy} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {i.diffText ? <pre class="diff" aria-label={`Difference of ${i.resourceId}, desired to live`}>{i.diffText}</pre> : null}
      {i.changes.length > 1 ? (
        <details>
          <summary>Every change since the last apply ({i.changes.length})</summary>
          <ul>{i.changes.map((c, k) => <li key={k}><Who change={c} />{c.operation ? <span class="note"> · {c.operation}</span> : null}</li>)}</ul>
        </details>
      ) : null}
    </article>
  );
}

export function Report(props: { r: DriftReport }) {
  const r = props.r;
  const kinds = Object.entries(r.counts).filter(([, n]) => (n ?? 0) > 0);
  const suppressed = r.suppressed.reduce((n, s) => n + s.count, 0);
  const pr = r.pullRequest;
  return (
    <>
      <dl class="facts">
        <dt>Made</dt><dd><When at={r.at} /></dd>
        <dt>Run</dt><dd>{r.runId ? <a href={href.run(r.runId)}>{r.runId}</a> : 'none (made outside a run)'}</dd>
        <dt>Mode</dt><dd>{r.mode}</dd>
        {pr ? <><dt>Pull request</dt><dd>{webLink(pr.url) ? <a href={webLink(pr.url)}>#{pr.number}</a> : `#${pr.number}`} ({pr.state})</dd></> : null}
      </dl>
      {r.unavailable.length ? (
        <div class="problem" role="status">
          <p>Signals not read, so this report may miss drift:</p>
          <ul>{r.unavailable.map((u) => <li key={u.signal}>{u.signal}: {u.error}</li>)}</ul>
        </div>
      ) : null}
      <h2>Drift per kind</h2>
      {kinds.length === 0 ? <p>No drift.</p> : (
        <table>
          <caption>Drifted resources per kind</caption>
          <thead><tr><th scope="col">Kind</th><th scope="col">Resources</th></tr></thead>
          <tbody>{kinds.map(([k, n]) => <tr key={k}><th scope="row">{k}</th><td>{n}</td></tr>)}</tbody>
        </table>
      )}
      {r.items.length ? (
        <>
          <h2>Drifted resources</h2>
          {r.items.map((item, n) => <Item key={`${n}:${item.resourceId}`} item={item} n={n} />)}
        </>
      ) : null}
      <h2>Suppressed noise</h2>
      {r.suppressed.length === 0 ? <p>No difference was suppressed.</p> : (
        <table>
          <caption>Differences suppressed per rule ({suppressed} in all)</caption>
          <thead><tr><th scope="col">Rule</th><th scope="col">Differences</th><th scope="col">Examples</th></tr></thead>
          <tbody>
            {r.suppressed.map((s) => (
              <tr key={s.rule}><th scope="row">{s.rule}</th><td>{s.count}</td><td>{s.examples.join(', ') || '–'}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export function DriftPage(props: { stack: string; run?: string }) {
  const [load] = useLoad(() => driftReport(props.stack, props.run), [props.stack, props.run]);
  return (
    <Page title={props.run ? `Drift of run ${props.run}` : `Drift of ${props.stack}`}>
      <p>
        <a href={href.stack(props.stack)}>Stack {props.stack}</a>
        {props.run ? <> · <a href={href.drift(props.stack)}>Latest drift report</a></> : null}
      </p>
      <Loaded load={load}>{(r) => <Report r={r} />}</Loaded>
    </Page>
  );
}
