// Resource Graph's throttling, honoured by every query Nexus runs: the quota each response tells
// (x-ms-user-quota-remaining, x-ms-user-quota-resets-after) and 429 with Retry-After.
const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resource Graph's hh:mm:ss (optionally d.hh:mm:ss and fractions) as milliseconds; undefined when unreadable. */
export function parseResetsAfter(v: string | undefined): number | undefined {
  const m = v ? /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(v.trim()) : null;
  if (!m) return undefined;
  return (((Number(m[1] ?? 0) * 24 + Number(m[2])) * 60 + Number(m[3])) * 60 + Number(m[4])) * 1000;
}

/** The quota as the last response told it; `beforeRequest` waits for the reset when nothing is left. */
export class GraphThrottle {
  private waitMs = 0;
  constructor(private readonly sleep: (ms: number) => Promise<void> = defaultSleep) {}

  observe(headers: { get(name: string): string | undefined | null } | undefined) {
    const remaining = Number(headers?.get('x-ms-user-quota-remaining') ?? NaN);
    const reset = parseResetsAfter(headers?.get('x-ms-user-quota-resets-after') ?? undefined);
    this.waitMs = remaining <= 0 && reset !== undefined ? reset : 0;
  }

  async beforeRequest() {
    if (this.waitMs <= 0) return;
    const ms = this.waitMs;
    this.waitMs = 0;
    await this.sleep(ms);
  }

  /**
   * One request, after any wait the quota asks for; a 429 waits Retry-After and tries again (a few
   * times). ms-rest-js's own throttling policy never sees the 429: its deserialization policy, below
   * it in the pipeline, has already turned the response into a thrown RestError.
   */
  async send<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await this.beforeRequest();
      try {
        return await call();
      } catch (e) {
        const err = e as { statusCode?: number; response?: { headers?: { get(n: string): string | undefined | null } } };
        const headers = err.response?.headers;
        const retryAfter = Number(headers?.get('retry-after') ?? NaN);
        if (err.statusCode !== 429 || attempt >= MAX_THROTTLED_RETRIES) throw e;
        this.observe(headers);
        this.waitMs = Math.max(this.waitMs, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 1000);
      }
    }
  }
}

const MAX_THROTTLED_RETRIES = 3;
