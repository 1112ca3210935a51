"""Data contracts: per-clip result, Arrow schemas, object-store access, expectation suites."""
