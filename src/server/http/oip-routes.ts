import {
  checkAdminToken,
  InvalidRequestError,
  NotFoundError,
  previewJson,
  UnavailableError,
} from '../../core/index.js';
import {
  decodeInferRequest,
  encodeInferResponseParts,
  parseJsonBody,
} from '../../protocol/oip-rest/index.js';
import type { InferenceService } from '../inference-service.js';
import type { ModelMetrics } from '../metrics/model-metrics.js';
import { modelStatistics } from '../model-statistics.js';
import type { ModelManager } from '../repository/model-manager.js';
import { checkBodySize } from '../request-bounds.js';
import { tritonModelConfig } from '../triton-config.js';
import { checkInputs } from '../validate-request.js';
import { type Handler, type HttpReply, type HttpRequest, json } from './http-server.js';
import type { Router } from './router.js';

export interface OipRouteDeps {
  readonly manager: ModelManager;
  readonly service: InferenceService;
  readonly metrics: ModelMetrics;
  readonly adminToken: string | undefined;
  /** Server name and version for `GET /v2`. */
  readonly serverVersion: string;
  /** False once the server is draining. */
  readonly accepting: () => boolean;
  /** Loads and unloads for the repository API; default the manager (one process). */
  readonly repository?: RepositoryControl;
  /** The `/metrics` text; default this process's registry. */
  readonly metricsText?: () => Promise<{ contentType: string; body: string }>;
}

/** What the repository API's load and unload act on. */
export interface RepositoryControl {
  loadModel(model: string): Promise<void>;
  unloadModel(model: string): Promise<void>;
}

/** Extensions `GET /v2` advertises (Triton's names, so its clients recognise them). */
export const EXTENSIONS = [
  'binary_tensor_data',
  'classification',
  'model_repository',
  'metrics',
  'statistics',
  'model_configuration',
];

const HEADER_LENGTH = 'inference-header-content-length';

/**
 * The Inference-Header-Content-Length value as a byte count; undefined when it is not one. Digits
 * only: `Number()` took `""` as 0, `1e2` as 100 and `0x10` as 16; 15 digits keep it exact.
 */
function byteCount(raw: string | string[]): number | undefined {
  return typeof raw === 'string' && /^[0-9]{1,15}$/.test(raw) ? Number(raw) : undefined;
}

function headerLength(req: HttpRequest): number | undefined {
  const raw = req.headers[HEADER_LENGTH];
  if (raw === undefined) return undefined;
  const n = byteCount(raw);
  if (n === undefined) {
    throw new InvalidRequestError(
      'FLT_INVALID_FIELD',
      `Inference-Header-Content-Length: ${previewJson(raw)} is not a byte count (decimal digits)`,
    );
  }
  return n;
}

/**
 * The Inference-Header-Content-Length of a request (where its binary tensor data starts, after
 * the JSON inference header); undefined when absent or not a byte count, which the route refuses.
 */
export function inferenceHeaderLength(headers: HttpRequest['headers']): number | undefined {
  const raw = headers[HEADER_LENGTH];
  return raw === undefined ? undefined : byteCount(raw);
}

/** Where binary tensor data starts in a request body, for the HTTP server to align. */
export const oipBodyAlignment: (headers: HttpRequest['headers']) => number | undefined =
  inferenceHeaderLength;

/** Readiness as a status code: 200 when ready, 503 when not (any non-200 means not ready). */
function readiness(ready: boolean): HttpReply {
  return { status: ready ? 200 : 503 };
}

/**
 * `/v2/health/ready`: 200 when the models asked for are loaded; else 503 with the reason in the
 * body (`{"ready":false,"reason":"model \"mnist\" has no version 7 …"}`), so a probe's log says why.
 */
function serverReadiness(accepting: boolean, manager: ModelManager): HttpReply {
  const reason = accepting ? manager.notReadyReason() : 'the server is shutting down';
  return reason === undefined ? readiness(true) : json(503, { ready: false, reason });
}

