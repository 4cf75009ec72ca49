// GitOps's entry from the webhook inbox: a delivery of the landing-zone repository becomes a
// normalised event (events/github.ts, events/azure-devops.ts) and goes to the part that acts on
// it: pushes queue reconciles (push.ts, driven by driver.ts), pull requests get their preview
// (pull-requests.ts), reviews become approval votes (reviews.ts). Whatever is not acted on is
// recorded with the reason in the `gitops` table.
import type { Delivery } from '../catalog/inbox.ts';
import type { Logger } from '../platform/logger.ts';
import { azureDevOpsEvent, organisationOf } from './events/azure-devops.ts';
import { githubEvent, githubRepoOf } from './events/github.ts';
import type { GitOpsDriver } from './driver.ts';
import { handlePush, type PushPorts } from './push.ts';
import type { GitOpsEventRecord, GitOpsStore } from './store.ts';
import type { PullRequestOutcome } from './pull-requests.ts';
import type { GitOpsEvent, PullRequestEvent, ReviewEvent } from './types.ts';

export type HostSource = 'github' | 'azure-devops';

const GITHUB_EVENTS: ReadonlySet<string> = new Set(['push', 'pull_request', 'pull_request_review']);
const ADO_EVENTS = /^git\.(push|pullrequest\.)/;
const ACTS_ON_PREVIEW: ReadonlySet<PullRequestEvent['action']> = new Set(['opened', 'synchronize', 'reopened', 'ready_for_review', 'closed']);

export interface GitOpsPorts {
  repoId: string;
  branch: string;
  push: Omit<PushPorts, 'repoId' | 'branch' | 'store' | 'now' | 'logger'>;
  store: GitOpsStore;
  driver: GitOpsDriver;
  previews?: { handle(ev: PullRequestEvent): Promise<PullRequestOutcome> };
  reviews?: { onReview(ev: ReviewEvent): Promise<void>; onPullRequest(ev: PullRequestEvent): Promise<void> };
  now(): Date;
  logger: Logger;
}

export class GitOps {
  /** Pull requests whose preview runs in this instance (a kick does not start a second). */
  private readonly previewing = new Map<number, number>();

  constructor(readonly p: GitOpsPorts) {}

  /** Drives the stacks pushes queued and the previews not finished (a timer tick, a start, a push). */
  async kick(): Promise<void> {
    for (const { event } of await this.p.store.listPrWants()) if (!this.previewing.has(event.number)) this.startPreview(event);
    await this.p.driver.kick();
  }

  /**
   * Runs a pull request's preview after its delivery is done, so a newer push can cancel it; the
   * want row is removed once the preview ended (posted, dropped or ignored), not when superseded.
   */
  private startPreview(ev: PullRequestEvent): void {
    const previews = this.p.previews;
    if (!previews) return;
    this.previewing.set(ev.number, (this.previewing.get(ev.number) ?? 0) + 1);
    void (async () => {
      try {
        const out = await previews.handle(ev);
        if (out.outcome !== 'superseded') {
          const mine = (await this.p.store.listPrWants()).find((w) => w.event.number === ev.number && w.event.deliveryId === ev.deliveryId);
          if (mine) await this.p.store.donePrWant(mine.row);
        }
      } catch (err) {
        // Kept: the next kick runs it again (a host outage, a storage error).
        this.p.logger.error({ pr: ev.number, err: (err as Error).message }, 'pull request preview failed; will try again');
      } finally {
        const left = (this.previewing.get(ev.number) ?? 1) - 1;
        if (left > 0) this.previewing.set(ev.number, left); else this.previewing.delete(ev.number);
      }
    })();
  }

  private ours(repo: string | undefined): boolean {
    return !!repo && repo.toLowerCase() === this.p.repoId.toLowerCase();
  }

  /**
   * Before a delivery is queued: one of the landing-zone repository that GitOps acts on must
   * carry every field it needs (EventPayloadError, a 400 naming the field, otherwise).
   */
  check(source: HostSource, event: string, payload: unknown): void {
    if (source === 'github') {
      if (GITHUB_EVENTS.has(event) && this.ours(githubRepoOf(payload))) githubEvent(event, payload, 'check');
      return;
    }
    if (!ADO_EVENTS.test(event) || !isAdoRepo(this.p.repoId, payload)) return;
    azureDevOpsEvent(event, payload, 'check', { branch: this.p.branch });
  }

