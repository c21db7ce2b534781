import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Clock,
  ConflictError,
  InternalError,
  InvalidRequestError,
  type Logger,
  NotFoundError,
  type TensorSpec,
  UnavailableError,
} from '../../core/index.js';
import type { ModelConfig, VersionPolicy } from '../../spec/index.js';
import type { Backend, InferCall, LoadedModel } from '../backends/index.js';
import { type BatchExecutor, DynamicBatcher, realTimers } from '../batching/index.js';
import type { ModelMetrics, VersionMetrics } from '../metrics/model-metrics.js';
import { type BodyBounds, bodyBounds } from '../request-bounds.js';
import { checkModelName, parseVersion, versionFromText } from './model-name.js';
import { type ScannedModel, scanModel, scanRepository, scanSingleModel, versionDirOf } from './scan.js';
import { type CurrentVersion, planVersions, type SlotState } from './version-policy.js';

/** One version the server holds, in any state. */
interface VersionSlot {
  readonly version: number;
  state: SlotState;
  readonly fingerprint: string;
  readonly config: ModelConfig;
  loaded: LoadedModel | undefined;
  inputs: readonly TensorSpec[];
  outputs: readonly TensorSpec[];
  /** The largest request bodies its inputs can need (undefined: unbounded), decided at load. */
  bounds: BodyBounds | undefined;
  reason: string | undefined;
  /** Class names from the config's `labels` file, read at load (classification answers). */
  labels: readonly string[] | undefined;
  inflight: number;
  drained: (() => void) | undefined;
  metrics: VersionMetrics | undefined;
}

interface ModelEntry {
  readonly name: string;
  scanned: ScannedModel;
  readonly slots: Map<number, VersionSlot>;
  /** The invalid config last logged (stamp and error): a poll logs it again only once it changes. */
  loggedConfigError: string | undefined;
}

/** A version checked out for one request; `release` must be called exactly once. */
export interface Lease {
  readonly model: string;
  readonly version: number;
  readonly config: ModelConfig;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly loaded: LoadedModel;
  readonly metrics: VersionMetrics;
  /** Class names from the config's `labels` file; undefined when it names none. */
  readonly labels: readonly string[] | undefined;
  release(): void;
}

/** What `GET /v2/models/{m}/config` and gRPC ModelConfig describe: one ready version. */
export interface ServedConfig {
  readonly name: string;
  readonly version: number;
  readonly config: ModelConfig;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** Instances actually running (an `auto` placement decides at load). */
  readonly instances: number;
}

/** What a front end checks a request against before decoding it: the version that would answer. */
export interface ServableModel {
  readonly name: string;
  readonly version: number;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** 0 when the model does not batch. */
  readonly maxBatchSize: number;
}

/** What `GET /v2/models/{m}[/versions/{v}]` shows. */
export interface ModelMetadata {
  readonly name: string;
  readonly versions: readonly string[];
  readonly platform: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** The config's `typical_shapes`, by input name (shown as each input's `typical_shape`). */
  readonly typicalShapes?: Readonly<Record<string, readonly number[]>>;
}

/** One row of the repository index (Triton's repository extension). */
export interface IndexEntry {
  readonly name: string;
  readonly version?: string;
  readonly state: 'READY' | 'LOADING' | 'UNLOADING' | 'UNAVAILABLE';
  readonly reason: string;
}

/** A model's (or version's) readiness; `missing` when the server does not know it at all. */
export interface ModelReadiness {
  readonly ready: boolean;
  readonly missing?: 'model' | 'version';
  readonly reason?: string;
}

/** Per-version status in TF Serving's terms, for its status endpoint. */
export interface VersionStatus {
  readonly version: number;
  readonly state: SlotState;
  readonly reason: string | undefined;
}

export interface ModelManagerOptions {
  /** The repository folder; with `singleModel`, that one model's own folder. */
  readonly root: string;
  /**
   * `serve --model-dir`: `root` is one model's folder (numbered versions, or the model file
   * itself, as KServe's storage initializer leaves /mnt/models), served under this name.
   */
  readonly singleModel?: string;
  /**
   * Only these models are loaded at start and by polling (`--models`); all when undefined.
   * `name:version` pins a model to one version, whatever its version policy says (a variant's
   * replica serves exactly its version).
   */
  readonly models?: readonly string[];
  /** Config files read instead of `<model>/config.yaml`, by model name (`--model-config`). */
  readonly configOverrides?: ReadonlyMap<string, string>;
}

