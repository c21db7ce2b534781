import { createRequire } from 'node:module';
import {
  create,
  createFileRegistry,
  type DescMessage,
  fromBinary,
  type JsonValue,
  toJson,
} from '@bufbuild/protobuf';
import { fromText } from '@bufbuild/protobuf/txtpb';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { ConfigError } from '../core/index.js';
import { protoFilePath } from '../protocol/oip-grpc/proto.js';
import { parseServiceFile, type ServiceFile } from './service-file.js';

/**
 * Paddle Serving's client cluster configuration, `predictors.prototxt` (protobuf text format of
 * `baidu.paddle_serving.configure.SDKConf`, proto/paddle_serving/sdk_configure.proto), read as a
 * service file so a Paddle user brings the file they have:
 *
 *     predictors {
 *       name: "mnist"
 *       endpoint_router: "WeightedRandomRender"
 *       weighted_random_render_conf { variant_weight_list: "50 | 50" }
 *       variants { tag: "var1" naming_conf { cluster: "list://127.0.0.1:8010, 127.0.0.1:8011" } }
 *       variants { tag: "var2" naming_conf { cluster: "list://127.0.0.1:8012" } }
 *     }
 *
 * Each predictor becomes a service named after it, each variant a variant with static endpoints
 * from its `naming_conf.cluster` (or `default_variant_conf`'s, which Paddle's client falls back
 * to), and `variant_weight_list` the service's `weights`. The text is parsed by protobuf-es's text
 * format reader against Paddle's own schema, so what Paddle's client refuses is refused here too;
 * the brpc client settings (connection_conf, rpc_parameter, split_conf, service_name) configure
 * Paddle's RPC client and have no gateway meaning: docs/service-file.md lists them as read and
 * ignored.
 */

const SDK_CONF = 'baidu.paddle_serving.configure.SDKConf';

/** File names read as predictors.prototxt rather than YAML. */
export const PROTOTXT_EXTENSIONS: readonly string[] = ['.prototxt', '.pbtxt', '.txtpb', '.textproto'];

export const isPrototxtFile = (file: string): boolean =>
  PROTOTXT_EXTENSIONS.some((ext) => file.toLowerCase().endsWith(ext));

let sdkConf: DescMessage | undefined;

/** SDKConf's descriptor, from the .proto through proto-loader's descriptors (once). */
function sdkConfDescriptor(): DescMessage {
  if (sdkConf) return sdkConf;
  const loader = createRequire(import.meta.url)('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
  const def = loader.loadSync(protoFilePath('paddle_serving/sdk_configure.proto'), { keepCase: true })[
    SDK_CONF
  ];
  if (!def || !('fileDescriptorProtos' in def) || !Array.isArray(def.fileDescriptorProtos)) {
    throw new Error(`${SDK_CONF} missing from its proto`);
  }
  const files = def.fileDescriptorProtos.map((b: Buffer) => fromBinary(FileDescriptorProtoSchema, b));
  // protobufjs (under proto-loader) writes field types as the .proto spells them (`ConnectionConf`);
  // descriptors name them fully (`.baidu.paddle_serving.configure.ConnectionConf`). The schema has
  // one package and no nested types, so the package prefix is the whole resolution.
  for (const file of files) {
    for (const message of file.messageType) {
      for (const field of message.field) {
        if (field.typeName && !field.typeName.startsWith('.'))
          field.typeName = `.${file.package}.${field.typeName}`;
      }
    }
  }
  const desc = createFileRegistry(create(FileDescriptorSetSchema, { file: files })).getMessage(SDK_CONF);
  if (!desc) throw new Error(`${SDK_CONF} missing from its proto`);
  sdkConf = desc;
  return desc;
}

interface VariantConf {
  readonly tag?: string;
  readonly naming_conf?: { readonly cluster?: string };
}
interface Predictor {
  readonly name?: string;
  readonly endpoint_router?: string;
  readonly weighted_random_render_conf?: { readonly variant_weight_list?: string };
  readonly variants?: readonly VariantConf[];
}
interface SdkConf {
  readonly default_variant_conf?: VariantConf;
  readonly predictors?: readonly Predictor[];
}

/** The text-format message as JSON (the .proto's field names, unset fields absent). */
function readSdkConf(text: string, file: string): SdkConf {
  const desc = sdkConfDescriptor();
  let json: JsonValue;
  try {
    json = toJson(desc, fromText(desc, text), { useProtoFieldName: true });
  } catch (err) {
    throw new ConfigError(
      file,
      `not valid protobuf text format for Paddle Serving's predictors.prototxt (${SDK_CONF}): ${(err as Error).message}`,
      { cause: err },
    );
  }
  return json as SdkConf;
}

/** Parses a predictors.prototxt into a validated service file; `file` names it in errors. */
export function parsePredictorsPrototxt(text: string, file: string): ServiceFile {
  const conf = readSdkConf(text, file);
  const predictors = conf.predictors ?? [];
  if (predictors.length === 0) throw new ConfigError(file, 'no predictors { … } block: nothing to serve');
  const fallbackCluster = conf.default_variant_conf?.naming_conf?.cluster;
  const services: Record<string, unknown> = {};
  predictors.forEach((p, i) => {
    const where = `predictors[${i}]${p.name ? ` (${p.name})` : ''}`;
    const fail = (message: string): never => {
      throw new ConfigError(file, `${where}: ${message}`);
    };
    // Unset fields read as the .proto's defaults (name "general_model"), as Paddle's client reads them.
    const name = p.name ?? 'general_model';
    if (services[name] !== undefined) fail(`name: ${name} is used by an earlier predictor too`);
    const router = p.endpoint_router ?? 'WeightedRandomRender';
    if (router !== 'WeightedRandomRender') {
      fail(`endpoint_router: "${router}" is not Paddle's WeightedRandomRender, the only router it has`);
    }
    const variants = p.variants ?? [];
    if (variants.length === 0) fail('no variants { … }: a predictor needs at least one');
    const weights = p.weighted_random_render_conf?.variant_weight_list;
    if (weights === undefined && variants.length > 1) {
      // Paddle's client refuses this too: its default list, "50", has one weight.
      fail(
        `weighted_random_render_conf.variant_weight_list: ${variants.length} variants need one weight each, e.g. "${variants.map(() => '50').join(' | ')}"`,
      );
    }
    services[name] = {
      variants: variants.map((v, j) => {
        const cluster = v.naming_conf?.cluster ?? fallbackCluster;
        if (cluster === undefined) {
          fail(`variants[${j}].naming_conf.cluster: no cluster here nor in default_variant_conf`);
        }
        return { tag: v.tag ?? fail(`variants[${j}].tag: every variant needs a tag`), endpoints: cluster };
      }),
      ...(weights !== undefined ? { weights } : {}),
    };
  });
  try {
    return parseServiceFile({ services }, file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // The service-file paths name the prototxt's own fields.
    const renamed = err.message
      .replace(
        /services\.([^.]+)\.variants\[(\d+)\]\.endpoints/g,
        'predictor $1: variants[$2].naming_conf.cluster',
      )
      .replace(/services\.([^.]+)\.weights/g, 'predictor $1: weighted_random_render_conf.variant_weight_list')
      .replace(/services\.([^.]+)\.variants\[(\d+)\]\.tag/g, 'predictor $1: variants[$2].tag')
      .replace(/services\.([^.:]+)/g, 'predictor $1');
    throw new ConfigError(file, renamed.startsWith(`${file}: `) ? renamed.slice(file.length + 2) : renamed, {
      cause: err,
    });
  }
}
