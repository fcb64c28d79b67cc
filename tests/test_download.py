"""assignments/data/download.py against a local HTTP server on 127.0.0.1."""

import gzip
import hashlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from assignments.data.download import RemoteFile, download_file, import_file, verify_file
from assignments.data.errors import CorruptDataset, DatasetError, DownloadError

BODY = np.random.default_rng(0).integers(0, 256, size=200_000, dtype=np.uint8).tobytes()
BODY_MD5 = hashlib.md5(BODY).hexdigest()
HALF = len(BODY) // 2


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):
        srv = self.server
        with srv.lock:
            srv.requests.append((self.path, self.headers.get("Range")))
            nth = sum(1 for p, _ in srv.requests if p == self.path)
        behaviour = srv.routes.get(self.path, "404")
        body = srv.bodies.get(self.path, BODY)
        rng = self.headers.get("Range")
        if behaviour in ("404", "500"):
            self.send_error(int(behaviour))
            return
        if behaviour == "half-first" and nth == 1:
            # promise the whole body, send half, then hang up
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:HALF])
            self.wfile.flush()
            self.close_connection = True
            return
        if behaviour == "chunked-drop" and nth == 1:
            # a chunked response that dies in the middle of a chunk
            self.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            self.wfile.write(b"%x\r\n" % HALF + body[:HALF] + b"\r\n")
            self.wfile.write(b"%x\r\n" % HALF + body[HALF:HALF + 1000])
            self.wfile.flush()
            self.close_connection = True
            return
        if rng and behaviour != "ignore-range":
            start = int(rng.removeprefix("bytes=").rstrip("-"))
            if start >= len(body):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            self.wfile.write(body[start:])
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.routes, srv.bodies, srv.requests = {}, {}, []
    srv.lock = threading.Lock()
    srv.base = f"http://127.0.0.1:{srv.server_address[1]}"
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join()


def _spec(*urls, md5=BODY_MD5, name="blob.bin", size=len(BODY)):
    return RemoteFile(name, tuple(urls), md5, size)


def _get(spec, dest, **kw):
    kw = {"progress": False, "attempts": 3, "timeout": 10, "backoff": 0.0, **kw}
    return download_file(spec, dest, **kw)


def test_success(server, tmp_path):
    server.routes["/f"] = "ok"
    path = _get(_spec(server.base + "/f"), tmp_path / "d")
    assert path == tmp_path / "d" / "blob.bin"
    assert path.read_bytes() == BODY
    assert sorted(p.name for p in path.parent.iterdir()) == ["blob.bin"]
    assert server.requests == [("/f", None)]


def test_present_verified_file_is_not_downloaded_again(server, tmp_path):
    (tmp_path / "blob.bin").write_bytes(BODY)
    server.routes["/f"] = "ok"
    assert _get(_spec(server.base + "/f"), tmp_path).read_bytes() == BODY
    assert server.requests == []


def test_checksum_mismatch_leaves_nothing(server, tmp_path):
    server.routes["/f"] = "ok"
    wrong = "0" * 32
    with pytest.raises(DatasetError) as info:
        _get(_spec(server.base + "/f", md5=wrong), tmp_path)
    msg = str(info.value)
    assert "blob.bin" in msg
    assert BODY_MD5 in msg and wrong in msg
    assert list(tmp_path.iterdir()) == []  # neither blob.bin nor blob.bin.part


def test_corrupt_first_mirror_falls_through_to_a_good_one(server, tmp_path):
    server.routes["/bad"] = "ok"
    server.bodies["/bad"] = BODY[::-1]
    server.routes["/good"] = "ok"
    path = _get(_spec(server.base + "/bad", server.base + "/good"), tmp_path)
    assert path.read_bytes() == BODY
    assert [p for p, _ in server.requests] == ["/bad", "/good"]


def test_interrupted_download_resumes_with_range(server, tmp_path):
    server.routes["/f"] = "half-first"
    path = _get(_spec(server.base + "/f"), tmp_path)
    assert path.read_bytes() == BODY
    assert not (tmp_path / "blob.bin.part").exists()
    assert len(server.requests) == 2
    assert server.requests[0] == ("/f", None)
    assert server.requests[1] == ("/f", f"bytes={HALF}-")


def test_dropped_chunked_response_is_retried(server, tmp_path):
    server.routes["/f"] = "chunked-drop"
    path = _get(_spec(server.base + "/f"), tmp_path)
    assert path.read_bytes() == BODY
    assert len(server.requests) == 2
    # the second request resumed from whatever had been written
    assert server.requests[1][1] is not None and server.requests[1][1].startswith("bytes=")


def test_part_file_from_an_earlier_run_is_resumed(server, tmp_path):
    server.routes["/f"] = "ok"
    (tmp_path / "blob.bin.part").write_bytes(BODY[:12345])
    path = _get(_spec(server.base + "/f"), tmp_path)
    assert path.read_bytes() == BODY
    assert server.requests == [("/f", "bytes=12345-")]
    assert not (tmp_path / "blob.bin.part").exists()


def test_complete_part_file_and_416(server, tmp_path):
    server.routes["/f"] = "ok"
    (tmp_path / "blob.bin.part").write_bytes(BODY)
    path = _get(_spec(server.base + "/f"), tmp_path)
    assert path.read_bytes() == BODY
    assert server.requests == [("/f", f"bytes={len(BODY)}-")]


