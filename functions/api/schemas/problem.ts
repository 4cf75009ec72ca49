// The problem document (RFC 9457) every error response of the API is (functions/api/problem.ts).
import { z } from '@hono/zod-openapi';

export const FieldErrorSchema = z.object({ field: z.string(), message: z.string() });

export const ProblemSchema = z
  .object({
    type: z.string(), title: z.string(), status: z.number().int(), detail: z.string().optional(),
    instance: z.string().optional(), field: z.string().optional(),
    errors: z.array(FieldErrorSchema).optional(),
  })
  // Some problems say more (an import's written and unwritten entities): extra members are allowed.
  .loose()
  .openapi('Problem');

export type ProblemBody = z.infer<typeof ProblemSchema>;
