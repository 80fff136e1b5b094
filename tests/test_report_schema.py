"""results.json against reports/results_schema.json (a small hand-written validator: no extra dependency)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from test_report_doubles import fake_campaign

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "reports" / "results_schema.json"
_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _is_type(value, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def validate(value, schema: dict, path: str = "$") -> list[str]:
    """The JSON Schema keywords our schema uses: type, required, properties, additionalProperties,
    items, enum, const, minimum. Returns the list of violations (empty when valid)."""
    errors: list[str] = []
    if "type" in schema:
        types_ = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(value, t) for t in types_):
            return [f"{path}: {value!r:.60} is not of type {types_}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: {value!r} != const {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in {schema['enum']}")
    if "minimum" in schema and _is_type(value, "number") and value < schema["minimum"]:
        errors.append(f"{path}: {value} < minimum {schema['minimum']}")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{path}: missing required {key!r}")
        props = schema.get("properties", {})
        for key, sub in value.items():
            if key in props:
                errors += validate(sub, props[key], f"{path}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += validate(sub, schema["additionalProperties"], f"{path}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += validate(item, schema["items"], f"{path}[{i}]")
    return errors


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


def _roundtrip(results: dict) -> dict:
    from reports.render import render_json

    return json.loads(render_json(results))  # strict JSON: allow_nan=False would raise on NaN/inf


def test_passing_and_failing_campaigns_match_the_schema(schema, monkeypatch, tmp_path):
    results = _roundtrip(fake_campaign(monkeypatch, tmp_path, "good", "broken", "nan", "raises", "wrongtype"))
    assert validate(results, schema) == []
    assert results["discrepancies"], "the broken fakes must produce discrepancies to validate"


def test_interrupted_campaign_matches_the_schema(schema, monkeypatch, tmp_path):
    seen = []

    def stop(outcome):
        seen.append(outcome)
        if len(seen) == 3:
            raise KeyboardInterrupt

    results = _roundtrip(fake_campaign(monkeypatch, tmp_path, "broken", cases=10, on_case=stop))
    assert validate(results, schema) == []
    assert results["meta"]["interrupted"] is True


def test_the_validator_rejects_broken_documents(schema, monkeypatch, tmp_path):
    """The schema and validator must be able to fail: damage a valid document in several ways."""
    good = _roundtrip(fake_campaign(monkeypatch, tmp_path, "broken"))
    assert validate(good, schema) == []
    damaged = []
    d = copy.deepcopy(good)
    del d["meta"]["seed"]
    damaged.append(d)
    d = copy.deepcopy(good)
    d["meta"]["interrupted"] = "no"
    damaged.append(d)
    d = copy.deepcopy(good)
    d["checks"][0]["failed"] = -1
    damaged.append(d)
    d = copy.deepcopy(good)
    d["discrepancies"][0]["oracle"] = "guess"
    damaged.append(d)
    d = copy.deepcopy(good)
    d["discrepancies"][0]["occurrences"][0]["max_abs"] = "big"
    damaged.append(d)
    for d in damaged:
        assert validate(d, schema), "a damaged document passed validation"


def test_the_schema_documents_every_top_level_field(schema, monkeypatch, tmp_path):
    results = fake_campaign(monkeypatch, tmp_path, "good")
    assert set(results) == set(schema["properties"])
    assert set(results["meta"]) == set(schema["properties"]["meta"]["properties"])
