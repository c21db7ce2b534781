#!/usr/bin/env node
// The CLI is compiled from src/cli by `npm run build` (run by `npm install` through `prepare`).
import('../dist/src/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('flotilla: not built yet; run `npm run build` first\n');
    process.exit(1);
  }
  throw err;
});
