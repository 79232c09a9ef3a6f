// Fact source "agent-candidate" (agent-candidate.sh): the trento-agent the repositories offer,
// read only when it is not installed (its version decides whether the agent generates trento.alloy).
import type { FactSource } from '../types.ts';
import { zypperOutcome } from '../zypper-outcome.ts';

export const agentCandidate: FactSource<'agentCandidateVersion' | 'agentCandidateSkippedForMajor'> = {
  name: 'agent-candidate',
  parse: (r) => {
    const version = r.get('agent-candidate');
    const skipped = r.get('agent-candidate-skipped');
    return {
      facts: {
        ...(version ? { agentCandidateVersion: version } : {}),
        ...(skipped !== undefined ? { agentCandidateSkippedForMajor: Number(skipped) } : {}),
      },
      ...zypperOutcome({
        rc: r.get('agent-candidate-rc'),
        output: r.get('agent-candidate-error'),
        answers: ['104'], // 104: in no repository (the install step says so, with what to check)
        command: 'zypper info trento-agent',
        reading: 'which trento-agent they offer',
        without: 'without it the plan cannot know which trento-agent the repositories offer',
      }),
    };
  },
};
