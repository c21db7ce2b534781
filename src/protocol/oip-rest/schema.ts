import { z } from 'zod';
import { DATATYPES } from '../../core/index.js';

/**
 * Bounds on the JSON header of a request, checked before zod reads its elements: a parameters
 * object of 1M keys took zod 8 s to read (a union per value), 1M `outputs` entries 0.9 s, a shape
 * of 4M dimensions 1.2 s. Far beyond what any model or client uses.
 */
export const HEADER_LIMITS = {
  /** Inputs or outputs named in one request. */
  tensors: 1024,
  /** Dimensions of one shape. */
  rank: 32,
  /** Keys of one `parameters` object (Triton's and KServe's use a handful). */
  parameters: 128,
} as const;

/** True when an object has more than `max` keys; stops counting there. */
function moreKeysThan(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  let n = 0;
  for (const key in value) if (Object.hasOwn(value, key) && ++n > max) return true;
  return false;
}

const parameters = z.preprocess(
  (value, ctx) => {
    if (!moreKeysThan(value, HEADER_LIMITS.parameters)) return value;
    ctx.addIssue({ code: 'custom', message: `at most ${HEADER_LIMITS.parameters} parameters` });
    return {};
  },
  z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
);

const shape = z.array(z.int().min(0)).max(HEADER_LIMITS.rank, `at most ${HEADER_LIMITS.rank} dimensions`);

/** One input tensor of an OIP v2 REST request; `data` is checked against the datatype later. */
export const requestInputSchema = z.object({
  name: z.string().min(1),
  shape,
  datatype: z.enum(DATATYPES, { error: `must be one of ${DATATYPES.join(', ')}` }),
  parameters: parameters.optional(),
  data: z.unknown().optional(),
});

/** The JSON body (or JSON header, with the binary extension) of `POST …/infer`. */
export const inferRequestSchema = z.object({
  id: z.string().optional(),
  parameters: parameters.optional(),
  inputs: z
    .array(requestInputSchema)
    .min(1, 'at least one input is required')
    .max(HEADER_LIMITS.tensors, `at most ${HEADER_LIMITS.tensors} inputs`),
  outputs: z
    .array(z.object({ name: z.string().min(1), parameters: parameters.optional() }))
    .max(HEADER_LIMITS.tensors, `at most ${HEADER_LIMITS.tensors} outputs`)
    .optional(),
});

export type InferRequestBody = z.output<typeof inferRequestSchema>;

const responseOutputSchema = z.object({
  name: z.string(),
  shape: z.array(z.int().min(0)),
  datatype: z.enum(DATATYPES),
  parameters: parameters.optional(),
  data: z.unknown().optional(),
});

/** The JSON body (or JSON header) of an inference response. */
export const inferResponseSchema = z.object({
  model_name: z.string(),
  model_version: z.string().optional(),
  id: z.string().optional(),
  parameters: parameters.optional(),
  outputs: z.array(responseOutputSchema),
});
