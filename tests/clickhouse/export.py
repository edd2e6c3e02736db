"""Writes span exports the way a ClickHouse user does (SPEC §1.1).

Creates `otel_traces` in an in-process ClickHouse (chdb, from PyPI) with
the OpenTelemetry Collector ClickHouse exporter's own column types --
LowCardinality names, DateTime64(9), UInt64 Duration, Map(LowCardinality
(String), String) attributes (map mode) or JSON attributes (JSON mode),
Nested Events and Links -- loads the span Parquet files given, and exports
each day with `SELECT ... INTO OUTFILE ... FORMAT Parquet` into
`OUT/date=YYYY-MM-DD/otel_traces.parquet`, as the README tells users to.

usage: export.py SPANS_GLOB OUT_DIR map|json
"""

import os
import sys
import tempfile

from chdb import session


def ddl(json_mode: bool) -> str:
    attrs = "JSON" if json_mode else "Map(LowCardinality(String), String)"
    return f"""
CREATE TABLE otel_traces (
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes {attrs} CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    SpanAttributes {attrs} CODEC(ZSTD(1)),
    Duration UInt64 CODEC(ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes {attrs}
    ) CODEC(ZSTD(1)),
    Links Nested (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes {attrs}
    ) CODEC(ZSTD(1))
) ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp))
"""


def main() -> None:
    spans_glob, out_dir, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    json_mode = mode == "json"
    with tempfile.TemporaryDirectory() as db:
        s = session.Session(db)
        s.query(ddl(json_mode))
        # JSON mode: the map's text cast to JSON, which splits dotted keys
        # into nested objects, as the exporter's JSON columns store them.
        attrs = (lambda c: f"CAST(toJSONString({c}) AS JSON)") if json_mode else (lambda c: c)
        # Span links: the generated files keep them as OTLP JSON text (as
        # `ownermap import` does); the exporter writes the Nested columns.
        links = "JSONExtractArrayRaw(Links)"
        no_attrs = attrs("CAST(map(), 'Map(String, String)')")
        s.query(
            f"""INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName,
                SpanKind, ServiceName, ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes,
                Duration, StatusCode, StatusMessage,
                `Links.TraceId`, `Links.SpanId`, `Links.TraceState`, `Links.Attributes`)
            SELECT Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName,
                {attrs('CAST(ResourceAttributes AS Map(String, String))')}, ScopeName, ScopeVersion,
                {attrs('CAST(SpanAttributes AS Map(String, String))')}, Duration, StatusCode, StatusMessage,
                arrayMap(x -> JSONExtractString(x, 'traceId'), {links}),
                arrayMap(x -> JSONExtractString(x, 'spanId'), {links}),
                arrayMap(x -> '', {links}),
                arrayMap(x -> {no_attrs}, {links})
            FROM file('{spans_glob}', Parquet)"""
        )
        days = s.query("SELECT DISTINCT toString(toDate(Timestamp)) FROM otel_traces ORDER BY 1", "CSV").data().split()
        for day in days:
            day = day.strip('"')
            folder = os.path.join(out_dir, f"date={day}")
            os.makedirs(folder, exist_ok=True)
            path = os.path.join(folder, "otel_traces.parquet")
            s.query(
                f"SELECT * FROM otel_traces WHERE toDate(Timestamp) = '{day}' "
                f"INTO OUTFILE '{path}' TRUNCATE FORMAT Parquet"
            )
        print(f"{len(days)} days exported ({mode} mode)")


if __name__ == "__main__":
    main()
