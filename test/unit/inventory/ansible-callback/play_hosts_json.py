# A stdout callback for the compatibility judge: ansible-core alone ships no `json` callback
# (that one comes with the community.general collection in Debian's `ansible` bundle), so the
# judge brings this one. It prints one JSON document at the end of the run:
#   {"plays": [{"play": {"name": NAME}, "tasks": [{"hosts": {HOST: RESULT}}]}]}
# which is the part of the `json` callback's shape the judge reads.
from __future__ import annotations

import json

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
    name: play_hosts_json
    type: stdout
    short_description: the plays' task results as one JSON document
    description: used by trento-provision's tests to read what ansible-playbook selected
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'stdout'
    CALLBACK_NAME = 'play_hosts_json'

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.plays = []

    def v2_playbook_on_play_start(self, play):
        self.plays.append({'play': {'name': play.get_name()}, 'tasks': []})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.plays[-1]['tasks'].append({'task': {'name': task.get_name()}, 'hosts': {}})

    def _record(self, result):
        self.plays[-1]['tasks'][-1]['hosts'][result._host.get_name()] = result._result

    v2_runner_on_ok = _record
    v2_runner_on_failed = lambda self, result, ignore_errors=False: self._record(result)
    v2_runner_on_skipped = _record
    v2_runner_on_unreachable = _record

    def v2_playbook_on_stats(self, stats):
        self._display.display(json.dumps({'plays': self.plays}, default=str))
