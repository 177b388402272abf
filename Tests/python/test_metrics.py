"""The Prometheus endpoint (metrics-port, Lode's own): a scrape parsed by the
prometheus_client text parser, redis_exporter's names where they apply, Lode's own
figures, the fsync latency histogram; off by default; HTTP errors for other paths.

Run (from the repository root): pytest Tests/python/test_metrics.py
"""
import socket
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

import harness

pytestmark = pytest.mark.skipif(harness.TESTING_REDIS, reason="Lode's own endpoint")


def scrape(port, path="/metrics"):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return {f.name: f for f in text_string_to_metric_families(response.read().decode())}


def test_scrape_parses_and_reports_the_server(tmp_path):
    port = harness.free_port()
    srv = harness.lode_server(["--metrics-port", str(port), "--appendfsync", "always"], workdir=str(tmp_path)).start()
    try:
        with srv.client() as c:
            for i in range(50):
                c.call("SET", f"m:{i}", "v")
            c.call("SELECT", "3")
            c.call("SET", "m:db3", "v", "EX", "100")
            c.call("GET", "m:db3"), c.call("GET", "m:nokey")
            c.call_raw("INCR", "m:db3")
        families = scrape(port)
        def value(name, **labels):
            family = families[name]
            for sample in family.samples:
                if all(sample.labels.get(k) == v for k, v in labels.items()) and sample.name in (name, name + "_total"):
                    return sample.value
            raise AssertionError(f"no sample {name} {labels}")
        assert value("redis_up") == 1
        assert families["redis_commands_processed"].type == "counter"
        assert value("redis_commands_processed") >= 54
        assert value("redis_db_keys", db="db0") == 50 and value("redis_db_keys", db="db3") == 1
        assert value("redis_db_keys_expiring", db="db3") == 1
        assert value("redis_commands", cmd="set") == 51
        assert value("redis_commands_failed_calls", cmd="incr") == 1
        assert value("redis_errors", err="ERR") == 1
        assert value("redis_keyspace_hits") >= 1 and value("redis_keyspace_misses") >= 1
        assert value("redis_connected_clients") >= 0 and value("redis_memory_used_bytes") > 0
        assert 0 <= value("lode_cache_hit_ratio") <= 1
        assert value("lode_lmdb_used_bytes") > 0 and value("lode_lmdb_map_size_bytes") >= value("lode_lmdb_used_bytes")
        assert "lode_sweeper_backlog" in families
        fsync = families["lode_fsync_duration_seconds"]
        assert fsync.type == "histogram"
        count = next(s.value for s in fsync.samples if s.name == "lode_fsync_duration_seconds_count")
        assert count >= 1, "appendfsync always: every write waited for an fsync"
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/nope", timeout=10)
        assert e.value.code == 404
    finally:
        srv.cleanup()


def test_off_by_default(lode_module):
    with lode_module.client() as c:
        assert c.call("CONFIG", "GET", "metrics-port") == [b"metrics-port", b"0"]
        assert c.call_raw("CONFIG", "SET", "metrics-port", "9999") == \
            b"-ERR CONFIG SET failed (possibly related to argument 'metrics-port') - can't set immutable config\r\n"
