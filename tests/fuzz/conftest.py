import pytest

from . import corpus


@pytest.fixture(scope="session")
def seeds(tmp_path_factory):
    """The seed files of every format, built once for all the fuzz tests."""
    return corpus.build(str(tmp_path_factory.mktemp("seeds")))
