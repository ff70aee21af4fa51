"""IMDB loading: a small synthetic archive in the published layout covers the logic (splits,
limits, reading from archive/folder/cache, download, unsafe archives); the real archive
(``$LSTMCLI_TEST_IMDB``) checks the sizes once."""

from __future__ import annotations

import hashlib
import http.server
import io
import socket
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from lstmcli.core import paths
from lstmcli.core.errors import DataError, DownloadError
from lstmcli.data import fetch, imdb
from lstmcli.data.datasets import load_labelled
from lstmcli.data.imdb import load_imdb, read_unlabelled
from lstmcli.data.textdata import LabelledData, TextSplit, limit_split

N_TRAIN, N_TEST, N_UNSUP = 10, 6, 4  # per class; unsup in all


def make_tree(root: Path, tag: str = "") -> Path:
    """``root/aclImdb`` with generated reviews; one file has bytes that are not UTF-8."""
    top = root / "aclImdb"
    counts = {"train/pos": N_TRAIN, "train/neg": N_TRAIN, "test/pos": N_TEST, "test/neg": N_TEST}
    counts["train/unsup"] = N_UNSUP
    for part, n in counts.items():
        (top / part).mkdir(parents=True)
        for i in range(n):
            stars = 0 if "unsup" in part else (8 if "pos" in part else 2)
            text = f"{part} review number {i}{tag}. It was fine."
            (top / part / f"{i}_{stars}.txt").write_text(text, encoding="utf-8")
    (top / "train" / "urls_pos.txt").write_text("http://example.invalid/\n")
    (top / "test/neg/99_1.txt").write_bytes(b"test/neg caf\xe9 latin-1 review")
    return top


def make_archive(tmp_path: Path, tag: str = "") -> Path:
    tree = make_tree(tmp_path / f"tree{tag}", tag)
    archive = tmp_path / f"aclImdb_v1{tag}.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(tree, arcname="aclImdb")
    return archive


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return make_archive(tmp_path)


def part_of(text: str) -> str:
    return text.split(" ")[0]


