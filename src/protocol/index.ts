export * as oipGrpc from './oip-grpc/index.js';
export * as oipRest from './oip-rest/index.js';
export * as paddle from './paddle/index.js';
export * as tfServing from './tfserving/index.js';
