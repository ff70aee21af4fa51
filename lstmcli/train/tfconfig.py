"""``TF_CONFIG``: the cluster of a multi-worker run, read and checked before TensorFlow is.

TensorFlow's own resolver accepts almost anything and fails later, deep in gRPC; here a
malformed value is one line naming what is wrong.

>>> c = parse('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}')
>>> c.workers, c.index, c.is_chief, c.peers
(2, 1, False, ['a:1'])
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from lstmcli.core.errors import UsageError

JOBS = ("chief", "worker")
_ADDRESS = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")


@dataclass(frozen=True)
class ClusterConfig:
    jobs: dict[str, list[str]]  # job name → "host:port" addresses
    task_type: str
    task_index: int

    @property
    def workers(self) -> int:
        """Every process that trains (chief included)."""
        return sum(len(v) for v in self.jobs.values())

    @property
    def index(self) -> int:
        """This process's place among all of them (the chief is 0)."""
        before = len(self.jobs.get("chief", [])) if self.task_type == "worker" else 0
        return before + self.task_index

    @property
    def is_chief(self) -> bool:
        """The one process that writes the run folder: task ``chief``, or worker 0 without one."""
        return self.index == 0

    @property
    def address(self) -> str:
        return self.jobs[self.task_type][self.task_index]

    @property
    def peers(self) -> list[str]:
        return [a for job in JOBS for a in self.jobs.get(job, []) if a != self.address]


def _fail(why: str) -> UsageError:
    return UsageError(f"TF_CONFIG: {why}; see README, 'More than one device or machine'")


def parse(text: str) -> ClusterConfig:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(f"not valid JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cluster"), dict):
        raise _fail('needs a "cluster" object, e.g. {"worker": ["host1:2222", "host2:2222"]}')
    cluster, jobs = doc["cluster"], {}
    for name, addresses in cluster.items():
        if name not in JOBS:
            raise _fail(f"job {name!r} is not supported (only {' and '.join(JOBS)})")
        if not isinstance(addresses, list) or not addresses:
            raise _fail(f'"{name}" must be a non-empty list of "host:port" addresses')
        for a in addresses:
            m = _ADDRESS.match(a) if isinstance(a, str) else None
            if m is None or not 0 < int(m.group(2)) < 65536:
                raise _fail(f'{a!r} in "{name}" is not a "host:port" address')
        jobs[name] = list(addresses)
    if "worker" not in jobs and "chief" not in jobs:
        raise _fail('"cluster" lists no worker')
    if len(jobs.get("chief", [])) > 1:
        raise _fail('"chief" must list exactly one address')
    every = [a for v in jobs.values() for a in v]
    if len(set(every)) != len(every):
        raise _fail("an address is listed twice")
    task = doc.get("task")
    if not isinstance(task, dict) or task.get("type") not in jobs:
        raise _fail(f'needs "task": {{"type": one of {sorted(jobs)}, "index": N}}')
    index = task.get("index", 0)
    if (
        not isinstance(index, int)
        or isinstance(index, bool)
        or not 0 <= index < len(jobs[task["type"]])
    ):
        raise _fail(
            f'task index {index!r} is not one of the {len(jobs[task["type"]])} "{task["type"]}" addresses'
        )
    return ClusterConfig(jobs, task["type"], index)
