// Approval requests with Approve and Reject. The buttons are shown to everyone signed in: the API
// decides who may vote (role, approver group, never the commit's author) and its refusal is shown.
import { useState } from 'preact/hooks';
import { get, path, post } from '../api.ts';
import { href } from '../router.ts';
import { Loaded, Page, Problem, When, useLoad } from '../ui.tsx';

import type { Approval, Approved, Rejected } from '../api-types.ts';

const STATUSES = ['pending', 'approved', 'rejected', 'expired', 'superseded', 'applied', 'all'];

function ApprovalItem(props: { a: Approval }) {
  // The answer to a vote is the updated request: shown in place, so the outcome message stays.
  const [a, setApproval] = useState(props.a);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string } | undefined>();
  const reasonId = `reason-${a.id}`;

  async function act(what: 'approve' | 'reject') {
    setBusy(true);
    setOutcome(undefined);
    try {
      const res = what === 'approve'
        ? await post<Approved>(path`/api/v1/approvals/${a.id}/approve`)
        : await post<Rejected>(path`/api/v1/approvals/${a.id}/reject`, { reason });
      const status = res.approval.status;
      setOutcome({ ok: true, message: what === 'approve'
        ? `Approval recorded; the request is ${status}${'reconcileQueued' in res && res.reconcileQueued ? ' and the stack is being reconciled' : ''}.`
        : `Rejected; the request is ${status}.` });
      setApproval(res.approval);
    } catch (err) {
      setOutcome({ ok: false, message: (err as Error).message });
    } finally {
      setBusy(false);
    }
  }

  return (
    <li class="approval" aria-labelledby={`approval-${a.id}`}>
      <h2 id={`approval-${a.id}`}>{a.stack}: run <a href={href.run(a.runId)}>{a.runId}</a></h2>
      <dl class="facts">
        <dt>Status</dt><dd>{a.status}{a.rejectedBy ? ` by ${a.rejectedBy}` : ''}{a.reason ? `: ${a.reason}` : ''}</dd>
        {a.commit ? <><dt>Commit</dt><dd><code>{a.commit}</code>{a.author ? ` by ${a.author}` : ''}</dd></> : null}
        <dt>Needs</dt><dd>{a.requirements.map((r) => `${r.approvers} of ${r.group} (${r.rule})`).join('; ') || '–'}</dd>
        <dt>Votes</dt><dd>{a.votes.map((v) => v.name ?? v.by).join(', ') || 'none yet'}</dd>
        <dt>Requested</dt><dd><When at={a.createdAt} /></dd>
        <dt>Expires</dt><dd><When at={a.expiresAt} /></dd>
      </dl>
      {a.status === 'pending' ? (
        <div class="actions">
          <button type="button" disabled={busy} aria-describedby={`approval-${a.id}`} onClick={() => act('approve')}>Approve</button>
          <form onSubmit={(e) => { e.preventDefault(); void act('reject'); }}>
            <label for={reasonId}>Reason for rejecting</label>
            <input id={reasonId} type="text" required maxLength={500} value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
            <button type="submit" disabled={busy} aria-describedby={`approval-${a.id}`}>Reject</button>
          </form>
        </div>
      ) : null}
      {outcome ? (outcome.ok ? <p role="status">{outcome.message}</p> : <Problem error={outcome.message} />) : null}
    </li>
  );
}

export function Approvals(props: { status: string }) {
  const [load] = useLoad(() => get<{ approvals: Approval[] }>(`/api/v1/approvals?status=${encodeURIComponent(props.status)}`), [props.status]);
  return (
    <Page title="Approvals">
      <form class="row" onSubmit={(e) => e.preventDefault()}>
        <label for="approval-status">Show</label>
        <select id="approval-status" value={props.status} onChange={(e) => { location.hash = href.approvals((e.target as HTMLSelectElement).value); }}>
          {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </form>
      <Loaded load={load}>
        {({ approvals }) => approvals.length === 0 ? <p>No {props.status === 'all' ? '' : `${props.status} `}approval requests.</p> : (
          <ul class="approvals">
            {approvals.map((a) => <ApprovalItem key={a.id} a={a} />)}
          </ul>
        )}
      </Loaded>
    </Page>
  );
}
