export * from './oip-http-client.js';
