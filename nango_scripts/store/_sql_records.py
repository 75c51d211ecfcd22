"""The records store on SQLite or PostgreSQL: change detection, deletes, delta reads.

One public class made of its jobs, each in a module of its own: record writes
(``_record_writes``), sync runs (``_sync_runs``), sync state (``_sync_state``) and
reads (``_record_reads``, paged by a ``RecordQuery``), over the tables and steps they
share (``_record_tables``). Every method is synchronous and turns a driver's error into
``StoreError``; async code calls them through ``blocking``.
"""

from __future__ import annotations

from nango_scripts.store._record_reads import RecordPage, RecordReads
from nango_scripts.store._record_tables import WritePath
from nango_scripts.store._record_writes import RecordWrites
from nango_scripts.store._sqlite import Synchronous, open_database
from nango_scripts.store._sync_runs import SyncRuns
from nango_scripts.store._sync_state import SyncState

__all__ = ["RecordPage", "SqlRecordStore"]


WRITER_CACHE_KB = 16_384
WAL_CHECKPOINT_PAGES = 16_384


class SqlRecordStore(RecordWrites, SyncRuns, SyncState, RecordReads):
    """``RecordStore`` on a SQL database. Open with :meth:`open`; close when done."""

    @classmethod
    def open(
        cls,
        database_url: str,
        *,
        synchronous: Synchronous = "FULL",
        write_path: WritePath = "auto",
    ) -> SqlRecordStore:
        """Open (and migrate) the database. ``FULL``: a batch is on disk when its call returns
        (a run's write groups relax it until the run ends: ``write_group``).

        ``write_path`` is for tests and benchmarks: how ``save_records`` finds what
        changed (``lookup`` the stored hashes first, or ``upsert`` and let the database
        say; ``auto`` picks per batch). Every path gives the same results.
        """
        writer = open_database(database_url, synchronous=synchronous)
        reader = None
        try:
            if writer.dialect == "sqlite":
                # A run's write group changes pages all over the table and its indexes
                # (an incremental run's 1,000 updates touch ~3,000): a 16 MB cache holds
                # them instead of spilling to the WAL mid-transaction, and the WAL is
                # copied back into the database every 64 MB rather than every 4 MB, so a
                # short run does not pay a checkpoint (with its fsyncs) for what came
                # before it. Memory: the cache fills only as far as a run needs.
                writer.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KB}")
                writer.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
            reader = open_database(database_url, synchronous=synchronous, migrations=())
            if reader.dialect == "postgres":
                # A delta page must walk records_by_seq in order and stop at the limit.
                # On a table filled faster than autovacuum analyzes it, the planner
                # guesses a few rows and picks a bitmap scan that reads and sorts every
                # later record for each page (100,000 records: 51,000 a second read).
                reader.execute("SET enable_bitmapscan = off")
            return cls(writer, reader, write_path=write_path, synchronous=synchronous)
        except BaseException:
            writer.close()
            if reader is not None:
                reader.close()
            raise

    def __enter__(self) -> SqlRecordStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
