import { InvalidRequestError, type Parameters } from '../../core/index.js';
import type { InferParameterMessage, ParameterMapMessage } from './messages.js';

const CHOICES = ['bool_param', 'int64_param', 'string_param', 'double_param', 'uint64_param'] as const;

type Choice = (typeof CHOICES)[number];

/** The member of the oneof that is set: `parameter_choice` when the loader names it, else the first present. */
function choiceOf(p: InferParameterMessage): Choice | undefined {
  const named = p.parameter_choice;
  if (named !== undefined && (CHOICES as readonly string[]).includes(named)) return named as Choice;
  return CHOICES.find((c) => p[c] !== undefined && p[c] !== null);
}

/**
 * A parameter map as core `Parameters`; undefined when empty. int64 and uint64 values become
 * numbers (parameters are small hints such as `priority` or `timeout`, not tensor data).
 */
export function parametersFromMessage(
  map: ParameterMapMessage | undefined,
  field: string,
): Parameters | undefined {
  if (!map) return undefined;
  const entries = Object.entries(map);
  if (entries.length === 0) return undefined;
  const out: Record<string, string | number | boolean> = {};
  for (const [key, p] of entries) {
    const choice = choiceOf(p);
    if (choice === undefined) {
      throw new InvalidRequestError(
        'FLT_INVALID_FIELD',
        `${field}[${JSON.stringify(key)}]: has no value (set one of ${CHOICES.join(', ')})`,
      );
    }
    const v = p[choice]!;
    out[key] = choice === 'int64_param' || choice === 'uint64_param' ? Number(v) : v;
  }
  return out;
}

/** Core `Parameters` as a parameter map: integers as int64_param, other numbers as double_param. */
export function parametersToMessage(params: Parameters | undefined): Record<string, InferParameterMessage> {
  const out: Record<string, InferParameterMessage> = {};
  for (const [key, v] of Object.entries(params ?? {})) {
    if (typeof v === 'boolean') out[key] = { bool_param: v };
    else if (typeof v === 'string') out[key] = { string_param: v };
    else if (Number.isSafeInteger(v)) out[key] = { int64_param: v };
    else out[key] = { double_param: v };
  }
  return out;
}
