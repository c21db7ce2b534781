import { Agent, request } from 'undici';
import type { InferRequest, InferResponse } from '../core/index.js';
import {
  decodeInferResponse,
  type EncodeRequestOptions,
  encodeInferRequest,
} from '../protocol/oip-rest/index.js';
import type { ClientTls } from '../tls/index.js';

/** A failed call: the server's status and its `{"error"}` message. */
export class OipHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'OipHttpError';
  }
}

export interface OipHttpClientOptions {
  /** e.g. `http://127.0.0.1:8000` */
  readonly baseUrl: string;
  /** Connections kept per origin. */
  readonly connections?: number;
  /** For `https://` URLs: the CA to trust, a client certificate (mTLS), the name to verify. */
  readonly tls?: ClientTls | undefined;
}

/**
 * A typed Open Inference Protocol v2 client over HTTP (JSON or Triton's binary extension), on a
 * pooled undici agent. Used by tests, the bench and the gateway's health checks.
 */
export class OipHttpClient {
  private readonly agent: Agent;

  constructor(private readonly options: OipHttpClientOptions) {
    this.agent = new Agent({
      connections: options.connections ?? 16,
      pipelining: 1,
      ...(options.tls ? { connect: { ...options.tls } } : {}),
    });
  }

  async infer(req: InferRequest, encoding: EncodeRequestOptions = {}): Promise<InferResponse> {
    const { body, headerLength } = encodeInferRequest(req, encoding);
    const path =
      req.version === undefined
        ? `/v2/models/${encodeURIComponent(req.model)}/infer`
        : `/v2/models/${encodeURIComponent(req.model)}/versions/${encodeURIComponent(req.version)}/infer`;
    const headers: Record<string, string> = {
      'content-type': headerLength === undefined ? 'application/json' : 'application/octet-stream',
    };
    if (headerLength !== undefined) headers['inference-header-content-length'] = String(headerLength);
    const res = await request(this.options.baseUrl + path, {
      method: 'POST',
      body,
      headers,
      dispatcher: this.agent,
    });
    const bytes = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode !== 200) throw errorFrom(res.statusCode, bytes);
    const h = res.headers['inference-header-content-length'];
    return decodeInferResponse(bytes, h === undefined ? undefined : Number(h));
  }

  /** GET a JSON endpoint (metadata, health), throwing OipHttpError for non-200 answers. */
  async getJson<T = unknown>(path: string): Promise<T> {
    const res = await request(this.options.baseUrl + path, { dispatcher: this.agent });
    const bytes = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode !== 200) throw errorFrom(res.statusCode, bytes);
    return JSON.parse(bytes.toString('utf8')) as T;
  }

  /** The status code of a GET (readiness endpoints answer with status only). */
  async status(path: string): Promise<number> {
    const res = await request(this.options.baseUrl + path, { dispatcher: this.agent });
    await res.body.dump();
    return res.statusCode;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

function errorFrom(status: number, bytes: Buffer): OipHttpError {
  try {
    const body = JSON.parse(bytes.toString('utf8')) as { error?: string; code?: string };
    return new OipHttpError(status, body.error ?? `HTTP ${status}`, body.code);
  } catch {
    return new OipHttpError(status, `HTTP ${status}: ${bytes.toString('utf8').slice(0, 200)}`, undefined);
  }
}
