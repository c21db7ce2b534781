import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { ServiceFile, ServiceSpec } from '../spec/index.js';

/**
 * How to call the CLI from a shell here: `flotilla` when an executable of that name is on PATH
 * (after `npm link` or a global install), else `npx flotilla` (what works in the checkout after
 * `npm install`, if slower): the banner's commands must run as pasted.
 */
export function cliCommand(env: Readonly<Record<string, string | undefined>> = process.env): string {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, 'flotilla'), constants.X_OK);
      return 'flotilla';
    } catch {
      // Not in this folder.
    }
  }
  return 'npx flotilla';
}

/** How the banner's commands reach this `up`: its context name, and the CLI as it runs here. */
export interface BannerReach {
  /** The context name `--context` takes (see up-context.ts). */
  readonly context?: string;
  /** `flotilla` or `npx flotilla` (cliCommand). Default `flotilla`. */
  readonly cli?: string;
  /** Where the dashboard is served (`/_flotilla/ui` on the admin listener). */
  readonly dashboardUrl?: string;
}

/** How a service is reached through the gateway: its path prefix, or a Host header. */
function reach(s: ServiceSpec, url: string): { base: string; host: string } {
  const base = s.path !== undefined ? `${url}${s.path}` : url;
  const host = s.hosts[0] !== undefined && !s.hosts[0].includes('*') ? ` -H 'Host: ${s.hosts[0]}'` : '';
  return { base, host };
}

/** An inference request to paste for a service, by what its model takes. */
function example(s: ServiceSpec, url: string): string {
  const { base, host } = reach(s, url);
  const model = s.variants[0]?.modelName ?? s.name;
  const infer = `${base}/v2/models/${model}/infer`;
  if (model === 'mnist') {
    return `python3 -c 'import json; print(json.dumps({"inputs":[{"name":"image","shape":[1,784],"datatype":"FP32","data":[0]*784}]}))' \\\n  | curl -s${host} ${infer} -d @- -D - | grep -iE 'x-flotilla-variant|outputs'`;
  }
  if (model === 'ocr' || model === 'digit') {
    const image = model === 'ocr' ? 'examples/images/hello.png' : 'examples/images/seven.png';
    return `curl -s${host} ${infer} -d '{"inputs":[{"name":"image","shape":[1],"datatype":"BYTES","parameters":{"content_type":"base64"},"data":["'"$(base64 -w0 ${image})"'"]}]}'`;
  }
  return `curl -s${host} ${base}/v2/models/${model}`;
}

function weights(s: ServiceSpec): string {
  const total = s.variants.reduce((a, v) => a + v.weight, 0) || 1;
  return s.variants
    .map((v) => {
      const what =
        v.runs.kind === 'model'
          ? `${v.runs.name}${v.runs.version !== undefined ? ` v${v.runs.version}` : ''}`
          : v.runs.kind;
      const scale = v.scale ? `, ${v.scale.min}-${v.scale.max} replicas` : '';
      return `${v.tag} ${Math.round((v.weight / total) * 100)}% (${what}${scale})`;
    })
    .join(', ');
}

/** What `flotilla up` prints once listening: URLs and commands ready to paste. */
export function upBanner(
  file: ServiceFile,
  url: string,
  grpcPort: number | undefined,
  reach: BannerReach = {},
): string {
  const cli = reach.cli ?? 'flotilla';
  const target = reach.context !== undefined ? ` --context ${reach.context}` : '';
  const lines = [
    '',
    `flotilla up: ${file.services.length} service(s) from ${file.file}`,
    `  gateway  ${url}${grpcPort !== undefined ? `   gRPC 127.0.0.1:${grpcPort}` : ''}`,
    ...(reach.dashboardUrl !== undefined
      ? [
          `  dashboard ${reach.dashboardUrl}   (sign in with the admin token: --admin-token, or "token" in ${reach.context !== undefined ? `~/.flotilla/up/${reach.context}.json` : 'the context file'})`,
        ]
      : []),
  ];
  if (reach.context !== undefined)
    lines.push(`  context  ${reach.context}   (the admin commands below name it: other flotilla up may run)`);
  lines.push('');
  for (const s of file.services) {
    lines.push(`  ${s.name}: ${weights(s)}`);
    if (s.rollout)
      lines.push(
        `    progressive rollout: ${s.rollout.steps.join(' -> ')}% every ${s.rollout.intervalMs / 1000}s`,
      );
    lines.push(`    ${example(s, url).split('\n').join('\n    ')}`);
    lines.push('');
  }
  const commands: [string, string][] = [
    [`${cli} status${target}`, 'replicas, weights, scaling and rollout decisions'],
    [`${cli} scale${target} SERVICE VARIANT N`, 'pin a variant to N replicas'],
    [`${cli} rollout${target} SERVICE promote|rollback|start|set-weights TAG=W ...`, ''],
    [`${cli} bench --url ${url} --model NAME`, 'load it (see bench --help)'],
  ];
  const width = Math.max(...commands.filter(([, c]) => c !== '').map(([cmd]) => cmd.length));
  for (const [cmd, comment] of commands)
    lines.push(comment === '' ? `  ${cmd}` : `  ${cmd.padEnd(width)}  # ${comment}`);
  lines.push('  Ctrl-C stops everything (replicas drain first)', '');
  return `${lines.join('\n')}\n`;
}
