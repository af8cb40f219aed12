"""Is the bundled example class up to date with source/ and release/?"""

from __future__ import annotations

import filecmp
import runpy

from tests.support import REPO

EXAMPLES = REPO / "examples"


def test_example_class_is_regenerated_identically(tmp_path):
    """Regenerating examples/submitted changes nothing (else: python examples/make_class.py)."""
    make_class = runpy.run_path(str(EXAMPLES / "make_class.py"))["make_class"]
    make_class(tmp_path / "submitted")
    fresh = sorted(p.relative_to(tmp_path / "submitted") for p in (tmp_path / "submitted").rglob("*.ipynb"))
    committed = sorted(p.relative_to(EXAMPLES / "submitted") for p in (EXAMPLES / "submitted").rglob("*.ipynb"))
    assert fresh == committed and len(fresh) == 10
    for rel in fresh:
        assert filecmp.cmp(tmp_path / "submitted" / rel, EXAMPLES / "submitted" / rel, shallow=False), rel
    assert (tmp_path / "roster.json").read_text() == (EXAMPLES / "roster.json").read_text()
