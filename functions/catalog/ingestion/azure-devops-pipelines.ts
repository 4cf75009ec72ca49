// Pipeline runs from Azure DevOps: build.complete (both the current Build and the 1.0 format) and the
// classic release events. Each event says what it means: a started deployment is in progress, a
// pending approval waits, a completed one has its result. Pipeline.spec.lastRun only moves forward in
// the events' own time (then started < waiting for approval < completed), so a late or repeated
// delivery never replaces a newer run.
import { refKey, toEntityName } from '../refs.ts';
import type { Entity } from '../kinds.ts';
import { compareOrder, writeIfNewer, type Decision } from './ordered-write.ts';
import {
  BuildSchema, ReleaseEventSchema, firstPresent, firstTime, positive, realGuid, timeOf, titleOf,
} from './azure-devops-payload.ts';
import { finding, projectScope, skip, type AdoContext } from './azure-devops-context.ts';

interface Run {
  id: string;
  status: string;
  result?: string;
  branch?: string;
  sha?: string;
  at?: string;
  url?: string;
  number?: string;
}

/** Within one instant, how far a run has got. */
const STAGE: ReadonlyMap<string, number> = new Map([['inProgress', 1], ['pendingApproval', 2], ['completed', 3]]);

function orderOf(run: Partial<Run> | undefined): Array<number | undefined> {
  const id = Number(run?.id);
  return [timeOf(run?.at), STAGE.get(run?.status ?? '') ?? 0, Number.isSafeInteger(id) ? id : undefined];
}

function isNewer(run: Run, stored: Run | undefined): boolean {
  if (!stored) return true;
  const [a, b] = [orderOf(run), orderOf(stored)];
  if (b[0] === undefined) return true; // stored before runs were ordered by time
  if (a[0] === undefined) return false; // an event without a time cannot be placed after one with
  // Same time and stage: the higher build id; ids that do not compare (release runs) make it a tie.
  return (compareOrder(a, b) ?? compareOrder(a.slice(0, 2), b.slice(0, 2))!) > 0;
}

function describe(run: Run): string {
  return `${run.id} (${run.status}${run.result ? ` ${run.result}` : ''}${run.at ? ` at ${run.at}` : ''})`;
}

/** The pipeline document to merge, or why the stored run stands. */
function decideRun(key: string, cur: Entity | undefined, doc: { spec: Record<string, unknown> } & Record<string, unknown>, run: Run, envKey?: string): Decision {
  const stored = cur?.spec.lastRun as Run | undefined;
  const had = (cur?.spec.deploysTo as string[] | undefined) ?? [];
  const deploysTo = [...new Set([...had, ...(envKey ? [envKey] : [])])].sort();
  const withTargets = { ...doc, spec: { ...doc.spec, ...(deploysTo.length ? { deploysTo } : {}) } };
  if (isNewer(run, stored)) return { write: { ...withTargets, spec: { ...withTargets.spec, lastRun: run } } };
  const stale = run.at
    ? `run ${describe(run)} is not newer than the stored run ${describe(stored!)} of ${key}`
    : `run ${describe(run)} carries no event time, so it cannot be ordered after the stored run ${describe(stored!)} of ${key}`;
  // The run is old news, but the stage it deployed to is still a fact worth keeping.
  if (envKey && !had.includes(envKey)) return { write: withTargets, note: `${stale}; only the stage it deploys to was recorded` };
  return { skip: stale };
}

const BUILD_RESULTS: ReadonlySet<string> = new Set(['succeeded', 'partiallysucceeded', 'failed', 'canceled', 'stopped']);

/** "LG:refs/heads/main:<sha>" (Git in the 1.0 format); TFVC changesets ("C18") name no commit. */
function parseSourceGetVersion(v: string | null | undefined): { ref?: string; sha?: string } {
  const m = typeof v === 'string' ? /^LG:(refs\/.+):([0-9a-fA-F]{40})$/.exec(v) : null;
  return m ? { ref: m[1], sha: m[2] } : {};
}

