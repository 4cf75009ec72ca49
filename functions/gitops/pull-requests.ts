// Pull request previews: for each opened, synchronised, reopened or ready pull request against
// the tracked branch, compile its head and its base, preview the stacks whose desired state
// differs (lock-free, never applied, gates in dry-run), and post one comment and one check.
// A newer event of the same pull request cancels the older preview, whose results are never
// posted; every pull request shares one bounded number of engine slots; closing drops what is
// queued and notes it on the comment.
//
// Drafts are not previewed until they are marked ready for review: a draft changes often and the
// engine slots are shared; `ready_for_review` starts the preview.
import { basename, dirname, isAbsolute } from 'node:path';
import type { DesiredState, Finding } from '../../stacks/compile/model.ts';
import type { Logger } from '../platform/logger.ts';
import { GitHostUnavailableError, type CheckConclusion, type GitHost } from '../platform/git-host/types.ts';
import type { DesiredSource } from '../reconcile/desired-source.ts';
import type { PreviewOnlyRequest, PreviewOnlyResult } from '../reconcile/preview-only.ts';
import { affectedStacks, conclusionOf, removedStack, stackPreviewOf, thrownFinding } from './preview-report.ts';
import { Semaphore, SlotAbortedError } from './semaphore.ts';
import type { PreviewReport, PullRequestEvent, StackPreview } from './types.ts';

export const CHECK_NAME = 'nexus/preview';
const PREVIEWED: ReadonlySet<PullRequestEvent['action']> = new Set<PullRequestEvent['action']>(['opened', 'synchronize', 'reopened', 'ready_for_review']);
/** Last reports kept for the closing note (one per open pull request, bounded). */
const MAX_KEPT = 1000;

export type PullRequestOutcome =
  | { outcome: 'posted'; pr: number; commit: string; conclusion: CheckConclusion; stacks: string[]; runIds: string[]; commentId: string; created: boolean }
  | { outcome: 'ignored'; pr: number; reason: 'UNKNOWN_REPOSITORY' | 'BASE_NOT_TRACKED' | 'DRAFT' | 'ACTION_NOT_PREVIEWED'; detail: string }
  | { outcome: 'superseded'; pr: number; commit: string }
  | { outcome: 'dropped'; pr: number; commit?: string; merged: boolean; cancelled: boolean; noted: boolean };

export interface PullRequestPreviewsOptions {
  host: GitHost;
  source: DesiredSource;
  /** The lock-free preview of one stack: `(r) => reconciler.previewOnly(r)`. */
  preview(req: PreviewOnlyRequest): Promise<PreviewOnlyResult>;
  /** The tracked branch (NEXUS_LANDING_ZONE_BRANCH). */
  branch: string;
  /** Stack previews at once across every pull request (NEXUS_PREVIEW_CONCURRENCY). */
  concurrency: number;
  /** Where users reach Nexus (NEXUS_PUBLIC_URL): the comment links to the runs. */
  publicUrl?: string;
  render(report: PreviewReport): { comment: string; check: { title: string; summary: string; text?: string } };
  /** The comment's hidden marker (comment/render.ts COMMENT_MARKER). */
  marker: string;
  logger: Logger;
  now?(): Date;
}

/** Why an in-flight preview was stopped. */
type StopReason = 'superseded' | 'closed';

interface InFlight {
  ac: AbortController;
  commit: string;
  /** The `in progress` check was reported for `commit`. */
  reported: boolean;
  /** close() finished that check already. */
  checkClosed?: boolean;
  /** Set when stopped: the commit previewed instead, or whether the pull request was merged. */
  supersededBy?: string;
  merged?: boolean;
}

class Stopped extends Error {}

export class PullRequestPreviews {
  private readonly slots: Semaphore;
  private readonly inFlight = new Map<string, InFlight>();
  /** Posts of one pull request, one after another (a comment is created once, then edited). */
  private readonly posting = new Map<string, Promise<unknown>>();
  private readonly lastReport = new Map<string, PreviewReport>();
  private readonly now: () => Date;

  constructor(private readonly o: PullRequestPreviewsOptions) {
    this.slots = new Semaphore(o.concurrency);
    this.now = o.now ?? (() => new Date());
  }

  /** Engine slots in use now. */
  get busySlots(): number {
    return this.slots.inUse;
  }

  async handle(ev: PullRequestEvent): Promise<PullRequestOutcome> {
    const log = this.o.logger.child({ pr: ev.number, action: ev.action, commit: ev.headSha });
    if (ev.repo !== this.o.host.id) return this.ignored(ev, 'UNKNOWN_REPOSITORY', `repository ${ev.repo} is not the landing-zone repository ${this.o.host.id}`, log);
    if (ev.baseRef !== this.o.branch) return this.ignored(ev, 'BASE_NOT_TRACKED', `base branch '${ev.baseRef}' is not the tracked branch '${this.o.branch}'`, log);
    if (ev.action === 'closed') return this.close(ev, log);
    if (!PREVIEWED.has(ev.action)) return this.ignored(ev, 'ACTION_NOT_PREVIEWED', `action '${ev.action}' changes nothing to preview`, log);
    if (ev.draft) return this.ignored(ev, 'DRAFT', 'drafts are previewed once marked ready for review', log);
    return this.previewPullRequest(ev, log);
  }

