/**
 * The byte rules of RFC 9112 a request head must follow, shared by the server's and the gateway's
 * fast paths so both refuse the same heads. Each rule here is one a lenient parser gets wrong and
 * request smuggling is built on: a bare LF or CR a backend reads as a line end, a NUL a C parser
 * reads as the value's end, a space before the colon, an empty name.
 */

import { METHODS } from 'node:http';

const LF = 10;
const COLON = 58;

/** 1 for the bytes of a token (RFC 9110 §5.6.2): header names and methods. */
const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TOKEN[c.charCodeAt(0)] = 1;

/** 1 for the bytes a field value may hold: VCHAR, SP, HTAB and obs-text; no CTL, no DEL. */
const VALUE = new Uint8Array(256);
for (let b = 0; b < 256; b++) VALUE[b] = b === 9 || (b >= 32 && b !== 127) ? 1 : 0;

/** 1 for the bytes of a request-target: visible ASCII only (no space, no CTL, no obs-text). */
const TARGET = new Uint8Array(256);
for (let b = 33; b < 127; b++) TARGET[b] = 1;

/** Why a field line is refused (the 400's message), by the negative code `fieldLine` returns. */
export const FIELD_PROBLEMS: readonly string[] = [
  '',
  'a header line ends in a bare CR (RFC 9112 §2.2)',
  'a header line has no colon',
  'a header line has an empty name (RFC 9110 §5.1)',
  'a header name holds a character a token may not (whitespace before the colon? RFC 9112 §5.1)',
  'a header value holds a control character: bare LF, bare CR, NUL… (RFC 9110 §5.5)',
  'a folded header line (obs-fold, RFC 9112 §5.2)',
];

/**
 * Checks the field line `[at, end)` of `buf`, where `end` is the offset of the first CR at or after
 * `at`: returns the offset of its colon, or minus the index of its problem in FIELD_PROBLEMS.
 */
export function fieldLine(buf: Buffer, at: number, end: number): number {
  if (buf[end + 1] !== LF) return -1;
  const first = buf[at];
  if (first === 32 || first === 9) return -6;
  let colon = at;
  while (colon < end && buf[colon] !== COLON) {
    if (TOKEN[buf[colon]!] === 0) return -4;
    colon++;
  }
  if (colon === end) return -2;
  if (colon === at) return -3;
  for (let i = colon + 1; i < end; i++) if (VALUE[buf[i]!] === 0) return -5;
  return colon;
}

/**
 * The field value in `[from, to)` of `buf` without the optional whitespace around it: SP and HTAB
 * only, as llhttp strips (String.prototype.trim would also eat a latin1 NBSP, 0xA0, which llhttp
 * keeps: the differential suite found `Content-Length: 2\xa0` read as 2 where llhttp refuses it).
 */
export function fieldValue(buf: Buffer, from: number, to: number): string {
  while (from < to && (buf[from] === 32 || buf[from] === 9)) from++;
  while (to > from && (buf[to - 1] === 32 || buf[to - 1] === 9)) to--;
  return buf.toString('latin1', from, to);
}

/**
 * A Content-Length value `[from, to)` as a number, or -1: digits between optional whitespace, where
 * llhttp takes trailing spaces but refuses a trailing HTAB (`Content-Length: 2\t` is its 400).
 * More than 15 digits is -1 as well (a body over 10^15 bytes is refused, not waited for).
 */
export function contentLengthValue(buf: Buffer, from: number, to: number): number {
  const m = /^[ \t]*(\d{1,15}) *$/.exec(buf.toString('latin1', from, to));
  return m ? Number(m[1]) : -1;
}

/**
 * The methods llhttp knows (node:http's METHODS): any other token is refused by node:http, so the
 * fast paths hand it over rather than serve it (the differential suite found `get` and `FROB`
 * served where llhttp answers 400).
 */
export const KNOWN_METHODS: ReadonlySet<string> = new Set(METHODS);

/** True when `[from, to)` of `buf` is a token (a method). */
export function isToken(buf: Buffer, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) if (TOKEN[buf[i]!] === 0) return false;
  return true;
}

/** True when `[from, to)` of `buf` may be a request-target (visible ASCII, at least one byte). */
export function isTarget(buf: Buffer, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) if (TARGET[buf[i]!] === 0) return false;
  return true;
}

/** Where an absolute-form target's path starts (`http://host/p` → index of `/p`), or -1. */
export function absolutePathStart(target: string): number {
  const scheme = /^https?:\/\//i.exec(target);
  if (!scheme) return -1;
  const slash = target.indexOf('/', scheme[0].length);
  const q = target.indexOf('?', scheme[0].length);
  if (q >= 0 && (slash < 0 || q < slash)) return q;
  return slash < 0 ? target.length : slash;
}

/**
 * The origin-form of a request-target: absolute-form (`http://host/p?q`, RFC 9112 §3.2.2, which a
 * server MUST accept) gives its path and query; an authority without a path gives `/`.
 */
export function originForm(target: string): string {
  const at = absolutePathStart(target);
  if (at < 0) return target;
  const rest = target.slice(at);
  return rest === '' || rest.startsWith('?') ? `/${rest}` : rest;
}
