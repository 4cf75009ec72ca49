// Incidents from three alerting tools into Incident entities: Azure Monitor (common alert schema),
// PagerDuty (v3 webhooks) and Opsgenie (alert webhooks). Severity and status are normalised to the
// catalog's scale; each incident `affects` the resources or services the tool names.
import { refKey, toEntityName } from '../refs.ts';
import { azureResourceRef } from '../azure-ids.ts';
import type { SourceInfo } from '../kinds.ts';
import type { CatalogService } from '../service.ts';
import type { IngestOutcome } from './github.ts';

type Obj = Record<string, any>;
type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';

export interface IncidentDelivery {
  source: 'azure-monitor' | 'pagerduty' | 'opsgenie';
  deliveryId: string;
  payload: unknown;
}

const PRIORITY: Record<string, Severity> = { p1: 'critical', p2: 'high', p3: 'medium', p4: 'low', p5: 'info' };
const AZURE_SEV: Record<string, Severity> = { sev0: 'critical', sev1: 'high', sev2: 'medium', sev3: 'low', sev4: 'info' };

function iso(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number') {
    // Opsgenie sends milliseconds for createdAt and nanoseconds for updatedAt.
    const ms = v > 1e15 ? v / 1e6 : v < 1e11 ? v * 1000 : v;
    return new Date(ms).toISOString();
  }
  const t = Date.parse(String(v));
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

interface Normalised {
  id: string;
  severity: Severity;
  status: 'open' | 'acknowledged' | 'resolved';
  opened: string;
  resolved?: string;
  title?: string;
  url?: string;
  affects: string[];
  owner?: string;
  tags?: string[];
}

export function normaliseIncident(source: IncidentDelivery['source'], payload: unknown, now = new Date()): Normalised {
  const p = payload as Obj;
  if (source === 'azure-monitor') {
    const e = p?.data?.essentials as Obj | undefined;
    if (p?.schemaId !== 'azureMonitorCommonAlertSchema' || !e) throw new Error('azure-monitor: not the common alert schema (schemaId azureMonitorCommonAlertSchema, data.essentials)');
    const resolved = e.monitorCondition === 'Resolved';
    return {
      id: String(e.alertId).split('/').pop()!,
      severity: AZURE_SEV[String(e.severity).toLowerCase()] ?? 'medium',
      status: resolved ? 'resolved' : p.data.alertContext?.alertState === 'Acknowledged' ? 'acknowledged' : 'open',
      opened: iso(e.firedDateTime) ?? now.toISOString(),
      resolved: resolved ? iso(e.resolvedDateTime) ?? now.toISOString() : undefined,
      title: e.alertRule ? `${e.alertRule}${e.description ? `: ${e.description}` : ''}` : e.description,
      affects: ((e.alertTargetIDs ?? []) as string[]).map(azureResourceRef),
    };
  }
  if (source === 'pagerduty') {
    const ev = p?.event as Obj | undefined;
    const inc = ev?.data as Obj | undefined;
    if (!ev || !inc || inc.type !== 'incident') throw new Error('pagerduty: not a v3 incident webhook (event.data.type incident)');
    const status = inc.status === 'resolved' ? 'resolved' : inc.status === 'acknowledged' ? 'acknowledged' : 'open';
    const priority = PRIORITY[String(inc.priority?.summary ?? '').toLowerCase()];
    return {
      id: String(inc.id),
      severity: priority ?? (inc.urgency === 'high' ? 'high' : 'low'),
      status,
      opened: iso(inc.created_at) ?? iso(ev.occurred_at) ?? now.toISOString(),
      resolved: status === 'resolved' ? iso(ev.occurred_at) ?? now.toISOString() : undefined,
      title: inc.title,
      url: inc.html_url,
      affects: inc.service?.summary ? [refKey({ kind: 'service', namespace: 'default', name: toEntityName(String(inc.service.summary)) })] : [],
      owner: inc.teams?.[0]?.summary ? refKey({ kind: 'team', namespace: 'default', name: toEntityName(String(inc.teams[0].summary)) }) : undefined,
    };
  }
  const a = p?.alert as Obj | undefined;
  if (!a?.alertId || !p?.action) throw new Error('opsgenie: not an alert webhook (action, alert.alertId)');
  const action = String(p.action).toLowerCase();
  const status = action === 'close' || a.status === 'closed' ? 'resolved' : action === 'acknowledge' || a.acknowledged === true ? 'acknowledged' : 'open';
  const services = [a.entity, ...((a.tags ?? []) as string[]).filter((t) => /^service:/i.test(t)).map((t) => t.slice(8))]
    .filter((s): s is string => typeof s === 'string' && !!s.trim());
  return {
    id: String(a.alertId),
    severity: PRIORITY[String(a.priority ?? 'P3').toLowerCase()] ?? 'medium',
    status,
    opened: iso(a.createdAt) ?? now.toISOString(),
    resolved: status === 'resolved' ? iso(a.updatedAt) ?? now.toISOString() : undefined,
    title: a.message,
    affects: services.map((s) => refKey({ kind: 'service', namespace: 'default', name: toEntityName(s) })),
    owner: a.team ? refKey({ kind: 'team', namespace: 'default', name: toEntityName(String(a.team)) }) : undefined,
    tags: ((a.tags ?? []) as string[]).map((t) => t.toLowerCase().replace(/[^a-z0-9:+#]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63)).filter(Boolean),
  };
}

export async function handleIncident(catalog: CatalogService, d: IncidentDelivery): Promise<IngestOutcome> {
  const n = normaliseIncident(d.source, d.payload);
  const name = toEntityName(`${d.source}-${n.id}`);
  const source: SourceInfo = { name: 'incidents', scope: d.source, ref: d.deliveryId };
  await catalog.upsert({
    apiVersion: 'nexus/v1', kind: 'Incident',
    metadata: { name, namespace: 'default', title: n.title?.slice(0, 200), ...(n.tags?.length ? { tags: n.tags } : {}) },
    spec: {
      severity: n.severity, status: n.status, opened: n.opened, ...(n.resolved ? { resolved: n.resolved } : {}),
      provider: d.source, ...(n.url ? { url: n.url } : {}), ...(n.title ? { summary: n.title } : {}),
      affects: n.affects, ...(n.owner ? { owner: n.owner } : {}),
    },
  }, source, { mode: 'merge' });
  return { upserted: [refKey({ kind: 'incident', namespace: 'default', name })], orphaned: [], skipped: [] };
}