def test_server_ignoring_range_restarts_from_zero(server, tmp_path):
    server.routes["/f"] = "ignore-range"
    (tmp_path / "blob.bin.part").write_bytes(b"x" * 500)  # junk that must not be kept
    path = _get(_spec(server.base + "/f"), tmp_path)
    assert path.read_bytes() == BODY


def test_404_mirror_falls_through_to_second(server, tmp_path):
    server.routes["/gone"] = "404"
    server.routes["/f"] = "ok"
    path = _get(_spec(server.base + "/gone", server.base + "/f"), tmp_path)
    assert path.read_bytes() == BODY
    # a 404 is not retried: that mirror simply does not have the file
    assert [p for p, _ in server.requests] == ["/gone", "/f"]


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_every_mirror_failing_lists_each_one(server, tmp_path):
    server.routes["/gone"] = "404"
    server.routes["/broken"] = "500"
    dead = f"http://127.0.0.1:{_closed_port()}/f"
    urls = (server.base + "/gone", server.base + "/broken", dead)
    with pytest.raises(DownloadError) as info:
        _get(_spec(*urls), tmp_path, attempts=2)
    msg = str(info.value)
    assert msg.startswith("could not download blob.bin:")
    assert f"{urls[0]}: HTTP 404" in msg
    assert msg.count(f"{urls[1]}: HTTP 500") == 2  # retried `attempts` times
    assert f"{dead}: " in msg
    assert [p for p, _ in server.requests] == ["/gone", "/broken", "/broken"]
    assert isinstance(info.value, DatasetError) and isinstance(info.value, OSError)
    assert not (tmp_path / "blob.bin").exists()


def test_partial_file_kept_when_all_attempts_fail(server, tmp_path):
    server.routes["/f"] = "half-first"
    with pytest.raises(DownloadError) as info:
        _get(_spec(server.base + "/f"), tmp_path, attempts=1)
    assert (tmp_path / "blob.bin.part").read_bytes() == BODY[:HALF]
    assert "is kept so the next attempt resumes" in str(info.value)
    assert not (tmp_path / "blob.bin").exists()
    # and the next call picks it up
    path = _get(_spec(server.base + "/f"), tmp_path)
    assert path.read_bytes() == BODY
    assert server.requests[-1] == ("/f", f"bytes={HALF}-")


# --------------------------------------------------------------------------
# verify_file / import_file (no network)
# --------------------------------------------------------------------------

def test_verify_file_md5_content_sha_and_truncation(tmp_path):
    raw = b"some idx content" * 100
    gz = gzip.compress(raw, mtime=0)
    regz = gzip.compress(raw, compresslevel=1, mtime=12345)  # same content, other bytes
    assert gz != regz
    spec = RemoteFile("x.gz", (), hashlib.md5(gz).hexdigest(), len(gz),
                      hashlib.sha256(raw).hexdigest())
    (tmp_path / "x.gz").write_bytes(gz)
    verify_file(tmp_path / "x.gz", spec)
    (tmp_path / "x.gz").write_bytes(regz)
    verify_file(tmp_path / "x.gz", spec)  # accepted by the content checksum
    (tmp_path / "x.gz").write_bytes(gz[:20])
    with pytest.raises(CorruptDataset) as info:
        verify_file(tmp_path / "x.gz", spec)
    msg = str(info.value)
    assert f"checksum mismatch for x.gz: md5 {hashlib.md5(gz[:20]).hexdigest()}, " \
           f"expected {spec.md5}" in msg
    assert f"(only 20 of {len(gz)} bytes: truncated)" in msg


def test_import_file(tmp_path):
    src, dest = tmp_path / "src", tmp_path / "dest"
    src.mkdir()
    (src / "blob.bin").write_bytes(BODY)
    path = import_file(_spec(), src, dest)
    assert path == dest / "blob.bin" and path.read_bytes() == BODY
    assert sorted(p.name for p in dest.iterdir()) == ["blob.bin"]
    with pytest.raises(FileNotFoundError, match="--from must point at a folder holding other.bin"):
        import_file(_spec(name="other.bin"), src, dest)
    (src / "bad.bin").write_bytes(BODY[:-1])
    with pytest.raises(CorruptDataset, match="checksum mismatch for bad.bin"):
        import_file(_spec(name="bad.bin"), src, dest)
    assert not (dest / "bad.bin").exists() and not (dest / "bad.bin.part").exists()


def test_offline_says_it_once_per_mirror_and_names_the_local_way(tmp_path, monkeypatch,
                                                                 capsys):
    """No network (name resolution fails): one line per mirror, then what to do instead."""
    import socket
    import urllib.request

    from assignments.data.__main__ import main

    def offline(*args, **kwargs):
        raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    assert main(["download", "fashion_mnist", "--dest", str(tmp_path), "--quiet"]) == 1
    err = capsys.readouterr().err
    first_url_lines = [l for l in err.splitlines() if "Name or service not known" in l]
    assert len(first_url_lines) == len({l.split(": ")[0] for l in first_url_lines})
    assert "--from DIR" in err and "dataset-fashion-mnist" in err
    assert "/usr/share/datasets/fashion-mnist" in err
