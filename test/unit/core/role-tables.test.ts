// Which roles a host gets is written in several tables, each in the layer that needs it: the
// roles a provider runs (roles/index.ts, for the planner), the roles whose defaults a mode
// layers (src/settings/defaults.ts, for the settings, which cannot import roles/), the mode of a
// provider (src/platform.ts) and the templates a provider renders (src/render/template-search.ts).
// This test is what keeps them in agreement: a role added to one and not the others fails here.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROLES } from '../../../roles/index.ts';
import * as nodeExporterRetired from '../../../roles/node_exporter/tasks/retire.ts';
import { MODE, type MetricsProvider } from '../../../src/platform.ts';
import { TEMPLATES_RENDERED } from '../../../src/render/template-search.ts';
import { DEFAULT_ROLES_DIR, MODE_ROLES, STATIC_ROLES } from '../../../src/settings/defaults.ts';

const PROVIDERS = Object.keys(MODE) as MetricsProvider[];
const SITE_TEMPLATES = ['agent.yaml.ejs', 'trento.alloy.ejs'];

describe("the tables of a host's roles agree", () => {
  for (const provider of PROVIDERS) {
    const mode = MODE[provider];
    it(`${provider} (${mode}): the roles the planner runs are the roles whose defaults the settings layer`, async () => {
      const named = await Promise.all(MODE_ROLES[mode].map((name) => import(join(DEFAULT_ROLES_DIR, name, 'tasks', 'main.ts'))));
      // the retired node_exporter on push hosts takes things away; it has no defaults of its own
      const run = ROLES[provider].filter((role) => role !== nodeExporterRetired);
      expect(new Set(run)).toEqual(new Set(named));
      expect(run).toHaveLength(named.length);
    });

    it(`${provider} (${mode}): the templates it renders are those of its roles that a site may replace`, () => {
      const inRoles = MODE_ROLES[mode].flatMap((name) => {
        try {
          return readdirSync(join(DEFAULT_ROLES_DIR, name, 'templates'));
        } catch {
          return [];
        }
      });
      expect([...TEMPLATES_RENDERED[provider]].sort()).toEqual(inRoles.filter((t) => SITE_TEMPLATES.includes(t)).sort());
    });
  }

  it('the roles every host gets before its mode is known are in every mode', () => {
    for (const provider of PROVIDERS) for (const name of STATIC_ROLES) expect(MODE_ROLES[MODE[provider]]).toContain(name);
  });
});
