"""Tolerances: how close a student's number must be, declared per assignment.

``assignment.toml`` may declare any named tolerance as ``name = {rtol = ..., atol = ...}``
under ``[tolerances]``; graders use them as ``checks.close(..., **tolerances.tight)``.
Three names always exist, with these defaults when the assignment doesn't declare them:

    tight    float64 results against the reference's float64 results
    numeric  results against centred differences (truncation and rounding error)
    float32  results computed from float32 inputs (about 7 significant digits)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Tolerance = dict[str, float]
DEFAULTS: dict[str, Tolerance] = {
    "tight": {"rtol": 1e-6, "atol": 1e-8},
    "numeric": {"rtol": 1e-5, "atol": 1e-6},
    "float32": {"rtol": 1e-4, "atol": 1e-5},
}
KEYS = ("rtol", "atol")


@dataclass(frozen=True)
class Tolerances:
    """Named tolerances; ``tolerances.name`` or ``tolerances["name"]`` is a dict of rtol and atol."""

    named: dict[str, Tolerance] = field(default_factory=lambda: dict(DEFAULTS))

    @classmethod
    def declared(cls, table: dict[str, Any]) -> Tolerances:
        """The defaults, overridden and extended by assignment.toml's (checked) ``[tolerances]``."""
        named = {name: dict(t) for name, t in DEFAULTS.items()}
        for name, tol in table.items():
            named[name] = {**named.get(name, {"rtol": 0.0, "atol": 0.0}), **{k: float(v) for k, v in tol.items()}}
        return cls(named)

    def __getattr__(self, name: str) -> Tolerance:
        if name.startswith("_") or name == "named":  # (copy and pickle probe before __init__)
            raise AttributeError(name)
        try:
            return dict(self.named[name])
        except KeyError:
            raise AttributeError(f"no tolerance {name!r}; declared: {', '.join(self.named)}") from None

    def __getitem__(self, name: str) -> Tolerance:
        return self.__getattr__(name)
