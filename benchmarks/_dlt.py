"""The dlt baseline of ``bench_run.py``: a venv with dlt, and one pipeline run in it.

dlt is not a dependency of the project, so it lives in its own venv,
``benchmarks/.dlt-venv``, created on first use by :func:`dlt_python`. :func:`run_dlt` runs
``_dlt_job.py`` there in a fresh process (one pipeline run: full load when the pipelines
directory is new, incremental otherwise) and returns the JSON line it prints. This module
must not import dlt: it runs in the project's venv.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VENV = HERE / ".dlt-venv"
JOB = HERE / "_dlt_job.py"
REQUIREMENTS = ["dlt[duckdb,parquet]==1.31.*"]

# The configurations of _dlt_job.CONFIGS, measured on 100,000 issues, full load then 1%
# changed and 0.5% deleted. BEST_CONFIG (duckdb, jsonl load files, open incremental range,
# max_table_nesting=0, buffers of 100,000 items, uncompressed intermediate files, 1 worker
# per stage) was fastest or tied on the full load (pages of 100 and 1,000) and fastest on
# the incremental run, with the smallest peak RSS of the duckdb configs.
CONFIGS: tuple[str, ...] = (
    "duckdb-parquet-closed",
    "duckdb-parquet-nested",
    "duckdb-insert_values",
    "duckdb-jsonl",
    "duckdb-parquet",
    "duckdb-parquet-tuned",
    "duckdb-parquet-tuned-2workers",
    "duckdb-parquet-tuned-text-dates",
    "duckdb-parquet-tuned-upsert",
    "duckdb-jsonl-tuned",
    "sqlite-tuned",
    "delta-tuned",
)
BEST_CONFIG = "duckdb-jsonl-tuned"
# What configs other than the best need on top of REQUIREMENTS.
EXTRA_REQUIREMENTS = ["dlt[sqlalchemy,deltalake]==1.31.*"]


def _log(message: str) -> None:
    print(f"[dlt baseline] {message}", file=sys.stderr, flush=True)


def dlt_python(extras: bool = False) -> Path:
    """The Python of the dlt venv, creating the venv and installing dlt on first use.

    With ``extras``, also installs what the configs other than :data:`BEST_CONFIG` need.
    """
    python = VENV / "bin" / "python"
    full_marker = VENV / ".installed-extras"
    marker = full_marker if extras else VENV / ".installed"
    if marker.exists() or full_marker.exists():
        return python
    if not python.exists():
        _log(f"creating venv {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    packages = REQUIREMENTS + (EXTRA_REQUIREMENTS if extras else [])
    _log(f"pip install {' '.join(packages)}")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *packages],
        check=True,
        stdout=sys.stderr,
    )
    marker.touch()
    return python


def run_dlt(
    base_url: str,
    limit: int,
    pipelines_dir: str | Path,
    config: str = BEST_CONFIG,
    expect_records: int | None = None,
) -> dict[str, Any]:
    """Run one dlt pipeline run in a fresh process and return its JSON result.

    A new ``pipelines_dir`` means a full load, an existing one an incremental run. Raises
    ``RuntimeError`` when the job fails, including when the row count is not the one expected.
    """
    if config not in CONFIGS:
        raise ValueError(f"unknown dlt config {config!r}; known: {', '.join(CONFIGS)}")
    python = dlt_python(extras=config != BEST_CONFIG)
    command = [
        str(python),
        str(JOB),
        "--base-url",
        base_url,
        "--limit",
        str(limit),
        "--dir",
        str(pipelines_dir),
        "--config",
        config,
    ]
    if expect_records is not None:
        command += ["--expect-records", str(expect_records)]
    done = subprocess.run(command, capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(
            f"dlt job {config} failed ({done.returncode}): {done.stderr.strip()[-2000:]}\n"
            f"{done.stdout.strip()[-500:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result