  private ignored(ev: PullRequestEvent, reason: Extract<PullRequestOutcome, { outcome: 'ignored' }>['reason'], detail: string, log: Logger): PullRequestOutcome {
    log.info({ reason, detail }, 'pull request event ignored');
    return { outcome: 'ignored', pr: ev.number, reason, detail };
  }

  private key(ev: Pick<PullRequestEvent, 'repo' | 'number'>): string {
    return `${ev.repo}#${ev.number}`;
  }

  private async previewPullRequest(ev: PullRequestEvent, log: Logger): Promise<PullRequestOutcome> {
    const key = this.key(ev);
    const previous = this.inFlight.get(key);
    if (previous) {
      previous.supersededBy = ev.headSha;
      previous.ac.abort('superseded' satisfies StopReason);
    }
    const mine: InFlight = { ac: new AbortController(), commit: ev.headSha, reported: false };
    this.inFlight.set(key, mine);
    const signal = mine.ac.signal;
    try {
      await this.o.host.report(ev.number, { name: CHECK_NAME, commit: ev.headSha, title: 'Previewing', summary: `Nexus is previewing ${ev.headSha.slice(0, 12)} against the live tenant.` });
      mine.reported = true;
      const report = await this.buildReport(ev, signal, log);
      return await this.serially(key, async () => {
        if (signal.aborted) throw new Stopped();
        const { comment, check } = this.o.render(report);
        const posted = await this.o.host.upsertComment(ev.number, this.o.marker, comment);
        await this.o.host.report(ev.number, { name: CHECK_NAME, commit: ev.headSha, conclusion: report.conclusion, ...check, detailsUrl: report.portalUrl });
        this.keep(key, report);
        const runIds = report.stacks.flatMap((s) => (s.runId ? [s.runId] : []));
        log.info({ conclusion: report.conclusion, stacks: report.stacks.map((s) => s.stack), commentId: posted.id, created: posted.created }, 'pull request preview posted');
        return { outcome: 'posted', pr: ev.number, commit: ev.headSha, conclusion: report.conclusion, stacks: report.stacks.map((s) => s.stack), runIds, commentId: posted.id, created: posted.created } as const;
      });
    } catch (err) {
      if (!(err instanceof Stopped) && !(err instanceof SlotAbortedError) && !signal.aborted) throw err;
      const why = signal.reason as StopReason | undefined;
      log.info({ why }, 'pull request preview stopped; not posted');
      if (why === 'closed') {
        // Closed while its `in progress` check was still being reported: finished here instead.
        await this.serially(key, async () => {
          if (mine.reported && !mine.checkClosed) {
            await this.o.host.report(ev.number, { name: CHECK_NAME, commit: ev.headSha, conclusion: 'neutral', title: 'Preview dropped', summary: 'The pull request was closed: queued previews were dropped.' });
          }
        }).catch((e) => log.warn({ err: (e as Error).message }, 'could not finish the dropped check'));
        return { outcome: 'dropped', pr: ev.number, commit: ev.headSha, merged: !!mine.merged, cancelled: true, noted: false };
      }
      // The older commit's check is finished rather than left in progress (the newer commit has its own).
      const newer = mine.supersededBy;
      if (mine.reported && newer && newer !== ev.headSha) {
        await this.serially(key, () => this.o.host.report(ev.number, {
          name: CHECK_NAME, commit: ev.headSha, conclusion: 'neutral', title: 'Preview superseded', summary: `A newer commit (${newer.slice(0, 12)}) is previewed instead.`,
        })).catch((e) => log.warn({ err: (e as Error).message }, 'could not finish the superseded check'));
      }
      return { outcome: 'superseded', pr: ev.number, commit: ev.headSha };
    } finally {
      if (this.inFlight.get(key) === mine) this.inFlight.delete(key);
    }
  }

