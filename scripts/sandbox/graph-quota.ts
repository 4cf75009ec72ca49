// Resource Graph's per-user throttling: a quota of requests per window, told on every response by
// x-ms-user-quota-remaining and x-ms-user-quota-resets-after (hh:mm:ss); over it, 429 with Retry-After.
// The sandbox keys windows by bearer token (one token is one principal).

export interface GraphQuotaOptions {
  /** Requests per window (Azure's default is 15 per 5 seconds; the sandbox's default is generous). */
  limit: number;
  windowMs: number;
}

export const DEFAULT_GRAPH_QUOTA: GraphQuotaOptions = { limit: 1000, windowMs: 5000 };

/** hh:mm:ss, rounded up to whole seconds so a client that waits that long finds a fresh window. */
export function formatResetsAfter(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(total / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
}

export class GraphQuota {
  private readonly windows = new Map<string, { start: number; used: number }>();
  private opts: GraphQuotaOptions;

  constructor(opts: Partial<GraphQuotaOptions> = {}, private readonly now: () => number = Date.now) {
    this.opts = { ...DEFAULT_GRAPH_QUOTA, ...opts };
    check(this.opts);
  }

  get options(): GraphQuotaOptions {
    return { ...this.opts };
  }

  /** Changes the quota (tests); every token starts a fresh window. */
  set(opts: Partial<GraphQuotaOptions>) {
    const next = { ...this.opts, ...opts };
    check(next);
    this.opts = next;
    this.windows.clear();
  }

  /** Counts one request of `token`: whether it may run, and the headers to answer with. */
  take(token: string): { allowed: boolean; headers: Record<string, string> } {
    const now = this.now();
    let w = this.windows.get(token);
    if (!w || now - w.start >= this.opts.windowMs) {
      w = { start: now, used: 0 };
      this.windows.set(token, w);
    }
    const resetsIn = w.start + this.opts.windowMs - now;
    const allowed = w.used < this.opts.limit;
    if (allowed) w.used++;
    const headers: Record<string, string> = {
      'x-ms-user-quota-remaining': String(this.opts.limit - w.used),
      'x-ms-user-quota-resets-after': formatResetsAfter(resetsIn),
    };
    // Retry-After of 0 would make clients retry at once (and some ignore it): at least one second.
    if (!allowed) headers['retry-after'] = String(Math.max(1, Math.ceil(resetsIn / 1000)));
    return { allowed, headers };
  }
}

function check(o: GraphQuotaOptions) {
  if (!Number.isInteger(o.limit) || o.limit < 0) throw new Error(`Resource Graph quota limit must be a whole number >= 0 (got ${o.limit})`);
  if (!(o.windowMs > 0)) throw new Error(`Resource Graph quota window must be a positive number of milliseconds (got ${o.windowMs})`);
}
