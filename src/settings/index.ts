// The settings layer in one import: inventory variables -> checked AgentConfig, secrets.
export * from './agent-config.ts';
export * from './agent-id.ts';
export * from './defaults.ts';
export * from './go-duration.ts';
export * from './host-settings.ts';
export * from './secrets.ts';
export * from './used-secrets.ts';
export * from './validate.ts';
export * from './variables.ts';
