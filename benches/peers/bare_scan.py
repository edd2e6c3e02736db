"""A bare scan of the span columns ownermap needs (DuckDB reads every value
of each column). Usage: python bare_scan.py SPANS_DIR"""
import sys, time
import duckdb

t0 = time.time()
con = duckdb.connect()
con.execute("SET threads TO 2")
r = con.execute(f"""
SELECT COUNT(*), MAX(TraceId), MAX(SpanId), MAX(ParentSpanId), MAX(ServiceName), MAX(SpanName),
       MAX(SpanKind), MAX(StatusCode), SUM(Duration), MAX(epoch_ns(Timestamp)), SUM(cardinality(SpanAttributes))
FROM read_parquet('{sys.argv[1]}/**/*.parquet', hive_partitioning = false)
""").fetchone()
print(f"bare scan: {r[0]} rows in {time.time() - t0:.2f} s")
