import { z } from 'zod';
import { DATATYPES } from '../../core/index.js';

const parameters = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

/** One input tensor of an OIP v2 REST request; `data` is checked against the datatype later. */
export const requestInputSchema = z.object({
  name: z.string().min(1),
  shape: z.array(z.int().min(0)),
  datatype: z.enum(DATATYPES, { error: `must be one of ${DATATYPES.join(', ')}` }),
  parameters: parameters.optional(),
  data: z.unknown().optional(),
});

/** The JSON body (or JSON header, with the binary extension) of `POST …/infer`. */
export const inferRequestSchema = z.object({
  id: z.string().optional(),
  parameters: parameters.optional(),
  inputs: z.array(requestInputSchema).min(1, 'at least one input is required'),
  outputs: z.array(z.object({ name: z.string().min(1), parameters: parameters.optional() })).optional(),
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
