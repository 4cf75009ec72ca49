// Spec schemas of the kinds Nexus keeps the way Backstage defines them, with no Nexus counterpart:
// AiResource (skills, rules, plugins and marketplaces for AI coding tools) and Template (scaffolder
// templates, stored now for the later actions feature). kinds.ts registers them with the others.
import { z } from 'zod';

const ref = z.string().min(1, 'must be an entity reference').max(200);
const refs = z.array(ref);

/** Backstage's AiResource: type, lifecycle and owner always; the rest per type (see backstage.ts). */
export const AiResourceSpec = z.looseObject({
  type: z.string().min(1, 'must name the AI resource type, e.g. skill or rule'),
  lifecycle: z.string().optional(),
  owner: ref.optional(),
  system: ref.optional(),
  /** skill: other AI resources it depends on. */
  dependsOn: refs.optional(),
  /** plugin: the skills it bundles. */
  skills: refs.optional(),
  /** marketplace: the plugins it offers. */
  plugins: refs.optional(),
  version: z.string().optional(),
});

const Step = z.looseObject({
  id: z.string().optional(),
  name: z.string().optional(),
  action: z.string().min(1, 'must name the action'),
  input: z.record(z.string(), z.unknown()).optional(),
  if: z.union([z.string(), z.boolean()]).optional(),
});

/** A scaffolder Template (scaffolder.backstage.io/v1beta3): kept as written, checked for its shape. */
export const TemplateSpec = z.looseObject({
  type: z.string().min(1, 'must name the type of what the template creates, e.g. service'),
  owner: ref.optional(),
  lifecycle: z.string().optional(),
  parameters: z.union([z.record(z.string(), z.unknown()), z.array(z.record(z.string(), z.unknown()))]).optional(),
  steps: z.array(Step),
  output: z.record(z.string(), z.unknown()).optional(),
});