export async function onBuildComplete(ctx: AdoContext, resource: unknown): Promise<void> {
  const b = BuildSchema.parse(resource ?? {});
  const defName = firstPresent(b.definition?.name);
  if (!defName) return skip(ctx, 'no build definition name (resource.definition.name); nothing written');
  const buildId = positive(b.id);
  if (!buildId) return skip(ctx, `build of ${defName} has no id (resource.id); nothing written`);
  const scope = projectScope(ctx, [b.project?.name, b.definition?.project?.name], realGuid(b.project?.id as string | undefined));
  if (!scope) return skip(ctx, `no project name (resource.project.name), and project ${ctx.projectId ?? '(no resourceContainers.project.id)'} is not known from an earlier event; nothing written`);

  // The 1.0 format has no `result`: its status is the outcome.
  const legacy = !b.result && BUILD_RESULTS.has((b.status ?? '').toLowerCase());
  const result = b.result ?? (legacy ? b.status! : undefined);
  const source = parseSourceGetVersion(b.sourceGetVersion);
  const ref = b.sourceBranch ?? source.ref;
  const at = firstTime(b.finishTime, b.startTime, b.queueTime, ctx.createdDate);
  const run: Run = {
    id: String(buildId), status: legacy ? 'completed' : b.status ?? 'completed',
    ...(result ? { result } : {}),
    ...(ref ? { branch: ref.replace(/^refs\/heads\//, '') } : {}),
    ...(b.sourceVersion ?? source.sha ? { sha: (b.sourceVersion ?? source.sha)! } : {}),
    ...(at ? { at } : {}),
    ...(b._links?.web?.href ? { url: b._links.web.href } : {}),
    ...(b.buildNumber ? { number: b.buildNumber } : {}),
  };
  if (!result) finding(ctx, `build ${buildId} of ${defName} has no result (resource.result, or resource.status in the 1.0 format)`);

  const name = toEntityName(defName);
  const key = refKey({ kind: 'pipeline', namespace: scope.namespace, name });
  const defId = b.definition?.id;
  const doc = {
    apiVersion: 'nexus/v1', kind: 'Pipeline',
    metadata: { name, namespace: scope.namespace, title: titleOf(defName), annotations: { ...scope.annotations, ...(defId !== undefined && defId !== null ? { 'dev.azure.com/build-definition-id': String(defId) } : {}) } },
    spec: {
      provider: 'azure-pipelines', project: scope.name,
      ...(defId !== undefined && defId !== null ? { definitionId: String(defId) } : {}),
      ...(b.definition?._links?.web?.href ? { url: b.definition._links.web.href } : {}),
    },
  };
  const res = await writeIfNewer(ctx.catalog, key, scope.source, (cur) => decideRun(key, cur, doc, run));
  if (res.written) ctx.out.upserted.push(key);
  const why = res.written ? res.note : res.reason;
  if (why) skip(ctx, why);
}

type Stage = 'inProgress' | 'pendingApproval' | 'completed';
export const RELEASE_EVENTS: ReadonlyMap<string, Stage> = new Map<string, Stage>([
  ['ms.vss-release.deployment-started-event', 'inProgress'],
  ['ms.vss-release.deployment-approval-pending-event', 'pendingApproval'],
  ['ms.vss-release.deployment-completed-event', 'completed'],
]);

export async function onReleaseEvent(ctx: AdoContext, stage: Stage, resource: unknown): Promise<void> {
  const r = ReleaseEventSchema.parse(resource ?? {});
  const { environment: env, deployment: dep, approval } = r;
  // The started event's `release` is an empty shell (id 0, name null): only named parts count.
  const def = [dep?.releaseDefinition, env?.releaseDefinition, approval?.releaseDefinition, r.release?.releaseDefinition, env?.release?.releaseDefinition]
    .find((d) => firstPresent(d?.name));
  if (!def?.name) {
    return skip(ctx, 'no release definition name (resource.deployment.releaseDefinition.name, resource.environment.releaseDefinition.name, resource.approval.releaseDefinition.name or resource.release.releaseDefinition.name); nothing written');
  }
  const scope = projectScope(ctx, [r.project?.name], realGuid(r.project?.id as string | undefined));
  if (!scope) return skip(ctx, `no project name (resource.project.name) for release definition ${def.name}; nothing written`);

  const release = [dep?.release, env?.release, approval?.release, r.release].find((x) => positive(x?.id as number | undefined) || firstPresent(x?.name));
  const envName = firstPresent(dep?.releaseEnvironment?.name, env?.name, approval?.releaseEnvironment?.name);
  const envId = positive((dep?.releaseEnvironment?.id ?? env?.id ?? approval?.releaseEnvironment?.id) as number | undefined);
  const releaseId = positive(release?.id as number | undefined);
  const runId = releaseId && envId ? `${releaseId}-${envId}` : positive(dep?.id)?.toString();
  if (!runId) return skip(ctx, `deployment of ${def.name} names no release and stage (resource.environment.release.id, resource.environment.id) nor a deployment id (resource.deployment.id); nothing written`);

  const at = stage === 'completed' ? firstTime(dep?.completedOn, ctx.createdDate)
    : stage === 'inProgress' ? firstTime(dep?.startedOn, dep?.queuedOn, ctx.createdDate)
      : firstTime(approval?.createdOn, ctx.createdDate);
  const result = stage === 'completed' ? firstPresent(dep?.deploymentStatus, env?.status) : undefined;
  if (stage === 'completed' && (!result || result === 'undefined')) finding(ctx, `deployment ${runId} of ${def.name} has no result (resource.deployment.deploymentStatus or resource.environment.status)`);
  const run: Run = {
    id: runId, status: stage,
    ...(result && result !== 'undefined' ? { result } : {}),
    ...(at ? { at } : {}),
    ...(release?._links?.web?.href ? { url: release._links.web.href } : {}),
    ...(firstPresent(release?.name) ? { number: release!.name! } : {}),
  };

  let envKey: string | undefined;
  if (envName) {
    const name = toEntityName(envName);
    envKey = refKey({ kind: 'environment', namespace: scope.namespace, name });
    await ctx.catalog.upsert({
      apiVersion: 'nexus/v1', kind: 'Environment',
      metadata: { name, namespace: scope.namespace, title: titleOf(envName), annotations: scope.annotations },
      spec: { stage: envName.toLowerCase() },
    }, scope.source, { mode: 'merge' });
    ctx.out.upserted.push(envKey);
  } else {
    finding(ctx, `deployment ${runId} of ${def.name} names no stage (resource.environment.name); the stage it deploys to is not recorded`);
  }

  const name = toEntityName(def.name);
  const key = refKey({ kind: 'pipeline', namespace: scope.namespace, name });
  const defId = def.id;
  const doc = {
    apiVersion: 'nexus/v1', kind: 'Pipeline',
    metadata: { name, namespace: scope.namespace, title: titleOf(def.name), annotations: { ...scope.annotations, ...(defId !== undefined && defId !== null ? { 'dev.azure.com/release-definition-id': String(defId) } : {}) } },
    spec: {
      provider: 'azure-releases', project: scope.name,
      ...(defId !== undefined && defId !== null ? { definitionId: String(defId) } : {}),
      ...(def._links?.web?.href ? { url: def._links.web.href } : {}),
    },
  };
  const res = await writeIfNewer(ctx.catalog, key, scope.source, (cur) => decideRun(key, cur, doc, run, envKey));
  if (res.written) ctx.out.upserted.push(key);
  const why = res.written ? res.note : res.reason;
  if (why) skip(ctx, why);
}
