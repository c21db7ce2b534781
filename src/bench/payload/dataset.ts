import { BenchArgumentError } from '../errors.js';
import { namedTensors, type Payload } from './payload.js';

/**
 * Reads `--dataset FILE`: JSON lines, each `{"inputs": {name: {datatype, shape, data}}, "label":
 * "7"}`. `label` may be a string or number (one row) or a list (one per batch row). Blank lines are
 * skipped; a bad line is named by its number.
 */
export function parseDataset(text: string, file: string): Payload[] {
  const out: Payload[] = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const where = `--dataset ${file} line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new BenchArgumentError(`${where}: not JSON (${(err as Error).message})`, { cause: err });
    }
    const obj = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
    const inputs = namedTensors(obj['inputs'], `${where}: inputs`);
    const label = obj['label'];
    const labels = Array.isArray(label) ? label : [label];
    if (labels.length === 0 || !labels.every((l) => typeof l === 'string' || typeof l === 'number'))
      throw new BenchArgumentError(`${where}: label must be a string, a number or a list of them`);
    out.push({ inputs, labels: labels.map(String) });
  }
  if (out.length === 0) throw new BenchArgumentError(`--dataset ${file}: no examples`);
  return out;
}
