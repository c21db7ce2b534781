import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { ROOT } from '../../test/helpers/paths.js';

/** mnist v2's metadata, as `flotilla serve` answers it (`flotilla bench` reads it first). */
const MNIST_METADATA = JSON.stringify({
  name: 'mnist',
  versions: ['2'],
  platform: 'onnxruntime_onnx',
  inputs: [{ name: 'image', datatype: 'FP32', shape: [-1, 784] }],
  outputs: [{ name: 'probs', datatype: 'FP32', shape: [-1, 10] }],
});

/**
 * Runs `fn` against a bare node:http server (bare-http-server.ts, in its own process) that answers
 * every inference with a canned copy of mnist's real binary answer: the HTTP floor a model server
 * cannot beat, loaded by the same generators as the server.
 */
export async function withHttpFloor<T>(fn: (url: string) => Promise<T>): Promise<T> {
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
      MNIST_METADATA,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [line] = (await once(proc.stdout!, 'data')) as [Buffer];
  const port = /port=(\d+)/.exec(line.toString())?.[1];
  try {
    return await fn(`http://127.0.0.1:${port}`);
  } finally {
    proc.kill('SIGTERM');
    await once(proc, 'exit');
  }
}
