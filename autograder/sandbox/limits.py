"""The sandbox's limits: every bound on one submission's code (and on its grader process), in one typed object.

Each field is also a key of the ``[limits]`` table in ``assignment.toml``, where the two memory
limits may be given in GiB instead (``memory_gib``, ``grader_memory_gib``). ``Limits.declared``
reads that table, with the command line's values over it, and is the one place GiB become bytes.

Adding a limit is one field here, its type saying what it accepts (``Seconds``, ``Count``):
assignment.toml then allows the key, the grading spec carries it (``grader/spec.py``), and the
sandbox receives it. Values are checked when a ``Limits`` is made, so none is ever out of range.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Annotated

from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass

GiB = 2**30
MiB = 2**20
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]  # a finite number of seconds above 0
Count = Annotated[int, Field(gt=0)]  # a whole number above 0 (bytes, processes, CPU seconds)

# [limits] keys in GiB, and the field each one sets (in bytes)
GIB_KEYS = {"memory_gib": "memory_bytes", "grader_memory_gib": "grader_memory_bytes"}


@dataclass(frozen=True, config=ConfigDict(strict=True, extra="forbid"))
class Limits:
    """Resource limits for one submission. Every one is a hard limit on student code, except
    ``grader_memory_bytes``, which bounds the trusted grader process that reads what it sends."""

    call_timeout: Seconds = 5.0  # seconds per call into student code
    # seconds for everything one submission's code does together (cells, calls, restarts);
    # every wait is clipped to what is left, so a submission that sleeps just under each
    # time-out costs at most this much (plus the grader's own fixed costs)
    budget_seconds: Seconds = 60.0
    cell_timeout: Seconds = 30.0  # seconds per notebook cell (cells may import heavy libraries)
    # address space of each process (RLIMIT_AS) and, where a memory cgroup is available,
    # every page the whole sandbox makes the host hold: shared memory and tmpfs too
    memory_bytes: Count = 2 * GiB
    max_processes: Count = 64  # processes and threads, together
    tmp_bytes: Count = 64 * MiB  # size of the writable /tmp
    shm_bytes: Count = 16 * MiB  # size of /dev/shm (POSIX shared memory)
    file_bytes: Count = 32 * MiB  # largest file the worker may write
    cpu_seconds: Count = 900  # backstop for the whole worker life
    startup_timeout: Seconds = 30.0
    output_bytes: Count = 16 * 1024  # student stdout/stderr kept; the rest is counted and dropped
    # extra environment of the worker (e.g. TF_NUM_INTEROP_THREADS); the table [limits.env]
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    # the trusted grader process's own memory (a cgroup, else RLIMIT_DATA beyond its imports):
    # what it holds grows with what a student sends it, so it is bounded too
    grader_memory_bytes: Count = 1 * GiB

    @classmethod
    def declared(cls, table: Mapping[str, object], overrides: Mapping[str, object | None] | None = None) -> Limits:
        """The limits of a ``[limits]`` table (checked by ``course/declaration.py``), with ``overrides``
        (the command line's; None: not given) over it. Both use the table's keys: a field's name, or a
        ``GIB_KEYS`` key, which becomes its field in bytes here and nowhere else."""
        merged = dict(table)
        for key, value in (overrides or {}).items():
            if value is not None:
                field = GIB_KEYS.get(key, key)
                twins = {field, *(gib for gib, f in GIB_KEYS.items() if f == field)}  # memory_gib <-> memory_bytes
                merged = {k: v for k, v in merged.items() if k not in twins} | {key: value}
        values: dict[str, object] = {GIB_KEYS.get(k, k): v for k, v in merged.items()}
        for gib, field in GIB_KEYS.items():
            if gib in merged:
                values[field] = int(merged[gib] * GiB)  # type: ignore[operator]  # (checked: a number)
        if "env" in values:
            values["env"] = dict(values["env"])  # (a TOML table: any mapping)
        return cls(**values)
