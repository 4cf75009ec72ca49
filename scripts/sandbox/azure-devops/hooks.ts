// Service hooks as Azure DevOps sends them to a Web Hooks subscription: a JSON POST with basic
// authentication (the password is the shared secret), the notification `{ id, eventType,
// publisherId: 'tfs', message, detailedMessage, resource, resourceVersion, resourceContainers,
// createdDate }`. Deliveries go out one at a time, in order, and are recorded.
import { randomUUID } from 'node:crypto';
import { guidOf, pullRequestJson, repositoryJson, type Identity, type PullRequest, type RepoKey } from './model.ts';
import type { RawCommit } from './git.ts';

export interface WebhookTarget {
  url: string;
  secret: string;
  /** Basic auth user name; ADO lets the subscriber pick one. */
  username?: string;
}

export interface Delivery {
  id: string;
  eventType: string;
  body: Record<string, unknown>;
  status?: number;
  error?: string;
}

function containers(base: string, k: RepoKey) {
  return {
    collection: { id: guidOf('collection', k.org), baseUrl: `${base}/${k.org}/` },
    account: { id: guidOf('account', k.org), baseUrl: `${base}/${k.org}/` },
    project: { id: guidOf('project', k.org, k.project), baseUrl: `${base}/${k.org}/` },
  };
}

function notification(base: string, k: RepoKey, eventType: string, text: string, resource: Record<string, unknown>) {
  return {
    subscriptionId: guidOf('subscription', k.org, k.project),
    notificationId: 0,
    id: randomUUID(),
    eventType,
    publisherId: 'tfs',
    message: { text, html: text, markdown: text },
    detailedMessage: { text, html: text, markdown: text },
    resource,
    resourceVersion: '1.0',
    resourceContainers: containers(base, k),
    createdDate: new Date().toISOString(),
  };
}

export function pushNotification(base: string, k: RepoKey, p: {
  pushId: number; pushedBy: Identity; commits: RawCommit[];
  refUpdates: { name: string; oldObjectId: string; newObjectId: string }[];
}) {
  const repo = repositoryJson(base, k);
  const branch = p.refUpdates[0]?.name.replace(/^refs\/heads\//, '') ?? '';
  const text = `${p.pushedBy.displayName} pushed updates to ${branch} of repository ${k.repo}.`;
  return notification(base, k, 'git.push', text, {
    commits: p.commits.map((c) => ({
      commitId: c.commitId, author: c.author, committer: c.committer, comment: c.comment,
      url: `${repo.remoteUrl}/commit/${c.commitId}`,
    })),
    refUpdates: p.refUpdates,
    repository: repo,
    pushedBy: p.pushedBy,
    pushId: p.pushId,
    date: new Date().toISOString(),
    url: `${repo.url}/pushes/${p.pushId}`,
  });
}

export type PullRequestEventType = 'git.pullrequest.created' | 'git.pullrequest.updated' | 'git.pullrequest.merged';

export function pullRequestNotification(base: string, pr: PullRequest, eventType: PullRequestEventType, text: string) {
  return notification(base, pr.key, eventType, text, pullRequestJson(base, pr));
}

/** The queue of service-hook deliveries of one stand-in. */
export class HookQueue {
  readonly deliveries: Delivery[] = [];
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly target: WebhookTarget | undefined) {}

  send(body: ReturnType<typeof notification>): void {
    if (!this.target) return;
    const target = this.target;
    const d: Delivery = { id: body.id, eventType: body.eventType, body };
    this.deliveries.push(d);
    this.tail = this.tail.then(async () => {
      try {
        const auth = Buffer.from(`${target.username ?? 'nexus'}:${target.secret}`).toString('base64');
        const res = await fetch(target.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Basic ${auth}` },
          body: JSON.stringify(body),
        });
        d.status = res.status;
        await res.arrayBuffer();
      } catch (err) {
        d.error = err instanceof Error ? err.message : String(err);
      }
    });
  }

  /** Resolves when every delivery queued so far has been answered (or failed). */
  settled(): Promise<void> {
    return this.tail;
  }
}
