// The request and response of POST /api/v1/import (routes/import.ts).
import { z } from '@hono/zod-openapi';
import { PLACEHOLDER_LIMITS } from '../../catalog/ingestion/placeholders.ts';
import { FieldErrorSchema } from './problem.ts';

const File = z.object({
  name: z.string().min(1).max(1000).openapi({ description: 'where the file came from (path or URL): named in errors, and the source scope' }),
  content: z.string().max(5_000_000),
});

export const ImportBodySchema = z.object({
  files: z.array(File).min(1, 'at least one file').max(500),
  assets: z.array(File.extend({ content: z.string().max(PLACEHOLDER_LIMITS.maxChars) })).max(500).optional()
    .openapi({ description: 'files that placeholders ($text, $json, $yaml) read, named by the path they resolve to from the file that holds them (or their URL); not imported as catalog files' }),
}).openapi('ImportRequest');

export const ImportResultSchema = z.object({
  imported: z.array(z.object({ ref: z.string(), file: z.string(), document: z.number().int() })),
  refused: z.array(z.object({
    file: z.string(), document: z.number().int(), ref: z.string().optional(), reason: z.string(), errors: z.array(FieldErrorSchema),
  })).openapi({ description: 'documents not imported, each naming the fields at fault within the document' }),
  unresolved: z.array(z.object({
    ref: z.string(), file: z.string(), document: z.number().int(), field: z.string(), placeholder: z.string(), target: z.string(), reason: z.string(),
  })).openapi({ description: 'placeholders of imported entities that could not be resolved: the field was left empty' }),
  orphaned: z.array(z.string()),
  orphaningSkipped: z.array(z.string()).openapi({ description: 'files whose entities were not orphaned because a refused document of theirs names no entity' }),
  locations: z.array(z.string()).openapi({ description: 'Location targets that were not among the files sent' }),
}).openapi('ImportResult');

export type ImportResult = z.infer<typeof ImportResultSchema>;