/** Splits `--models` entries into names and version pins (`mnist:2`). */
export function parseModelSelection(entries: readonly string[]): {
  names: Set<string>;
  pins: Map<string, number>;
} {
  const names = new Set<string>();
  const pins = new Map<string, number>();
  for (const entry of entries) {
    const [name, version] = entry.split(':');
    checkModelName(name ?? '', '--models');
    names.add(name!);
    if (version !== undefined) pins.set(name!, parseVersion(version));
  }
  return { names, pins };
}

export interface ModelManagerDeps {
  readonly backends: Readonly<Record<ModelConfig['backend'], Backend>>;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics: ModelMetrics;
  /** How pipelines call other models; the inference service provides it. */
  readonly infer: InferCall;
}

const PLATFORM: Readonly<Record<ModelConfig['backend'], string>> = { onnx: 'onnxruntime_onnx', js: 'js' };

/**
 * Keeps the loaded versions in line with the repository on disk: scans, asks the pure version
 * policy what to load and unload, loads new versions before old ones go, drains versions before
 * unloading them, and hands out leases on ready versions to requests.
 */
export class ModelManager {
  private readonly models = new Map<string, ModelEntry>();
  /** Models to serve; undefined = every model in the repository. Changed by load/unload calls. */
  private readonly allowed: Set<string> | undefined;
  private readonly pins: ReadonlyMap<string, number>;
  private readonly unloadedByApi = new Set<string>();
  private reconciling: Promise<void> = Promise.resolve();
  /** The scan failure last logged: a repository gone missing is reported once, not every poll. */
  private loggedScanError: string | undefined;
  private started = false;
  private closing = false;
  private readonly unloads = new Set<Promise<void>>();

  constructor(
    private readonly options: ModelManagerOptions,
    private readonly deps: ModelManagerDeps,
  ) {
    const selection = options.models ? parseModelSelection(options.models) : undefined;
    this.allowed = selection?.names;
    this.pins = selection?.pins ?? new Map();
  }

  /** Loads what the repository asks for; resolves once every load has settled. */
  async start(): Promise<void> {
    await this.reconcile();
    this.started = true;
  }

  /** Rescans the repository and applies the version policy (serialized: one pass at a time). */
  reconcile(): Promise<void> {
    const run = this.reconciling.then(async () => {
      await this.reconcileOnce();
      this.loggedScanError = undefined;
    });
    this.reconciling = run.catch((err: unknown) => {
      const error = err instanceof Error ? err.message : String(err);
      if (error === this.loggedScanError) return;
      this.loggedScanError = error;
      this.deps.logger.error('repository scan failed', { error });
    });
    return run;
  }

  /** The models on disk: the repository's, or the one model of `--model-dir`. */
  private async scan(only: ReadonlySet<string> | undefined): Promise<Map<string, ScannedModel>> {
    const { root, singleModel, configOverrides } = this.options;
    if (singleModel === undefined) return scanRepository(root, only, configOverrides);
    const found = await scanSingleModel(root, singleModel, configOverrides);
    if (only && !only.has(singleModel)) found.clear();
    return found;
  }

  private wanted(name: string): boolean {
    return !this.unloadedByApi.has(name) && (this.allowed === undefined || this.allowed.has(name));
  }

  private async reconcileOnce(): Promise<void> {
    if (this.closing) return;
    const scanned = await this.scan(this.allowed);
    for (const [name, entry] of this.models) {
      if (!scanned.has(name) || !this.wanted(name)) this.unloadAll(entry);
    }
    await Promise.all(
      [...scanned.values()].filter((m) => this.wanted(m.name)).map((m) => this.reconcileModel(m)),
    );
  }

