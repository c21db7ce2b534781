import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { asFlotillaError, type FlotillaError } from '../../core/index.js';
import { invalidProtobuf, WIRE, WireReader } from './wire-reader.js';

/** The parts of a proto-loader `DescriptorProto` the check reads. */
interface FieldDescriptor {
  readonly name: string;
  readonly number: number;
  readonly label: string;
  readonly type: string;
  readonly typeName: string;
}
interface MessageDescriptor {
  readonly name: string;
  readonly field: readonly FieldDescriptor[];
  readonly nestedType: readonly MessageDescriptor[];
}

/** Finds a message type by the (relative) name a field gives. */
type Resolve = (name: string, scope: MessageDescriptor) => MessageDescriptor | undefined;

const VARINT_TYPES = new Set([
  'TYPE_BOOL',
  'TYPE_INT32',
  'TYPE_INT64',
  'TYPE_UINT32',
  'TYPE_UINT64',
  'TYPE_ENUM',
  'TYPE_SINT32',
  'TYPE_SINT64',
]);
const I64_TYPES = new Set(['TYPE_DOUBLE', 'TYPE_FIXED64', 'TYPE_SFIXED64']);
const I32_TYPES = new Set(['TYPE_FLOAT', 'TYPE_FIXED32', 'TYPE_SFIXED32']);

function wireOf(type: string): number {
  if (VARINT_TYPES.has(type)) return WIRE.VARINT;
  if (I64_TYPES.has(type)) return WIRE.I64;
  if (I32_TYPES.has(type)) return WIRE.I32;
  return WIRE.LEN;
}

/**
 * Checks a message against its descriptor as strictly as the ModelInfer reader does: every
 * length inside its message, known fields with their wire type (packed or not for repeated
 * scalars), strings UTF-8, nested messages likewise. Unknown fields are skipped when well framed.
 */
function checkMessage(r: WireReader, desc: MessageDescriptor, resolve: Resolve, depth: number): void {
  if (depth > 32) throw r.fail('messages nested deeper than 32');
  while (!r.done) {
    const tag = r.tag();
    const number = tag >>> 3;
    const wire = tag & 7;
    const f = desc.field.find((x) => x.number === number);
    if (!f) {
      r.skip(wire, number);
      continue;
    }
    const unit = wireOf(f.type);
    if (wire === unit && unit !== WIRE.LEN) r.skip(wire, number);
    else if (f.label === 'LABEL_REPEATED' && unit !== WIRE.LEN && wire === WIRE.LEN) {
      const packed = r.sub(number, `${r.where}.${f.name}`);
      while (!packed.done) packed.skip(unit, number);
    } else {
      r.expect(tag, unit, f.name);
      if (f.type === 'TYPE_STRING') r.string(number, f.name);
      else if (f.type === 'TYPE_MESSAGE') {
        const nested = resolve(f.typeName, desc);
        const sub = r.sub(number, `${r.where}.${f.name}`);
        if (nested) checkMessage(sub, nested, resolve, depth + 1);
      } else r.pos = r.len(number);
    }
  }
}

/** A request refused before its handler ran: the handler throws `error` (INVALID_ARGUMENT). */
export class RejectedMessage {
  constructor(readonly error: FlotillaError) {}
}

/**
 * The service definition with strict request deserializers: a request that is not valid
 * protobuf arrives at its handler as a `RejectedMessage` (grpc-js would answer a throwing
 * deserializer INTERNAL, "Error deserializing request"). `raw` names methods whose handler takes
 * the message bytes as they came (ModelInfer reads them itself, see infer-request-wire.ts).
 */
export function strictServiceDefinition(
  service: ServiceDefinition,
  messages: Readonly<Record<string, unknown>>,
  raw: ReadonlySet<string>,
): ServiceDefinition {
  const byName = (name: string): MessageDescriptor | undefined => {
    const entry = messages[`inference.${name}`] as { type?: MessageDescriptor } | undefined;
    return entry?.type;
  };
  const resolve: Resolve = (name, scope) => scope.nestedType.find((n) => n.name === name) ?? byName(name);
  const out: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const [method, def] of Object.entries(service) as [string, MethodDefinition<unknown, unknown>][]) {
    if (raw.has(method)) {
      out[method] = { ...def, requestDeserialize: (bytes: Buffer) => bytes };
      continue;
    }
    const desc = (def as unknown as { requestType?: { type?: MessageDescriptor } }).requestType?.type;
    out[method] = {
      ...def,
      requestDeserialize: (bytes: Buffer) => {
        try {
          if (desc) checkMessage(new WireReader(bytes, 0, bytes.length, desc.name), desc, resolve, 0);
          return def.requestDeserialize(bytes);
        } catch (err) {
          const e = asFlotillaError(err);
          return new RejectedMessage(e.code === 'FLT_INTERNAL' ? invalidProtobuf(method, String(err)) : e);
        }
      },
    };
  }
  return out;
}
