import { seededRandom } from '../../core/index.js';
import { BenchArgumentError } from '../errors.js';
import type { BenchFlags } from '../options.js';
import { parseShapes } from '../options.js';
import { parseDataset } from './dataset.js';
import { checkAgainstModel, type ModelMetadata, type Payload, parseInputData } from './payload.js';
import { randomInputs } from './random-inputs.js';

/** What a run sends: its payloads, where they came from, and for a dataset the output checked. */
export interface SelectedPayloads {
  readonly payloads: Payload[];
  /** `random`, `--input-data FILE` or `--dataset FILE`, for the reports. */
  readonly source: string;
  readonly labelOutput?: string;
}

/**
 * Picks the payloads the flags ask for (a dataset, an input file, or random tensors from the
 * model's metadata) and checks them against the model before the run, so a wrong file fails
 * once, not on every request. `read` reads a flag's file (I/O stays with the caller).
 */
export function selectPayloads(
  f: Pick<BenchFlags, 'dataset' | 'inputData' | 'labelOutput' | 'shape' | 'seed'>,
  meta: ModelMetadata,
  read: (flag: string, file: string) => string,
): SelectedPayloads {
  if (f.dataset !== undefined) {
    const payloads = parseDataset(read('--dataset', f.dataset), f.dataset);
    for (const [i, p] of payloads.entries())
      checkAgainstModel(p.inputs, meta.inputs, `--dataset ${f.dataset} example ${i + 1}`);
    const labelOutput = f.labelOutput ?? (meta.outputs.length === 1 ? meta.outputs[0]!.name : undefined);
    const names = meta.outputs.map((o) => o.name).join(', ');
    if (labelOutput === undefined)
      throw new BenchArgumentError(
        `--dataset: the model has several outputs (${names}); name one with --label-output`,
      );
    if (!meta.outputs.some((o) => o.name === labelOutput))
      throw new BenchArgumentError(
        `--label-output ${labelOutput}: not an output of the model (outputs: ${names})`,
      );
    return { payloads, source: `--dataset ${f.dataset}`, labelOutput };
  }
  if (f.inputData !== undefined) {
    const payload = parseInputData(read('--input-data', f.inputData), f.inputData);
    checkAgainstModel(payload.inputs, meta.inputs, `--input-data ${f.inputData}`);
    return { payloads: [payload], source: `--input-data ${f.inputData}` };
  }
  const inputs = randomInputs(meta.inputs, parseShapes(f.shape ?? []), seededRandom(f.seed));
  return { payloads: [{ inputs }], source: 'random' };
}
