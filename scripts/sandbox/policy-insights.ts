import { ArmError } from './errors.ts';
import type { Tenant } from './tenant.ts';
export function isPolicyInsightsPath(path: string) {
  return /\/providers\/Microsoft\.PolicyInsights\/policyStates\//i.test(path);
}
export function handlePolicyInsights(_t: Tenant, _m: string, _p: string, _q: URLSearchParams, _b: string): { status: number; body?: unknown } {
  throw new ArmError(400, 'BadRequest', 'Policy Insights is not implemented yet in the sandbox.');
}
