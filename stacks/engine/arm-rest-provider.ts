// The `arm-rest` resource backend: each DesiredState resource becomes a Pulumi dynamic resource
// whose provider does the ARM REST calls (PUT, GET, DELETE) against NEXUS_ARM_ENDPOINT. It lets
// the same DesiredState run through the real engine against the local ARM sandbox.
//
// The provider is serialised into the state by Pulumi and runs in its own Node process (started
// by the `pulumi-resource-pulumi-nodejs` launcher), so everything it uses lives inside
// `makeArmRestProvider` and touches only globals (fetch, process.env, setTimeout) and the plain
// replace table it is given. Endpoint and token come from that process's environment at call time:
// they are never written to the state. What azure-native does (API version, which changes replace)
// is read from @pulumi/azure-native here, in the program's process (azure-native-metadata.ts).
import * as pulumi from '@pulumi/pulumi';
import type * as dynamic from '@pulumi/pulumi/dynamic/index.js';
import { Resource as DynamicResource } from '@pulumi/pulumi/dynamic/index.js';
import type { DesiredKind, DesiredResource, DesiredState } from '../compile/model.ts';
import { ARM_CLASSES, azureNativeToken, azureNativeTypes, readAzureNativeType, replacePaths } from './azure-native-metadata.ts';

/** What a dynamic ARM resource keeps as inputs and outputs. */
export interface ArmRestProps {
  armId: string;
  armType: string;
  apiVersion: string;
  body: Record<string, unknown>;
}

export interface ArmRestOutputs extends ArmRestProps {
  /** The live managed identity (with the principalId ARM assigned), when the resource has one. */
  identity?: Record<string, unknown>;
}

/** Body paths whose change replaces the resource, by lower-cased `armType` (plain data: it is serialised with the provider). */
export type ReplaceOnChange = Record<string, string[]>;

/**
 * The provider. `replaceOnChange` comes from azure-native (see ARM_REPLACE) so a change that
 * azure-native would answer with a replacement is a replacement here too; a new ARM id always is.
 */
