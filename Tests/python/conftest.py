import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "large: writes and reads back a dataset of over 1 GB (test_large_dataset.py); "
        "runs by default, deselect with -m 'not large'")


@pytest.fixture
def lode():
    """A fresh Lode server on a port the kernel picked, with its own data directory."""
    srv = harness.lode_server().start()
    yield srv
    srv.cleanup()


@pytest.fixture(scope="module")
def lode_module():
    srv = harness.lode_server().start()
    yield srv
    srv.cleanup()


@pytest.fixture(scope="module")
def redis_ref():
    """A reference redis-server 7 started by the test and stopped by PID."""
    srv = harness.redis_server().start()
    yield srv
    srv.cleanup()
