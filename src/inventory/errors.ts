// Errors of the inventory layer. Every error names the file (and line where known) and says
// what to do, because the admin reading it has only the inventory in front of them.

/**
 * A setting that cannot be used as given: the variable (or ansible.cfg setting) by name, where
 * its value came from (a file:line, an environment variable, the command line; "not set" when
 * nothing gave it), and what is wrong, with what to do. Every settings check returns these; the
 * run reports each as a settings error of its host.
 */
export interface SettingProblem {
  variable: string;
  origin: string;
  message: string;
}

export interface InventoryErrorLocation {
  file?: string;
  line?: number;
}

export class InventoryError extends Error {
  readonly file: string | undefined;
  readonly line: number | undefined;
  /** The message without the "file:line: " prefix. */
  readonly detail: string;

  constructor(detail: string, where: InventoryErrorLocation = {}) {
    super(formatLocation(where) + detail);
    this.name = 'InventoryError';
    this.file = where.file;
    this.line = where.line;
    this.detail = detail;
  }
}

export function formatLocation(where: InventoryErrorLocation): string {
  if (!where.file) return '';
  return where.line ? `${where.file}:${where.line}: ` : `${where.file}: `;
}

/** "file:line" (or "file") as used in origins. */
export function originOf(file: string, line?: number): string {
  return line ? `${file}:${line}` : file;
}
