/**
 * Reading a Prometheus text exposition in tests: every sample as name, labels and value, and
 * the value of the one sample that matches.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/;
const LABEL = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample of `text` (comments and blank lines skipped). */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (m === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL))
      labels[l[1] ?? ''] = (l[2] ?? '').replace(/\\(.)/g, '$1');
    out.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return out;
}

/**
 * The samples named `name` whose labels include `labels` (other labels may be present); a
 * label given as `''` must be absent, as Prometheus treats an empty label.
 */
export function samples(
  text: string | readonly Sample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): Sample[] {
  const all = typeof text === 'string' ? parseExposition(text) : text;
  return all.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => (s.labels[k] ?? '') === v),
  );
}

/** The sum of the values of {@link samples} (0 when none match). */
export function sampleSum(
  text: string | readonly Sample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  return samples(text, name, labels).reduce((sum, s) => sum + s.value, 0);
}
