"""The local database: connections (credentials encrypted at rest) and records.

SQLite is the embedded default; :func:`open_database` is where a PostgreSQL backend
plugs in. Every store is synchronous and reports a driver's error as ``StoreError``;
async code calls a store through :func:`blocking`.
"""

from __future__ import annotations

from nango_scripts.store._actions import ActionRun, ActionRunStore
from nango_scripts.store._activity import (
    OPERATION_STATES,
    OPERATION_TYPES,
    ActivityMessage,
    ActivityStore,
    Operation,
    OperationPage,
    OperationState,
    OperationType,
)
from nango_scripts.store._blocking import blocking
from nango_scripts.store._connection import (
    AuthType,
    Connection,
    ConnectionSummary,
    validate_credentials,
)
from nango_scripts.store._connections import ConnectionStore
from nango_scripts.store._crypto import (
    CredentialCipher,
    EncryptionKey,
    credentials_aad,
    load_key,
    load_or_create_key,
)
from nango_scripts.store._json_limits import (
    MAX_JSON_DEPTH,
    MAX_STORED_JSON_BYTES,
    check_stored_json,
    json_body_problem,
    json_value_problem,
    read_stored_json,
    size_text,
)
from nango_scripts.store._memory import MemoryRecordStore, ModelLog
from nango_scripts.store._meta import MetaStore
from nango_scripts.store._outbox import OutboxEntry, OutboxItem, OutboxStatus, WebhookOutbox
from nango_scripts.store._record_json import JsonRecordPage
from nango_scripts.store._record_query import (
    RECORD_IDS_MAX,
    RECORDS_LIMIT_DEFAULT,
    RECORDS_LIMIT_MAX,
    RecordQuery,
)
from nango_scripts.store._records import (
    BatchResult,
    PreparedRecords,
    RecordScope,
    RecordStore,
    deep_merge,
    dump_records,
)
from nango_scripts.store._schedules import Schedule, ScheduleKey, ScheduleStore, SyncRunRecord
from nango_scripts.store._sql_records import RecordPage, SqlRecordStore
from nango_scripts.store._sqlite import MIGRATIONS, Migration, migrate, open_database
from nango_scripts.store._writer import RecordWriter, Write, WriteGroups

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_STORED_JSON_BYTES",
    "MIGRATIONS",
    "OPERATION_STATES",
    "OPERATION_TYPES",
    "RECORDS_LIMIT_DEFAULT",
    "RECORDS_LIMIT_MAX",
    "RECORD_IDS_MAX",
    "ActionRun",
    "ActionRunStore",
    "ActivityMessage",
    "ActivityStore",
    "AuthType",
    "BatchResult",
    "Connection",
    "ConnectionStore",
    "ConnectionSummary",
    "CredentialCipher",
    "EncryptionKey",
    "JsonRecordPage",
    "MemoryRecordStore",
    "MetaStore",
    "Migration",
    "ModelLog",
    "Operation",
    "OperationPage",
    "OperationState",
    "OperationType",
    "OutboxEntry",
    "OutboxItem",
    "OutboxStatus",
    "PreparedRecords",
    "RecordPage",
    "RecordQuery",
    "RecordScope",
    "RecordStore",
    "RecordWriter",
    "Schedule",
    "ScheduleKey",
    "ScheduleStore",
    "SqlRecordStore",
    "SyncRunRecord",
    "WebhookOutbox",
    "Write",
    "WriteGroups",
    "blocking",
    "check_stored_json",
    "credentials_aad",
    "deep_merge",
    "dump_records",
    "json_body_problem",
    "json_value_problem",
    "load_key",
    "load_or_create_key",
    "migrate",
    "open_database",
    "read_stored_json",
    "size_text",
    "validate_credentials",
]
