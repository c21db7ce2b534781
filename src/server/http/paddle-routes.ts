import { UnavailableError } from '../../core/index.js';
import { decodePredictionRequest, encodePredictionResponse } from '../../protocol/paddle/index.js';
import type { InferenceService } from '../inference-service.js';
import type { ModelManager } from '../repository/model-manager.js';
import { checkBodySize } from '../request-bounds.js';
import { checkInputs } from '../validate-request.js';
import type { Handler } from './http-server.js';
import type { Router } from './router.js';

export interface PaddleRouteDeps {
  readonly manager: ModelManager;
  readonly service: InferenceService;
  /** False once the server is draining. */
  readonly accepting: () => boolean;
}

/**
 * Registers Paddle Serving's HTTP endpoint, `POST /{model}/prediction` with
 * `{"feed": [...], "fetch": [...]}`, answered `{"result": {...}}`. The model path segment is the
 * Paddle "service" name; the newest ready version answers.
 */
export function addPaddleRoutes(router: Router<Handler>, deps: PaddleRouteDeps): void {
  const { manager, service } = deps;

  const prediction: Handler = async (req) => {
    if (!deps.accepting()) throw new UnavailableError('FLT_SHUTTING_DOWN', 'the server is shutting down');
    const model = req.params['model']!;
    // Paddle requests carry no datatypes or shapes: read them from the model, which also names
    // a missing model before the body is blamed; the feed's shapes are checked before any is read.
    const spec = manager.servable(model);
    const body = await req.body();
    checkBodySize(body.byteLength, manager.bodyBounds(model), undefined, model);
    const request = decodePredictionRequest(body, { model }, spec, (inputs) => checkInputs(inputs, spec));
    const response = await service.infer(request);
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: encodePredictionResponse(response),
    };
  };

  router.add('POST', '/:model/prediction', prediction);
}
