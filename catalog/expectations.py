"""great-expectations suites for the findings tables: nothing is published that fails them.

An ephemeral context is built once per process (suites are code, not a project folder), and
each clip's tables are validated as in-memory dataframes before they are written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pyarrow as pa

from veilscan.catalog.clip_result import REDACTION_TYPES, RISK_TIERS


@dataclass(frozen=True)
class ValidationOutcome:
    """Whether every table passed, and a line per failed expectation."""

    success: bool
    failures: list[str] = field(default_factory=list)


def _suite_specs() -> dict[str, list[tuple[str, dict[str, Any]]]]:
    import great_expectations as gx

    e = gx.expectations
    prob = {"min_value": 0.0, "max_value": 1.0}
    return {
        "clips": [
            (e.ExpectColumnValuesToNotBeNull, {"column": "source"}),
            (e.ExpectColumnValuesToNotBeNull, {"column": "scan_id"}),
            (e.ExpectColumnValuesToBeInSet, {"column": "status", "value_set": ["ok", "error"]}),
            (e.ExpectColumnValuesToBeBetween, {"column": "max_risk", **prob}),
            (e.ExpectColumnValuesToBeInSet, {"column": "risk_tier", "value_set": RISK_TIERS}),
            (e.ExpectColumnValuesToBeBetween, {"column": "track_count", "min_value": 0}),
            (e.ExpectColumnValuesToBeBetween, {"column": "frames", "min_value": 0}),
        ],
        "tracks": [
            (e.ExpectColumnValuesToBeInSet,
             {"column": "redaction_type", "value_set": REDACTION_TYPES}),
            (e.ExpectColumnValuesToBeBetween, {"column": "risk_score", **prob}),
            (e.ExpectColumnValuesToBeInSet, {"column": "risk_tier", "value_set": RISK_TIERS}),
            (e.ExpectColumnValuesToBeBetween, {"column": "coverage", **prob}),
            (e.ExpectColumnValuesToBeBetween, {"column": "strength_px", "min_value": 0}),
            (e.ExpectColumnValuesToBeBetween, {"column": "face_width_px", "min_value": 0}),
            (e.ExpectColumnPairValuesAToBeGreaterThanB,
             {"column_A": "last_frame", "column_B": "first_frame", "or_equal": True}),
        ],
        "boxes": [
            (e.ExpectColumnValuesToBeBetween, {"column": "frame", "min_value": 0}),
            (e.ExpectColumnValuesToBeBetween, {"column": "w", "min_value": 1}),
            (e.ExpectColumnValuesToBeBetween, {"column": "h", "min_value": 1}),
            (e.ExpectCompoundColumnsToBeUnique, {"column_list": ["track_id", "frame"]}),
        ],
    }


@lru_cache(maxsize=1)
def _context() -> tuple[Any, dict[str, Any], dict[str, Any]]:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = ctx.data_sources.add_pandas("veilscan_findings")
    batches, suites = {}, {}
    for table, specs in _suite_specs().items():
        asset = source.add_dataframe_asset(table)
        batches[table] = asset.add_batch_definition_whole_dataframe(f"{table}_batch")
        suite = gx.ExpectationSuite(name=f"veilscan_{table}")
        for cls, kwargs in specs:
            suite.add_expectation(cls(**kwargs))
        suites[table] = ctx.suites.add(suite)
    return ctx, batches, suites


def validate_tables(tables: dict[str, pa.Table]) -> ValidationOutcome:
    """Validate the ``clips``/``tracks``/``boxes`` tables of one clip (empty tables pass)."""
    _, batches, suites = _context()
    failures: list[str] = []
    for name, table in tables.items():
        if name not in suites or table.num_rows == 0:
            continue
        batch = batches[name].get_batch(batch_parameters={"dataframe": table.to_pandas()})
        result = batch.validate(suites[name])
        for r in result.results:
            if not r.success:
                cfg = r.expectation_config
                column = cfg.kwargs.get("column") or cfg.kwargs.get("column_list") or ""
                failures.append(f"{name}: {cfg.type} failed on {column}")
    return ValidationOutcome(success=not failures, failures=failures)
