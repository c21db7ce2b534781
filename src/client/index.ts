export * from './admin-client.js';
export * from './oip-grpc-client.js';
export * from './oip-http-client.js';
export * from './routing-client.js';
