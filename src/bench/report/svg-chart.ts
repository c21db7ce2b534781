/** One line of a chart. */
export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
}

/** A line chart drawn as inline SVG (no script, no external file: the report opens offline). */
export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Vertical markers at x: events (`marker`, dotted) or level starts (`level`, solid grey). */
  readonly markers?: readonly {
    readonly x: number;
    readonly label: string;
    readonly kind?: 'marker' | 'level';
  }[];
  /** Horizontal reference lines (an SLO threshold), at y. */
  readonly hLines?: readonly { readonly y: number; readonly label: string }[];
  /** Tick positions and labels on x, instead of evenly spaced numbers. */
  readonly xTicks?: readonly { readonly x: number; readonly label: string }[];
  readonly width?: number;
  readonly height?: number;
}

/** Text safe inside HTML and SVG. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** About five round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(3)).toString());

/** Draws the chart; an empty series list gives an empty frame with the title. */
export function lineChart(o: ChartOptions): string {
  const W = o.width ?? 760;
  const H = o.height ?? 300;
  const m = { left: 64, right: 150, top: 32, bottom: 44 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const xs = o.series.flatMap((s) => s.points.map((p) => p[0])).concat((o.xTicks ?? []).map((t) => t.x));
  const ys = o.series.flatMap((s) => s.points.map((p) => p[1])).concat((o.hLines ?? []).map((l) => l.y));
  const x0 = xs.length ? Math.min(...xs) : 0;
  const x1 = xs.length ? Math.max(...xs) : 1;
  const y1 = ys.length ? Math.max(...ys) * 1.08 : 1;
  const xr = x1 > x0 ? x1 - x0 : 1;
  const yr = y1 > 0 ? y1 : 1;
  const X = (v: number): number => m.left + ((v - x0) / xr) * pw;
  const Y = (v: number): number => m.top + ph - (v / yr) * ph;
  const parts: string[] = [
    `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(o.title)}">`,
    `<text x="${m.left}" y="20" class="title">${escapeXml(o.title)}</text>`,
  ];
  for (const t of niceTicks(0, yr)) {
    parts.push(
      `<line x1="${m.left}" x2="${m.left + pw}" y1="${Y(t)}" y2="${Y(t)}" class="grid"/>`,
      `<text x="${m.left - 6}" y="${Y(t) + 4}" text-anchor="end">${fmt(t)}</text>`,
    );
  }
  const xt = o.xTicks ?? niceTicks(x0, x1).map((x) => ({ x, label: fmt(x) }));
  for (const t of xt)
    parts.push(
      `<text x="${X(t.x)}" y="${m.top + ph + 16}" text-anchor="middle">${escapeXml(t.label)}</text>`,
    );
  parts.push(
    `<line x1="${m.left}" x2="${m.left + pw}" y1="${m.top + ph}" y2="${m.top + ph}" class="axis"/>`,
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + ph}" class="axis"/>`,
    `<text x="${m.left + pw / 2}" y="${H - 6}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`,
    `<text transform="translate(14 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>`,
  );
  for (const l of o.hLines ?? [])
    parts.push(
      `<line x1="${m.left}" x2="${m.left + pw}" y1="${Y(l.y)}" y2="${Y(l.y)}" class="ref"/>`,
      `<text x="${m.left + pw - 4}" y="${Y(l.y) - 4}" text-anchor="end" class="reflabel">${escapeXml(l.label)}</text>`,
    );
  for (const [i, mk] of (o.markers ?? []).entries()) {
    const kind = mk.kind ?? 'marker';
    // Labels step down so neighbouring markers do not print over each other.
    const ly = m.top + 10 + (kind === 'level' ? ph - 14 : (i % 3) * 11);
    parts.push(
      `<line x1="${X(mk.x)}" x2="${X(mk.x)}" y1="${m.top}" y2="${m.top + ph}" class="${kind}"/>`,
      `<text x="${X(mk.x) + 3}" y="${ly}" class="${kind}label">${escapeXml(mk.label)}</text>`,
    );
  }
  for (const [i, s] of o.series.entries()) {
    const d = s.points
      .map((p, j) => `${j === 0 ? 'M' : 'L'}${X(p[0]).toFixed(1)} ${Y(p[1]).toFixed(1)}`)
      .join(' ');
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    if (s.points.length > 0)
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    for (const p of s.points.length <= 60 ? s.points : [])
      parts.push(`<circle cx="${X(p[0]).toFixed(1)}" cy="${Y(p[1]).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
    const ly = m.top + 12 + i * 18;
    parts.push(
      `<line x1="${W - m.right + 12}" x2="${W - m.right + 32}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="3"${dash}/>`,
      `<text x="${W - m.right + 38}" y="${ly}">${escapeXml(s.name)}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}
