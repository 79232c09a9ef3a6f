// One EJS template rendered from its file: the role's own, or a site's version of it
// (template-search.ts). What EJS cannot render is a TemplateError naming the file, so the run
// can tell a site's broken template (the site's setting, wrong) from a failure of its own.
import { readFileSync } from 'node:fs';
import ejs from 'ejs';

export class TemplateError extends Error {
  constructor(
    readonly template: string,
    message: string,
  ) {
    super(message);
  }
}

export function renderTemplateFile(template: string, data: Record<string, unknown>): string {
  try {
    return ejs.render(readFileSync(template, 'utf8'), data, { filename: template });
  } catch (error) {
    throw new TemplateError(template, (error as Error).message);
  }
}