  /** Acts on one delivery; undefined when it is no GitOps event (the catalog's alone). */
  async handle(source: HostSource, d: Pick<Delivery, 'deliveryId' | 'event' | 'payload'>): Promise<GitOpsEventRecord | undefined> {
    const ev: GitOpsEvent | undefined = source === 'github'
      ? (GITHUB_EVENTS.has(d.event) ? githubEvent(d.event, d.payload, d.deliveryId) : undefined)
      : (ADO_EVENTS.test(d.event) ? azureDevOpsEvent(d.event, d.payload, d.deliveryId, { branch: this.p.branch }) : undefined);
    if (!ev) return undefined;
    if (!this.ours(ev.repo)) {
      return this.p.store.record({ deliveryId: ev.deliveryId, kind: ev.kind, repo: ev.repo, outcome: 'ignored', reason: 'UNKNOWN_REPOSITORY', message: `${ev.repo} is not the landing-zone repository (${this.p.repoId})` }, this.p.now());
    }
    switch (ev.kind) {
      case 'push': {
        const rec = await handlePush({ ...this.p.push, repoId: this.p.repoId, branch: this.p.branch, store: this.p.store, now: this.p.now, logger: this.p.logger }, ev);
        // The wants are durable: the runs go on after this delivery is done (and after a restart).
        if (rec.outcome === 'queued') void this.p.driver.kick().catch((err) => this.p.logger.error({ err: (err as Error).message }, 'push: driving the queued stacks failed'));
        return rec;
      }
      case 'pull_request': {
        await this.p.reviews?.onPullRequest(ev);
        if (!this.p.previews) return this.p.store.record({ deliveryId: ev.deliveryId, kind: ev.kind, repo: ev.repo, outcome: 'ignored', reason: 'NO_PREVIEWS', message: 'pull request previews are not configured' }, this.p.now());
        // Only what starts or ends a preview is kept: an `edited` title must not stand in for a
        // preview still to finish after a crash.
        if (!ACTS_ON_PREVIEW.has(ev.action)) {
          return this.p.store.record({ deliveryId: ev.deliveryId, kind: ev.kind, repo: ev.repo, ref: ev.headRef, commit: ev.headSha, outcome: 'ignored', reason: 'ACTION_NOT_PREVIEWED', message: `pull request #${ev.number} ${ev.action}: nothing to preview` }, this.p.now());
        }
        await this.p.store.putPrWant(ev.number, ev, this.p.now());
        this.startPreview(ev);
        return this.p.store.record({ deliveryId: ev.deliveryId, kind: ev.kind, repo: ev.repo, ref: ev.headRef, commit: ev.headSha, outcome: 'previewed', message: `pull request #${ev.number} ${ev.action}: preview started` }, this.p.now());
      }
      case 'review': {
        await this.p.reviews?.onReview(ev);
        return this.p.store.record({ deliveryId: ev.deliveryId, kind: ev.kind, repo: ev.repo, commit: ev.commit, outcome: 'recorded', message: `pull request #${ev.number}: ${ev.login} ${ev.state}` }, this.p.now());
      }
    }
  }
}

/**
 * Whether an Azure DevOps git event is of `repoId` (cheap: before strict parsing). Project and
 * organisation count too: a namesake repository in another project is the catalog's, not ours.
 * An organisation the payload does not tell is left to the strict parse, which names the field.
 */
function isAdoRepo(repoId: string, payload: unknown): boolean {
  if (!repoId.startsWith('azure-devops:')) return false;
  const [org, project, name] = repoId.slice('azure-devops:'.length).toLowerCase().split('/');
  const p = payload as { resource?: { repository?: { name?: unknown; project?: { name?: unknown }; remoteUrl?: unknown; url?: unknown } }; resourceContainers?: { account?: { baseUrl?: unknown }; collection?: { baseUrl?: unknown } } } | undefined;
  const r = p?.resource?.repository;
  const lower = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : undefined);
  if (lower(r?.name) !== name || lower(r?.project?.name) !== project) return false;
  const urls = [p?.resourceContainers?.account?.baseUrl, p?.resourceContainers?.collection?.baseUrl, r?.remoteUrl, r?.url].map((u) => (typeof u === 'string' ? u : undefined));
  const found = organisationOf(...urls);
  return found === undefined || found.toLowerCase() === org;
}
