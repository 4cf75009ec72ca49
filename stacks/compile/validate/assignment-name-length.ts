// Azure limits policy assignment names at management group scope to 24 characters.
import { bodyField } from '../archetypes.ts';
import type { ValidationInput } from './index.ts';

export const MAX_MG_ASSIGNMENT_NAME = 24;

export function assignmentNameLength({ placed, findings }: ValidationInput): void {
  for (const pg of placed) {
    for (const a of pg.assignments) {
      if (a.name.length > MAX_MG_ASSIGNMENT_NAME) {
        findings.push({
          severity: 'error',
          code: 'assignment-name-too-long',
          file: a.item.bodyAt.file,
          path: bodyField(a.item.bodyAt, 'name'),
          message: `policy assignment name "${a.name}" has ${a.name.length} characters; at management group scope ("${pg.eg.group.id}") Azure allows ${MAX_MG_ASSIGNMENT_NAME}`,
        });
      }
    }
  }
}
