export * from './client-tls.js';
export * from './grpc-provider.js';
export * from './listener.js';
export * from './server-certificates.js';