export function makeArmRestProvider(replaceOnChange: ReplaceOnChange): dynamic.ResourceProvider {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);

  // ARM ids are case-insensitive; everything else compares exactly.
  const isArmId = (s: string) => /^\/(subscriptions|providers)\//i.test(s);
  const same = (a: unknown, b: unknown): boolean => {
    if (typeof a === 'string' && typeof b === 'string') return a === b || (isArmId(a) && a.toLowerCase() === b.toLowerCase());
    if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
    if (isObject(a) && isObject(b)) {
      const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
      for (const k of keys) if (!same(a[k], b[k])) return false;
      return true;
    }
    return a === b;
  };

  // The live body seen through the shape of the desired one: fields ARM adds on its own
  // (createdOn, principalId, ...) are not drift; desired fields that are gone or changed are.
  const project = (live: unknown, desired: unknown): unknown => {
    if (!isObject(live) || !isObject(desired)) return live;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(desired)) if (k in live) out[k] = project(live[k], desired[k]);
    return out;
  };

  const at = (obj: unknown, path: string): unknown =>
    path.split('.').reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), obj);

  const endpoint = () => {
    const url = process.env.NEXUS_ARM_ENDPOINT;
    if (!url) throw new Error('NEXUS_ARM_ENDPOINT is not set: the arm-rest resource backend needs an ARM endpoint');
    return url.replace(/\/+$/, '');
  };
  const headers = (): Record<string, string> => {
    const token = process.env.NEXUS_ARM_TOKEN;
    if (!token) throw new Error('NEXUS_ARM_TOKEN is not set: the arm-rest resource backend needs a bearer token');
    return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  };

  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(url, { method, headers: headers(), body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json: any;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = text; }
    return { status: res.status, body: json, headers: res.headers };
  };
  const fail = (method: string, id: string, r: { status: number; body: any }): never => {
    const e = r.body?.error;
    throw new Error(`ARM ${method} ${id} failed with ${r.status}${e ? `: ${e.code}: ${e.message}` : ''}`);
  };

  // ARM answers long-running PUT and DELETE with 201/202 and an operation to poll.
  const settle = async (method: string, id: string, r: { status: number; body: any; headers: Headers }) => {
    const op = r.headers.get('azure-asyncoperation') ?? (r.status === 202 ? r.headers.get('location') : null);
    if (!op || (r.status !== 201 && r.status !== 202)) return r;
    for (let i = 0; i < 600; i++) {
      await new Promise((ok) => setTimeout(ok, Math.min(1000 * Number(r.headers.get('retry-after') ?? 1), 5000)));
      const p = await call('GET', op);
      const status = String(p.body?.status ?? '').toLowerCase();
      if (p.status >= 400) fail(method, id, p);
      if (status === 'failed' || status === 'canceled') fail(method, id, { status: p.status, body: p.body });
      if (p.status === 200 && (status === 'succeeded' || status === '')) return r;
    }
    throw new Error(`ARM ${method} ${id}: the operation did not finish in time`);
  };

  const url = (p: ArmRestProps) => `${endpoint()}${p.armId}?api-version=${encodeURIComponent(p.apiVersion)}`;

  // Values ARM makes up (a managed identity's principalId) are kept as the `identity` output, so
  // other resources can refer to them; the body stays the desired one.
  const put = async (p: ArmRestProps) => {
    let r = await settle('PUT', p.armId, await call('PUT', url(p), p.body));
    if (r.status >= 300) fail('PUT', p.armId, r);
    if (!isObject(r.body) || !('id' in r.body)) r = await call('GET', url(p));
    const outs: ArmRestOutputs = { armId: p.armId, armType: p.armType, apiVersion: p.apiVersion, body: p.body };
    if (isObject(r.body) && isObject(r.body.identity)) outs.identity = r.body.identity;
    return outs;
  };

  return {
    async diff(_id: string, olds: ArmRestProps, news: ArmRestProps) {
      const replaces: string[] = [];
      if (!same(olds.armId, news.armId)) replaces.push('armId');
      const type = String(news.armType).toLowerCase();
      for (const path of Object.hasOwn(replaceOnChange, type) ? replaceOnChange[type]! : []) {
        if (!same(at(olds.body, path), at(news.body, path))) replaces.push(`body.${path}`);
      }
      const changes = replaces.length > 0 || !same(olds.body, news.body);
      return { changes, replaces, deleteBeforeReplace: replaces.length > 0 };
    },
    async create(inputs: ArmRestProps) {
      return { id: inputs.armId, outs: await put(inputs) };
    },
    async update(_id: string, _olds: ArmRestProps, news: ArmRestProps) {
      return { outs: await put(news) };
    },
    async read(id: string, props: ArmRestProps) {
      const r = await call('GET', url({ ...props, armId: props.armId ?? id }));
      // Gone from ARM: an empty id tells the engine the resource no longer exists.
      if (r.status === 404) return { id: '', props: {} };
      if (r.status >= 300) fail('GET', id, r);
      const inputs: ArmRestProps = {
        armId: props.armId, armType: props.armType, apiVersion: props.apiVersion,
        body: project(r.body, props.body) as Record<string, unknown>,
      };
      const live: ArmRestOutputs = { ...inputs };
      if (isObject(r.body) && isObject(r.body.identity)) live.identity = r.body.identity;
      // Inputs follow the live state so a later diff (and its ChangeSet) compares desired to live.
      return { id, props: live, inputs };
    },
    async delete(_id: string, props: ArmRestProps) {
      const r = await settle('DELETE', props.armId, await call('DELETE', url(props)));
      if (r.status >= 300 && r.status !== 404) fail('DELETE', props.armId, r);
    },
  };
}

/**
 * Replace paths of the ARM types the compiler emits, read from azure-native once at import. The
 * provider built on it is shared by every program of the process, so Pulumi serialises it once.
 * (fromEntries defines own properties only; the provider reads them with Object.hasOwn.)
 */
const ARM_REPLACE: ReplaceOnChange = Object.fromEntries(
  [...ARM_CLASSES].map(([armType, token]) => [armType, replacePaths(readAzureNativeType(token), true)]),
);

/** The provider for the compiler's ARM types. */
export const armRestProvider = makeArmRestProvider(ARM_REPLACE);

/**
 * The provider for these resources: the shared one, unless some are archetype `resource`s (any
 * azure-native type), whose replace paths are added in a provider of their own.
 */
export function providerFor(resources: DesiredResource[], types = azureNativeTypes()): dynamic.ResourceProvider {
  const extra = resources.filter((r) => r.kind === 'resource');
  if (extra.length === 0) return armRestProvider;
  return makeArmRestProvider({
    ...ARM_REPLACE,
    ...Object.fromEntries(extra.map((r) => [r.type.toLowerCase(), replacePaths(types(r.type), false)])),
  });
}

/** The REST API version the backend calls for a resource: azure-native's for its class. */
export function apiVersionFor(r: DesiredResource, types = azureNativeTypes()): string {
  return types(azureNativeToken(r.kind, r.type)).apiVersion;
}

/** Pulumi type names per DesiredState kind: `pulumi-nodejs:dynamic/arm:<Type>`. */
const TYPE_NAMES: Record<DesiredKind, string> = {
  managementGroup: 'ManagementGroup',
  subscriptionPlacement: 'SubscriptionPlacement',
  policyDefinition: 'PolicyDefinition',
  policySetDefinition: 'PolicySetDefinition',
  roleDefinition: 'RoleDefinition',
  policyAssignment: 'PolicyAssignment',
  policyExemption: 'PolicyExemption',
  roleAssignment: 'RoleAssignment',
  resource: 'Resource',
};