  private async reconcileModel(scanned: ScannedModel): Promise<void> {
    let entry = this.models.get(scanned.name);
    if (!entry) {
      entry = { name: scanned.name, scanned, slots: new Map(), loggedConfigError: undefined };
      this.models.set(scanned.name, entry);
    }
    entry.scanned = scanned;
    const config = scanned.config;
    if (!config) {
      // Once per change of the file (or of the error), not on every poll.
      const seen = `${scanned.configStamp}|${scanned.configError}`;
      if (entry.loggedConfigError !== seen) {
        entry.loggedConfigError = seen;
        this.deps.logger.error('invalid model config', { model: scanned.name, error: scanned.configError });
      }
      return;
    }
    entry.loggedConfigError = undefined;
    // Load first, then plan again: unloads wait for the new versions to settle.
    for (let pass = 0; pass < 3; pass++) {
      const current: CurrentVersion[] = [...entry.slots.values()];
      const pin = this.pins.get(scanned.name);
      const policy: VersionPolicy =
        pin === undefined ? config.versionPolicy : { kind: 'specific', versions: [pin] };
      const plan = planVersions(policy, scanned.versions, current);
      for (const v of plan.unload) this.unloadSlot(entry, v);
      if (plan.load.length === 0) return;
      const fingerprints = new Map(scanned.versions.map((v) => [v.version, v.fingerprint]));
      await Promise.all(plan.load.map((v) => this.loadSlot(entry, v, config, fingerprints.get(v) ?? '')));
    }
  }

  private async loadSlot(
    entry: ModelEntry,
    version: number,
    config: ModelConfig,
    fingerprint: string,
  ): Promise<void> {
    const slot: VersionSlot = {
      version,
      state: 'loading',
      fingerprint,
      config,
      loaded: undefined,
      inputs: [],
      outputs: [],
      bounds: undefined,
      reason: undefined,
      labels: undefined,
      inflight: 0,
      drained: undefined,
      metrics: undefined,
    };
    entry.slots.set(version, slot);
    const started = this.deps.clock.now();
    const label = { model: entry.name, version: String(version) };
    try {
      const labels = config.labels ? await this.readLabels(entry, config.labels) : undefined;
      const backend = this.deps.backends[config.backend];
      const loaded = await backend.load(
        {
          name: entry.name,
          version,
          modelDir: entry.scanned.dir,
          versionDir: versionDirOf(entry.scanned, version),
          config,
          ...(labels ? { labels } : {}),
        },
        { logger: this.deps.logger, infer: this.deps.infer },
      );
      slot.loaded = config.dynamicBatching
        ? this.withBatching(loaded, config, `${entry.name}:${version}`)
        : loaded;
      slot.inputs = mergeSpecs(config.inputs, loaded.inputs, 'inputs', entry.name);
      slot.outputs = mergeSpecs(config.outputs, loaded.outputs, 'outputs', entry.name);
      slot.bounds = bodyBounds({ inputs: slot.inputs, maxBatchSize: config.maxBatchSize });
      slot.labels = labels;
      if (this.closing) throw new Error('the server is shutting down');
      if (entry.slots.get(version) !== slot || !this.wanted(entry.name))
        throw new Error('the model was unloaded while loading');
      slot.metrics = this.deps.metrics.forVersion(entry.name, String(version));
      slot.state = 'ready';
      const loadMs = this.deps.clock.now() - started;
      this.deps.metrics.versionReady(entry.name, String(version), true, loadMs / 1000);
      this.deps.logger.info('loaded model version', {
        ...label,
        backend: config.backend,
        placement: loaded.placement?.kind ?? 'worker',
        instances: loaded.placement?.instances ?? config.instances,
        threads: config.threads,
        loadMs: Math.round(loadMs),
      });
    } catch (err) {
      await slot.loaded?.unload().catch(() => undefined);
      slot.loaded = undefined;
      slot.state = 'failed';
      slot.reason = err instanceof Error ? err.message : String(err);
      this.deps.logger.error('failed to load model version', { ...label, error: slot.reason });
    }
  }

  /** Puts Triton's dynamic batcher in front of a model that can take batches. */
  private withBatching(loaded: LoadedModel, config: ModelConfig, label: string): LoadedModel {
    const executor = loaded as Partial<BatchExecutor>;
    if (
      !config.dynamicBatching ||
      typeof executor.available !== 'function' ||
      typeof executor.onAvailable !== 'function'
    ) {
      return loaded;
    }
    return new DynamicBatcher(
      loaded as BatchExecutor,
      { maxBatchSize: config.maxBatchSize, ...config.dynamicBatching, label },
      { clock: this.deps.clock, timers: realTimers },
    );
  }

