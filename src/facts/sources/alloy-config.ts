// Fact source "alloy-config" (alloy-config.sh): where Alloy loads its configuration from.
import type { FactSource } from '../types.ts';

export const alloyConfig: FactSource<'alloy'> = {
  name: 'alloy-config',
  parse: (r) => ({
    warnings:
      r.get('alloy-hardlinks-unprotected') === 'yes'
        ? [
            `fs.protected_hardlinks is 0 on this host: Alloy's account can hard-link a root-only file into ${r.get('alloy-config-dir') || 'its folder'}, where the toolkit and configure-alloy.sh read it as root (--diff, alloy validate's messages); set it to 1 (sysctl fs.protected_hardlinks=1, systemd's default)`,
          ]
        : [],
    facts: {
      alloy: {
        configFile: r.get('alloy-config-file') ?? '',
        configIsDir: r.get('alloy-config-is-dir') === 'yes',
        ...(r.get('alloy-config-file-not-alloy') === 'yes' ? { configFileNotAlloy: true } : {}),
        configDir: r.get('alloy-config-dir') ?? '',
        ...(r.get('alloy-config-dir-is-default') === 'yes' ? { configDirIsDefault: true } : {}),
        ...(r.get('alloy-config-dir-unsafe') ? { configDirUnsafe: r.get('alloy-config-dir-unsafe')! } : {}),
        // recorded by files.sh, from its stat of the sysconfig (tp_sysconfig_unsafe)
        ...(r.get('alloy-sysconfig-unsafe') ? { sysconfigUnsafe: r.get('alloy-sysconfig-unsafe')! } : {}),
        droppedBySingleFile: (r.get('alloy-dropped-by-single-file') ?? '').split('\n').filter(Boolean),
        dormantFiles: (r.get('alloy-dormant-files') ?? '').split('\n').filter(Boolean),
        ...(r.has('alloy-admin-pipelines') ? { adminPipelines: r.get('alloy-admin-pipelines')!.split('\n').filter(Boolean) } : {}),
        ...(r.get('alloy-single-file-missing') ? { singleFileMissing: r.get('alloy-single-file-missing')! } : {}),
        ...(r.has('alloy-without-trento-refused') ? { withoutTrentoRefused: r.get('alloy-without-trento-refused')!.trimEnd() } : {}),
        ...(r.has('alloy-single-file-refused')
          ? { singleFileRefused: { file: r.get('alloy-single-file') ?? '', errors: r.get('alloy-single-file-refused')!.trimEnd() } }
          : {}),
      },
    },
  }),
};
