"""The run store's schema: its tables, and the ordered migrations that build them.

A store file records the number of migrations applied to it in SQLite's
``PRAGMA user_version`` and identifies itself with ``PRAGMA application_id``.
Opening a file applies the migrations it lacks, in order, in one transaction
(a second process opening the same file at the same time waits, then finds
them applied). A file written by a newer mlpipe (a higher version than
:data:`SCHEMA_VERSION`) is refused, never written to.

Every record table is append-only: SQLite triggers abort any ``UPDATE`` or
``DELETE`` of their rows, so what the store says happened cannot be rewritten
through it. Tables are ``STRICT``: a value of the wrong type is refused by
SQLite itself, so a column always reads back as one dtype.

Adding a table or a column later is one more entry at the end of
:data:`MIGRATIONS` (never an edit of an applied one); kinds and statuses are
checked in Python, not by ``CHECK`` constraints, because SQLite cannot alter a
constraint without rebuilding the table.
"""

# "mlp1" as a big-endian 32-bit integer: a store says it is one.
APPLICATION_ID = 0x6D6C7031

# Tables whose rows are records: append-only.
RECORD_TABLES = (
    "models",
    "data",
    "runs",
    "io",
    "validation_failures",
    "column_stats",
    "drift_tests",
    "prediction_stats",
    "group_rates",
    "metrics",
    "staleness_rules",
    "scored_rows",
    "performance_estimates",
)


def _append_only(table):
    return [
        f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'the mlpipe run store is append-only: "
        f"{verb} of {table} is refused'); END"
        for verb in ("UPDATE", "DELETE")
    ]


_V1 = [
    # A model, identified by the SHA-256 of its manifest (canonical JSON).
    """CREATE TABLE models (
        model_id TEXT PRIMARY KEY,
        name TEXT,
        version TEXT,
        estimator TEXT,
        format_version INTEGER,
        mlpipe_version TEXT,
        saved_at TEXT,
        fitted_at TEXT,
        training_sha256 TEXT,
        training_n_rows INTEGER,
        training_n_columns INTEGER,
        target_sha256 TEXT,
        source TEXT,
        manifest TEXT NOT NULL,
        registered_at TEXT NOT NULL
    ) STRICT""",
    "CREATE INDEX models_name ON models(name, registered_at)",
    # A data set seen by a run, by its fingerprint (MLTRACE's IO pointer).
    """CREATE TABLE data (
        sha256 TEXT PRIMARY KEY,
        n_rows INTEGER,
        n_columns INTEGER,
        columns TEXT,
        first_seen TEXT NOT NULL
    ) STRICT""",
    # One guarded event (MLTRACE's component run).
    """CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        parent_id TEXT REFERENCES runs(run_id) DEFERRABLE INITIALLY DEFERRED,
        model_id TEXT REFERENCES models(model_id),
        kind TEXT NOT NULL,
        step TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at TEXT NOT NULL,
        duration_s REAL,
        batch_key TEXT,
        window INTEGER,
        window_start TEXT,
        window_end TEXT,
        n_rows INTEGER,
        n_columns INTEGER,
        summary TEXT,
        detail TEXT,
        host TEXT,
        pid INTEGER
    ) STRICT""",
    "CREATE UNIQUE INDEX runs_batch_key ON runs(batch_key) WHERE kind = 'batch'",
    "CREATE INDEX runs_started ON runs(started_at)",
    "CREATE INDEX runs_model ON runs(model_id, kind, started_at)",
    "CREATE INDEX runs_parent ON runs(parent_id)",
    # Which data a run read or wrote, in which role.
    """CREATE TABLE io (
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        role TEXT NOT NULL,
        sha256 TEXT NOT NULL REFERENCES data(sha256),
        name TEXT,
        PRIMARY KEY (run_id, role)
    ) STRICT, WITHOUT ROWID""",
    "CREATE INDEX io_sha256 ON io(sha256, role)",
    """CREATE TABLE validation_failures (
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        position INTEGER NOT NULL,
        column_name TEXT,
        check_name TEXT NOT NULL,
        severity TEXT NOT NULL,
        level TEXT NOT NULL,
        n_failed INTEGER NOT NULL,
        share REAL,
        p_value REAL,
        message TEXT,
        examples TEXT,
        rows TEXT,
        PRIMARY KEY (run_id, position)
    ) STRICT, WITHOUT ROWID""",
    """CREATE TABLE column_stats (
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        position INTEGER NOT NULL,
        column_name TEXT NOT NULL,
        n_rows INTEGER NOT NULL,
        n_missing INTEGER NOT NULL,
        PRIMARY KEY (run_id, position)
    ) STRICT, WITHOUT ROWID""",
    """CREATE TABLE drift_tests (
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        position INTEGER NOT NULL,
        feature TEXT NOT NULL,
        test TEXT NOT NULL,
        statistic REAL,
        p_value REAL,
        threshold REAL,
        drift INTEGER NOT NULL,
        status TEXT NOT NULL,
        effect_size REAL,
        effect_threshold REAL,
        n_reference INTEGER,
        n_batch INTEGER,
        note TEXT,
        PRIMARY KEY (run_id, position)
    ) STRICT, WITHOUT ROWID""",
    "CREATE INDEX drift_tests_feature ON drift_tests(feature)",
    """CREATE TABLE prediction_stats (
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        position INTEGER NOT NULL,
        statistic TEXT NOT NULL,
        label TEXT,
        level REAL,
        value REAL,
        n INTEGER,
        PRIMARY KEY (run_id, position)
    ) STRICT, WITHOUT ROWID""",
    """CREATE TABLE group_rates (
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        position INTEGER NOT NULL,
        sensitive TEXT NOT NULL,
        grp TEXT,
        label TEXT,
        n_group INTEGER NOT NULL,
        rate REAL,
        PRIMARY KEY (run_id, position)
    ) STRICT, WITHOUT ROWID""",
    """CREATE TABLE metrics (
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        name TEXT NOT NULL,
        value REAL,
        PRIMARY KEY (run_id, name)
    ) STRICT, WITHOUT ROWID""",
    """CREATE TABLE staleness_rules (
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        rule TEXT NOT NULL,
        fired INTEGER NOT NULL,
        value REAL,
        threshold REAL,
        detail TEXT,
        PRIMARY KEY (run_id, rule)
    ) STRICT, WITHOUT ROWID""",
]
for _table in RECORD_TABLES[:-2]:
    _V1 += _append_only(_table)

