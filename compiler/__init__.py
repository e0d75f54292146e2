"""The Glia compiler: syntax, checker, typed IR, passes and backends."""
