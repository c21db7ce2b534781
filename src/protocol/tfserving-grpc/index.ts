// TF Serving's gRPC API (tensorflow.serving.PredictionService and ModelService): the public
// surface the server's handlers use; the tests reach the same names.
export {
  datatypeOfDtype,
  dtypeName,
  TF_DTYPE_NUMBER,
  VALUE_FIELD_OF,
  VALUE_FIELDS,
  type ValueField,
} from './dtypes.js';
export {
  MAX_METADATA_FIELDS,
  type ModelSpecRequest,
  type ModelSpecWire,
  readModelSpecRequest,
  requireModelName,
} from './model-spec-wire.js';
export {
  type PredictEnvelope,
  type PredictHeader,
  readPredictEnvelope,
  readPredictHeader,
} from './predict-wire.js';
export {
  loadTfServingDefinition,
  protoRoot,
  TF_MODEL_SERVICE,
  TF_PREDICTION_SERVICE,
  TF_SERVING_PROTO_FILES,
  tfServingServiceDefinition,
} from './proto.js';
export {
  type AnsweringModel,
  encodePredictResponse,
  encodeSignatureDefMap,
  SIGNATURE_DEF_MAP_TYPE_URL,
  tensorProtoMessage,
} from './response-wire.js';
export { decodeTensorValues, headerDatatype, type TensorHeader } from './tensor-proto-wire.js';
