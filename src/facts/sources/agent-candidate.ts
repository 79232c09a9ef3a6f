// Fact source "agent-candidate" (agent-candidate.sh): the trento-agent the repositories offer,
// read only when it is not installed (its version decides whether the agent generates trento.alloy).
import type { FactSource } from '../types.ts';

export const agentCandidate: FactSource<'agentCandidateVersion'> = {
  name: 'agent-candidate',
  parse: (r) => {
    const rc = r.get('agent-candidate-rc');
    const version = r.get('agent-candidate');
    const facts = version ? { agentCandidateVersion: version } : {};
    if (rc === '106') {
      return { facts, warnings: ['zypper: some repositories could not be refreshed and were skipped (exit 106) while reading which trento-agent they offer'] };
    }
    if (rc === undefined || rc === '0' || rc === '104') return { facts };
    const why = (r.get('agent-candidate-error') ?? '').trim().split('\n').slice(-3).join(' ');
    return {
      facts,
      problems: [
        `zypper info trento-agent failed (exit ${rc}${rc === '7' ? ': another process holds the package lock' : ''})${why ? `: ${why}` : ''}; ` +
          'without it the plan cannot know which trento-agent the repositories offer; run again when zypper works',
      ],
    };
  },
};
