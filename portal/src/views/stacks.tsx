// Stacks with their last run, a stack's runs (newest first, paged), and one run with every gate
// verdict and the preview's changes.
import { useState } from 'preact/hooks';
import { get, path } from '../api.ts';
import { href } from '../router.ts';
import { Loaded, Page, Problem, When, useLoad } from '../ui.tsx';

import type { ChangeSet, GateResult, GateSummary, KillSwitch, Run, RunDetail, Stack } from '../api-types.ts';

export type { Run } from '../api-types.ts';

/** A verdict's message: kept on the row's summary, or in the details of the full verdict. */
const gateMessage = (g: GateSummary | GateResult): string => ('message' in g ? g.message : g.details.message);

function counts(c: Record<string, number> | undefined): string {
  if (!c) return '–';
  return ['create', 'update', 'replace', 'delete'].map((k) => `${c[k] ?? 0} ${k}`).join(', ');
}

/** The kill switch, when on: no stack is applied until an Admin turns it off. */
function KillSwitchBanner() {
  const [load] = useLoad(() => get<KillSwitch>('/api/v1/killswitch'), []);
  if (load.state !== 'done' || !load.data.on) return null;
  const k = load.data;
  return (
    <p class="problem" role="status">
      The kill switch is on{k.source === 'env' ? ' (NEXUS_KILL_SWITCH)' : ''}: no stack is applied.
      {k.reason ? ` Reason: ${k.reason}.` : ''}{k.by ? ` Turned on by ${k.by}` : ''}{k.at ? <> at <When at={k.at} /></> : null}
    </p>
  );
}