  private async readLabels(entry: ModelEntry, file: string): Promise<string[]> {
    const text = await readFile(join(entry.scanned.dir, file), 'utf8');
    return text.split(/\r?\n/).filter((l) => l.trim() !== '');
  }

  private unloadAll(entry: ModelEntry): void {
    for (const v of [...entry.slots.keys()]) this.unloadSlot(entry, v);
  }

  /** Stops routing to a version, waits for its in-flight requests, then frees it. */
  private unloadSlot(entry: ModelEntry, version: number): void {
    const slot = entry.slots.get(version);
    if (!slot || slot.state === 'unloading') return;
    if (slot.state !== 'ready') {
      if (slot.state === 'failed') entry.slots.delete(version);
      return;
    }
    slot.state = 'unloading';
    this.deps.metrics.versionReady(entry.name, String(version), false);
    const done = (async () => {
      if (slot.inflight > 0) await new Promise<void>((resolve) => (slot.drained = resolve));
      await slot.loaded?.unload();
      if (entry.slots.get(version) === slot) entry.slots.delete(version);
      if (entry.slots.size === 0 && !this.wanted(entry.name)) this.models.delete(entry.name);
      this.deps.logger.info('unloaded model version', { model: entry.name, version });
    })().catch((err: unknown) => {
      this.deps.logger.error('unload failed', { model: entry.name, version, error: String(err) });
    });
    this.unloads.add(done);
    void done.finally(() => this.unloads.delete(done));
  }

  /** Checks out a ready version for one request: the named one, else the newest ready. */
  acquire(model: string, version?: string): Lease {
    checkModelName(model);
    const v = version === undefined ? undefined : parseVersion(version);
    if (this.closing) throw new UnavailableError('FLT_SHUTTING_DOWN', 'the server is shutting down');
    const slot = this.pick(model, v);
    slot.inflight++;
    let released = false;
    return {
      model,
      version: slot.version,
      config: slot.config,
      inputs: slot.inputs,
      outputs: slot.outputs,
      loaded: slot.loaded!,
      metrics: slot.metrics!,
      labels: slot.labels,
      release: () => {
        if (released) return;
        released = true;
        slot.inflight--;
        if (slot.inflight === 0) slot.drained?.();
      },
    };
  }

  /** Throws what `acquire` would (bad name, unknown model or version, not ready) without leasing. */
  assertServable(model: string, version?: string): void {
    this.servable(model, version);
  }

  /**
   * The inputs of the version `acquire` would lease now, for a front end to check a request
   * against before decoding it; throws what `acquire` would. (The lease, taken after decoding,
   * is checked again: a reload in between may change the version.)
   */
  servable(model: string, version?: string): ServableModel {
    checkModelName(model);
    const slot = this.pick(model, version === undefined ? undefined : parseVersion(version));
    return {
      name: model,
      version: slot.version,
      inputs: slot.inputs,
      outputs: slot.outputs,
      maxBatchSize: slot.config.maxBatchSize,
    };
  }

  /**
   * The body bounds of the version a request would get, decided at its load; undefined when
   * unbounded or when no such version is ready (the route then answers why). Never throws: it
   * runs on every request head, before the body is read.
   */
  bodyBounds(model: string, version?: string): BodyBounds | undefined {
    const entry = this.models.get(model);
    if (!entry || this.closing) return undefined;
    if (version !== undefined) {
      const v = versionFromText(version);
      const slot = v === undefined ? undefined : entry.slots.get(v);
      return slot?.state === 'ready' ? slot.bounds : undefined;
    }
    let best: VersionSlot | undefined;
    for (const slot of entry.slots.values()) {
      if (slot.state === 'ready' && (!best || slot.version > best.version)) best = slot;
    }
    return best?.bounds;
  }

  private entry(model: string): ModelEntry {
    const entry = this.models.get(model);
    if (!entry || !this.wanted(model))
      throw new NotFoundError('FLT_MODEL_NOT_FOUND', `model "${model}" is not found`);
    return entry;
  }

