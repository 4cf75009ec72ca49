// The inbox's handlers: which ingestion processes deliveries from which webhook source.
// The server wires them: `inbox.pump(catalogHandlers({ catalog, github }))`.
import type { DeliveryHandler } from './inbox.ts';
import type { CatalogService } from './service.ts';
import { handleGitHubEvent, type GitHubContentPort } from './ingestion/github.ts';
import { handleAzureDevOpsEvent } from './ingestion/azure-devops.ts';
import { handleIncident } from './ingestion/incidents.ts';

export function catalogHandlers(deps: { catalog: CatalogService; github?: GitHubContentPort; trustedRepos?: readonly string[] }): Record<string, DeliveryHandler> {
  const { catalog } = deps;
  return {
    github: (d) => handleGitHubEvent({ catalog, github: deps.github, trustedRepos: deps.trustedRepos }, d),
    'azure-devops': (d) => handleAzureDevOpsEvent(catalog, d),
    'azure-monitor': (d) => handleIncident(catalog, { source: 'azure-monitor', deliveryId: d.deliveryId, payload: d.payload }),
    pagerduty: (d) => handleIncident(catalog, { source: 'pagerduty', deliveryId: d.deliveryId, payload: d.payload }),
    opsgenie: (d) => handleIncident(catalog, { source: 'opsgenie', deliveryId: d.deliveryId, payload: d.payload }),
  };
}
