// Drift for the reconciler: waits out deployments running on a stack's scopes, reads the signals
// (concurrently with the engine's preview), judges the resources they point at, stores the report,
// and keeps the baseline after an apply. The signals and the judge come in as ports, so this file
// holds only the order of things.
import type { DesiredResource, DesiredState } from '../../stacks/compile/model.ts';
import type { ChangeSet } from '../../stacks/engine/changeset.ts';
import type { DriftMode, DriftReport, DriftSignal } from './model.ts';
import type { JudgeInput, Judgement, OwnedPath } from './normalise/types.ts';
import { buildDriftReport, type ResourceView } from './report.ts';
import type { ArmBody, DeploymentRow, DriftSignals, HistoryChange, PolicyStateRow, RemediationRow } from './signals.ts';
import type { Baseline, DriftStore } from './store.ts';
import { expiredExemptions, type ExpiredExemption } from './exemptions.ts';
import type { Guardrails } from '../reconcile/guardrails.ts';

/** Types of the landing-zone core: one created at a managed scope outside the desired state is reported. */
const CORE_TYPES: ReadonlySet<string> = new Set([
  'microsoft.authorization/policyassignments', 'microsoft.authorization/policydefinitions', 'microsoft.authorization/policysetdefinitions',
  'microsoft.authorization/policyexemptions', 'microsoft.authorization/roleassignments', 'microsoft.authorization/roledefinitions',
]);

export interface DriftServiceParts {
  signals: DriftSignals;
  store: DriftStore;
  judge(input: JudgeInput): Judgement;
  /** Nexus's own identities in the change history (its managed identity, `nexus@sandbox` locally). */
  selfIdentities: string[];
  /** Per desired state (built once per report): the paths a Modify/Append assignment at or above a resource's scope writes. */
  ownership?(state: DesiredState): (r: DesiredResource) => OwnedPath[];
  now(): Date;
  sleep?(ms: number): Promise<void>;
  /**
   * Pull requests on the landing-zone repository (GitOps only): the drift's, and the expired
   * exemptions' removal. Returns what to record on the report; throws when the host cannot be reached.
   */
  proposals?(r: ProposalRequest): Promise<Pick<DriftReport, 'pullRequest' | 'exemptionsPullRequest'>>;
}

export interface ProposalRequest {
  report: DriftReport;
  state: DesiredState;
  /** The commit the run compiled: the pull requests' branches sit on it. */
  commit: string;
  guardrails: Guardrails;
  expired: ExpiredExemption[];
}

/** The signals of one stack, read while the engine previews. */
export interface StackSignals {
  changes: HistoryChange[];
  nonCompliant: PolicyStateRow[];
  remediations: RemediationRow[];
  unavailable: DriftReport['unavailable'];
}

export interface ReportRequest {
  stack: string;
  runId?: string;
  state: DesiredState;
  mode: DriftMode;
  /** The engine's refresh preview (drift as the engine sees it) and the preview. */
  refreshPreview?: ChangeSet;
  preview?: ChangeSet;
  signals: StackSignals;
  deployments?: DeploymentRow[];
  /** Policy assignments' managed identity principal ids (their changes are the policy's). */
  policyPrincipals?: Set<string>;
  /** With both, the drift and expired-exemption pull requests are synced (GitOps). */
  commit?: string;
  /** A dry run: its report is kept, but not in the history flapping is judged on. */
  dryRun?: boolean;
  guardrails?: Guardrails;
}

export class DriftService {
  constructor(private readonly p: DriftServiceParts) {}

  /** Management group and subscription scopes of a stack's resources (what the signals are asked about). */
  scopes(state: DesiredState, stack: string): string[] {
    const plan = state.stacks.find((s) => s.name === stack);
    const out = new Set<string>();
    if (plan) out.add(`/providers/Microsoft.Management/managementGroups/${plan.managementGroupId}`);
    for (const r of state.resources) {
      if (r.stack !== stack) continue;
      const sub = /^\/subscriptions\/[^/]+/i.exec(r.scope);
      if (sub) out.add(sub[0]);
      if (r.kind === 'subscriptionPlacement') out.add(`/subscriptions/${r.name}`);
    }
    return [...out];
  }

  /** Where a running deployment would race the stack's apply: its scopes and every resource group it deploys to. */
  deploymentScopes(state: DesiredState, stack: string): string[] {
    const out = new Set(this.scopes(state, stack));
    for (const r of state.resources) {
      const rg = r.stack === stack ? /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+/i.exec(r.scope) : null;
      if (rg) out.add(rg[0]);
    }
    return [...out];
  }