  /** Compiles head and base, previews the stacks that differ, and assembles the report. */
  private async buildReport(ev: PullRequestEvent, signal: AbortSignal, log: Logger): Promise<PreviewReport> {
    const stop = () => { if (signal.aborted) throw new Stopped(); };
    const at = () => this.now().toISOString();
    const head = await this.compile(ev.headSha);
    stop();
    const shell = { repo: ev.repo, pr: ev.number, commit: ev.headSha, unchanged: [] as string[], stacks: [] as StackPreview[] };
    if ('failed' in head) {
      return { ...shell, compileFailed: true, findings: ownFindings(head.failed), conclusion: 'failure', at: at() };
    }
    const baseSha = await this.o.host.branchHead(this.o.branch);
    const base = baseSha ? await this.compile(baseSha) : undefined;
    stop();
    if (base && 'failed' in base) log.warn({ baseSha }, 'the base does not compile; previewing every stack of the head');
    const affected = affectedStacks(base && 'state' in base ? base.state : undefined, head.state);
    const authors = await this.authors(baseSha, ev.headSha, log);
    stop();
    const results = await Promise.all(affected.changed.map((stack) => this.slots.run(() => {
      stop();
      return this.o.preview({ stack, state: head.state, commit: ev.headSha, trigger: 'pull-request', requestedBy: this.key(ev), authors, signal });
    }, signal)));
    stop();
    const stacks = [...results.map((r) => stackPreviewOf(r, this.runUrl(r.run.id))), ...affected.removed.map(removedStack)];
    const runIds = results.map((r) => r.run.id);
    return {
      ...shell, compileFailed: false, findings: ownFindings(head.state.findings), stacks, unchanged: affected.unchanged,
      portalUrl: runIds.length === 1 ? this.runUrl(runIds[0]) : this.o.publicUrl ? `${this.o.publicUrl}/#/stacks` : undefined,
      conclusion: conclusionOf(stacks, false), at: at(),
    };
  }

  /** The state at a commit, or the findings of why it does not compile. Host outages are rethrown (the delivery is retried). */
  private async compile(commit: string): Promise<{ state: DesiredState } | { failed: Finding[] }> {
    try {
      const { state } = await this.o.source.compile(commit);
      const errors = state.findings.filter((f) => f.severity === 'error');
      return errors.length > 0 ? { failed: state.findings } : { state };
    } catch (err) {
      if (err instanceof GitHostUnavailableError) throw err;
      return { failed: [thrownFinding(err)] };
    }
  }

  /** The pull request's commit authors (who may not approve it); none known when the host cannot say. */
  private async authors(base: string | undefined, head: string, log: Logger): Promise<string[]> {
    if (!base) return [];
    try {
      const cmp = await this.o.host.compare(base, head);
      return [...new Set(cmp.commits.flatMap((c) => [`${c.author.name} <${c.author.email}>`, ...(c.authorLogin ? [c.authorLogin] : [])]))];
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'commit authors unknown; the gates ask for two approvers');
      return [];
    }
  }

  /** Closed or merged: stops the preview in flight and says so on the comment, once. */
  private async close(ev: PullRequestEvent, log: Logger): Promise<PullRequestOutcome> {
    const key = this.key(ev);
    const running = this.inFlight.get(key);
    if (running) {
      running.merged = ev.merged;
      running.ac.abort('closed' satisfies StopReason);
    }
    this.inFlight.delete(key);
    const merged = ev.merged;
    const closedNote = merged
      ? 'The pull request was merged: queued previews were dropped. The merge is reconciled from the tracked branch.'
      : 'The pull request was closed: queued previews were dropped.';
    return this.serially(key, async () => {
      // The check of a preview that will not finish is closed too, rather than left in progress.
      if (running?.reported) {
        running.checkClosed = true;
        await this.o.host.report(ev.number, { name: CHECK_NAME, commit: running.commit, conclusion: 'neutral', title: 'Preview dropped', summary: closedNote });
      }
      const last = this.lastReport.get(key);
      this.lastReport.delete(key);
      if (last) {
        const { comment } = this.o.render({ ...last, closedNote, at: this.now().toISOString() });
        await this.o.host.upsertComment(ev.number, this.o.marker, comment);
      }
      log.info({ merged, cancelled: !!running, noted: !!last }, 'pull request closed; previews dropped');
      return { outcome: 'dropped', pr: ev.number, commit: ev.headSha, merged, cancelled: !!running, noted: !!last } as const;
    });
  }

  private runUrl(runId: string): string | undefined {
    return this.o.publicUrl ? `${this.o.publicUrl}/#/runs/${encodeURIComponent(runId)}` : undefined;
  }

  private keep(key: string, report: PreviewReport): void {
    this.lastReport.delete(key);
    this.lastReport.set(key, report);
    if (this.lastReport.size > MAX_KEPT) this.lastReport.delete(this.lastReport.keys().next().value!);
  }

  /** Runs the pull request's posts one after another. */
  private serially<T>(key: string, f: () => Promise<T>): Promise<T> {
    const prev = this.posting.get(key) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(f);
    const tail = next.catch(() => undefined);
    this.posting.set(key, tail);
    void tail.then(() => { if (this.posting.get(key) === tail) this.posting.delete(key); });
    return next;
  }
}

/**
 * The findings a pull request's author can act on: every one in the repository's files, and the
 * errors of the libraries it builds on (which stop the apply). The libraries' own warnings are the
 * same on every pull request, and their files are named without this host's folders.
 */
export function ownFindings(findings: Finding[]): Finding[] {
  return findings
    .filter((f) => f.severity === 'error' || !isAbsolute(f.file))
    .map((f) => (isAbsolute(f.file) ? { ...f, file: `(library) ${basename(f.file)}`, message: f.message.split(dirname(f.file)).join('(library)') } : f));
}