/** Registers the Open Inference Protocol v2 REST endpoints and the model repository extension. */
export function addOipRoutes(router: Router<Handler>, deps: OipRouteDeps): void {
  const { manager, service } = deps;
  const repository = deps.repository ?? manager;

  const infer: Handler = async (req) => {
    if (!deps.accepting()) throw new UnavailableError('FLT_SHUTTING_DOWN', 'the server is shutting down');
    const name = req.params['model']!;
    const version = req.params['version'];
    // Name the missing model before complaining about the body sent to it; the model's inputs are
    // checked against the request's before any tensor data is decoded.
    const model = manager.servable(name, version);
    const length = headerLength(req);
    const body = await req.body();
    checkBodySize(body.byteLength, manager.bodyBounds(name, version), length, name);
    const request = decodeInferRequest(
      body,
      length,
      { model: name, ...(version !== undefined ? { version } : {}) },
      (inputs) => checkInputs(inputs, model),
    );
    const response = await service.infer(request);
    const encoded = encodeInferResponseParts(response, request);
    const out = encoded.parts.length === 1 ? (encoded.parts[0] as Buffer) : encoded.parts;
    if (encoded.headerLength === undefined) {
      return { status: 200, headers: { 'content-type': 'application/json' }, body: out };
    }
    return {
      status: 200,
      headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH]: encoded.headerLength },
      body: out,
    };
  };

  const metadata: Handler = (req) => {
    const m = manager.metadata(req.params['model']!, req.params['version']);
    return json(200, {
      name: m.name,
      versions: m.versions,
      platform: m.platform,
      // `typical_shape` is Flotilla's own field (clients ignore unknown keys): what bench sends.
      inputs: m.inputs.map((t) => {
        const typical =
          m.typicalShapes && Object.hasOwn(m.typicalShapes, t.name) ? m.typicalShapes[t.name] : undefined;
        return {
          name: t.name,
          datatype: t.datatype,
          shape: t.shape,
          ...(typical ? { typical_shape: typical } : {}),
        };
      }),
      outputs: m.outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
    });
  };

  // 200 ready; 503 with the reason for a model this server holds or held (loading, failed,
  // unloaded); 404 for a model or version it never had (any non-200 is "not ready" to clients).
  const modelReady: Handler = (req) => {
    const model = req.params['model']!;
    const r = manager.modelReadiness(model, req.params['version']);
    if (r.ready) return readiness(true);
    if (r.missing === 'model') throw new NotFoundError('FLT_MODEL_NOT_FOUND', r.reason!);
    if (r.missing === 'version') throw new NotFoundError('FLT_VERSION_NOT_FOUND', r.reason!);
    return json(503, { ready: false, reason: r.reason });
  };

  const config: Handler = (req) =>
    json(200, tritonModelConfig(manager.servedConfig(req.params['model']!, req.params['version'])));

  const stats: Handler = (req) =>
    json(200, modelStatistics(manager, deps.metrics, req.params['model'], req.params['version']));

  const repositoryIndex: Handler = async (req) => {
    checkAdminToken(req.headers.authorization, deps.adminToken, 'server');
    const body = await req.body();
    const raw = body.byteLength > 0 ? parseJsonBody(body) : {};
    const ready =
      typeof raw === 'object' && raw !== null && (raw as Record<string, unknown>)['ready'] === true;
    return json(200, await manager.index(ready));
  };

  const load: Handler = async (req) => {
    checkAdminToken(req.headers.authorization, deps.adminToken, 'server');
    await repository.loadModel(req.params['model']!);
    return { status: 200 };
  };

  const unload: Handler = async (req) => {
    checkAdminToken(req.headers.authorization, deps.adminToken, 'server');
    await repository.unloadModel(req.params['model']!);
    return { status: 200 };
  };

  router
    .add('GET', '/v2/health/live', () => ({ status: 200 }))
    .add('GET', '/v2/health/ready', () => serverReadiness(deps.accepting(), manager))
    .add('GET', '/v2', () =>
      json(200, { name: 'flotilla', version: deps.serverVersion, extensions: EXTENSIONS }),
    )
    // Before /v2/models/:model: `stats` here is Triton's statistics, not a model of that name.
    .add('GET', '/v2/models/stats', stats)
    .add('GET', '/v2/models/:model', metadata)
    .add('GET', '/v2/models/:model/versions/:version', metadata)
    .add('GET', '/v2/models/:model/ready', modelReady)
    .add('GET', '/v2/models/:model/versions/:version/ready', modelReady)
    .add('GET', '/v2/models/:model/config', config)
    .add('GET', '/v2/models/:model/versions/:version/config', config)
    .add('GET', '/v2/models/:model/stats', stats)
    .add('GET', '/v2/models/:model/versions/:version/stats', stats)
    .add('POST', '/v2/models/:model/infer', infer)
    .add('POST', '/v2/models/:model/versions/:version/infer', infer)
    .add('POST', '/v2/repository/index', repositoryIndex)
    .add('POST', '/v2/repository/models/:model/load', load)
    .add('POST', '/v2/repository/models/:model/unload', unload)
    .add('GET', '/metrics', async () => {
      const m = await (deps.metricsText ?? (() => deps.metrics.text()))();
      return { status: 200, headers: { 'content-type': m.contentType }, body: m.body };
    });
}
