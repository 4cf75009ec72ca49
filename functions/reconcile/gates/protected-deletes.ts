// Which deletes always need a second person. Shared by the blast-radius gate (which holds them)
// and the approvals gate (which asks for the approval), so neither imports the other.
import type { ResourceChange } from '../../../stacks/engine/changeset.ts';
import { changeKind, changeTargets, isDeleteOp } from '../scope.ts';

/** Deletes that always need a second person: management groups, role assignments at MG scope. */
export function protectedDeletes(changes: ResourceChange[]): ResourceChange[] {
  return changes.filter((c) => {
    if (!isDeleteOp(c.op)) return false;
    const kind = changeKind(c);
    if (kind === 'managementGroups') return true;
    if (kind !== 'roleAssignments') return false;
    const scopeTargets = c.scope !== undefined ? changeTargets({ scope: c.scope }) : changeTargets({ armId: c.armId });
    // Unknown scope: treat as protected (fail closed).
    return !scopeTargets || scopeTargets.some((t) => t.level === 'managementGroup' || t.level === 'tenant');
  });
}
