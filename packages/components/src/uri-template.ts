/**
 * RFC 6570 URI templates, levels 1-4: expansion (exact, per the RFC algorithm) and matching
 * (the reverse, necessarily heuristic). A template is parsed and compiled to one RegExp once;
 * matching a URI is one `exec` plus a little splitting.
 */
import { ComponentError } from './errors.js';

/** A template variable's value for expansion. */
export type TemplateValue =
  | string
  | number
  | boolean
  | readonly (string | number | boolean)[]
  | Readonly<Record<string, string | number | boolean>>
  | null
  | undefined;

/** Variables read back from a URI: exploded variables are arrays, others strings. */
export type TemplateVariables = Readonly<Record<string, string | string[]>>;

interface VarSpec {
  readonly name: string;
  readonly explode: boolean;
  /** Prefix length (`{var:3}`), or 0 for none. */
  readonly prefix: number;
}

type Operator = '' | '+' | '#' | '.' | '/' | ';' | '?' | '&';

interface OperatorInfo {
  readonly first: string;
  readonly sep: string;
  readonly named: boolean;
  readonly ifemp: string;
  readonly allowReserved: boolean;
}

/** RFC 6570 Appendix A table. */
const OPERATORS: Readonly<Record<Operator, OperatorInfo>> = {
  '': { first: '', sep: ',', named: false, ifemp: '', allowReserved: false },
  '+': { first: '', sep: ',', named: false, ifemp: '', allowReserved: true },
  '#': { first: '#', sep: ',', named: false, ifemp: '', allowReserved: true },
  '.': { first: '.', sep: '.', named: false, ifemp: '', allowReserved: false },
  '/': { first: '/', sep: '/', named: false, ifemp: '', allowReserved: false },
  ';': { first: ';', sep: ';', named: true, ifemp: '', allowReserved: false },
  '?': { first: '?', sep: '&', named: true, ifemp: '=', allowReserved: false },
  '&': { first: '&', sep: '&', named: true, ifemp: '=', allowReserved: false },
};

interface Expression {
  readonly op: OperatorInfo;
  readonly opChar: Operator;
  readonly vars: readonly VarSpec[];
}

type Part = string | Expression;

const VARNAME = /^(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})(?:\.?(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2}))*$/;

function parse(template: string): Part[] {
  const parts: Part[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open < 0) {
      parts.push(template.slice(i));
      break;
    }
    if (open > i) parts.push(template.slice(i, open));
    const close = template.indexOf('}', open);
    if (close < 0) throw invalid(template, 'unclosed "{"');
    parts.push(parseExpression(template, template.slice(open + 1, close)));
    i = close + 1;
  }
  for (const p of parts) {
    if (typeof p === 'string' && p.includes('}')) throw invalid(template, 'unmatched "}"');
  }
  return parts;
}

function parseExpression(template: string, body: string): Expression {
  let opChar: Operator = '';
  if (body.length > 0 && '+#./;?&'.includes(body[0] as string)) {
    opChar = body[0] as Operator;
    body = body.slice(1);
  } else if (body.length > 0 && '=,!@|'.includes(body[0] as string)) {
    throw invalid(template, `reserved operator "${body[0] as string}"`);
  }
  if (body.length === 0) throw invalid(template, 'empty expression');
  const vars = body.split(',').map((raw): VarSpec => {
    let name = raw;
    let explode = false;
    let prefix = 0;
    if (name.endsWith('*')) {
      explode = true;
      name = name.slice(0, -1);
    } else {
      const colon = name.indexOf(':');
      if (colon >= 0) {
        const n = name.slice(colon + 1);
        if (!/^[1-9][0-9]{0,3}$/.test(n)) throw invalid(template, `bad prefix in "${raw}"`);
        prefix = Number(n);
        name = name.slice(0, colon);
      }
    }
    if (!VARNAME.test(name)) throw invalid(template, `bad variable name "${raw}"`);
    return { name, explode, prefix };
  });
  return { op: OPERATORS[opChar], opChar, vars };
}

