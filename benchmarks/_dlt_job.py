"""One dlt pipeline run of the issues sync, for ``bench_run.py``'s dlt baseline.

Run by the Python of the dlt venv (``benchmarks/.dlt-venv``, made by ``_dlt.py``), never
imported by the project:

    python _dlt_job.py --base-url URL --limit N --dir PIPELINES_DIR --config NAME
                       [--expect-records N]

It loads ``GET /issues`` of ``_issues_api.py`` with dlt's ``rest_api`` source (cursor
paginator, ``data_selector: items``, incremental on ``updated_at`` sent as ``since``),
merging on ``id`` with ``deleted`` as the ``hard_delete`` column. The run is a full load
when PIPELINES_DIR holds no pipeline yet, and the incremental one otherwise (same pipeline
name, so dlt's saved state gives ``since``). It prints one JSON line: config, wall seconds
of ``pipeline.run`` (extract, normalize and load), rows loaded, ``count(*)`` of the
destination table afterwards and the peak RSS, and exits 1 when the count is not the one
expected: ``--expect-records``, or else the number of issues the API lists after the run.

``CONFIGS`` holds the destinations and settings tried; ``_dlt.py`` lists the same names.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any
from urllib.request import urlopen

INITIAL = "1970-01-01T00:00:00Z"
PIPELINE = "issues_bench"
DATASET = "bench"
TABLE = "issues"

# Settings documented in dlt's performance guide, given as dlt's environment variables.
TUNED_ENV = {
    "DATA_WRITER__BUFFER_MAX_ITEMS": "100000",
    "DATA_WRITER__DISABLE_COMPRESSION": "true",
    "EXTRACT__WORKERS": "1",
    "NORMALIZE__WORKERS": "1",
    "LOAD__WORKERS": "1",
}

# name -> destination, loader file format, resource hints, incremental range, dlt settings.
# Unless "closed" is said, the incremental range is open at the start (range_start="open"):
# the API's ``since`` is exclusive already, and dlt's default closed range deduplicates the
# rows sharing the last cursor value by keeping their hashes in a list, which is quadratic
# when, as here, all 100,000 issues share one ``updated_at`` (~220 s for the full load).
OPEN: dict[str, Any] = {"range_start": "open", "nesting": 0}
CONFIGS: dict[str, dict[str, Any]] = {
    # as the issue describes it, dlt's defaults otherwise (labels in a child table)
    "duckdb-parquet-closed": {"destination": "duckdb", "format": "parquet"},
    "duckdb-parquet-nested": {"destination": "duckdb", "format": "parquet", "range_start": "open"},
    # max_table_nesting=0: user and labels as JSON columns, one table like our records
    "duckdb-insert_values": {"destination": "duckdb", "format": None, **OPEN},
    "duckdb-jsonl": {"destination": "duckdb", "format": "jsonl", **OPEN},
    "duckdb-parquet": {"destination": "duckdb", "format": "parquet", **OPEN},
    "duckdb-parquet-tuned": {
        "destination": "duckdb",
        "format": "parquet",
        **OPEN,
        "env": TUNED_ENV,
    },
    "duckdb-parquet-tuned-2workers": {
        "destination": "duckdb",
        "format": "parquet",
        **OPEN,
        "env": {
            **TUNED_ENV,
            "NORMALIZE__WORKERS": "2",
            "EXTRACT__DATA_WRITER__FILE_MAX_ITEMS": "50000",
        },
    },
    # created_at and updated_at kept as text (no ISO timestamp detection): less work than ours
    "duckdb-parquet-tuned-text-dates": {
        "destination": "duckdb",
        "format": "parquet",
        **OPEN,
        "text_dates": True,
        "env": TUNED_ENV,
    },
    "duckdb-parquet-tuned-upsert": {
        "destination": "duckdb",
        "format": "parquet",
        **OPEN,
        "strategy": "upsert",
        "env": TUNED_ENV,
    },
    "duckdb-jsonl-tuned": {"destination": "duckdb", "format": "jsonl", **OPEN, "env": TUNED_ENV},
    "sqlite-tuned": {"destination": "sqlite", "format": None, **OPEN, "env": TUNED_ENV},
    "delta-tuned": {"destination": "delta", "format": "parquet", **OPEN, "env": TUNED_ENV},
}


def since_param(last_value: str | None) -> str | None:
    """``since`` as our sync sends it: none on the first run (requests drops a None param).

    Otherwise the full load would ask ``since=1970-...``, which ``_issues_api.py`` serves by
    scanning every issue for each page (~17 ms a page at 100,000): the API's cost, not dlt's.
    """
    return None if last_value == INITIAL else last_value


def rest_api_config(base_url: str, limit: int, spec: dict[str, Any]) -> dict[str, Any]:
    incremental: dict[str, Any] = {
        "start_param": "since",
        "cursor_path": "updated_at",
        "initial_value": INITIAL,
        "convert": since_param,
    }
    if "range_start" in spec:  # not said: dlt's default, closed
        incremental["range_start"] = spec["range_start"]
    resource_config: dict[str, Any] = {
        "name": TABLE,
        "primary_key": "id",
        "write_disposition": "merge",
        "columns": {"deleted": {"data_type": "bool", "hard_delete": True}},
        "endpoint": {
            "path": "issues",
            "params": {"limit": limit},
            "data_selector": "items",
            "incremental": incremental,
        },
    }
    if "strategy" in spec:  # not said: dlt's default, delete-insert
        resource_config["write_disposition"] = {
            "disposition": "merge",
            "strategy": spec["strategy"],
        }
    if "nesting" in spec:
        resource_config["max_table_nesting"] = spec["nesting"]
    if spec["destination"] == "delta":
        resource_config["table_format"] = "delta"
    return {
        "client": {
            "base_url": base_url,
            "paginator": {
                "type": "cursor",
                "cursor_path": "next_cursor",
                "cursor_param": "cursor",
            },
        },
        "resources": [resource_config],
    }


def destination(spec: dict[str, Any], pipelines_dir: Path) -> Any:
    import dlt

    kind = spec["destination"]
    if kind == "duckdb":
        return dlt.destinations.duckdb(str(pipelines_dir / "issues.duckdb"))
    if kind == "sqlite":
        return dlt.destinations.sqlalchemy(f"sqlite:///{pipelines_dir / 'issues.sqlite'}")
    if kind == "delta":
        return dlt.destinations.filesystem((pipelines_dir / "lake").as_uri())
    raise SystemExit(f"unknown destination {kind!r}")


def count_rows(pipeline: Any, spec: dict[str, Any]) -> int:
    if spec["destination"] == "delta":
        from deltalake import DeltaTable

        path = Path(pipeline.destination_client().config.bucket_url.removeprefix("file://"))
        table = DeltaTable(str(path / DATASET / TABLE))
        return int(table.to_pyarrow_dataset().count_rows())
    with pipeline.sql_client() as client:
        rows = client.execute_sql(f"SELECT count(*) FROM {client.make_qualified_table_name(TABLE)}")
    return int(rows[0][0])


def live_issues(base_url: str) -> int:
    """How many issues the API lists now, paging it without ``since`` (not timed)."""
    count, cursor = 0, 0
    while True:
        with urlopen(f"{base_url.rstrip('/')}/issues?limit=10000&cursor={cursor}") as response:
            page = json.loads(response.read())
        count += len(page["items"])
        if page["next_cursor"] is None:
            return count
        cursor = page["next_cursor"]


def max_rss_mb() -> tuple[float, float]:
    """Peak RSS of this process and of its largest child (normalize workers), in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return round(own, 1), round(children, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--dir", type=Path, required=True, help="dlt pipelines_dir")
    parser.add_argument("--config", choices=sorted(CONFIGS), required=True)
    parser.add_argument("--expect-records", type=int, default=None)
    args = parser.parse_args()
    spec = CONFIGS[args.config]

    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
    os.environ.update(spec.get("env", {}))
    pipelines_dir: Path = args.dir.resolve()
    full = not (pipelines_dir / PIPELINE).exists()
    pipelines_dir.mkdir(parents=True, exist_ok=True)

    import dlt
    from dlt.sources.rest_api import rest_api_source

    pipeline = dlt.pipeline(
        pipeline_name=PIPELINE,
        pipelines_dir=str(pipelines_dir),
        destination=destination(spec, pipelines_dir),
        dataset_name=DATASET,
    )
    source = rest_api_source(rest_api_config(args.base_url, args.limit, spec))
    if spec.get("text_dates"):
        # no ISO timestamp detection: created_at and updated_at stay text, as the API sends them
        source.schema.remove_type_detection("iso_timestamp")
    run_kwargs: dict[str, Any] = {}
    if spec.get("format"):
        run_kwargs["loader_file_format"] = spec["format"]

    started = time.perf_counter()
    pipeline.run(source, **run_kwargs)
    seconds = time.perf_counter() - started

    trace = pipeline.last_trace
    normalize_info = trace.last_normalize_info if trace is not None else None
    rows_loaded = normalize_info.row_counts.get(TABLE, 0) if normalize_info is not None else 0
    rows_in_table = count_rows(pipeline, spec)
    own_rss, child_rss = max_rss_mb()
    expected = args.expect_records
    if expected is None:
        expected = live_issues(args.base_url)
    print(
        json.dumps(
            {
                "config": args.config,
                "mode": "full" if full else "incremental",
                "seconds": round(seconds, 3),
                "rows_loaded": rows_loaded,
                "rows_in_table": rows_in_table,
                "max_rss_mb": own_rss,
                "children_max_rss_mb": child_rss,
            }
        ),
        flush=True,
    )
    if rows_in_table != expected:
        print(f"{TABLE}: {rows_in_table} rows, expected {expected}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
