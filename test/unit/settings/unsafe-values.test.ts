// Literal braces, the two ways Ansible users write passwords with braces in them: YAML `!unsafe`
// values (the text is the value, never Jinja) and `{% raw %}` blocks. Read through the real
// inventory loader; Ansible itself judges what the values become.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectionFor } from '../../../src/exec/connection.ts';
import { loadInventory, UnsafeText } from '../../../src/inventory/index.ts';
import { templatedConnectionVars } from '../../../src/settings/connection-vars.ts';
import { evaluateTemplate, UNDEFINED } from '../../../src/settings/jinja-lite.ts';
import { loadRoleDefaults, resolveVars, STATIC_ROLES } from '../../../src/settings/defaults.ts';
import { usedSecrets } from '../../../src/settings/used-secrets.ts';
import { agentConfigFor } from '../../../src/settings/validate.ts';
import { ANSIBLE_CORE, ANSIBLE_ENV } from '../inventory/ansible-judge.ts';
import { describeWith } from '../../support/requires.ts';

const defaults = loadRoleDefaults();
const dir = mkdtempSync(join(tmpdir(), 'tp-unsafe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const API_KEY = 'key{{not_a_var}}%{%raw%}'; // an API key has no spaces (the agent's rule)
const RABBIT = 'r{{x}}b';
const SUDO = 'x{{y}}z';
const SSH = "s{{ '{' }}}";
const INVENTORY = `all:
  hosts:
    db1:
      agent_web_api_key: !unsafe '${API_KEY}'
      trento_rabbitmq_password: !unsafe '${RABBIT}'
      ansible_become: true
      ansible_become_password: !unsafe '${SUDO}'
      vault_ssh_password: !unsafe "${SSH.replace(/"/g, '\\"')}"
      ansible_password: "{{ vault_ssh_password }}"
      api_key_copy: "{{ agent_web_api_key }}"
      x: 1
      y: 2
      not_a_var: 3
`;
writeFileSync(join(dir, 'hosts.yml'), INVENTORY);

async function db1() {
  const inventory = await loadInventory(join(dir, 'hosts.yml'));
  const entry = inventory.hosts.get('db1')!;
  return { vars: entry.vars, origins: entry.origins };
}

describe('!unsafe values', () => {
  it('are loaded as UnsafeText and never evaluated, also when another variable refers to them', async () => {
    const { vars, origins } = await db1();
    expect(vars.agent_web_api_key).toEqual(new UnsafeText(API_KEY));
    const resolved = resolveVars(vars, origins, STATIC_ROLES, defaults);
    expect(resolved.get('agent_web_api_key')).toBe(API_KEY);
    expect(resolved.get('api_key_copy')).toBe(API_KEY);
    // Through the role's default: agent_rabbitmq_password is "{{ rabbitmq_password | default(trento_rabbitmq_password) }}".
    expect(resolved.get('agent_rabbitmq_password')).toBe(RABBIT);
    expect(resolved.problems()).toEqual([]);
  });

  it('reach agent.yaml as written and are masked as secrets', async () => {
    const { vars, origins } = await db1();
    const { config, errors } = agentConfigFor(vars, origins, 'pull', defaults);
    expect(errors.filter((e) => ['agent_web_api_key', 'agent_rabbitmq_password'].includes(e.variable))).toEqual([]);
    expect(config['api-key']).toBe(API_KEY);
    expect(usedSecrets(vars, origins, defaults).map((s) => s.value)).toEqual(expect.arrayContaining([API_KEY, RABBIT, SUDO]));
  });

  it('are the connection passwords as written: not evaluated themselves, and final when a connection variable refers to one', async () => {
    const { vars, origins } = await db1();
    const templated = templatedConnectionVars('db1', vars, origins, defaults);
    expect(templated.problems).toEqual([]);
    const spec = connectionFor('db1', templated.vars, { timeoutMs: 10_000, hostKeyChecking: true });
    expect(spec.become?.password).toBe(SUDO);
    expect(spec.openssh.password).toBe(SSH);
    // The evaluated ansible_password holds braces; the settings that read it later must not evaluate it again.
    expect(resolveVars(templated.vars, origins, STATIC_ROLES, defaults).get('ansible_password')).toBe(SSH);
    expect(usedSecrets(templated.vars, origins, defaults).map((s) => s.value)).toEqual(expect.arrayContaining([SUDO, SSH]));
  });
});

describeWith(ANSIBLE_CORE, '!unsafe values, judged by ansible-core', () => {
  it('a variable referring to one gets the same text in Ansible', { timeout: 60_000 }, async () => {
    const { vars, origins } = await db1();
    const resolved = resolveVars(vars, origins, STATIC_ROLES, defaults);
    const out = execFileSync(
      'ansible',
      ['-i', join(dir, 'hosts.yml'), 'db1', '-c', 'local', '-m', 'debug', '-a', 'msg={{ [api_key_copy, ansible_password] }}'],
      {
        env: { ...ANSIBLE_ENV, ANSIBLE_STDOUT_CALLBACK: 'minimal' },
        encoding: 'utf8',
      },
    );
    // minimal: `db1 | SUCCESS => {json}`
    const msg = JSON.parse(out.slice(out.indexOf('=>') + 2)).msg;
    expect(msg).toEqual([API_KEY, SSH]);
    expect(msg).toEqual([resolved.get('api_key_copy'), resolved.get('ansible_password')]);
  });
});

describeWith(ANSIBLE_CORE, 'inline !vault values, judged by ansible-core', () => {
  // Ansible never templates an inline vaulted value (AnsibleVaultEncryptedUnicode is unsafe):
  // a generated password may hold {# (a Jinja comment, silently dropped if evaluated), {% or {{.
  const VAULT_PW = 'vault-pw-for-braces';
  const VALUES = { agent_web_api_key: 'Ab{#c#}d{{x', trento_rabbitmq_password: 'Rmq{#pw#}Zz12', ansible_become_password: 'Su{%do%}Pw' };
  it('are used as written, by the settings, the connection and a variable referring to one, as in Ansible', { timeout: 60_000 }, async () => {
    const vdir = mkdtempSync(join(dir, 'vault-'));
    writeFileSync(join(vdir, 'pw'), `${VAULT_PW}\n`);
    const blocks = Object.entries(VALUES).map(([name, value]) =>
      execFileSync('ansible-vault', ['encrypt_string', '--vault-password-file', join(vdir, 'pw'), value, '--name', name], {
        env: ANSIBLE_ENV,
        encoding: 'utf8',
      })
        .trim()
        .replace(/^/gm, '      '),
    );
    writeFileSync(
      join(vdir, 'hosts.yml'),
      `all:\n  hosts:\n    db1:\n${blocks.join('\n')}\n      key_copy: "{{ agent_web_api_key }}"\n      ansible_become: true\n`,
    );
    const inventory = await loadInventory(join(vdir, 'hosts.yml'), {
      vault: { secrets: [{ id: 'default', password: VAULT_PW, source: 'test' }], decryptValues: true },
    });
    const { vars, origins } = inventory.hosts.get('db1')!;
    const resolved = resolveVars(vars, origins, STATIC_ROLES, defaults);
    expect(resolved.problems()).toEqual([]);
    expect([resolved.get('agent_web_api_key'), resolved.get('agent_rabbitmq_password'), resolved.get('key_copy')]).toEqual([
      VALUES.agent_web_api_key,
      VALUES.trento_rabbitmq_password,
      VALUES.agent_web_api_key,
    ]);
    const templated = templatedConnectionVars('db1', vars, origins, defaults);
    expect(templated.problems).toEqual([]);
    expect(connectionFor('db1', templated.vars, { timeoutMs: 10_000, hostKeyChecking: true }).become?.password).toBe(VALUES.ansible_become_password);
    const out = execFileSync(
      'ansible',
      [
        '-i',
        join(vdir, 'hosts.yml'),
        'db1',
        '--vault-password-file',
        join(vdir, 'pw'),
        '-c',
        'local',
        '-m',
        'debug',
        '-a',
        'msg={{ [agent_web_api_key, trento_rabbitmq_password, ansible_become_password, key_copy] }}',
      ],
      { env: { ...ANSIBLE_ENV, ANSIBLE_STDOUT_CALLBACK: 'minimal' }, encoding: 'utf8' },
    );
    const msg = JSON.parse(out.slice(out.indexOf('=>') + 2)).msg;
    expect(msg).toEqual([VALUES.agent_web_api_key, VALUES.trento_rabbitmq_password, VALUES.ansible_become_password, VALUES.agent_web_api_key]);
  });
});

/** Strings with raw blocks (and their whitespace control) and what they need. */
const RAW_CASES: string[] = [
  '{% raw %}p{{w}}%{% endraw %}',
  'x{%raw%}{{y}}{%endraw%}z-{{ v }}',
  '{% raw %}\nline{% endraw %}\nafter',
  'pre {%- raw %} q {% endraw -%} post',
  '{{ v }}{% raw %}{% if %}{% endraw %}',
  '{%- raw -%}  {{a}}  {%- endraw -%}\n\n  tail',
  '{% raw %}{% endraw %}',
  'a{% raw %}1{% endraw %}b{% raw %}{{2}}{% endraw %}{{ v | string }}',
  '{% raw %}a{% endraw %}\r\nb',
  '{% raw %}a{% endraw %}\rb',
  '{% raw %}a\r\nb{% endraw %}',
  'x\r\ny{{ v }}',
  // Jinja drops one line break at the template's end; Ansible adds back the \n it ended with
  '{{ v }}\r',
  '{{ v }}\r\n\r\n',
  'x{{ v }}\n',
  '{% raw %}{{a}}{% endraw %}\n\n',
];

describe('{% raw %} blocks', () => {
  it('keep their content literal; a statement outside one is refused', () => {
    const lookup = (name: string) => (name === 'v' ? 1 : UNDEFINED);
    expect(evaluateTemplate('{% raw %}p{{w}}%{% endraw %}', lookup)).toEqual({ ok: true, value: 'p{{w}}%', refs: [] });
    expect(evaluateTemplate('{% if v %}x{% endif %}{% raw %}y{% endraw %}', lookup)).toMatchObject({ ok: false });
    expect(evaluateTemplate('{% raw %}x{% endraw %}{{ missing }}', lookup)).toMatchObject({ ok: true, value: UNDEFINED });
  });
});

describeWith(ANSIBLE_CORE, '{% raw %} blocks, judged by ansible-core', () => {
  it('render as Ansible renders them, whitespace control and trim_blocks included', { timeout: 60_000 }, () => {
    const file = join(dir, 'raw.yml');
    const vars = RAW_CASES.map((text, i) => `      r${i}: ${JSON.stringify(text)}`).join('\n');
    writeFileSync(file, `all:\n  hosts:\n    db1:\n      v: 1\n${vars}\n`);
    const names = RAW_CASES.map((_, i) => `r${i}`).join(', ');
    const out = execFileSync('ansible', ['-i', file, 'db1', '-c', 'local', '-m', 'debug', '-a', `msg={{ [${names}] }}`], {
      env: { ...ANSIBLE_ENV, ANSIBLE_STDOUT_CALLBACK: 'minimal' },
      encoding: 'utf8',
    });
    const expected = JSON.parse(out.slice(out.indexOf('=>') + 2)).msg;
    const lookup = (name: string) => (name === 'v' ? 1 : UNDEFINED);
    expect(RAW_CASES.map((text) => (evaluateTemplate(text, lookup) as { value: unknown }).value)).toEqual(expected);
  });
});
