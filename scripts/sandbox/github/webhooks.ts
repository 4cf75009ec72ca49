// Webhook deliveries as GitHub sends them: a JSON body POSTed with X-GitHub-Event,
// X-GitHub-Delivery (a UUID) and X-Hub-Signature-256 (HMAC-SHA256 of the raw body with the
// secret). Deliveries go out one at a time in the order they were made. Unlike GitHub, a delivery
// that finds no listener (connection refused) or a 5xx is retried with back-off, because
// `npm run up` starts the stand-in before Nexus and must not lose the first push.
import { createHmac, randomUUID } from 'node:crypto';

export interface WebhookTarget {
  url: string;
  secret: string;
  /** Attempts per delivery (default 8). */
  attempts?: number;
  /** First back-off in ms, doubled per attempt up to 30 s (default 500). */
  backoffMs?: number;
}

export interface Delivery {
  id: string;
  event: string;
  action?: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  /** HTTP status of the last attempt (absent when the listener was unreachable). */
  responseStatus?: number;
  error?: string;
  createdAt: string;
  body: string;
}

const MAX_KEPT = 1000;

export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export class Deliverer {
  readonly deliveries: Delivery[] = [];
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly target: WebhookTarget | undefined, private readonly hookId: number) {}

  /** Queues a delivery; no-op without a webhook target. */
  send(event: string, payload: Record<string, unknown>): Delivery | undefined {
    if (!this.target || this.stopped) return undefined;
    const d: Delivery = {
      id: randomUUID(), event, action: typeof payload.action === 'string' ? payload.action : undefined,
      status: 'pending', attempts: 0, createdAt: new Date().toISOString(), body: JSON.stringify(payload),
    };
    this.deliveries.push(d);
    if (this.deliveries.length > MAX_KEPT) this.deliveries.splice(0, this.deliveries.length - MAX_KEPT);
    const target = this.target;
    this.chain = this.chain.then(() => this.deliver(d, target));
    return d;
  }

  /** Resolves when every queued delivery has been delivered or given up. */
  idle(): Promise<void> {
    return this.chain;
  }

  stop(): void {
    this.stopped = true;
  }

  private async deliver(d: Delivery, target: WebhookTarget): Promise<void> {
    const attempts = target.attempts ?? 8;
    let wait = target.backoffMs ?? 500;
    const repoId = (JSON.parse(d.body) as { repository?: { id?: number } }).repository?.id;
    while (d.attempts < attempts && !this.stopped) {
      d.attempts++;
      try {
        const res = await fetch(target.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'GitHub-Hookshot/standin',
            'x-github-event': d.event,
            'x-github-delivery': d.id,
            'x-github-hook-id': String(this.hookId),
            'x-github-hook-installation-target-type': 'repository',
            'x-github-hook-installation-target-id': String(repoId ?? 0),
            'x-hub-signature-256': sign(target.secret, d.body),
          },
          body: d.body,
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer().catch(() => undefined);
        d.responseStatus = res.status;
        d.error = undefined;
        if (res.status < 500) {
          // A 4xx is the listener's answer (GitHub records it and does not retry either).
          d.status = res.ok ? 'delivered' : 'failed';
          if (!res.ok) d.error = `the listener answered ${res.status}`;
          return;
        }
        d.error = `the listener answered ${res.status}`;
      } catch (e) {
        d.responseStatus = undefined;
        d.error = (e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message;
      }
      if (d.attempts < attempts && !this.stopped) {
        await new Promise((r) => setTimeout(r, wait).unref());
        wait = Math.min(wait * 2, 30_000);
      }
    }
    d.status = 'failed';
  }
}
