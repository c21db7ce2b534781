import { NotFoundError, UnavailableError } from '../../core/index.js';
import {
  decodePredictRequest,
  encodeModelMetadata,
  encodeModelStatus,
  encodePredictResponse,
} from '../../protocol/tfserving/index.js';
import type { InferenceService } from '../inference-service.js';
import type { ModelManager } from '../repository/model-manager.js';
import { parseVersion } from '../repository/model-name.js';
import { checkBodySize } from '../request-bounds.js';
import { checkInputs } from '../validate-request.js';
import { type Handler, json } from './http-server.js';
import type { Router } from './router.js';

export interface TfServingRouteDeps {
  readonly manager: ModelManager;
  readonly service: InferenceService;
  /** False once the server is draining. */
  readonly accepting: () => boolean;
}

/**
 * Registers TF Serving's REST API (`/v1/models/…`): predict in row and columnar format, model
 * status and model metadata, each by version (`/versions/{v}`) or version label (`/labels/{l}`).
 * The wire format stays in src/protocol/tfserving; this only wires it to the model manager and
 * the inference service.
 */
export function addTfServingRoutes(router: Router<Handler>, deps: TfServingRouteDeps): void {
  const { manager, service } = deps;

  /** The version a path names: `/versions/{v}`, `/labels/{label}` (model config's version_labels), or none. */
  const versionOf = (model: string, params: Readonly<Record<string, string>>): string | undefined => {
    const label = params['label'];
    return label !== undefined ? manager.versionForLabel(model, label) : params['version'];
  };

  const predict: Handler = async (req) => {
    if (!deps.accepting()) throw new UnavailableError('FLT_SHUTTING_DOWN', 'the server is shutting down');
    const model = req.params['model']!;
    const version = versionOf(model, req.params);
    // TF requests carry no datatypes: read them from the model, which also names a missing model
    // before the body is blamed; the shapes the lists announce are checked before any is read.
    const spec = manager.servable(model, version);
    const body = await req.body();
    checkBodySize(body.byteLength, manager.bodyBounds(model, version), undefined, model);
    const { request, format } = decodePredictRequest(
      body,
      { model, ...(version !== undefined ? { version } : {}) },
      spec,
      (inputs) => checkInputs(inputs, spec),
    );
    const response = await service.infer(request);
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: encodePredictResponse(response, format),
    };
  };

  const status: Handler = (req) => {
    const model = req.params['model']!;
    const version = versionOf(model, req.params);
    const versions = manager.versionStatus(model);
    return json(
      200,
      encodeModelStatus(model, versions, version === undefined ? undefined : parseVersion(version)),
    );
  };

  const metadata: Handler = (req) => {
    const model = req.params['model']!;
    const named = versionOf(model, req.params);
    const m = manager.metadata(model, named);
    // Without a version the newest ready one answers, the last of the sorted ready versions.
    const version = named ?? m.versions.at(-1) ?? '';
    return json(200, encodeModelMetadata({ ...m, version }));
  };

  // Without these, the status route's path would match and answer a puzzling 405.
  const unsupported =
    (verb: string): Handler =>
    () => {
      throw new NotFoundError(
        'FLT_ROUTE_NOT_FOUND',
        `TF Serving's :${verb} API is not supported; use :predict`,
      );
    };

  for (const verb of ['classify', 'regress']) {
    router
      .add('POST', `/v1/models/:model:${verb}`, unsupported(verb))
      .add('POST', `/v1/models/:model/versions/:version:${verb}`, unsupported(verb))
      .add('POST', `/v1/models/:model/labels/:label:${verb}`, unsupported(verb));
  }
  router
    .add('GET', '/v1/models/:model', status)
    .add('GET', '/v1/models/:model/versions/:version', status)
    .add('GET', '/v1/models/:model/labels/:label', status)
    .add('GET', '/v1/models/:model/metadata', metadata)
    .add('GET', '/v1/models/:model/versions/:version/metadata', metadata)
    .add('GET', '/v1/models/:model/labels/:label/metadata', metadata)
    .add('POST', '/v1/models/:model:predict', predict)
    .add('POST', '/v1/models/:model/versions/:version:predict', predict)
    .add('POST', '/v1/models/:model/labels/:label:predict', predict);
}