  /**
   * The deployments running on the scopes, waited for up to `waitSeconds` (looking every
   * `pollSeconds`): those still running at the end. A failure to look is thrown (the caller refuses).
   */
  async awaitDeployments(scopes: string[], wait: { waitSeconds: number; pollSeconds: number }): Promise<DeploymentRow[]> {
    const until = this.p.now().getTime() + wait.waitSeconds * 1000;
    const sleep = this.p.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    for (;;) {
      const running = await this.p.signals.runningDeployments(scopes);
      if (running.length === 0 || this.p.now().getTime() >= until) return running;
      await sleep(Math.min(wait.pollSeconds * 1000, Math.max(0, until - this.p.now().getTime())));
    }
  }

  /** Reads the history, compliance and remediations of the scopes; a signal that fails is named, not guessed. */
  async readSignals(scopes: string[], since: string): Promise<StackSignals> {
    const unavailable: DriftReport['unavailable'] = [];
    const guard = async <T>(signal: DriftSignal, f: () => Promise<T>, empty: T): Promise<T> => {
      try {
        return await f();
      } catch (err) {
        unavailable.push({ signal, error: (err as Error).message.slice(0, 500) });
        return empty;
      }
    };
    const s = this.p.signals;
    const [graph, log, nonCompliant, remediations] = await Promise.all([
      guard('change-history', () => s.resourceChanges(scopes, since), [] as HistoryChange[]),
      s.activityLog ? guard('activity-log', () => s.activityLog!(scopes, since), [] as HistoryChange[]) : Promise.resolve([] as HistoryChange[]),
      guard('policy-compliance', () => s.nonCompliant(scopes), [] as PolicyStateRow[]),
      guard('policy-compliance', () => s.remediations(scopes), [] as RemediationRow[]),
    ]);
    return { changes: [...graph, ...log], nonCompliant, remediations, unavailable };
  }

  /** When the history is read from: the last report of the stack, else `historyDays` back. */
  async since(stack: string, historyDays: number): Promise<string> {
    const floor = this.p.now().getTime() - historyDays * 86_400_000;
    const last = await this.p.store.get(stack);
    // The report before keeps who changed what it saw; a persisting drift keeps its attribution from there.
    return new Date(Math.max(floor, last ? Date.parse(last.at) - 86_400_000 : floor)).toISOString();
  }

