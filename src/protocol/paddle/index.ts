export * from './prediction-codec.js';
