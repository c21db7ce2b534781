import { InvalidRequestError, type Parameters } from '../../core/index.js';
import type { InferParameterMessage } from './messages.js';
import { parametersFromMessage } from './parameters.js';
import { int64String, WIRE, type WireReader } from './wire-reader.js';

/**
 * Most entries one parameter map may hold. Parameters are hints (`priority`, `timeout`,
 * `binary_data_output`); without a bound 8 MiB of 6-byte entries would build an object of a
 * million keys before anything else is checked.
 */
export const MAX_PARAMETERS = 256;

/** One `InferParameter`: the oneof member set last wins, as protobuf merges. */
function readParameter(r: WireReader): InferParameterMessage {
  let out: InferParameterMessage = {};
  while (!r.done) {
    const tag = r.tag();
    const field = tag >>> 3;
    switch (field) {
      case 1:
        r.expect(tag, WIRE.VARINT, 'bool_param');
        out = { parameter_choice: 'bool_param', bool_param: (r.varint() | r.hi) !== 0 };
        break;
      case 2:
      case 5: {
        const name = field === 2 ? 'int64_param' : 'uint64_param';
        r.expect(tag, WIRE.VARINT, name);
        const lo = r.varint();
        out = { parameter_choice: name, [name]: int64String(lo, r.hi, field === 2) };
        break;
      }
      case 3:
        r.expect(tag, WIRE.LEN, 'string_param');
        out = { parameter_choice: 'string_param', string_param: r.string(field, 'string_param') };
        break;
      case 4: {
        r.expect(tag, WIRE.I64, 'double_param');
        if (r.end - r.pos < 8) throw r.fail('double_param is truncated');
        const v = new DataView(r.buf.buffer, r.buf.byteOffset + r.pos, 8).getFloat64(0, true);
        r.pos += 8;
        out = { parameter_choice: 'double_param', double_param: v };
        break;
      }
      default:
        r.skip(tag & 7, field);
    }
  }
  return out;
}

/**
 * Reads one more entry of a `map<string, InferParameter>` field into `into` (the reader is at
 * the entry's payload length). A key given twice keeps its last value, as protobuf says.
 */
export function readParameterEntry(
  r: WireReader,
  field: number,
  into: Map<string, InferParameterMessage>,
  where: string,
): void {
  const entry = r.sub(field, where);
  let key = '';
  let value: InferParameterMessage = {};
  while (!entry.done) {
    const tag = entry.tag();
    const f = tag >>> 3;
    if (f === 1) {
      entry.expect(tag, WIRE.LEN, 'key');
      key = entry.string(f, 'key');
    } else if (f === 2) {
      entry.expect(tag, WIRE.LEN, 'value');
      value = readParameter(entry.sub(f, `${where}.value`));
    } else entry.skip(tag & 7, f);
  }
  if (!into.has(key) && into.size >= MAX_PARAMETERS)
    throw new InvalidRequestError('FLT_INVALID_FIELD', `${where}: more than ${MAX_PARAMETERS} entries`);
  into.set(key, value);
}

/** A map read by `readParameterEntry` as core `Parameters` (undefined when empty), checked as before. */
export function parametersFromEntries(
  map: ReadonlyMap<string, InferParameterMessage>,
  field: string,
): Parameters | undefined {
  return map.size === 0 ? undefined : parametersFromMessage(Object.fromEntries(map), field);
}