  /** Judges the resources the signals point at and stores the report. */
  async report(r: ReportRequest): Promise<DriftReport> {
    const mine = r.state.resources.filter((x) => x.stack === r.stack);
    const byId = new Map(mine.map((x) => [x.id.toLowerCase(), x]));
    const self = new Set(this.p.selfIdentities.map((s) => s.toLowerCase()));
    const candidates = new Map<string, { id: string; type: string; apiVersion?: string; desired?: DesiredResource; engineSaw: boolean }>();
    const add = (id: string, type: string, engineSaw: boolean) => {
      const k = id.toLowerCase();
      const desired = byId.get(k);
      const cur = candidates.get(k);
      candidates.set(k, { id: desired?.id ?? id, type: desired?.type ?? type, apiVersion: desired?.apiVersion, desired, engineSaw: engineSaw || !!cur?.engineSaw });
    };
    // Only desired resources: a delete in the preview of one no longer desired is the desired state's own change.
    const desiredChange = (c: { op: string; armId?: string }) => c.op !== 'same' && c.op !== 'read' && !!c.armId && byId.has(c.armId.toLowerCase());
    for (const c of r.refreshPreview?.changes ?? []) if (desiredChange(c)) add(c.armId!, c.armType ?? '', true);
    for (const c of r.preview?.changes ?? []) if (desiredChange(c)) add(c.armId!, c.armType ?? '', false);
    const scopeKeys = new Set(this.scopes(r.state, r.stack).map((s) => s.toLowerCase()));
    for (const ch of r.signals.changes) {
      if (self.has(ch.changedBy.toLowerCase())) continue;
      const k = ch.resourceId.toLowerCase();
      if (byId.has(k)) add(ch.resourceId, ch.resourceType ?? '', false);
      else if (ch.changeType === 'Create' && CORE_TYPES.has((ch.resourceType ?? '').toLowerCase()) && scopeKeys.has(parentScope(k))) add(ch.resourceId, ch.resourceType ?? '', false);
    }

    const baseline = await this.p.store.baseline(r.stack);
    const apiVersions = new Map<string, string>();
    for (const x of mine) apiVersions.set(x.type.toLowerCase(), x.apiVersion);
    const toRead = [...candidates.values()].map((c) => ({ id: c.id, apiVersion: c.apiVersion ?? apiVersions.get(c.type.toLowerCase()) ?? '' })).filter((c) => c.apiVersion);
    let live = new Map<string, ArmBody | null>();
    const unavailable = [...r.signals.unavailable];
    if (toRead.length) {
      try {
        live = await this.p.signals.live(toRead);
      } catch (err) {
        unavailable.push({ signal: 'engine', error: `reading live resources: ${(err as Error).message.slice(0, 400)}` });
      }
    }
    const owned = this.p.ownership?.(r.state);
    const resources: ResourceView[] = [...candidates.values()].map((c) => {
      const k = c.id.toLowerCase();
      const b = Object.hasOwn(baseline, k) ? (baseline[k] as ArmBody) : undefined;
      return {
        id: c.id, type: c.type, desired: c.desired ? desiredBody(c.desired) : undefined,
        live: live.has(k) ? live.get(k) : undefined, baseline: b, engineSaw: c.engineSaw,
        ownedPaths: c.desired && owned ? owned(c.desired) : undefined,
      };
    });
    const earlier = await this.earlier(r.stack);
    const assignments = new Set(mine.filter((x) => x.kind === 'policyAssignment').map((x) => x.id.toLowerCase()));
    const report = buildDriftReport({
      stack: r.stack, runId: r.runId, at: this.p.now().toISOString(), mode: r.mode, resources,
      changes: r.signals.changes,
      // Compliance drift of this stack: resources breaking the assignments it manages.
      nonCompliant: r.signals.nonCompliant.filter((s) => assignments.has(s.policyAssignmentId.toLowerCase())),
      remediations: r.signals.remediations, deployments: r.deployments ?? [], earlier,
      who: { selfIdentities: this.p.selfIdentities, policyPrincipals: r.policyPrincipals ?? new Set() },
      judge: this.p.judge, unavailable,
    });
    // What the preview will not change cannot be put back by the apply (a property the program never
    // sets is invisible to the engine): said, and reported rather than promised.
    const changing = new Set((r.preview?.changes ?? []).filter((c) => c.op !== 'same' && c.op !== 'read' && c.armId).map((c) => c.armId!.toLowerCase()));
    if (r.preview) {
      for (const it of report.items) {
        if (it.kind === 'configuration' && it.action === 'remediate' && !changing.has(it.resourceId.toLowerCase())) {
          it.action = 'report';
          it.why += '; the apply would not change it (not set by the program: set it in the archetype to have it put back)';
        }
      }
    }
    const expired = expiredExemptions(r.state, this.p.now()).filter((e) => e.stack === r.stack);
    if (expired.length) report.expiredExemptions = expired.map((e) => ({ id: e.id, name: e.name, expiresOn: e.expiresOn, file: e.source.file }));
    const open = (p?: DriftReport['pullRequest']) => !!p && p.state !== 'closed';
    const wanted = r.mode === 'pull-request' || expired.length > 0 || open(earlier[0]?.pullRequest) || open(earlier[0]?.exemptionsPullRequest);
    // An incomplete report proposes nothing and closes nothing: a signal that failed is no drift gone.
    if (this.p.proposals && r.commit && r.guardrails && !r.deployments?.length && wanted && report.unavailable.length === 0) {
      try {
        Object.assign(report, await this.p.proposals({ report, state: r.state, commit: r.commit, guardrails: r.guardrails, expired }));
      } catch (err) {
        // The report stands; the pull request is tried again by the next run.
        report.pullRequestError = (err as Error).message.slice(0, 500);
      }
    }
    // What flapping is judged on: complete reports of runs that looked (not a deployment's stop, not a dry run).
    await this.p.store.save(report, { history: !r.deployments?.length && !r.dryRun && report.unavailable.length === 0 });
    return report;
  }

  /** After an apply: the live body of each applied resource becomes its baseline (deleted ones are dropped). */
  async captureBaseline(stack: string, state: DesiredState, ids: string[]): Promise<void> {
    const mine = new Map(state.resources.filter((x) => x.stack === stack).map((x) => [x.id.toLowerCase(), x]));
    const wanted = [...new Set(ids.map((i) => i.toLowerCase()))].map((k) => mine.get(k)).filter((x): x is DesiredResource => !!x);
    const live = wanted.length ? await this.p.signals.live(wanted.map((x) => ({ id: x.id, apiVersion: x.apiVersion }))) : new Map<string, ArmBody | null>();
    const baseline: Baseline = Object.assign(Object.create(null), await this.p.store.baseline(stack));
    for (const k of Object.keys(baseline)) if (!mine.has(k)) delete baseline[k];
    for (const [k, body] of live) {
      if (body) baseline[k] = body;
      else delete baseline[k];
    }
    await this.p.store.saveBaseline(stack, baseline);
  }

  /** A stored report: the stack's latest, or the one of a run. */
  stored(stack: string, runId?: string): Promise<DriftReport | undefined> {
    return this.p.store.get(stack, runId);
  }

  private async earlier(stack: string): Promise<DriftReport[]> {
    return this.p.store.recent(stack, 6);
  }
}

/** What Nexus would PUT: the desired body with the id's own fields, as a GET returns them. */
function desiredBody(r: DesiredResource): ArmBody {
  return { ...r.body } as ArmBody;
}

function parentScope(id: string): string {
  const i = id.indexOf('/providers/microsoft.authorization/');
  return i > 0 ? id.slice(0, i) : '';
}