export function Stacks() {
  const [load] = useLoad(() => get<{ stacks: Stack[] }>('/api/v1/stacks'), []);
  return (
    <Page title="Stacks">
      <KillSwitchBanner />
      <Loaded load={load}>
        {({ stacks }) => stacks.length === 0 ? <p>No stacks yet.</p> : (
          <table>
            <caption>Every stack of the desired state, with its last run</caption>
            <thead><tr><th scope="col">Stack</th><th scope="col">Management group</th><th scope="col">Resources</th><th scope="col">Last decision</th><th scope="col">Last run</th></tr></thead>
            <tbody>
              {stacks.map((s) => (
                <tr key={s.stack}>
                  <th scope="row"><a href={href.stack(s.stack)}>{s.stack}</a>{s.currentRunId ? <span class="note"> (running)</span> : null}</th>
                  <td>{s.managementGroupId ?? '–'}</td>
                  <td>{s.resources ?? '–'}</td>
                  <td><span class={`decision ${s.lastDecision ?? ''}`}>{s.lastDecision ?? 'never run'}</span></td>
                  <td>{s.lastRunId ? <a href={href.run(s.lastRunId)}><When at={s.lastRunAt} /></a> : '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loaded>
    </Page>
  );
}

export function RunTable(props: { runs: Run[]; caption: string }) {
  return (
    <table>
      <caption>{props.caption}</caption>
      <thead><tr><th scope="col">Run</th><th scope="col">Started</th><th scope="col">Trigger</th><th scope="col">Decision</th><th scope="col">Changes</th><th scope="col">Reasons</th></tr></thead>
      <tbody>
        {props.runs.map((r) => (
          <tr key={r.id}>
            <th scope="row"><a href={href.run(r.id)}>{r.id}</a></th>
            <td><When at={r.timings?.startedAt} /></td>
            <td>{r.trigger}{r.dryRun ? ' (dry run)' : ''}</td>
            <td><span class={`decision ${r.decision ?? ''}`}>{r.decision ?? r.status}</span></td>
            <td>{counts(r.counts)}</td>
            <td>{r.reasons.join(', ') || '–'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function StackRuns(props: { stack: string }) {
  const [pages, setPages] = useState<{ runs: Run[]; cursor?: string }[]>([]);
  const [more, setMore] = useState<{ busy: boolean; error?: Error }>({ busy: false });
  const base = path`/api/v1/stacks/${props.stack}/runs`;
  const [load] = useLoad(async () => {
    setPages([]);
    return get<{ runs: Run[]; cursor?: string }>(`${base}?limit=25`);
  }, [base]);

  async function loadMore(cursor: string) {
    setMore({ busy: true });
    try {
      const next = await get<{ runs: Run[]; cursor?: string }>(`${base}?limit=25&cursor=${encodeURIComponent(cursor)}`);
      setPages((p) => [...p, next]);
      setMore({ busy: false });
    } catch (error) {
      setMore({ busy: false, error: error as Error });
    }
  }

  return (
    <Page title={`Stack ${props.stack}`}>
      <p><a href={href.stacks()}>All stacks</a> · <a href={href.drift(props.stack)}>Drift report</a></p>
      <Loaded load={load}>
        {(first) => {
          const all = [first, ...pages];
          const runs = all.flatMap((p) => p.runs);
          const cursor = all[all.length - 1].cursor;
          return runs.length === 0 ? <p>This stack has not run yet.</p> : (
            <>
              <RunTable runs={runs} caption={`Runs of ${props.stack}, newest first`} />
              {cursor ? <button type="button" disabled={more.busy} onClick={() => loadMore(cursor)}>{more.busy ? 'Loading…' : 'Older runs'}</button> : null}
              {more.error ? <Problem error={more.error} /> : null}
            </>
          );
        }}
      </Loaded>
    </Page>
  );
}

function Changes(props: { label: string; cs: ChangeSet }) {
  const changed = props.cs.changes.filter((c) => c.op !== 'same');
  return (
    <>
      <h2>{props.label}: {counts(props.cs.summary)}</h2>
      {changed.length === 0 ? <p>No changes.</p> : (
        <ul class="changes">
          {changed.map((c) => (
            <li key={c.urn}><span class={`op ${c.op}`}>{c.op}</span> {c.armId ?? c.urn}{c.changedKeys.length ? <span class="note"> ({c.changedKeys.join(', ')})</span> : null}</li>
          ))}
        </ul>
      )}
    </>
  );
}

export function RunPage(props: { id: string }) {
  const [load] = useLoad(() => get<RunDetail>(path`/api/v1/runs/${props.id}`), [props.id]);
  return (
    <Page title={`Run ${props.id}`}>
      <Loaded load={load}>
        {(r) => (
          <>
            <dl class="facts">
              <dt>Stack</dt><dd><a href={href.stack(r.stack)}>{r.stack}</a></dd>
              <dt>Decision</dt><dd><span class={`decision ${r.decision ?? ''}`}>{r.decision ?? r.status}</span>{r.reasons.length ? ` (${r.reasons.join(', ')})` : ''}</dd>
              <dt>Trigger</dt><dd>{r.trigger}{r.dryRun ? ' (dry run)' : ''}{r.requestedBy ? `, by ${r.requestedBy}` : ''}</dd>
              {r.commit ? <><dt>Commit</dt><dd><code>{r.commit}</code>{r.author ? ` by ${r.author}` : ''}</dd></> : null}
              <dt>Started</dt><dd><When at={r.timings.startedAt} /></dd>
              <dt>Finished</dt><dd><When at={r.timings.finishedAt} /></dd>
              <dt>Changes</dt><dd>{counts(r.counts)}</dd>
              <dt>Drift</dt><dd><a href={href.drift(r.stack, r.id)}>Drift report of this run</a></dd>
              {r.approvalId ? <><dt>Approval</dt><dd><a href={href.approvals('all')}>{r.approvalId}</a></dd></> : null}
            </dl>
            {r.error ? <><h2>Error</h2><pre class="error">{r.error}</pre></> : null}
            <h2 id="gates-title">Gates</h2>
            {r.gates.length === 0 ? <p>No gate ran.</p> : (
              <table aria-labelledby="gates-title">
                <thead><tr><th scope="col">Gate</th><th scope="col">Verdict</th><th scope="col">Reason</th><th scope="col">Message</th></tr></thead>
                <tbody>
                  {r.gates.map((g) => (
                    <tr key={g.gate}>
                      <th scope="row">{g.gate}</th>
                      <td>{g.pass ? 'pass' : g.hold ? 'hold' : g.reportOnly ? 'fail (report only)' : 'fail'}</td>
                      <td>{g.reason}</td>
                      <td>{gateMessage(g)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {r.preview ? <Changes label="Preview" cs={r.preview} /> : null}
            {r.apply ? <Changes label="Apply" cs={r.apply} /> : null}
            {r.engineOutput?.length ? (
              <details>
                <summary>Engine output ({r.engineOutput.length} lines)</summary>
                <pre>{r.engineOutput.join('\n')}</pre>
              </details>
            ) : null}
          </>
        )}
      </Loaded>
    </Page>
  );
}
