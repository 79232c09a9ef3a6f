// What the planner knows of a host: the facts, as the fact sources (sources/, listed in
// registry.ts) read them in one round trip.

/** A managed path: a regular file (or nothing). Links and other kinds of file never get this far:
 *  the files source refuses the host, naming them. */
export interface FileFact {
  path: string;
  exists: boolean;
  owner?: string;
  group?: string;
  mode?: string; // octal digits as stat prints them, e.g. "600"
  sha256?: string;
  content?: string; // only when asked for (diff) or always needed (sysconfig, the toolkit's records)
  /** For a MARKED_FILES path: whether the file carries the toolkit's mark (TOOLKIT_MARK). */
  marked?: boolean;
  /** Why the toolkit can neither read nor write it (a link, another kind of file...): a plan
   *  that touches it is refused (FILES_TOUCHED_BY_SETTING, src/facts/paths.ts); nothing else is known. */
  unusable?: string;
}

/** A folder --purge removes once it holds nothing more (src/facts/sources/folders.ts). */
export interface FolderFact {
  /** A package owns it (rpm removes it with the package), or rpm could not say. */
  ownedByPackage: boolean;
  /** What it holds: names, dot files included, sorted. */
  entries: string[];
}

export interface UnitFact {
  /** ActiveState as systemd reports it: active | reloading | inactive | failed | activating |
   *  deactivating | ... (src/facts/sources/units.ts reads it as running or stopped). */
  state: string;
  enabled: string; // enabled | disabled | static | not-found | ...
  /** NeedDaemonReload=yes: its unit file or drop-ins changed on disk since systemd loaded them. */
  needsReload?: true;
}

/** What the facts script read of the metrics providers (src/shell/probes.sh, one try each, only
 *  for a provider that is installed): a host with nothing to change is proven by these. */
export interface ProviderProbes {
  nodeExporterServes?: boolean;
  alloyReady?: boolean;
  alloyRunsTrento?: boolean;
  /** The newest sample timestamp Alloy's queues for Trento sent, delivered or refused for good
   *  (Unix seconds), and the host's clock then (whole seconds; clockAtEnd is the facts' end). */
  alloyLastSent?: number;
  hostNow?: number;
  /** Samples those queues had refused for good (a 4xx) since Alloy started. */
  alloyFailed?: number;
}

export interface HostFacts {
  osRelease: Record<string, string>;
  baseProduct: string;
  machineId: string;
  hostname: string;
  uid: number;
  tools: Set<string>;
  /** Which apply last ran on the host when the facts were read ('' none since boot; PATHS.applyGeneration). */
  applyGeneration?: string;
  packages: Record<string, string | undefined>; // name -> version-release when installed
  agentCandidateVersion?: string; // from the repositories when trento-agent is not installed
  /** The repositories were not asked: os-release's major version (this) gets no Alloy. */
  agentCandidateSkippedForMajor?: number;
  /** Installed packages with a newer version in the repositories (asked for agent_package_state: latest). */
  updates?: Record<string, string>;
  units: Record<string, UnitFact>;
  probes: ProviderProbes;
  /** The host's clock (Unix seconds, a fraction where it has one) as the facts script ended. */
  clockAtEnd?: number;
  /** configDirUnsafe: why the apply would refuse to write into configDir (a folder above it
   *  that another account can write to, src/shell/safe-files.sh), when it would. */
  alloy: {
    configFile: string;
    configIsDir: boolean;
    /** CONFIG_FILE names a file (it exists) whose name does not end in .alloy: directory mode,
     *  which loads only a folder's *.alloy files, would stop loading it. */
    configFileNotAlloy?: boolean;
    configDir: string;
    /** configDir is Alloy's default folder spelled otherwise (/etc/alloy/., a link to it). */
    configDirIsDefault?: true;
    configDirUnsafe?: string;
    /** Uninstall only: Alloy's "Error:" lines for its folder without trento.alloy (a file of the
     *  admin's there uses Trento's pipeline), where alloy validate refuses it. */
    withoutTrentoRefused?: string;
    /** Why another account than root can write the sysconfig (tp_sysconfig_unsafe): that account
     *  would choose, through CONFIG_FILE, where root writes trento.alloy. */
    sysconfigUnsafe?: string;
    /** Uninstall only (undefined otherwise): the files Alloy loads now (paths) that are neither
     *  trento.alloy nor its package's own unchanged: the admin's pipelines, which stop with Alloy. */
    adminPipelines?: string[];
    /** Where the toolkit switched CONFIG_FILE to a folder: the *.alloy files there (names) that
     *  the saved line's single-file mode would stop loading. */
    droppedBySingleFile: string[];
    /** Alloy on a single file: the other *.alloy files of its folder (names), which it does not
     *  load now and would load in directory mode. */
    dormantFiles: string[];
    /** Where the toolkit switched CONFIG_FILE to a folder: the file the saved line names (the
     *  package's config.alloy where it had none) when it does not exist, so Alloy could not start
     *  on that line. */
    singleFileMissing?: string;
    /** Uninstall only, where the toolkit switched CONFIG_FILE to a folder: the file the saved line
     *  names, with `alloy validate`'s "Error:" lines, when Alloy would not load it alone. */
    singleFileRefused?: { file: string; errors: string };
  };
  files: Record<string, FileFact>;
  /** Folders holding what a killed apply left (staging folders, temp files): removed by the plan. */
  leftovers?: string[];
  /** Those are a live run's: a run holds the host's lock now (its apply is writing). */
  leftoversLive?: true;
  /** Uninstall only: folders holding configure-alloy.sh's staging folders, which a killed agent
   *  start left (each with a hard link to an earlier trento.alloy and its credentials). */
  agentLeftovers?: string[];
  /** Uninstall only: the folders the toolkit may have made for its files (PURGED_FOLDERS) that
   *  are there, by path. */
  folders?: Record<string, FolderFact>;
  /** What the facts script noticed and the admin should know (e.g. zypper's exit 106). */
  warnings: string[];
  /** What the toolkit recorded on the host (PATHS.stateDir). */
  record: {
    /** Packages this toolkit installed (uninstall removes these and no others). */
    packages: string[];
    /** Handlers notified by an earlier run that did not finish them (failed or cut short). */
    pendingHandlers: string[];
    /** Files this toolkit wrote at paths the admin may use too (the server CA anchor): --purge
     *  removes these and no others. */
    files: string[];
    /** Units of the admin's packages this toolkit first enabled or started, each as it was
     *  before ("UNIT ENABLED ACTIVE", e.g. "alloy.service disabled inactive"): uninstall puts
     *  that back. */
    units: string[];
  };
}

export class FactsError extends Error {}

/** The records of one facts run, by key (src/facts/records.ts). */
export type Records = ReadonlyMap<string, string>;

/**
 * One fact source: a shell file (sources/NAME.sh) that writes records, and the parser that turns
 * them into its part of HostFacts. A source may use what an earlier one set (each file's header
 * says what); registry.ts lists them in order.
 */
export interface FactSource<K extends keyof HostFacts = keyof HostFacts> {
  /** sources/NAME.sh */
  name: string;
  parse(records: Records): SourceResult<K>;
}

export interface SourceResult<K extends keyof HostFacts> {
  facts: Pick<HostFacts, K>;
  /** Something the admin should know; the host goes on. */
  warnings?: string[];
  /** Something that makes the facts unusable: the host fails, naming each. */
  problems?: string[];
}