function invalid(template: string, why: string): ComponentError {
  return new ComponentError(
    'INVALID_URI_TEMPLATE',
    `invalid URI template ${JSON.stringify(template)}: ${why}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Expansion

function encodeUnreserved(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** U+R: reserved characters and existing pct-encoded triplets pass through. */
function encodeReserved(s: string): string {
  return s
    .split(/(%[0-9A-Fa-f]{2})/)
    .map((piece, i) =>
      i % 2 === 1 ? piece : encodeURI(piece).replace(/%5B/g, '[').replace(/%5D/g, ']'),
    )
    .join('');
}

function expandExpression(e: Expression, values: Readonly<Record<string, TemplateValue>>): string {
  const { op } = e;
  const encode = op.allowReserved ? encodeReserved : encodeUnreserved;
  let out = '';
  let first = true;
  for (const v of e.vars) {
    const value = values[v.name];
    if (value === undefined || value === null) continue;
    let items: string[] | undefined;
    let pairs: [string, string][] | undefined;
    if (Array.isArray(value)) {
      if (value.length === 0) continue;
      items = (value as readonly (string | number | boolean)[]).map(String);
    } else if (typeof value === 'object') {
      pairs = Object.entries(value).map(([k, x]): [string, string] => [k, String(x)]);
      if (pairs.length === 0) continue;
    }
    out += first ? op.first : op.sep;
    first = false;
    if (items === undefined && pairs === undefined) {
      let s = String(value as string | number | boolean);
      if (v.prefix > 0) s = Array.from(s).slice(0, v.prefix).join('');
      if (op.named) out += v.name + (s === '' ? op.ifemp : '=');
      out += encode(s);
    } else if (!v.explode) {
      if (op.named) out += `${v.name}=`;
      out += items
        ? items.map(encode).join(',')
        : (pairs as [string, string][]).map(([k, x]) => `${encode(k)},${encode(x)}`).join(',');
    } else if (items) {
      out += items
        .map((x) => (op.named ? v.name + (x === '' ? op.ifemp : '=') + encode(x) : encode(x)))
        .join(op.sep);
    } else {
      out += (pairs as [string, string][])
        .map(([k, x]) =>
          op.named && x === '' ? encode(k) + op.ifemp : `${encode(k)}=${encode(x)}`,
        )
        .join(op.sep);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Matching

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The regexp fragment capturing one expression's text (without its `first` character). */
function expressionPattern(e: Expression): string {
  const single = e.vars.length === 1 && !(e.vars[0] as VarSpec).explode;
  switch (e.opChar) {
    case '':
      return '([^/?#]*?)';
    case '+':
      return '(.*?)';
    case '#':
      return '(?:#(.*?))?';
    case '.':
      return single ? '(?:\\.([^/?#.]*))?' : '(?:\\.([^/?#]*))?';
    case '/':
      return single ? '(?:/([^/?#]*))?' : '(?:/([^?#]*?))?';
    case ';':
      return '(?:;([^/?#]*?))?';
    case '?':
      return '(?:\\?([^#]*?))?';
    case '&':
      return '(?:&([^#]*?))?';
  }
}

function decode(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // malformed escapes: keep the raw text (lenient)
  }
}

function assign(
  out: Record<string, string | string[]>,
  v: VarSpec,
  value: string | string[],
): void {
  const prev = out[v.name];
  // A name may repeat (`{x:3}/{x}`): keep the longest reading.
  if (
    prev === undefined ||
    (typeof prev === 'string' && typeof value === 'string' && value.length > prev.length)
  ) {
    out[v.name] = value;
  }
}

function readUnnamed(e: Expression, text: string, out: Record<string, string | string[]>): void {
  const { vars } = e;
  if (vars.length === 1) {
    const v = vars[0] as VarSpec;
    if (text === '') return;
    assign(out, v, v.explode ? text.split(e.op.sep).map(decode) : decode(text));
    return;
  }
  const parts = text === '' ? [] : text.split(e.op.sep);
  // Positional: variables before an exploded one take one part each, the exploded (or the
  // last) variable takes what is left over.
  let p = 0;
  for (let i = 0; i < vars.length && p < parts.length; i++) {
    const v = vars[i] as VarSpec;
    const after = vars.length - 1 - i;
    if (v.explode) {
      const take = Math.max(1, parts.length - p - after);
      assign(out, v, parts.slice(p, p + take).map(decode));
      p += take;
    } else if (i === vars.length - 1) {
      assign(out, v, decode(parts.slice(p).join(e.op.sep)));
      p = parts.length;
    } else {
      assign(out, v, decode(parts[p] as string));
      p += 1;
    }
  }
}

function readNamed(e: Expression, text: string, out: Record<string, string | string[]>): void {
  if (text === '') return;
  const byName = new Map(e.vars.map((v) => [v.name, v]));
  const lists = new Map<string, string[]>();
  for (const pair of text.split(e.op.sep)) {
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    const v = byName.get(name);
    if (!v) continue; // unknown parameters are ignored (lenient)
    if (v.explode) {
      const list = lists.get(name) ?? [];
      list.push(value);
      lists.set(name, list);
    } else {
      assign(out, v, value);
    }
  }
  for (const [name, list] of lists) assign(out, byName.get(name) as VarSpec, list);
}

/** A compiled template: parse once, then expand or match many times. */
export class UriTemplate {
  readonly template: string;
  /** Variable names in order of first appearance. */
  readonly variableNames: readonly string[];
  private readonly parts: readonly Part[];
  private readonly expressions: readonly Expression[];
  private readonly regexp: RegExp;

  constructor(template: string) {
    this.template = template;
    this.parts = parse(template);
    this.expressions = this.parts.filter((p): p is Expression => typeof p !== 'string');
    this.variableNames = [...new Set(this.expressions.flatMap((e) => e.vars.map((v) => v.name)))];
    let source = '^';
    for (const p of this.parts)
      source += typeof p === 'string' ? escapeRegExp(p) : expressionPattern(p);
    this.regexp = new RegExp(`${source}$`, 's');
  }

  expand(values: Readonly<Record<string, TemplateValue>>): string {
    let out = '';
    for (const p of this.parts) out += typeof p === 'string' ? p : expandExpression(p, values);
    return out;
  }

  /** The variables (percent-decoded) when `uri` matches, else undefined. */
  match(uri: string): TemplateVariables | undefined {
    const m = this.regexp.exec(uri);
    if (!m) return undefined;
    const out: Record<string, string | string[]> = {};
    for (let i = 0; i < this.expressions.length; i++) {
      const text = m[i + 1];
      if (text === undefined) continue;
      const e = this.expressions[i] as Expression;
      if (e.op.named) readNamed(e, text, out);
      else readUnnamed(e, text, out);
    }
    return out;
  }

  toString(): string {
    return this.template;
  }
}

/** Expands an RFC 6570 template (parses it each call; keep a UriTemplate for hot paths). */
export function expand(template: string, values: Readonly<Record<string, TemplateValue>>): string {
  return new UriTemplate(template).expand(values);
}

/** Whether a string contains template expressions (as opposed to a fixed URI). */
export function isTemplate(s: string): boolean {
  return /\{[^}]+\}/.test(s);
}