  private pick(model: string, version: number | undefined): VersionSlot {
    const entry = this.entry(model);
    if (version !== undefined) {
      const slot = entry.slots.get(version);
      if (!slot) {
        const have = [...entry.slots.keys()].sort((a, b) => a - b).join(', ') || 'none';
        throw new NotFoundError(
          'FLT_VERSION_NOT_FOUND',
          `model "${model}" has no version ${version} (versions: ${have})`,
        );
      }
      if (slot.state === 'failed') {
        throw new ConflictError(
          'FLT_MODEL_FAILED',
          `model "${model}" version ${version} failed to load: ${slot.reason ?? 'no reason given'}`,
        );
      }
      if (slot.state !== 'ready') {
        const why = slot.reason ? `: ${slot.reason}` : '';
        throw new UnavailableError(
          'FLT_MODEL_NOT_READY',
          `model "${model}" version ${version} is ${slot.state}${why}`,
        );
      }
      return slot;
    }
    let best: VersionSlot | undefined;
    for (const slot of entry.slots.values()) {
      if (slot.state === 'ready' && (!best || slot.version > best.version)) best = slot;
    }
    if (!best) {
      const why = entry.scanned.configError ?? [...entry.slots.values()].find((s) => s.reason)?.reason;
      // Nothing loading or unloading: no retry will find a ready version until the repository changes.
      const settled = [...entry.slots.values()].every((s) => s.state === 'failed');
      if (settled && why !== undefined) {
        throw new ConflictError('FLT_MODEL_FAILED', `model "${model}" has no ready version: ${why}`);
      }
      throw new UnavailableError(
        'FLT_MODEL_NOT_READY',
        `model "${model}" has no ready version${why ? `: ${why}` : ''}`,
      );
    }
    return best;
  }

  /**
   * The version a label names (`version_labels` in the model's config.yaml), as a version string
   * for `servable`/`metadata`; TF Serving's answer to an unknown label is INVALID_ARGUMENT, so is
   * this one (FLT_UNKNOWN_VERSION_LABEL). The version itself is checked by whoever uses it.
   */
  versionForLabel(model: string, label: string): string {
    checkModelName(model);
    const labels = this.entry(model).scanned.config?.versionLabels ?? {};
    const version = Object.hasOwn(labels, label) ? labels[label] : undefined;
    if (version === undefined) {
      const known = Object.keys(labels);
      throw new InvalidRequestError(
        'FLT_UNKNOWN_VERSION_LABEL',
        `model "${model}" has no version label ${JSON.stringify(label)} (labels: ${known.join(', ') || 'none; set version_labels in its config.yaml'})`,
      );
    }
    return String(version);
  }

