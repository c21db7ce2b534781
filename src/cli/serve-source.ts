import { isValidModelName } from '../server/index.js';

/** Where `flotilla serve` reads models from. */
export type ModelSource =
  /** `--model-repository DIR`: `DIR/<model>/config.yaml` and numbered version folders. */
  | { readonly kind: 'repository'; readonly dir: string }
  /**
   * `--model-dir DIR --model-name NAME`: one model whose folder is DIR, holding numbered version
   * folders or the model file itself (KServe's /mnt/models), served as NAME.
   */
  | { readonly kind: 'model'; readonly dir: string; readonly name: string };

/** The flags that choose the source, as commander parsed them. */
export interface SourceFlags {
  readonly modelRepository?: string | undefined;
  readonly modelDir?: string | undefined;
  readonly modelName?: string | undefined;
  readonly models?: readonly string[] | undefined;
}

/**
 * The model source the flags name, or the one line that says what is wrong with them (the CLI
 * prints it and exits 2). Pure: it checks the flags, not the disk.
 */
export function modelSource(flags: SourceFlags): ModelSource | { readonly usage: string } {
  const { modelRepository, modelDir, modelName } = flags;
  if (modelRepository !== undefined && modelDir !== undefined) {
    return { usage: '--model-repository and --model-dir exclude each other: give one' };
  }
  if (modelRepository !== undefined) {
    if (modelName !== undefined)
      return { usage: '--model-name goes with --model-dir, not --model-repository' };
    return { kind: 'repository', dir: modelRepository };
  }
  if (modelDir === undefined) {
    return { usage: 'give --model-repository DIR, or --model-dir DIR with --model-name NAME' };
  }
  if (modelName === undefined)
    return { usage: '--model-dir needs --model-name NAME (the name clients call)' };
  if (!isValidModelName(modelName)) {
    return {
      usage: `--model-name: ${JSON.stringify(modelName)} is not a valid model name (letters, digits, '_', '.', '-'; no '..' or '/')`,
    };
  }
  // With one model, --models only pins its version (`--models mnist:2`): KServe's runtime appends it.
  const other = flags.models?.find((m) => m.split(':')[0] !== modelName);
  if (other !== undefined) {
    return {
      usage: `--models ${other}: with --model-dir, --models only pins a version of --model-name ${modelName} (${modelName}:VERSION)`,
    };
  }
  return { kind: 'model', dir: modelDir, name: modelName };
}
