import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import {
  type InferRequest,
  InvalidRequestError,
  type Logger,
  NotFoundError,
  type Tensor,
  UnavailableError,
} from '../../core/index.js';
import { checkSignatureName, encodeModelStatus } from '../../protocol/tfserving/index.js';
import {
  decodeTensorValues,
  encodePredictResponse,
  encodeSignatureDefMap,
  headerDatatype,
  type ModelSpecWire,
  readModelSpecRequest,
  readPredictEnvelope,
  readPredictHeader,
  requireModelName,
  SIGNATURE_DEF_MAP_TYPE_URL,
} from '../../protocol/tfserving-grpc/index.js';
import type { InferenceService } from '../inference-service.js';
import type { ModelManager } from '../repository/model-manager.js';
import { parseVersion } from '../repository/model-name.js';
import { checkInputs, checkOutputs } from '../validate-request.js';
import { unary } from './oip-grpc-handlers.js';

/** What TF Serving's gRPC handlers call: the parts the TF Serving REST routes call. */
export interface TfServingGrpcDeps {
  readonly manager: ModelManager;
  readonly service: InferenceService;
  /** False once the server is draining. */
  readonly accepting: () => boolean;
  readonly logger: Logger;
}

/** The version a model spec names: its number, its label's (config.yaml version_labels), or none. */
function versionOf(manager: ModelManager, spec: ModelSpecWire): string | undefined {
  if (spec.label !== undefined) return manager.versionForLabel(spec.name, spec.label);
  return spec.version;
}

function bad(field: string, message: string): InvalidRequestError {
  return new InvalidRequestError('FLT_INVALID_FIELD', `${field}: ${message}`);
}

/**
 * Predict from the message bytes, in ModelInfer's order: the envelope picks the model (unknown
 * model, version or label answered first, as TF Serving does), then the signature, then the
 * headers of at most one input and output more than the model has are checked against it
 * (names, dtypes, shapes, batch, output filter), and only then are values decoded, counted
 * against the shapes before anything is allocated.
 */
export async function predict(
  deps: { readonly manager: ModelManager; readonly service: InferenceService },
  bytes: Uint8Array,
): Promise<Uint8Array> {
  const { manager } = deps;
  const envelope = readPredictEnvelope(bytes);
  requireModelName(envelope.spec, envelope.hasSpec);
  const model = envelope.spec.name;
  const spec = manager.servable(model, versionOf(manager, envelope.spec));
  checkSignatureName(envelope.spec.signature, model);
  const header = readPredictHeader(envelope, {
    inputs: spec.inputs.length + 1,
    outputs: spec.outputs.length + 1,
  });
  if (envelope.inputs > spec.inputs.length)
    throw bad('inputs', `${envelope.inputs} given but model "${model}" takes ${spec.inputs.length}`);
  if (envelope.outputFilter > spec.outputs.length)
    throw bad(
      'output_filter',
      `${envelope.outputFilter} names but model "${model}" has ${spec.outputs.length} outputs`,
    );
  const datatypes = header.inputs.map(headerDatatype);
  checkInputs(
    header.inputs.map((h, i) => ({ name: h.name, datatype: datatypes[i]!, shape: h.shape })),
    spec,
  );
  const outputs = header.outputFilter.map((name) => ({ name }));
  checkOutputs(outputs, spec);
  const inputs = header.inputs.map(
    (h, i): Tensor =>
      ({
        name: h.name,
        datatype: datatypes[i]!,
        shape: h.shape,
        data: decodeTensorValues(h, datatypes[i]!),
      }) as Tensor,
  );
  // The version checked is the one asked for: a reload in between must not swap it silently.
  const request: InferRequest = { model, version: String(spec.version), inputs, outputs };
  const response = await deps.service.infer(request);
  return encodePredictResponse(response.outputs, { name: model, version: Number(response.version) });
}

const unimplemented = (method: string) => (): never => {
  throw new NotFoundError(
    'FLT_ROUTE_NOT_FOUND',
    `TF Serving's ${method} is not supported: Flotilla models have one predict signature ("serving_default") and take tensors, not tf.Example; use Predict`,
  );
};

/**
 * `tensorflow.serving.PredictionService`: Predict and GetModelMetadata; Classify, Regress and
 * MultiInference answer UNIMPLEMENTED (they need classify/regress signatures reading
 * tf.Example, which Flotilla models do not have).
 */
export function tfPredictionHandlers(deps: TfServingGrpcDeps): UntypedServiceImplementation {
  const { manager, service, logger } = deps;
  return {
    Predict: unary('Predict', logger, (bytes: Uint8Array): Promise<Uint8Array> => {
      if (!deps.accepting()) throw new UnavailableError('FLT_SHUTTING_DOWN', 'the server is shutting down');
      return predict({ manager, service }, bytes);
    }),
    GetModelMetadata: unary('GetModelMetadata', logger, (bytes: Uint8Array) => {
      const req = readModelSpecRequest(bytes, 'GetModelMetadataRequest', true);
      requireModelName(req.spec, req.hasSpec);
      // TF Serving's checks and words (get_model_metadata_impl.cc).
      if (req.metadataFields.length === 0)
        throw bad('metadata_field', 'GetModelMetadataRequest must specify at least one metadata_field');
      for (const f of req.metadataFields)
        if (f !== 'signature_def')
          throw bad('metadata_field', `Metadata field ${f} is not supported (only "signature_def")`);
      const named = versionOf(manager, req.spec);
      const m = manager.metadata(req.spec.name, named);
      const version = named ?? m.versions.at(-1) ?? '0';
      return {
        model_spec: { name: m.name, version: { value: version }, signature_name: '' },
        metadata: {
          signature_def: {
            type_url: SIGNATURE_DEF_MAP_TYPE_URL,
            value: encodeSignatureDefMap(m.inputs, m.outputs),
          },
        },
      };
    }),
    Classify: unary('Classify', logger, unimplemented('Classify')),
    Regress: unary('Regress', logger, unimplemented('Regress')),
    MultiInference: unary('MultiInference', logger, unimplemented('MultiInference')),
  };
}

/** `tensorflow.serving.ModelService`: GetModelStatus (HandleReloadConfigRequest is not served). */
export function tfModelServiceHandlers(deps: TfServingGrpcDeps): UntypedServiceImplementation {
  const { manager, logger } = deps;
  return {
    GetModelStatus: unary('GetModelStatus', logger, (bytes: Uint8Array) => {
      const req = readModelSpecRequest(bytes, 'GetModelStatusRequest', false);
      requireModelName(req.spec, req.hasSpec);
      const version = versionOf(manager, req.spec);
      const versions = manager.versionStatus(req.spec.name);
      return encodeModelStatus(
        req.spec.name,
        versions,
        version === undefined ? undefined : parseVersion(version),
      );
    }),
  };
}
