import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import type { EncodedBody } from '../../src/protocol/oip-rest/index.js';
import { ROOT } from '../../test/helpers/paths.js';
import { closedLoopHttp } from './http-load.js';

/**
 * Requests/s of a bare node:http server (bare-http-server.ts, in its own process) answering a
 * canned copy of the real answer to `request`: the HTTP floor a model server cannot beat.
 */
export async function floorThroughput(
  request: EncodedBody,
  concurrency: number,
  durationMs: number,
): Promise<number> {
  const reply = Buffer.from(
    '{"model_name":"mnist","model_version":"2","outputs":[{"name":"probs","datatype":"FP32","shape":[1,10],"parameters":{"binary_data_size":40}}]}',
  );
  const body = Buffer.concat([reply, Buffer.alloc(40)]);
  const proc = spawn(
    process.execPath,
    [
      join(ROOT, 'dist', 'bench', 'lib', 'bare-http-server.js'),
      body.toString('base64'),
      String(reply.byteLength),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const [line] = (await once(proc.stdout!, 'data')) as [Buffer];
  const port = /port=(\d+)/.exec(line.toString())?.[1];
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (request.headerLength !== undefined)
    headers['inference-header-content-length'] = String(request.headerLength);
  try {
    const r = await closedLoopHttp(
      `http://127.0.0.1:${port}`,
      { path: '/v2/models/mnist/versions/2/infer', headers, body: request.body },
      concurrency,
      durationMs,
    );
    return r.throughput;
  } finally {
    proc.kill('SIGTERM');
    await once(proc, 'exit');
  }
}
