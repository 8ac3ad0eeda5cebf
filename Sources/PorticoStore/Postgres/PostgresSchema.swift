import Logging
import PostgresNIO

/// The shared store's tables, as SQLite's (`SQLiteStore.migrator`) at its latest version, with
/// PostgreSQL's types: times are seconds since 1970 as `double precision`, as in SQLite, and
/// the rollups' latency histograms are dense `bigint[]` of `LatencyHistogram.bucketCount`
/// counts, added element by element by `portico_histogram_add` and its aggregate.
enum PostgresSchema {
    /// Each step runs once, in order, in one transaction with its version recorded; a step is
    /// a list of statements (the extended protocol runs one at a time).
    static let steps: [[String]] = [
        [
            """
            CREATE TABLE calls (
                id BIGSERIAL PRIMARY KEY, time DOUBLE PRECISION NOT NULL, request_id TEXT NOT NULL, method TEXT NOT NULL,
                path TEXT NOT NULL, api TEXT, version TEXT, consumer TEXT, route TEXT, status INTEGER NOT NULL,
                bytes_in BIGINT NOT NULL, bytes_out BIGINT NOT NULL, total_ms DOUBLE PRECISION NOT NULL, upstream_ms DOUBLE PRECISION,
                target TEXT, client TEXT, error TEXT, retries INTEGER NOT NULL DEFAULT 0, key_prefix TEXT, rate_limit TEXT,
                cache TEXT, trace_id TEXT, mirror TEXT, protocol TEXT, validation TEXT
            )
            """,
            """
            CREATE INDEX calls_time ON calls (time)
            """,
            """
            CREATE INDEX calls_request_id ON calls (request_id)
            """,
            """
            CREATE TABLE call_backends (
                time DOUBLE PRECISION NOT NULL, request_id TEXT NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL,
                target TEXT, status INTEGER NOT NULL, ms DOUBLE PRECISION NOT NULL, error TEXT, span_id TEXT, cache TEXT
            )
            """,
            """
            CREATE INDEX call_backends_request_id ON call_backends (request_id)
            """,
            """
            CREATE INDEX call_backends_time ON call_backends (time)
            """,
            """
            CREATE FUNCTION portico_histogram_add(a BIGINT[], b BIGINT[]) RETURNS BIGINT[] LANGUAGE sql IMMUTABLE AS $$
                SELECT COALESCE(array_agg(COALESCE(a[i], 0) + COALESCE(b[i], 0) ORDER BY i), '{}')
                FROM generate_series(1, GREATEST(COALESCE(cardinality(a), 0), COALESCE(cardinality(b), 0))) AS i
            $$
            """,
            """
            CREATE AGGREGATE portico_histogram_sum(BIGINT[]) (SFUNC = portico_histogram_add, STYPE = BIGINT[], INITCOND = '{}')
            """,
            """
            CREATE TABLE rollups (
                level TEXT NOT NULL, bucket BIGINT NOT NULL, api TEXT NOT NULL, version TEXT NOT NULL, route TEXT NOT NULL,
                consumer TEXT NOT NULL, status_class INTEGER NOT NULL, count BIGINT NOT NULL, errors BIGINT NOT NULL,
                bytes_in BIGINT NOT NULL, bytes_out BIGINT NOT NULL, total_ms DOUBLE PRECISION NOT NULL,
                upstream_ms DOUBLE PRECISION NOT NULL, total_histogram BIGINT[] NOT NULL, upstream_histogram BIGINT[] NOT NULL,
                PRIMARY KEY (level, bucket, api, version, route, consumer, status_class)
            )
            """,
            """
            CREATE TABLE rollup_watermark (id INTEGER PRIMARY KEY CHECK (id = 1), until BIGINT NOT NULL)
            """,
            """
            INSERT INTO rollup_watermark VALUES (1, 0)
            """,
            """
            CREATE TABLE health_probe (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at DOUBLE PRECISION NOT NULL)
            """,
            """
            CREATE TABLE consumers (
                name TEXT PRIMARY KEY, groups TEXT NOT NULL DEFAULT '', plan TEXT, scopes TEXT NOT NULL DEFAULT '',
                password_hash TEXT, created DOUBLE PRECISION NOT NULL
            )
            """,
            """
            CREATE TABLE api_keys (
                id BIGSERIAL PRIMARY KEY, consumer TEXT NOT NULL, prefix TEXT NOT NULL, digest BYTEA NOT NULL UNIQUE,
                created DOUBLE PRECISION NOT NULL, expires DOUBLE PRECISION, revoked DOUBLE PRECISION, last_used DOUBLE PRECISION,
                replaced_by BIGINT, app BIGINT
            )
            """,
            """
            CREATE INDEX api_keys_consumer ON api_keys (consumer)
            """,
            """
            CREATE INDEX api_keys_app ON api_keys (app)
            """,
            """
            CREATE TABLE auth_generation (id INTEGER PRIMARY KEY CHECK (id = 1), value BIGINT NOT NULL)
            """,
            """
            INSERT INTO auth_generation VALUES (1, 0)
            """,
            """
            CREATE FUNCTION portico_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE auth_generation SET value = value + 1 WHERE id = 1;
                PERFORM pg_notify('portico_auth', '');
                RETURN NULL;
            END $$
            """,
            """
            CREATE TRIGGER consumers_changed AFTER INSERT OR UPDATE OR DELETE ON consumers
                FOR EACH STATEMENT EXECUTE FUNCTION portico_auth_changed()
            """,
            """
            CREATE TRIGGER api_keys_changed AFTER INSERT OR DELETE OR UPDATE OF consumer, digest, expires, revoked ON api_keys
                FOR EACH STATEMENT EXECUTE FUNCTION portico_auth_changed()
            """,
            """
            CREATE TABLE portal_accounts (
                id BIGSERIAL PRIMARY KEY, email TEXT NOT NULL UNIQUE, consumer TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
                created DOUBLE PRECISION NOT NULL
            )
            """,
            """
            CREATE TABLE portal_sessions (
                digest BYTEA PRIMARY KEY, account BIGINT NOT NULL REFERENCES portal_accounts (id) ON DELETE CASCADE,
                csrf TEXT NOT NULL, created DOUBLE PRECISION NOT NULL, expires DOUBLE PRECISION NOT NULL
            )
            """,
            """
            CREATE TABLE portal_apps (
                id BIGSERIAL PRIMARY KEY, account BIGINT NOT NULL REFERENCES portal_accounts (id) ON DELETE CASCADE,
                name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, created DOUBLE PRECISION NOT NULL,
                decided DOUBLE PRECISION, UNIQUE (account, name)
            )
            """,
            """
            CREATE TABLE nodes (id TEXT PRIMARY KEY, seen DOUBLE PRECISION NOT NULL)
            """,
        ],
        [
            // The call log's batches by id, so that a retried batch whose first write committed is not written again.
            """
            CREATE TABLE call_batches (id TEXT PRIMARY KEY, written DOUBLE PRECISION NOT NULL)
            """
        ],
    ]

    /// A key for `pg_advisory_xact_lock`: migrations, one node at a time.
    static let migrationLock: Int64 = 0x706F_7274_6963_6F01
    /// Rolling minutes into hours and days, one node at a time.
    static let rollupLock: Int64 = 0x706F_7274_6963_6F02

    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS portico_schema (version INTEGER NOT NULL)", logger: logger)
            var version = 0
            for try await value in try await connection.query(
                "SELECT COALESCE(MAX(version), 0) FROM portico_schema", logger: logger
            )
            .decode(Int.self) {
                version = value
            }
            for (index, step) in steps.enumerated() where index + 1 > version {
                for statement in step {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO portico_schema (version) VALUES (\(index + 1))", logger: logger)
            }
        }
    }
}