  /**
   * The ready versions statistics describe: of every model, of one (404 when unknown), or one
   * version (404 when the model has no such version ready), sorted by name and version.
   */
  readyVersions(model?: string, version?: string): { name: string; version: number }[] {
    if (model === undefined) {
      return [...this.models.values()]
        .filter((e) => this.wanted(e.name))
        .flatMap((e) => readySlots(e).map((v) => ({ name: e.name, version: v })))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version - b.version));
    }
    checkModelName(model);
    const v = version === undefined ? undefined : parseVersion(version);
    if (v !== undefined) return [{ name: model, version: this.pick(model, v).version }];
    return readySlots(this.entry(model)).map((n) => ({ name: model, version: n }));
  }

  /** The config a version (or the newest ready one) runs with; throws what `acquire` would. */
  servedConfig(model: string, version?: string): ServedConfig {
    checkModelName(model);
    const slot = this.pick(model, version === undefined ? undefined : parseVersion(version));
    return {
      name: model,
      version: slot.version,
      config: slot.config,
      inputs: slot.inputs,
      outputs: slot.outputs,
      instances: slot.loaded?.placement?.instances ?? slot.config.instances,
    };
  }

  /** Metadata of a version (or the newest ready one). */
  metadata(model: string, version?: string): ModelMetadata {
    checkModelName(model);
    const slot = this.pick(model, version === undefined ? undefined : parseVersion(version));
    const entry = this.entry(model);
    const versions = [...entry.slots.values()]
      .filter((s) => s.state === 'ready')
      .map((s) => s.version)
      .sort((a, b) => a - b)
      .map(String);
    return {
      name: model,
      versions,
      platform: PLATFORM[slot.config.backend],
      inputs: slot.inputs,
      outputs: slot.outputs,
      ...(slot.config.typicalShapes ? { typicalShapes: slot.config.typicalShapes } : {}),
    };
  }

  /**
   * Whether a model (or one version) can answer now, and why not, Triton's way: never throws for
   * a well-formed name and version (an unknown model or version is simply not ready), so "wait
   * until ready" loops keep polling. `missing` says the model (never held by this server: not
   * loaded, loading, failed nor unloaded by the repository API) or the version is unknown; the
   * REST route answers 404 for those. A malformed name or version still throws (400): no model
   * can have it.
   */
  modelReadiness(model: string, version?: string): ModelReadiness {
    checkModelName(model);
    const v = version === undefined ? undefined : parseVersion(version);
    const entry = this.models.get(model);
    if (!entry && !this.unloadedByApi.has(model)) {
      return { ready: false, missing: 'model', reason: `model "${model}" is not found` };
    }
    if (!entry || !this.wanted(model)) return { ready: false, reason: `model "${model}" is unloaded` };
    if (this.closing) return { ready: false, reason: 'the server is shutting down' };
    if (v === undefined) {
      if ([...entry.slots.values()].some((s) => s.state === 'ready')) return { ready: true };
      return {
        ready: false,
        reason: this.modelNotReady(model, entry) ?? `model "${model}" has no ready version`,
      };
    }
    const slot = entry.slots.get(v);
    if (!slot) return { ready: false, missing: 'version', reason: `model "${model}" has no version ${v}` };
    if (slot.state === 'ready') return { ready: true };
    const why = slot.reason ? `: ${slot.reason}` : '';
    return { ready: false, reason: `model "${model}" version ${v} is ${slot.state}${why}` };
  }

  /** Every version's state, TF Serving style; throws 404 for an unknown model. */
  versionStatus(model: string): VersionStatus[] {
    checkModelName(model);
    return [...this.entry(model).slots.values()]
      .map((s) => ({ version: s.version, state: s.state, reason: s.reason }))
      .sort((a, b) => b.version - a.version);
  }

  /** Server readiness: started, not draining, and every model asked for has its version ready. */
  isReady(): boolean {
    return this.notReadyReason() === undefined;
  }

  /**
   * Why the server is not ready, undefined when it is: ready means the models asked for are
   * loaded (a pinned model: that version), not merely that nothing failed. A model named in
   * `--models` but missing from the repository, one whose config is invalid or whose version
   * failed to load, keeps the server not ready, with the reason the health answer and log give.
   */
  notReadyReason(): string | undefined {
    if (this.closing) return 'the server is shutting down';
    if (!this.started) return 'models are loading';
    const reasons: string[] = [];
    for (const name of this.allowed ?? []) {
      if (!this.models.has(name) && !this.unloadedByApi.has(name))
        reasons.push(`model "${name}" is not in the repository`);
    }
    for (const [name, entry] of this.models) {
      if (!this.wanted(name)) continue;
      const why = this.modelNotReady(name, entry);
      if (why !== undefined) reasons.push(why);
    }
    return reasons.length === 0 ? undefined : reasons.join('; ');
  }

  private modelNotReady(name: string, entry: ModelEntry): string | undefined {
    const slots = [...entry.slots.values()];
    const pin = this.pins.get(name);
    if (pin !== undefined) {
      const slot = entry.slots.get(pin);
      if (slot?.state === 'ready') return undefined;
      if (!slot)
        return `model "${name}" has no version ${pin} (versions on disk: ${entry.scanned.versions.map((v) => v.version).join(', ') || 'none'})`;
      return `model "${name}" version ${pin} is ${slot.state}${slot.reason ? `: ${slot.reason}` : ''}`;
    }
    if (slots.some((s) => s.state === 'ready')) return undefined;
    const failed = slots.find((s) => s.reason !== undefined);
    if (entry.scanned.configError !== undefined) return entry.scanned.configError;
    if (failed) return `model "${name}" version ${failed.version} failed to load: ${failed.reason}`;
    if (slots.length === 0) return `model "${name}" has no version to load`;
    return `model "${name}" is loading`;
  }

  /** The repository index: every model on disk, with the state of each version held. */
  async index(readyOnly: boolean): Promise<IndexEntry[]> {
    const onDisk = await this.scan(undefined);
    const names = new Set([...onDisk.keys(), ...this.models.keys()]);
    const rows: IndexEntry[] = [];
    for (const name of [...names].sort()) {
      const entry = this.models.get(name);
      const slots = entry ? [...entry.slots.values()].sort((a, b) => a.version - b.version) : [];
      if (slots.length === 0) {
        const reason =
          onDisk.get(name)?.configError ?? (this.wanted(name) ? 'no version loaded' : 'unloaded');
        if (!readyOnly) rows.push({ name, state: 'UNAVAILABLE', reason });
        continue;
      }
      for (const s of slots) {
        const state =
          s.state === 'ready'
            ? 'READY'
            : s.state === 'loading'
              ? 'LOADING'
              : s.state === 'unloading'
                ? 'UNLOADING'
                : 'UNAVAILABLE';
        if (readyOnly && state !== 'READY') continue;
        rows.push({ name, version: String(s.version), state, reason: s.reason ?? '' });
      }
    }
    return rows;
  }

  /** Loads (or reloads) a model by name, even one outside `--models`; resolves when it settled. */
  async loadModel(model: string): Promise<void> {
    checkModelName(model);
    const scanned = this.options.singleModel
      ? (await this.scan(undefined)).get(model)
      : await scanModel(this.options.root, model, this.options.configOverrides);
    if (!scanned) throw new NotFoundError('FLT_MODEL_NOT_FOUND', `model "${model}" is not in the repository`);
    this.unloadedByApi.delete(model);
    this.allowed?.add(model);
    await this.reconcile();
    const entry = this.models.get(model);
    if (scanned.configError) throw new InternalError('FLT_MODEL_LOAD_FAILED', scanned.configError);
    const slots = entry ? [...entry.slots.values()] : [];
    if (!slots.some((s) => s.state === 'ready')) {
      const reason = slots.find((s) => s.reason)?.reason ?? 'no version could be loaded';
      throw new InternalError('FLT_MODEL_LOAD_FAILED', `model "${model}" failed to load: ${reason}`);
    }
  }

  /** Unloads every version of a model after draining; polling will not load it again. */
  async unloadModel(model: string): Promise<void> {
    checkModelName(model);
    const entry = this.models.get(model);
    if (!entry || !this.wanted(model))
      throw new NotFoundError('FLT_MODEL_NOT_FOUND', `model "${model}" is not loaded`);
    this.unloadedByApi.add(model);
    this.unloadAll(entry);
    await Promise.all([...this.unloads]);
  }

  /** Refuses new requests, waits for in-flight ones, and unloads everything. */
  async close(): Promise<void> {
    this.closing = true;
    await this.reconciling;
    for (const entry of this.models.values()) this.unloadAll(entry);
    await Promise.all([...this.unloads]);
  }
}

function readySlots(entry: ModelEntry): number[] {
  return [...entry.slots.values()]
    .filter((s) => s.state === 'ready')
    .map((s) => s.version)
    .sort((a, b) => a - b);
}

/** The metadata to serve: the config's declaration when given (checked against the model), else the model's. */
function mergeSpecs(
  declared: readonly TensorSpec[] | undefined,
  actual: readonly TensorSpec[],
  kind: 'inputs' | 'outputs',
  model: string,
): readonly TensorSpec[] {
  if (!declared) return actual;
  if (actual.length === 0) return declared;
  for (const d of declared) {
    const a = actual.find((x) => x.name === d.name);
    if (!a)
      throw new Error(
        `config ${kind}: "${d.name}" is not one of ${model}'s ${kind} (${actual.map((x) => x.name).join(', ')})`,
      );
    if (a.datatype !== d.datatype) {
      throw new Error(
        `config ${kind}: "${d.name}" is declared ${d.datatype} but the model has ${a.datatype}`,
      );
    }
  }
  return declared;
}
