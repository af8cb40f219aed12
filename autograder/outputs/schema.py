"""docs/results.schema.json: the JSON Schema of ``autograder grade --json``, generated from ``results.GradesJson``.

    .venv/bin/python -m autograder.outputs.schema > docs/results.schema.json

tests/outputs/test_results.py checks that the committed file is what this prints.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

from autograder.outputs.results import GradesJson


class PublishedSchema(GenerateJsonSchema):
    """pydantic's JSON Schema as we publish it: a key that may be absent has no default (it is left
    out, not null), and a property's name is its title."""

    def generate(self, schema: Any, mode: Any = "validation") -> dict:
        return {"$schema": self.schema_dialect, "$id": "results.schema.json", **super().generate(schema, mode)}

    def default_schema(self, schema: Any) -> dict:
        return self.generate_inner(schema["schema"])

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def schema() -> dict:
    """The schema of the ``--json`` output, from the models that write and read it."""
    return GradesJson.model_json_schema(schema_generator=PublishedSchema)


def text() -> str:
    """docs/results.schema.json's text."""
    return json.dumps(schema(), indent=2) + "\n"


if __name__ == "__main__":
    print(text(), end="")