# Version 2: the rows of a prediction batch by their key, so that ground truth
# arriving later (joined by the same key) scores the batch it belongs to.
_V2 = [
    """CREATE TABLE scored_rows (
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        position INTEGER NOT NULL,
        row_key TEXT NOT NULL,
        prediction TEXT,
        value REAL,
        score REAL,
        PRIMARY KEY (run_id, position)
    ) STRICT, WITHOUT ROWID""",
    "CREATE INDEX scored_rows_key ON scored_rows(row_key)",
    *_append_only("scored_rows"),
]

# Version 3: a performance estimate without labels (PerformanceEstimator), one
# row per metric and group, with its interval and, once labels came, the
# realized value beside it.
_V3 = [
    """CREATE TABLE performance_estimates (
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        position INTEGER NOT NULL,
        group_column TEXT NOT NULL,
        group_value TEXT NOT NULL,
        metric TEXT NOT NULL,
        estimate REAL,
        lower REAL,
        upper REAL,
        realized REAL,
        covered INTEGER,
        n_rows INTEGER NOT NULL,
        n_calibration REAL,
        PRIMARY KEY (run_id, position)
    ) STRICT, WITHOUT ROWID""",
    *_append_only("performance_estimates"),
]

# MIGRATIONS[i] takes a file from version i to version i + 1.
MIGRATIONS = (tuple(_V1), tuple(_V2), tuple(_V3))
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(connection, where, migrations=MIGRATIONS):
    """Bring the store behind ``connection`` (autocommit) to ``len(migrations)``.

    Returns the version the file had. Raises ValueError for a file that is not
    a run store, or that a newer schema wrote.
    """
    target = len(migrations)
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        app = connection.execute("PRAGMA application_id").fetchone()[0]
        if app != APPLICATION_ID:
            n_tables = connection.execute(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
            ).fetchone()[0]
            if version or n_tables:
                raise ValueError(
                    f"{where} is an SQLite database but not an mlpipe run store "
                    f"(application_id {app}, {n_tables} table(s)); give a new file."
                )
        if version > target:
            raise ValueError(newer_message(where, version, target))
        for step in migrations[version:]:
            for statement in step:
                connection.execute(statement)
        if version < target:
            connection.execute(f"PRAGMA user_version = {int(target)}")
            connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return version


def newer_message(where, version, known):
    return (
        f"{where} was written with run store schema version {version}; this mlpipe "
        f"knows versions up to {known}. Upgrade mlpipe to read or write it."
    )


def read_version(connection):
    """``(user_version, application_id)`` of the file."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    app = connection.execute("PRAGMA application_id").fetchone()[0]
    return version, app
