"""Who may talk to a Dask grading run: mutual TLS on every endpoint, and no HTTP at all.

A Dask scheduler, nanny or worker runs any function a connected peer sends it. An endpoint
another user can reach is therefore their code running as the instructor, next to the hidden
graders and the results (docs/distributed.md, "Who can connect").

- ``--dask-local N``: ``local_cluster`` makes fresh credentials for the run
  (``Security.temporary()``: a self-signed certificate that is also the only CA, and its key,
  kept in memory), and the scheduler, the nannies and the workers listen on
  ``tls://127.0.0.1``. Every connection must present that certificate, both ways, so only the
  processes of this run can connect (dask sets ``CERT_REQUIRED`` on both sides).
- ``--scheduler tls://...``: ``client_security`` takes the course's CA and this client's
  certificate and key (``--tls-ca-file/--tls-cert/--tls-key``, or Dask's own config,
  ``distributed.comm.tls.*``); the cluster's scheduler and workers require certificates from
  the same CA. A plain ``tcp://`` (or any unencrypted) scheduler is refused unless the
  instructor passes ``--insecure-scheduler`` (``INSECURE_WARNING`` says what that allows).
- HTTP: Dask's scheduler and each worker start an HTTP server even with
  ``dashboard_address=None`` (the scheduler's on 8787: /info pages, /json, Prometheus,
  /health; a worker's on a random port). It is plain HTTP, open to anyone. The local
  cluster's scheduler and workers are ``GradingScheduler`` and ``GradingWorker``, which start
  none.

Dask's TLS needs files for the certificate and key (Python's ``ssl`` loads them only from
files): for in-memory credentials it writes them to a ``tempfile.TemporaryDirectory`` (mode
0700, the grading user's) while it builds each TLS context, and removes it at once.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from distributed import Nanny, Scheduler, Security, SpecCluster, Worker
from distributed.worker_memory import parse_memory_limit

from autograder.run.options import BatchError

ENCRYPTED = "tls"  # the one scheme dask encrypts and authenticates (tcp, ws, ucx, inproc are not)
INSECURE_WARNING = (
    "warning: --insecure-scheduler: grading on {address} without TLS. Anyone who can reach the scheduler or a "
    "worker can run code as the user running them, read the hidden graders and change every grade. Use this only on "
    "a network and machines no one else can reach; otherwise use tls:// (docs/distributed.md)"
)
TLS_HELP = "see docs/distributed.md, 'Who can connect', for making a course CA and certificates with openssl"


class _NoHTTP:
    """A Dask server without its HTTP server: Dask would serve it in plain HTTP, with no authentication."""

    def start_http_server(self, routes, dashboard_address, default_port=0, ssl_options=None) -> None:
        pass  # (Dask reads http_server only to add the dashboard or Jupyter to it: both off here)


class GradingScheduler(_NoHTTP, Scheduler):
    """The local cluster's scheduler: Dask's, listening only on its TLS address."""


class GradingWorker(_NoHTTP, Worker):
    """The local cluster's worker (each nanny starts one in its own process): Dask's, listening only on TLS."""


def local_cluster(n_workers: int, silence_logs: int = logging.ERROR) -> SpecCluster:
    """A cluster of ``n_workers`` worker processes (one thread each) on 127.0.0.1, for one run only.

    Fresh credentials (``Security.temporary()``, in memory, never in a file of ours); every
    endpoint speaks mutual TLS with them, and none speaks HTTP. ``cluster.security`` holds them,
    and ``Client(cluster)`` uses it.
    """
    security = Security.temporary()
    where = {"host": "127.0.0.1", "protocol": "tls://", "security": security}
    scheduler = {"cls": GradingScheduler, "options": {**where, "port": 0, "dashboard": False}}
    worker = {
        "cls": Nanny,
        "options": {
            **where,
            "worker_class": GradingWorker,
            "nthreads": 1,  # one grading per worker process: one warm grader, one sandbox
            "dashboard": False,
            "silence_logs": silence_logs,
            # as LocalCluster does: the machine's memory shared among the workers (the sandbox is not counted)
            "memory_limit": parse_memory_limit("auto", 1, n_workers, logger=logging.getLogger(__name__)),
        },
    }
    return SpecCluster(
        scheduler=scheduler,
        workers={i: worker for i in range(n_workers)},
        worker=worker,
        security=security,
        silence_logs=silence_logs,
        name="autograder",
    )


def _readable(path: Path, what: str, flag: str) -> str:
    if not path.is_file() or not os.access(path, os.R_OK):
        raise BatchError(f"{what} {path} ({flag}) is not a readable file; give the right path ({TLS_HELP})")
    return str(path)


def _private(path: Path, flag: str) -> None:
    """Refuse a private key that others may read (as ssh does): with it they are this client."""
    mode = path.stat().st_mode
    if mode & 0o077:
        raise BatchError(
            f"the private key {path} ({flag}) can be read by other users (mode {stat.filemode(mode)}): anyone who "
            f"can read it can connect to the grading cluster as you. Run `chmod 600 {path}` and grade again"
        )


def client_security(
    address: str,
    ca_file: Path | None = None,
    cert: Path | None = None,
    key: Path | None = None,
    insecure: bool = False,
) -> Security | None:
    """The credentials this client connects to an external scheduler ``address`` with; None: Dask's defaults.

    ``tls://``: ``ca_file`` (the course's CA: the scheduler and workers must have certificates it
    signed) and ``cert`` (this client's certificate, signed by it) and ``key`` (its key; omitted:
    in ``cert``); none given: Dask's config (``distributed.comm.tls.ca-file``,
    ``distributed.comm.tls.client.cert``/``key``). Another scheme (``tcp://``): a BatchError
    unless ``insecure`` (the caller warns with ``INSECURE_WARNING``).
    """
    scheme = address.split("://", 1)[0].lower()
    if scheme != ENCRYPTED:
        if insecure:
            return None
        raise BatchError(
            f"refusing to grade on {address}: a {scheme}:// scheduler has no authentication, so anyone who can "
            f"reach it or its workers can run code as the user running them and change every grade. Start the "
            f"cluster with TLS and give tls://HOST:PORT with --tls-ca-file, --tls-cert and --tls-key ({TLS_HELP}); "
            f"only on a network no one else can reach, pass --insecure-scheduler"
        )
    if insecure:
        raise BatchError(f"--insecure-scheduler is for a tcp:// scheduler; {address} is TLS: drop the option")
    if ca_file or cert or key:
        if not (ca_file and cert):
            raise BatchError(
                f"grading on {address} needs the course's CA (--tls-ca-file) and this client's certificate "
                f"(--tls-cert, with --tls-key unless the key is in the same file); {TLS_HELP}"
            )
        security = Security(
            require_encryption=True,
            tls_ca_file=_readable(ca_file, "the CA certificate", "--tls-ca-file"),
            tls_client_cert=_readable(cert, "the client certificate", "--tls-cert"),
            tls_client_key=_readable(key, "the private key", "--tls-key") if key else None,
        )
        _private(key or cert, "--tls-key" if key else "--tls-cert")
    else:
        security = Security(require_encryption=True)  # Dask's config: distributed.comm.tls.*
        if not (security.tls_ca_file and security.tls_client_cert):
            raise BatchError(
                f"grading on {address} needs TLS credentials: give --tls-ca-file, --tls-cert and --tls-key (or set "
                f"distributed.comm.tls.ca-file and distributed.comm.tls.client.cert/key in Dask's config); {TLS_HELP}"
            )
        if "\n" not in security.tls_client_cert:  # (a path, not a certificate in the config itself)
            _private(Path(security.tls_client_key or security.tls_client_cert), "distributed.comm.tls.client")
    try:
        security.get_connection_args("client")  # loads them now: a bad file is named here, not in a Dask traceback
    except (OSError, ValueError) as e:
        raise BatchError(
            f"could not load the TLS credentials for {address} ({type(e).__name__}: {e}): the certificate must be "
            f"PEM, signed by the CA, with its matching key; {TLS_HELP}"
        ) from None
    return security
