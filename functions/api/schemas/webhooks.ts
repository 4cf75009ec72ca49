// The answer of every webhook receiver (routes/webhooks.ts).
import { z } from '@hono/zod-openapi';

export const WebhookAcceptedSchema = z.object({
  accepted: z.literal(true),
  duplicate: z.boolean().openapi({ description: 'the same delivery id was queued before; it is not queued again' }),
  deliveryId: z.string(),
}).openapi('WebhookAccepted');

export type WebhookAccepted = z.infer<typeof WebhookAcceptedSchema>;
