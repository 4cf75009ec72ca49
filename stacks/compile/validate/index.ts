// Validation rules that look at the placed hierarchy as a whole; each rule lives in its own file.
import type { Hierarchy } from '../hierarchy.ts';
import type { Library } from '../library/types.ts';
import type { Finding } from '../model.ts';
import type { PlacedGroup } from '../placeholders.ts';
import type { DefinitionIndex } from '../policy-model.ts';
import { assignmentNameLength } from './assignment-name-length.ts';
import { hierarchyConflicts } from './hierarchy-conflicts.ts';
import { lifecycle } from './lifecycle.ts';
import { parameters } from './parameters.ts';
import { resourceTypes } from './resource-types.ts';

export interface ValidationInput {
  library: Library;
  hierarchy: Hierarchy;
  placed: PlacedGroup[];
  index: DefinitionIndex;
  findings: Finding[];
}

export type Rule = (input: ValidationInput) => void;

const RULES: Rule[] = [assignmentNameLength, parameters, lifecycle, hierarchyConflicts, resourceTypes];

export function runValidation(input: ValidationInput): void {
  for (const rule of RULES) rule(input);
}
