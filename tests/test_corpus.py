import functools
import http.server
import threading
from pathlib import Path

import pytest

from d2lrnn import corpus
from d2lrnn.errors import CorpusError


@pytest.fixture
def http_server(tmp_path):
    """A local HTTP server on 127.0.0.1 serving tmp_path/www; yields its base URL."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    monkeypatch.delenv("D2LRNN_DATA_DIR", raising=False)
    monkeypatch.setenv("D2LRNN_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_download_verifies_and_caches_the_good_file(
    http_server, isolated, monkeypatch, corpus_path
):
    root, url = http_server
    (root / "timemachine.txt").write_bytes(corpus_path.read_bytes())
    monkeypatch.setenv("D2LRNN_DATA_URL", f"{url}/timemachine.txt")
    path = corpus.time_machine_path()
    assert path == isolated / "timemachine.txt"
    assert corpus.sha1_of(path) == corpus.TIME_MACHINE_SHA1
    (root / "timemachine.txt").unlink()  # a second call uses the cache, not the server
    assert corpus.time_machine_path() == path


def test_download_of_a_corrupted_file_is_refused_and_not_cached(
    http_server, isolated, monkeypatch, corpus_path
):
    root, url = http_server
    (root / "timemachine.txt").write_bytes(corpus_path.read_bytes()[:-10] + b"corrupted!")
    monkeypatch.setenv("D2LRNN_DATA_URL", f"{url}/timemachine.txt")
    with pytest.raises(CorpusError) as err:
        corpus.time_machine_path()
    message = str(err.value)
    assert corpus.TIME_MACHINE_SHA1 in message
    assert corpus.sha1_of(root / "timemachine.txt") in message
    assert not any(isolated.rglob("*")) or not (isolated / "timemachine.txt").exists()
    assert [p for p in isolated.rglob("*") if p.is_file()] == []


def test_failed_download_is_a_clear_error(isolated, monkeypatch):
    monkeypatch.setenv("D2LRNN_DATA_URL", "http://127.0.0.1:9/timemachine.txt")
    with pytest.raises(CorpusError, match="Could not download"):
        corpus.time_machine_path()


def test_damaged_cache_entry_is_replaced(http_server, isolated, monkeypatch, corpus_path):
    root, url = http_server
    (root / "timemachine.txt").write_bytes(corpus_path.read_bytes())
    isolated.mkdir(parents=True)
    (isolated / "timemachine.txt").write_text("not the book")
    monkeypatch.setenv("D2LRNN_DATA_URL", f"{url}/timemachine.txt")
    assert corpus.sha1_of(corpus.time_machine_path()) == corpus.TIME_MACHINE_SHA1


def test_data_dir_with_a_wrong_file_names_path_and_both_hashes(tmp_path, monkeypatch):
    (tmp_path / "timemachine.txt").write_text("something else")
    with pytest.raises(CorpusError) as err:
        corpus.time_machine_path(tmp_path)
    assert str(tmp_path / "timemachine.txt") in str(err.value)
    assert corpus.TIME_MACHINE_SHA1 in str(err.value)
    assert corpus.sha1_of(tmp_path / "timemachine.txt") in str(err.value)


def test_data_dir_without_the_file(tmp_path):
    with pytest.raises(CorpusError, match="No timemachine.txt"):
        corpus.time_machine_path(tmp_path)


def test_any_utf8_file_can_be_the_corpus(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("Ünïcode is fine here", encoding="utf-8")
    assert corpus.load_corpus_text(path).startswith("Ünïcode")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p, "does not exist"),
        (lambda p: (p.mkdir(), p)[1], "is a directory"),
        (lambda p: (p.write_text("  \n"), p)[1], "is empty"),
        (lambda p: (p.write_bytes(b"\xff\xfe\x00bad"), p)[1], "not valid UTF-8"),
    ],
)
def test_bad_corpus_files(tmp_path, make, message):
    path: Path = make(tmp_path / "corpus.txt")
    with pytest.raises(CorpusError, match=message):
        corpus.read_text(path)
