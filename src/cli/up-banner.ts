import type { ServiceFile, ServiceSpec } from '../spec/index.js';

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
  dashboardUrl?: string,
): string {
  const lines = [
    '',
    `flotilla up: ${file.services.length} service(s) from ${file.file}`,
    `  gateway  ${url}${grpcPort !== undefined ? `   gRPC 127.0.0.1:${grpcPort}` : ''}`,
    ...(dashboardUrl !== undefined
      ? [
          `  dashboard ${dashboardUrl}   (sign in with the admin token: --admin-token, or "token" in ~/.flotilla/up.json)`,
        ]
      : []),
    '',
  ];
  for (const s of file.services) {
    lines.push(`  ${s.name}: ${weights(s)}`);
    if (s.rollout)
      lines.push(
        `    progressive rollout: ${s.rollout.steps.join(' -> ')}% every ${s.rollout.intervalMs / 1000}s`,
      );
    lines.push(`    ${example(s, url).split('\n').join('\n    ')}`);
    lines.push('');
  }
  lines.push(
    '  flotilla status                          # replicas, weights, scaling and rollout decisions',
    '  flotilla scale SERVICE VARIANT N         # pin a variant to N replicas',
    '  flotilla rollout SERVICE promote|rollback|start|set-weights TAG=W ...',
    '  flotilla bench --url URL --model NAME   # load it (see flotilla bench --help)',
    '  Ctrl-C stops everything (replicas drain first)',
    '',
  );
  return `${lines.join('\n')}\n`;
}
