/**
 * A `flotilla gateway` in front of one `flotilla serve` (the mnist variant's only endpoint), for
 * the probes that send the same traffic to both.
 */
import { startGateway, writeServiceFile } from '../../test/fixtures/services/gateway-helpers.js';
import type { FlotillaProcess } from '../../test/helpers/flotilla-process.js';
import { serveMnist, stopQuietly } from './shared.js';

/** A serve and the gateway in front of it. */
export interface ServeAndGateway {
  readonly serve: FlotillaProcess;
  readonly gateway: FlotillaProcess;
  stop(): Promise<void>;
}

/** Starts `serve` (with `serveArgs`) and a gateway routing mnist to it (with `gatewayArgs`). */
export async function serveBehindGateway(
  serveArgs: readonly string[] = [],
  gatewayArgs: readonly string[] = [],
): Promise<ServeAndGateway> {
  const serve = await serveMnist(serveArgs);
  try {
    const config = writeServiceFile(`
services:
  mnist:
    variants: [{ tag: v1, endpoints: "list://${new URL(serve.url).host}" }]
`);
    const gateway = await startGatewayBounded(config, gatewayArgs);
    return {
      serve,
      gateway,
      async stop() {
        await stopQuietly(gateway);
        await stopQuietly(serve);
      },
    };
  } catch (err) {
    await stopQuietly(serve);
    throw err;
  }
}

/** The gateway CLI with the suite's heap cap (through NODE_OPTIONS, as its children get it). */
async function startGatewayBounded(config: string, args: readonly string[]): Promise<FlotillaProcess> {
  const before = process.env['NODE_OPTIONS'];
  process.env['NODE_OPTIONS'] = `${before ?? ''} --max-old-space-size=1024`.trim();
  try {
    return await startGateway(config, args);
  } finally {
    if (before === undefined) delete process.env['NODE_OPTIONS'];
    else process.env['NODE_OPTIONS'] = before;
  }
}
