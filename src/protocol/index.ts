export * as oipRest from './oip-rest/index.js';
