// A remote command is built from parts that know how to show themselves. Quoting lives in the
// parts (as pyinfra's QuoteString does), so no caller can forget it: `sh` quotes every
// interpolated value, and a file's content is shown by its label, never as text.
//
// No part hides a secret: a credential never belongs in a command (the script is the argv of
// the programs it runs, which every user of the host can read in /proc); it goes on stdin or
// into a file written from a `data` part. The text a person sees (-vv) is redacted by the
// run's one SecretSet like all other output (src/output/redact.ts).

export type Part =
  | { kind: 'raw'; text: string } // shell syntax written by the toolkit itself
  | { kind: 'quoted'; text: string } // a value: always single-quoted for the shell
  | { kind: 'data'; text: string; label: string }; // file content: quoted, shown as its label

export interface Command {
  readonly parts: readonly Part[];
}

export const raw = (text: string): Part => ({ kind: 'raw', text });
export const data = (text: string, label: string): Part => ({ kind: 'data', text, label });

/** POSIX single-quote a value: the only character needing care inside '' is ' itself. */
export function shellQuote(value: string): string {
  if (value !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

type Interpolated = string | number | Part | Command;

function isPart(v: unknown): v is Part {
  return typeof v === 'object' && v !== null && 'kind' in v;
}

/** Tagged template: literal text is shell syntax, every `${value}` is quoted as data. */
export function sh(strings: TemplateStringsArray, ...values: Interpolated[]): Command {
  const parts: Part[] = [];
  strings.forEach((literal, i) => {
    if (literal) parts.push(raw(literal));
    if (i >= values.length) return;
    const v = values[i]!;
    if (typeof v === 'string' || typeof v === 'number') parts.push({ kind: 'quoted', text: String(v) });
    else if (isPart(v)) parts.push(v);
    else parts.push(...v.parts);
  });
  return { parts };
}

/** Joins commands (or single parts) into one, e.g. the lines of a script. */
export function join(commands: readonly (Command | Part)[], separator = '\n'): Command {
  const parts: Part[] = [];
  commands.forEach((c, i) => {
    if (i > 0 && separator) parts.push(raw(separator));
    if (isPart(c)) parts.push(c);
    else parts.push(...c.parts);
  });
  return { parts };
}

/** The text that runs on the host. */
export function toShell(command: Command): string {
  return command.parts.map((p) => (p.kind === 'raw' ? p.text : shellQuote(p.text))).join('');
}

/** The text a person may see: file contents replaced by their label (the sink then redacts it). */
export function toDisplay(command: Command): string {
  return command.parts.map((p) => (p.kind === 'data' ? `<${p.label}>` : p.kind === 'raw' ? p.text : shellQuote(p.text))).join('');
}
