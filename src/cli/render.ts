import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { ConfigError, FlotillaError } from '../core/index.js';
import {
  applyStep,
  type GatewayServiceType,
  type KubernetesAutoscaler,
  kustomization,
  objectFileName,
  parseModelSource,
  RenderError,
  type RenderedObject,
  render,
  renderTargetNames,
  toYaml,
  toYamlStream,
} from '../render/index.js';

/** Flags of `flotilla render`, parsed. */
export interface RenderCliOptions {
  readonly target: string;
  readonly image?: string;
  readonly namespace?: string;
  readonly models?: string;
  readonly out?: string;
  readonly autoscaler?: KubernetesAutoscaler;
  readonly serviceType?: GatewayServiceType;
  readonly prometheusUrl?: string;
}

/** Writes one file per object and a kustomization.yaml listing them into `dir`. */
async function writeOut(dir: string, objects: readonly RenderedObject[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  const files = objects.map(objectFileName);
  for (const [i, o] of objects.entries()) await writeFile(join(dir, files[i]!), toYaml(o));
  // Later apply steps (a KServe canary) are applied by hand once the step before is Ready.
  await writeFile(
    join(dir, 'kustomization.yaml'),
    kustomization(files.filter((_, i) => applyStep(objects[i]!) === 1)),
  );
}

/**
 * Runs `flotilla render`; resolves with the exit code: 0, or 2 for input or flags the target
 * cannot take (one line on stderr naming the field and the target).
 */
export async function renderCli(file: string, o: RenderCliOptions): Promise<number> {
  try {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new ConfigError(file, `cannot read the service file: ${(err as Error).message}`, { cause: err });
    }
    const objects = render(text, file, o.target, {
      ...(o.image !== undefined ? { image: o.image } : {}),
      ...(o.namespace !== undefined ? { namespace: o.namespace } : {}),
      ...(o.models !== undefined ? { models: parseModelSource(o.models) } : {}),
      ...(o.autoscaler !== undefined ? { autoscaler: o.autoscaler } : {}),
      ...(o.serviceType !== undefined ? { serviceType: o.serviceType } : {}),
      ...(o.prometheusUrl !== undefined ? { prometheusUrl: o.prometheusUrl } : {}),
    });
    if (o.out !== undefined) {
      try {
        await writeOut(o.out, objects);
      } catch (err) {
        throw new RenderError(`--out ${o.out}: cannot write the files: ${(err as Error).message}`, {
          cause: err,
        });
      }
      process.stderr.write(`flotilla render: ${objects.length} objects and kustomization.yaml in ${o.out}\n`);
    } else {
      process.stdout.write(toYamlStream(objects));
    }
    return 0;
  } catch (err) {
    if (
      err instanceof FlotillaError &&
      (err.code === 'FLT_RENDER_UNMAPPABLE' || err.code === 'FLT_CONFIG_INVALID')
    ) {
      process.stderr.write(`flotilla render: ${err.message.replace(/\s*\n\s*/g, ' ')}\n`);
      return 2;
    }
    throw err;
  }
}

/** The `flotilla render` command. */
export function renderCommand(): Command {
  const targets = renderTargetNames();
  return new Command('render')
    .description(
      'Write Kubernetes objects for a service file or ElasticServing PaddleService YAML: the cluster runs them (docs/kubernetes.md).',
    )
    .argument('<file>', 'Flotilla service file, or Kubernetes YAML with PaddleService documents')
    .addOption(new Option('--target <target>', 'what to render for').choices(targets).makeOptionMandatory())
    .option('--image <image>', 'the Flotilla image: runs model: and command: variants, and the gateway')
    .option('--namespace <ns>', "namespace of every object (default: a PaddleService's own, else default)")
    .option(
      '--models <source>',
      'where model repositories come from: image (baked in at /models), pvc:CLAIM (mounted at /models), uri:URI (KServe storage initializer)',
      'image',
    )
    .option('--out <dir>', 'write one file per object plus kustomization.yaml here (default: YAML on stdout)')
    .addOption(
      new Option(
        '--autoscaler <kind>',
        'kubernetes target: hpa (autoscaling/v2, min 1), keda (ScaledObject, scales to zero) or none (replicas fixed; kubectl scale) (default: hpa)',
      ).choices(['hpa', 'keda', 'none']),
    )
    .addOption(
      new Option(
        '--service-type <type>',
        "kubernetes target: the gateway Service's type (default: LoadBalancer)",
      ).choices(['ClusterIP', 'NodePort', 'LoadBalancer']),
    )
    .option(
      '--prometheus-url <url>',
      'kubernetes target, --autoscaler keda: the Prometheus KEDA queries (default: http://prometheus-operated.monitoring.svc:9090)',
    )
    .exitOverride((err) => {
      // Commander has printed the message; a flag it rejected is a usage error like ours: exit 2.
      process.exit(err.exitCode === 0 ? 0 : 2);
    })
    .action(async (file: string, opts: RenderCliOptions) => {
      process.exitCode = await renderCli(file, opts);
    });
}
