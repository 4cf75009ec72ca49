// What GitOps did with each delivery of the landing-zone repository (routes/gitops.ts).
import { z } from '@hono/zod-openapi';

export const GitOpsEventSchema = z.object({
  deliveryId: z.string(), kind: z.string(), repo: z.string(), ref: z.string().optional(), commit: z.string().optional(),
  outcome: z.enum(['queued', 'no-change', 'ignored', 'refused', 'previewed', 'recorded']),
  reason: z.string().optional().openapi({ description: 'UNKNOWN_REPOSITORY, UNTRACKED_BRANCH, FORCE_PUSH, BRANCH_DELETED, COMPILE_FAILED, ...' }),
  message: z.string(), stacks: z.array(z.string()).optional(), at: z.string(),
}).openapi('GitOpsEvent');

export const GitOpsEventListSchema = z.object({ events: z.array(GitOpsEventSchema) }).openapi('GitOpsEventList');
