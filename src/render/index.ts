// The rendering layer in one import: agent.yaml and trento.alloy from an AgentConfig.
export * from './agent-yaml.ts';
export * from './alloy-string.ts';
export * from './template.ts';
export * from './trento-alloy.ts';
export * from './yaml-string.ts';