def same(a: TextSplit | None, b: TextSplit | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.texts == b.texts and np.array_equal(a.labels, b.labels)


def same_data(a: LabelledData, b: LabelledData) -> bool:
    splits = all(same(x, y) for x, y in ((a.train, b.train), (a.val, b.val), (a.test, b.test)))
    return splits and a.label_names == b.label_names and a.fingerprint == b.fingerprint


def test_load_from_archive_in_place(archive: Path) -> None:
    d = load_imdb(archive, unpack=False, seed=1)
    assert d.name == "imdb" and d.label_names == ["neg", "pos"]
    assert (len(d.train), len(d.val), len(d.test)) == (16, 4, 13)
    assert d.train.labels.dtype == np.int64
    for split, kind in ((d.train, "train"), (d.val, "train"), (d.test, "test")):
        assert [part_of(t) for t in split.texts] == [
            f"{kind}/{['neg', 'pos'][y]}" for y in split.labels
        ]
    assert np.bincount(d.val.labels).tolist() == [2, 2]  # stratified
    assert not set(d.train.texts) & set(d.val.texts)
    assert any("\ufffd" in t for t in d.test.texts)
    assert d.notes == ["1 file had bytes that are not UTF-8 (replaced with U+FFFD)"]
    assert not paths.datasets_dir().exists()  # read in place, nothing unpacked


def test_archive_folder_and_unpacked_cache_agree(archive: Path, tmp_path: Path) -> None:
    in_place = load_imdb(archive, unpack=False)
    unpacked = load_imdb(archive)  # unpacked into the cache, keyed by the archive's sha256
    folder = tmp_path / "tree"
    assert load_imdb(folder).fingerprint == in_place.fingerprint  # folder holding aclImdb/
    assert load_imdb(folder / "aclImdb").fingerprint == in_place.fingerprint
    assert unpacked.fingerprint == in_place.fingerprint
    assert unpacked.train.texts == in_place.train.texts
    (cached,) = [p for p in paths.datasets_dir().iterdir()]
    assert cached.name.startswith("aclImdb-") and (cached / "train/unsup").is_dir()


def test_unpacked_archive_is_reused(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_imdb(archive)

    def no_unpack(*args: object, **kwargs: object) -> None:
        raise AssertionError("unpacked twice")

    monkeypatch.setattr(fetch, "unpack", no_unpack)
    assert load_imdb(archive).fingerprint == first.fingerprint


def test_unwritable_cache_reads_archive_in_place(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fetch, "unpack", disk_full)
    d = load_imdb(archive)
    assert len(d.test) == 13 and "read the archive in place" in d.notes[0]


def test_seeds_limits_and_fingerprints(archive: Path) -> None:
    a = load_imdb(archive, unpack=False, seed=0)
    assert same_data(load_imdb(archive, unpack=False, seed=0), a)  # deterministic
    b = load_imdb(archive, unpack=False, seed=1)
    assert b.val.texts != a.val.texts and b.fingerprint != a.fingerprint
    small = load_imdb(archive, unpack=False, seed=0, limit=6)
    assert same(small.val, a.val) and same(small.test, a.test)  # only train is limited
    assert small.train.texts == [t for t in a.train.texts if t in small.train.texts]
    assert np.bincount(small.train.labels).tolist() == [3, 3]
    quick = load_imdb(archive, unpack=False, seed=0, eval_limit=3)
    assert len(quick.val) == 3 and len(quick.test) == 3 and same(quick.train, a.train)
    assert sorted(np.bincount(quick.test.labels).tolist()) == [1, 2]
    half = load_imdb(archive, unpack=False, val_split=0.5)
    assert (len(half.train), len(half.val)) == (10, 10)
    for bad in ({"val_split": 0.0}, {"val_split": 1.0}, {"limit": 0}, {"eval_limit": -1}):
        with pytest.raises(DataError):
            load_imdb(archive, unpack=False, **bad)


def test_read_unlabelled(archive: Path) -> None:
    with_train = read_unlabelled(archive, unpack=False)
    assert len(with_train) == N_UNSUP + 2 * N_TRAIN
    assert {part_of(t) for t in with_train} == {"train/unsup", "train/neg", "train/pos"}
    only = read_unlabelled(archive, include_train=False, unpack=False)
    assert [part_of(t) for t in only] == ["train/unsup"] * N_UNSUP


def test_bad_data_arguments(tmp_path: Path, archive: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_imdb(tmp_path / "missing.tar.gz")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match=r"not a \.tar\.gz"):
        load_imdb(tmp_path / "notes.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="has no train/neg folder"):
        load_imdb(tmp_path / "empty")
    body = archive.read_bytes()
    flipped = bytearray(body)
    flipped[len(body) // 2] ^= 0xFF
    damaged = [body[: len(body) * k // 4] for k in (1, 2, 3)] + [body[:-4], bytes(flipped)]
    for i, content in enumerate(damaged):
        bad = tmp_path / f"damaged{i}.tar.gz"
        bad.write_bytes(content)
        for unpack in (True, False):
            with pytest.raises(DataError, match="truncated or corrupt") as info:
                load_imdb(bad, unpack=unpack)
            assert "\n" not in str(info.value)
    assert not list(paths.datasets_dir().iterdir())  # no half-unpacked folder is left


def test_incomplete_cache_folder() -> None:
    (imdb.cached_imdb_dir() / "train/pos").mkdir(parents=True)
    with pytest.raises(DataError, match="delete it to download again"):
        load_imdb()


def test_archive_put_in_the_cache_is_used(archive: Path) -> None:
    paths.datasets_dir().mkdir(parents=True)
    imdb.cache_archive().write_bytes(archive.read_bytes())
    d = load_imdb()  # $LSTMCLI_IMDB_URL points at a closed port (conftest)
    assert len(d.test) == 13 and (imdb.cached_imdb_dir() / "test/pos").is_dir()


# --- unsafe archives ---------------------------------------------------------------------


def evil_archive(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"evil-{kind}.tar.gz"
    with tarfile.open(make_archive(tmp_path), "r:gz") as good, tarfile.open(path, "w:gz") as tf:
        for member in good:
            tf.addfile(member, good.extractfile(member) if member.isfile() else None)
        names = {"dotdot": "aclImdb/../../evil", "absolute": "/tmp/evil"}
        info = tarfile.TarInfo(names.get(kind, "aclImdb/train/pos/link.txt"))
        if kind in ("symlink", "hardlink"):
            info.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
            info.linkname = "/etc/passwd"
            tf.addfile(info)
        elif kind == "device":
            info.type = tarfile.CHRTYPE
            tf.addfile(info)
        else:
            info.size = 4
            tf.addfile(info, io.BytesIO(b"evil"))
    return path


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink", "hardlink", "device"])
def test_unsafe_archive_is_refused(tmp_path: Path, kind: str) -> None:
    path = evil_archive(tmp_path, kind)
    with pytest.raises(DataError, match="refusing archive member"):
        load_imdb(path)
    assert not list(paths.datasets_dir().iterdir())
    assert not (paths.home() / "evil").exists() and not (paths.datasets_dir() / "evil").exists()


# --- downloads ---------------------------------------------------------------------------


class Server:
    """Serves ``routes[path] = (body, declared_length)`` on 127.0.0.1 (-1: no length sent)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[bytes, int]] = {}
        routes = self.routes

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path not in routes:
                    self.send_error(404)
                    return
                body, length = routes[self.path]
                self.send_response(200)
                if length >= 0:  # -1: no Content-Length (the body ends when the connection does)
                    self.send_header("Content-Length", str(length))
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    s = Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def serve(
    server: Server, monkeypatch: pytest.MonkeyPatch, body: bytes, length: int | None = None
) -> str:
    """Serve ``body`` as the IMDB archive; the expected SHA-256 is the body's own (a download is
    otherwise checked against the published archive's)."""
    server.routes["/aclImdb_v1.tar.gz"] = (body, len(body) if length is None else length)
    url = server.url("/aclImdb_v1.tar.gz")
    monkeypatch.setenv("LSTMCLI_IMDB_URL", url)
    monkeypatch.setenv("LSTMCLI_IMDB_SHA256", hashlib.sha256(body).hexdigest())
    return url


def test_download_then_cache_hit(
    archive: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = archive.read_bytes()
    serve(server, monkeypatch, body)
    monkeypatch.setenv("LSTMCLI_IMDB_SHA256", hashlib.sha256(body).hexdigest().upper())
    seen: list[tuple[int, int | None]] = []
    d = load_labelled("imdb", progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, len(body)) and seen[-1] == (len(body), len(body))
    assert (len(d.train), len(d.val), len(d.test)) == (16, 4, 13)
    assert sorted(p.name for p in paths.datasets_dir().iterdir()) == ["aclImdb"]  # no archive left
    monkeypatch.setenv("LSTMCLI_IMDB_URL", "http://127.0.0.1:9/offline.tar.gz")
    assert load_labelled("imdb").fingerprint == d.fingerprint  # cached: no network
    assert load_imdb(archive).fingerprint == d.fingerprint  # same archive: the cache is reused
    assert sorted(p.name for p in paths.datasets_dir().iterdir()) == ["aclImdb"]


def test_checksum_mismatch(archive: Path, server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    serve(server, monkeypatch, archive.read_bytes())
    monkeypatch.setenv("LSTMCLI_IMDB_SHA256", "0" * 64)
    with pytest.raises(DownloadError, match="not the expected 0000"):
        load_imdb()
    assert not list(paths.datasets_dir().iterdir())


def test_download_checked_against_the_published_hash_by_default(
    archive: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(server, monkeypatch, archive.read_bytes())
    monkeypatch.delenv("LSTMCLI_IMDB_SHA256")
    assert imdb.IMDB_SHA256 == "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
    with pytest.raises(DownloadError, match=f"not the expected {imdb.IMDB_SHA256}"):
        load_imdb()
    assert not list(paths.datasets_dir().iterdir())
    # The same bytes given as --data are the user's archive: never rejected for their hash.
    assert len(load_imdb(archive).train) == 16


def test_download_without_content_length_ends_its_progress(
    archive: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = archive.read_bytes()
    serve(server, monkeypatch, body, length=-1)
    calls: list[tuple[int, int | None]] = []
    with fetch.downloaded(server.url("/aclImdb_v1.tar.gz"), paths.home(), hint="h",
                          progress=lambda d, t: calls.append((d, t))) as part:  # fmt: skip
        assert part.read_bytes() == body
    assert calls[0] == (0, None) and calls[-1] == (len(body), len(body))


def test_interrupted_transfer(
    archive: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = archive.read_bytes()
    serve(server, monkeypatch, body[: len(body) // 2], length=len(body))
    with pytest.raises(DownloadError, match=f"stopped after {len(body) // 2} of {len(body)} bytes"):
        load_imdb()
    assert not list(paths.datasets_dir().iterdir())


def test_not_an_archive(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    url = serve(server, monkeypatch, b"<html>Moved</html>")
    with pytest.raises(
        DownloadError, match=f"the file downloaded from {url} is truncated or corrupt"
    ):
        load_imdb()
    assert not list(paths.datasets_dir().iterdir())


def test_http_error(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LSTMCLI_IMDB_URL", server.url("/missing.tar.gz"))
    with pytest.raises(DownloadError, match="HTTP 404"):
        load_imdb()


def test_ctrl_c_removes_partial_download(
    archive: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(server, monkeypatch, archive.read_bytes())

    def interrupt(done: int, total: int | None) -> None:
        if done:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        load_imdb(progress=interrupt)
    assert not list(paths.datasets_dir().iterdir())


def test_offline_message(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    monkeypatch.setenv("LSTMCLI_IMDB_URL", f"http://127.0.0.1:{port}/aclImdb_v1.tar.gz")
    with pytest.raises(DownloadError) as info:
        load_labelled("imdb")
    message = str(info.value)
    assert "\n" not in message and "--data PATH" in message
    assert str(imdb.cache_archive()) in message
    assert not list(paths.datasets_dir().iterdir())


# --- dispatch and the sample set ---------------------------------------------------------


def test_load_labelled_dispatch(tmp_path: Path) -> None:
    sample = load_labelled("sample")
    assert sample.name == "sample" and sample.label_names == ["neg", "pos"]
    assert (len(sample.train), len(sample.val), sample.test) == (1600, 400, None)
    assert np.bincount(sample.val.labels).tolist() == [200, 200]
    with pytest.raises(
        DataError, match="no dataset named nothing-here: give imdb, sample, or a path"
    ):
        load_labelled("nothing-here")
    with pytest.raises(DataError, match="--test applies"):
        load_labelled("imdb", test=tmp_path)
    with pytest.raises(DataError, match="--data applies to imdb only"):
        load_labelled("sample", data=tmp_path)


# --- the real archive --------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_imdb(imdb_archive: Path) -> tuple[LabelledData, float]:
    start = time.perf_counter()
    data = load_imdb(imdb_archive, unpack=False)  # ~8-15 s from the .tar.gz, ~2 s from a folder
    return data, time.perf_counter() - start


@pytest.mark.imdb
@pytest.mark.slow
def test_real_imdb_splits(real_imdb: tuple[LabelledData, float]) -> None:
    d, seconds = real_imdb
    print(f"loaded IMDB train+test in {seconds:.1f} s")
    assert (len(d.train), len(d.val), len(d.test)) == (20_000, 5_000, 25_000)
    for split in (d.train, d.val, d.test):
        assert split.labels.dtype == np.int64 and split.labels.mean() == 0.5
    assert len(set(d.train.texts) | set(d.val.texts)) > 24_000  # a few reviews are duplicates
    assert all(isinstance(t, str) and t.strip() for t in d.val.texts)
    assert d.label_names == ["neg", "pos"] and len(d.fingerprint) == 32


@pytest.mark.imdb
@pytest.mark.slow
def test_real_imdb_limits_keep_validation(real_imdb: tuple[LabelledData, float]) -> None:
    d, _ = real_imdb
    # load_imdb applies limit/eval_limit to the split data with limit_split, as here
    small = limit_split(d.train, 1000)
    assert len(small) == 1000 and np.bincount(small.labels).tolist() == [500, 500]
    first_neg = [t for t, y in zip(d.train.texts, d.train.labels, strict=True) if y == 0][:500]
    assert [t for t, y in zip(small.texts, small.labels, strict=True) if y == 0] == first_neg
    assert np.bincount(limit_split(d.val, 201).labels).tolist() == [101, 100]


def test_sample_set_copies_are_identical() -> None:
    """sample_data/reviews.csv (where a reader looks) and the package's copy (what lstmcli
    reads from every install) are one file written twice by scripts/make_sample_data.py."""
    from lstmcli.data.datasets import sample_path

    top = Path(__file__).resolve().parent.parent / "sample_data" / "reviews.csv"
    assert top.read_bytes() == sample_path().read_bytes()
