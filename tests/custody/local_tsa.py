"""A real RFC 3161 Time-Stamp Authority on 127.0.0.1 for the tests: OpenSSL's ``openssl ts -reply``
behind a small HTTP server (no network beyond loopback).

Its CA and TSA certificates are made with ``openssl req``/``x509`` for each test session; the TSA
certificate has the critical extended key usage ``timeStamping`` that RFC 3161 requires. The
``openssl ts`` configuration leaves out ``certs=`` (the client refuses extra certificates there).
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TS_CONFIG = """\
[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.55555.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_authority(folder: Path, name: str = "Test TSA") -> Path:
    """A CA (``ca.crt``) and a TSA certificate signed by it in ``folder``; returns the config."""
    folder.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "3650",
        "-subj", f"/CN={name} CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder,
    )  # fmt: skip
    _openssl("req", "-new", *ec, "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", f"/CN={name}", cwd=folder)
    (folder / "ext.cnf").write_text(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=critical,timeStamping\n"
    )
    _openssl(
        "x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "tsa.crt", "-days", "3650", "-extfile", "ext.cnf", cwd=folder,
    )  # fmt: skip
    (folder / "serial").write_text("01\n")
    config = folder / "ts.cnf"
    config.write_text(TS_CONFIG.format(dir=folder))
    return config


@dataclass
class LocalTsa:
    url: str
    ca: Path
    requests: list[bytes] = field(default_factory=list)
    fail: bool = False  # answer HTTP 503 instead of a token


@contextmanager
def running_tsa(folder: Path, name: str = "Test TSA") -> Iterator[LocalTsa]:
    config = make_authority(folder, name)
    lock = threading.Lock()
    state: dict[str, LocalTsa] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            tsa = state["tsa"]
            query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            tsa.requests.append(query)
            if tsa.fail or self.headers.get("Content-Type") != "application/timestamp-query":
                self.send_response(503)
                self.end_headers()
                return
            with lock, tempfile.TemporaryDirectory() as tmp:
                q, r = Path(tmp) / "q.tsq", Path(tmp) / "r.tsr"
                q.write_bytes(query)
                subprocess.run(
                    ["openssl", "ts", "-reply", "-config", str(config), "-queryfile", str(q), "-out", str(r)],
                    check=True,
                    capture_output=True,
                )
                reply = r.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tsa = LocalTsa(f"http://127.0.0.1:{server.server_address[1]}/tsr", folder / "ca.crt")
    state["tsa"] = tsa
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tsa
    finally:
        server.shutdown()
        server.server_close()