export const ARM_REST_MODULE = 'arm';

export function armRestTypeToken(kind: DesiredKind): string {
  return `pulumi-nodejs:dynamic/${ARM_REST_MODULE}:${TYPE_NAMES[kind]}`;
}

export class ArmRestResource extends DynamicResource {
  declare readonly armId: pulumi.Output<string>;
  declare readonly body: pulumi.Output<Record<string, unknown>>;
  declare readonly identity: pulumi.Output<Record<string, unknown> | undefined>;
  constructor(
    provider: dynamic.ResourceProvider, r: DesiredResource, apiVersion: string,
    body: pulumi.Input<Record<string, unknown>>, opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      provider, r.id,
      { armId: r.id, armType: r.type, apiVersion, body, identity: undefined },
      opts, ARM_REST_MODULE, TYPE_NAMES[r.kind],
    );
  }

  /** An output by ARM path (`identity.principalId`, `id`, `properties.x`). */
  output(path: string): pulumi.Output<unknown> {
    return pulumi.all([this.armId, this.body, this.identity]).apply(([id, body, identity]) =>
      path.split('.').reduce<any>((o, k) => (o == null ? undefined : o[k]), { ...body, id, identity: identity ?? body?.identity }),
    );
  }
}

/** A value the engine fills in from another resource's outputs (the compiler writes these). */
export interface OutputRef { $ref: string; output: string }

const isRef = (v: unknown): v is OutputRef =>
  typeof v === 'object' && v !== null && typeof (v as OutputRef).$ref === 'string' && typeof (v as OutputRef).output === 'string';

export function refsIn(v: unknown): OutputRef[] {
  if (isRef(v)) return [v];
  if (Array.isArray(v)) return v.flatMap(refsIn);
  if (typeof v === 'object' && v !== null) return Object.values(v).flatMap(refsIn);
  return [];
}

/** The body with every `{ $ref, output }` replaced by that output of the resource it names. */
export function resolveRefs(v: unknown, lookup: (ref: OutputRef) => pulumi.Output<unknown>): any {
  if (isRef(v)) return lookup(v);
  if (Array.isArray(v)) return v.map((x) => resolveRefs(x, lookup));
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveRefs(x, lookup)]));
  return v;
}

/** Resources of one stack, in the order the compiler gave them. */
export function stackResources(state: DesiredState, stack: string): DesiredResource[] {
  const plan = state.stacks.find((s) => s.name === stack);
  if (!plan) throw new Error(`stack ${stack} is not in the DesiredState (stacks: ${state.stacks.map((s) => s.name).join(', ') || 'none'})`);
  const byId = new Map(state.resources.map((r) => [r.id, r]));
  return plan.resourceIds.map((id) => {
    const r = byId.get(id);
    if (!r) throw new Error(`stack ${stack} lists resource ${id}, which is not in the DesiredState`);
    return r;
  });
}

/**
 * The inline program for the arm-rest backend: one dynamic resource per DesiredState resource,
 * named by its ARM id, depending on the resources it needs that live in the same stack
 * (resources of other stacks are deployed by those stacks).
 */
export function armRestProgram(state: DesiredState, stack: string): () => Promise<Record<string, unknown>> {
  return async () => {
    const resources = stackResources(state, stack);
    const types = azureNativeTypes();
    const provider = providerFor(resources, types);
    const inStack = new Map(resources.map((r) => [r.id, r]));
    const created = new Map<string, ArmRestResource>();
    // Depth-first so a dependency is registered before its dependents whatever the list order.
    const register = (r: DesiredResource, path: string[] = []): ArmRestResource => {
      const done = created.get(r.id);
      if (done) return done;
      if (path.includes(r.id)) throw new Error(`dependency cycle in stack ${stack}: ${[...path, r.id].join(' -> ')}`);
      // ARM refuses a resource whose scope does not exist yet, so the scope (when this stack
      // deploys it) is a dependency even where the desired state does not list it.
      const needs = [...new Set([...r.dependsOn, ...refsIn(r.body).map((x) => x.$ref), ...(r.scope && r.scope !== r.id ? [r.scope] : [])])];
      const dependsOn = needs.flatMap((id) => {
        const dep = inStack.get(id);
        return dep ? [register(dep, [...path, r.id])] : [];
      });
      const body = resolveRefs(r.body, (ref) => {
        const target = created.get(ref.$ref);
        if (!target) {
          throw new Error(`${r.id} (stack ${stack}) refers to ${ref.output} of ${ref.$ref}, which is not in the same stack`);
        }
        return target.output(ref.output);
      });
      const res = new ArmRestResource(provider, r, apiVersionFor(r, types), body, { dependsOn });
      created.set(r.id, res);
      return res;
    };
    for (const r of resources) register(r);
    return { resourceCount: created.size };
  };
}
