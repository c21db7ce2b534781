import {
  type InferRequest,
  type InferResponse,
  InvalidRequestError,
  previewJson,
  type Tensor,
  type TensorSpec,
} from '../../core/index.js';
import { type CheckInputs, parseJsonBody } from '../oip-rest/index.js';
import {
  concatData,
  denseData,
  denseShape,
  elementTexts,
  isNamedObject,
  isUtf8,
  nestedJson,
} from '../tfserving/index.js';

/** What the Paddle codec needs to know of a model: requests carry no datatypes or shapes. */
export interface PaddleModel {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

function bad(field: string, message: string): InvalidRequestError {
  return new InvalidRequestError('FLT_INVALID_FIELD', `${field}: ${message}`);
}

const fmt = (shape: readonly number[]): string => `[${shape.join(',')}]`;
const names = (specs: readonly TensorSpec[]): string => specs.map((s) => s.name).join(', ');

/** Whether a model shape (-1 for any size) takes a concrete shape. */
function fits(model: readonly number[], actual: readonly number[]): boolean {
  return model.length === actual.length && model.every((d, i) => d === -1 || d === actual[i]);
}

/**
 * A feed value's shape with its batch dimension: as sent when it already fits the model's full
 * shape, else with a batch of 1 in front when it fits one row. Ranks differ by one between the
 * two readings, so at most one of them fits.
 */
function withBatch(spec: TensorSpec, shape: readonly number[], field: string, model: string): number[] {
  if (fits(spec.shape, shape)) return [...shape];
  if (spec.shape.length === shape.length + 1 && fits(spec.shape.slice(1), shape)) return [1, ...shape];
  throw new InvalidRequestError(
    'FLT_SHAPE_MISMATCH',
    `${field}: shape ${fmt(shape)} fits neither input "${spec.name}" of model "${model}" ${fmt(spec.shape)} nor one row of it ${fmt(spec.shape.slice(1))}`,
  );
}

/** One input's feed values, read after the shapes are checked. */
interface Column {
  readonly spec: TensorSpec;
  readonly shape: number[];
  readonly values: { readonly value: unknown; readonly shape: readonly number[]; readonly field: string }[];
}

/**
 * Adds one feed entry's value to its input's column, joining entries along the batch dimension.
 * Only the shape its lists announce is read here (at most as deep as the input's rank).
 */
function addToColumn(
  columns: Map<string, Column>,
  spec: TensorSpec,
  value: unknown,
  field: string,
  model: string,
): void {
  const shape = denseShape(
    value,
    spec.shape.length,
    field,
    `the rank of input "${spec.name}" of model "${model}"`,
  );
  const batched = withBatch(spec, shape, field, model);
  const column = columns.get(spec.name);
  if (!column) {
    columns.set(spec.name, { spec, shape: batched, values: [{ value, shape, field }] });
    return;
  }
  if (batched.length === 0) {
    throw bad(field, `input "${spec.name}" is a scalar, so only one feed entry can carry it`);
  }
  if (fmt(batched.slice(1)) !== fmt(column.shape.slice(1))) {
    throw bad(
      field,
      `row shape ${fmt(batched.slice(1))} differs from feed[0]'s ${fmt(column.shape.slice(1))} (every entry must have the same shape)`,
    );
  }
  column.shape[0] = column.shape[0]! + batched[0]!;
  column.values.push({ value, shape, field });
}

/**
 * The feed's tensors: every entry's shape first, then `check` on the joined shapes (the batch
 * included), and only then the values' elements.
 */
function feedInputs(
  feed: unknown,
  model: string,
  specs: PaddleModel,
  check: CheckInputs | undefined,
): Tensor[] {
  // Paddle's client takes `feed={...}` as well as `feed=[{...}]`: one object is a one-entry list.
  const single = isNamedObject(feed);
  const entries = single ? [feed] : feed;
  if (!Array.isArray(entries) || entries.length === 0) {
    throw bad(
      'feed',
      `must be an object {input_name: value} or a non-empty list of them, got ${previewJson(feed)}`,
    );
  }
  const at = (i: number): string => (single ? 'feed' : `feed[${i}]`);
  const columns = new Map<string, Column>();
  let firstKeys = '';
  entries.forEach((entry, i) => {
    if (!isNamedObject(entry)) {
      throw bad(at(i), `must be an object {input_name: value}, got ${previewJson(entry)}`);
    }
    if (single && Object.keys(entry).length === 0) throw bad('feed', 'feeds no input');
    for (const name of Object.keys(entry)) {
      const spec = specs.inputs.find((s) => s.name === name);
      if (!spec) {
        throw new InvalidRequestError(
          'FLT_UNKNOWN_INPUT',
          `${at(i)}: input "${name}" is not an input of model "${model}" (inputs: ${names(specs.inputs)})`,
        );
      }
      addToColumn(columns, spec, entry[name], `${at(i)}.${name}`, model);
    }
    // Entries are rows of one batch, so each must feed the same inputs.
    const keys = Object.keys(entry).sort().join(', ');
    if (i === 0) firstKeys = keys;
    else if (keys !== firstKeys) {
      throw bad(`feed[${i}]`, `feeds ${keys || 'nothing'} but feed[0] feeds ${firstKeys || 'nothing'}`);
    }
  });
  const list = [...columns.values()];
  check?.(list.map((c) => ({ name: c.spec.name, datatype: c.spec.datatype, shape: c.shape })));
  return list.map(
    (c) =>
      ({
        name: c.spec.name,
        datatype: c.spec.datatype,
        shape: c.shape,
        data: concatData(
          c.spec.datatype,
          c.values.map((v) => denseData(v.value, v.shape, c.spec.datatype, v.field)),
        ),
      }) as Tensor,
  );
}

function fetchOutputs(fetch: unknown, model: string, specs: PaddleModel): string[] | undefined {
  if (fetch === undefined) return undefined;
  if (!Array.isArray(fetch)) throw bad('fetch', `must be a list of output names, got ${previewJson(fetch)}`);
  const out: string[] = [];
  fetch.forEach((name, i) => {
    if (typeof name !== 'string')
      throw bad(`fetch[${i}]`, `must be an output name, got ${previewJson(name)}`);
    if (!specs.outputs.some((s) => s.name === name)) {
      throw new InvalidRequestError(
        'FLT_UNKNOWN_OUTPUT',
        `fetch[${i}]: "${name}" is not an output of model "${model}" (outputs: ${names(specs.outputs)})`,
      );
    }
    if (!out.includes(name)) out.push(name);
  });
  return out;
}

/**
 * Decodes the body of Paddle Serving's `POST /{model}/prediction`; `check` runs on the shapes
 * the feed announces (lists nested at most as deep as each input's rank) before any element is
 * read:
 * `{"feed": [{input_name: value}, …], "fetch": [output_name, …]}`, or `"feed": {input_name: value}`
 * for one entry (as Paddle's client accepts). Each feed entry is one row
 * (or, when its value already has the batch dimension, several) of one batch; datatypes come
 * from the model. BYTES values are UTF-8 strings, or `{"b64": "…"}` objects for binary data.
 * Without `fetch` (or with an empty one) every output is computed.
 */
export function decodePredictionRequest(
  body: Uint8Array,
  target: { readonly model: string },
  specs: PaddleModel,
  check?: CheckInputs,
): InferRequest {
  const raw = parseJsonBody(body);
  if (!isNamedObject(raw)) {
    throw bad('(top level)', `expected a JSON object with "feed" and "fetch", got ${previewJson(raw)}`);
  }
  const inputs = feedInputs(raw['feed'], target.model, specs, check);
  const outputs = fetchOutputs(raw['fetch'], target.model, specs);
  return {
    model: target.model,
    inputs,
    ...(outputs && outputs.length > 0 ? { outputs: outputs.map((name) => ({ name })) } : {}),
  };
}

/**
 * `{"result": {output_name: value}}`: each output as nested lists shaped like the tensor (batch
 * dimension included); BYTES as strings, or `{"b64": "…"}` when not valid UTF-8.
 */
export function encodePredictionResponse(res: InferResponse): string {
  const fields = res.outputs.map((t) => {
    const base64 = t.datatype === 'BYTES' && !isUtf8(t.data);
    return `${JSON.stringify(t.name)}:${nestedJson(elementTexts(t, base64), t.shape)}`;
  });
  return `{"result":{${fields.join(',')}}}`;
}
