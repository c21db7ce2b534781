/**
 * A short JSON-like rendering of a value for an error message, bounded whatever the value: at most
 * `maxChars` characters (longer ones end in `...`), and work and recursion stop once the budget is
 * spent. `JSON.stringify` would throw a RangeError on a list nested 100,000 deep (a 500 instead of a
 * 400) and would copy a 16 MiB array whole into the message.
 */
export function previewJson(value: unknown, maxChars = 60): string {
  let out = '';
  // Every level writes at least one character, so recursion stops within maxChars levels.
  const write = (v: unknown): void => {
    if (out.length > maxChars) return;
    if (Array.isArray(v)) {
      out += '[';
      for (let i = 0; i < v.length && out.length <= maxChars; i++) {
        if (i > 0) out += ',';
        write(v[i]);
      }
      out += ']';
    } else if (typeof v === 'object' && v !== null) {
      out += '{';
      let first = true;
      for (const key in v) {
        if (out.length > maxChars) break;
        if (!Object.hasOwn(v, key)) continue;
        if (!first) out += ',';
        first = false;
        out += `${JSON.stringify(key.length > maxChars ? key.slice(0, maxChars) : key)}:`;
        write((v as Record<string, unknown>)[key]);
      }
      out += '}';
    } else if (typeof v === 'string') {
      out += JSON.stringify(v.length > maxChars ? v.slice(0, maxChars) : v);
    } else if (typeof v === 'bigint') {
      out += String(v);
    } else {
      out += JSON.stringify(v) ?? String(v);
    }
  };
  write(value);
  return out.length > maxChars ? `${out.slice(0, maxChars - 3)}...` : out;
}
