// The Log Analytics query client (@azure/monitor-query-logs) for the Activity Log signal: the same
// credential as ARM (the managed identity in Azure, the sandbox's token locally) and the ARM CA file,
// so the sandbox's self-signed certificate is trusted for this client only.
import { LogsQueryClient } from '@azure/monitor-query-logs';
import { armCredential, tlsOptions, type ArmConfig } from './arm.ts';

/**
 * `endpoint` is the query API up to its version (https://api.loganalytics.io/v1; the sandbox's
 * `<url>/v1`): the client uses it as given. The token audience is the endpoint's origin, which is
 * Log Analytics' own in every cloud (the sandbox accepts its token for any audience).
 */
export function logsQueryClient(arm: ArmConfig, endpoint: string): LogsQueryClient {
  let origin: string;
  try {
    const url = new URL(endpoint);
    if (url.protocol !== 'https:') throw new Error('not https');
    origin = url.origin;
  } catch {
    throw new Error(`the Log Analytics endpoint '${endpoint}' must be an https URL (NEXUS_LOG_ANALYTICS_ENDPOINT)`);
  }
  return new LogsQueryClient(armCredential(arm), {
    endpoint: endpoint.replace(/\/+$/, ''),
    credentials: { scopes: [`${origin}/.default`] },
    tlsOptions: tlsOptions(arm),
    retryOptions: { maxRetries: 3 },
  });
}
