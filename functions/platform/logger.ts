// Structured logs (pino). Reconcile runs log through `runLogger`, which puts the run id and the
// stack on every line. Secrets never reach the output: known secret fields are redacted.
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Field paths that may hold secrets anywhere in a log object (one and two levels deep). */
export const REDACT_PATHS = [
  'authorization', 'token', 'accessToken', 'password', 'secret', 'clientSecret', 'connectionString', 'key', 'accountKey', 'env',
  '*.authorization', '*.token', '*.accessToken', '*.password', '*.secret', '*.clientSecret', '*.connectionString', '*.key', '*.accountKey', '*.env',
  'headers.authorization', 'req.headers.authorization', 'req.headers.cookie',
];

/** Values that look like credentials are masked even inside free text. */
const SECRET_TEXT: [RegExp, string][] = [
  [/(AccountKey=)[^;"\s]+/gi, '$1[Redacted]'],
  [/(SharedAccessSignature=)[^;"\s]+/gi, '$1[Redacted]'],
  [/\b(sig=)[^&"\s]+/gi, '$1[Redacted]'],
  [/(Bearer\s+)[A-Za-z0-9._~+/-]+=*/g, '$1[Redacted]'],
  [/\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+/g, '[Redacted]'],
];

export function maskSecrets(text: string): string {
  return SECRET_TEXT.reduce((t, [re, to]) => t.replace(re, to), text);
}

export interface LoggerOptions {
  level?: string;
  /** Where lines go; default stdout. Tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino({
    level: opts.level ?? 'info',
    base: { svc: 'nexus' },
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
    hooks: {
      // Free-text messages can carry a connection string or token in an error; mask them.
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? maskSecrets(a) : a)) as Parameters<typeof method>);
      },
    },
    formatters: { level: (label) => ({ level: label }) },
  }, opts.destination);
}

/** A child logger whose every line carries the run id and the stack. */
export function runLogger(runId: string, stack: string, base: Logger): Logger {
  return base.child({ runId, stack });
}
