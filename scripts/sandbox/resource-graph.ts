import { ArmError } from './errors.ts';
import type { Tenant } from './tenant.ts';
export function handleResourceGraph(_t: Tenant, _body: unknown): { status: number; body?: unknown } {
  throw new ArmError(400, 'BadRequest', 'Resource Graph is not implemented yet in the sandbox.');
}
