// Policy compliance per management group and subscription (Policy Insights' latest states): the
// resources per state of each scope, compliant and non-compliant counts per assignment, and the
// resources breaking the most assignments.
import { complianceView } from '../api.ts';
import { href } from '../router.ts';
import { Loaded, Page, When, useLoad } from '../ui.tsx';
import type { ComplianceView, ScopeCompliance } from '../api-types.ts';

const kindName = (k: ScopeCompliance['kind']) => (k === 'managementGroup' ? 'management group' : 'subscription');

function Scope(props: { s: ScopeCompliance; n: number }) {
  const s = props.s;
  const id = `scope-${props.n}`;
  return (
    <section class="scope" aria-labelledby={id}>
      <h2 id={id}>{s.name} <span class="kind">{kindName(s.kind)}</span></h2>
      <p><code>{s.scope}</code></p>
      {s.assignments.length === 0 ? <p>No compliance states reported for this scope yet (Azure Policy evaluates new assignments within about 30 minutes).</p> : (
        <table>
          <caption>Assignments at {s.name}</caption>
          <thead><tr><th scope="col">Assignment</th><th scope="col">Compliant</th><th scope="col">Non-compliant</th><th scope="col">Exempt</th><th scope="col">Other</th></tr></thead>
          <tbody>
            {s.assignments.map((a) => (
              <tr key={a.policyAssignmentId}>
                <th scope="row" title={a.policyAssignmentId}>{a.name}</th>
                <td>{a.compliant}</td><td>{a.nonCompliant}</td><td>{a.exempt}</td><td>{a.other}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {s.worstOffenders.length === 0 ? <p>No resource breaks an assignment here.</p> : (
        <table>
          <caption>Worst offenders at {s.name}</caption>
          <thead><tr><th scope="col">Resource</th><th scope="col">Assignments broken</th><th scope="col">Which</th></tr></thead>
          <tbody>
            {s.worstOffenders.map((o) => (
              <tr key={o.resourceId}>
                <th scope="row"><code>{o.resourceId}</code></th>
                <td>{o.nonCompliant}</td>
                <td>{o.assignments.map((a) => a.split('/').filter(Boolean).pop() ?? a).join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function View(props: { view: ComplianceView }) {
  const v = props.view;
  return (
    <>
      <p>Policy Insights' states as of <When at={v.at} />.</p>
      {v.unavailable?.length ? (
        <div class="problem" role="status">
          <p>Scopes not read:</p>
          <ul>{v.unavailable.map((u) => <li key={u.scope}>{u.scope}: {u.error}</li>)}</ul>
        </div>
      ) : null}
      {v.scopes.length === 0 ? <p>No management group or subscription to show.</p> : (
        <>
          <table>
            <caption>Resources per scope</caption>
            <thead><tr><th scope="col">Scope</th><th scope="col">Kind</th><th scope="col">Compliant</th><th scope="col">Non-compliant</th><th scope="col">Exempt</th><th scope="col">Total</th></tr></thead>
            <tbody>
              {v.scopes.map((s) => (
                <tr key={s.scope}>
                  <th scope="row"><a href={href.compliance(s.scope)}>{s.name}</a></th>
                  <td>{kindName(s.kind)}</td>
                  <td>{s.resources.compliant}</td><td>{s.resources.nonCompliant}</td><td>{s.resources.exempt}</td><td>{s.resources.total}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {v.scopes.map((s, n) => <Scope key={s.scope} s={s} n={n} />)}
        </>
      )}
    </>
  );
}

export function CompliancePage(props: { scope?: string }) {
  const [load] = useLoad(() => complianceView(props.scope), [props.scope]);
  return (
    <Page title="Compliance">
      {props.scope ? <p>Only <code>{props.scope}</code>. <a href={href.compliance()}>Every scope</a></p> : null}
      <Loaded load={load}>{(view) => <View view={view} />}</Loaded>
    </Page>
  );
}
