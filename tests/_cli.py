"""``python -m mlpipe`` without paying its cold start each time.

A test that runs the command many times pays about two seconds of imports
(scikit-learn, pandas, scipy) per run. Here one server process per test
worker imports the command's modules once; each run is then a process
forked from it: its own stdin, stdout, stderr (the caller's file
descriptors, passed over a Unix socket), working directory, environment,
``sys.argv`` and exit code, running ``mlpipe/__main__.py`` as
``python -m mlpipe`` does. What the imports printed (nothing, today) is
written again at the start of every run's stdout and stderr, so a warning
at import still shows in each run's output, as in a cold process.

A run falls back to a real ``python -m mlpipe`` when its environment differs
from the server's in anything but the variables a shell sets by itself
(``PWD``, ``SHLVL``...) and ``PYTEST_CURRENT_TEST``: some of the modules the
server holds read the environment at import (numba, scikit-learn's config).
What the imports set in the environment (scikit-learn's ``KMP_*``) is set
in every run's too. Tests about the
process itself (a closed pipe at exit, a killed run, imports in a fresh
interpreter) start it cold, as before.

``run(args, cwd=..., env=...)`` is ``subprocess.run([sys.executable, "-m",
"mlpipe", *args], capture_output=True, text=True, ...)``;
``shell_function(env)`` is a bash function ``mlpipe() {...}`` that does the
same from a shell script.
"""

import atexit
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

# Variables that change from run to run and that no module reads at import:
# those a shell sets for the commands it starts (bash drops PS1 and PS2 when
# not interactive) and pytest's name of the running test. A run's value of
# them is its own; the others must equal the server's.
SHELL_VARIABLES = ("PWD", "OLDPWD", "SHLVL", "_", "PS1", "PS2", "PYTEST_CURRENT_TEST")

# The modules a server imports: the command and what drift and validate
# import. ``mlpipe monitor`` also loads a model (skops: MONITOR).
PRELOAD = ("mlpipe.cli", "mlpipe.drift", "mlpipe.validation", "mlpipe.datasets")
MONITOR = (*PRELOAD, "mlpipe.monitor", "mlpipe._persistence")

_SERVER = r"""
import json, os, runpy, socket, sys, tempfile, threading, traceback

path, preload, shell_variables = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")

# The imports, with what they print kept to be replayed in every run, and
# what they set in the environment (scikit-learn sets KMP_* variables).
startup_env = {k: v for k, v in os.environ.items() if k not in shell_variables}
before = dict(os.environ)
captured = [tempfile.TemporaryFile(), tempfile.TemporaryFile()]
saved = [os.dup(1), os.dup(2)]
for fd, f in zip((1, 2), captured):
    os.dup2(f.fileno(), fd)
import importlib
for name in preload:
    importlib.import_module(name)
sys.stdout.flush()
sys.stderr.flush()
for fd, copy in zip((1, 2), saved):
    os.dup2(copy, fd)
    os.close(copy)
import_output = []
for f in captured:
    f.seek(0)
    import_output.append(f.read())
    f.close()
import_env = {k: v for k, v in os.environ.items() if before.get(k) != v}
import_unset = [k for k in before if k not in os.environ]


def _write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]


def _exit_code(exc):
    # what the interpreter makes of a SystemExit
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _serve_one(conn, fds, request):
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ.update(import_env)
    for name in import_unset:
        del os.environ[name]
    conn.sendall(f"{os.getpid()}\n".encode())
    _write_all(1, import_output[0])
    _write_all(2, import_output[1])
    sys.argv = ["-m", *request["args"]]
    sys.path[0] = os.getcwd()
    try:
        runpy.run_module("mlpipe", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc)
    except BaseException:
        traceback.print_exc()
        code = 1
    # what the interpreter does at exit
    threading._shutdown()
    import atexit
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
    except Exception as exc:
        print(f"Exception ignored in: {sys.stdout!r}", file=sys.stderr)
        traceback.print_exception(exc)
        code = 120
    try:
        sys.stderr.flush()
    except Exception:
        pass
    conn.sendall(f"{code}\n".encode())
    os._exit(code)


server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(8)
server.settimeout(5)
parent = os.getppid()
print("ready", flush=True)
while True:
    try:
        conn, _ = server.accept()
    except TimeoutError:
        if os.getppid() != parent:  # the test process is gone
            break
        continue
    conn.setblocking(True)
    data, fds, _, _ = socket.recv_fds(conn, 1 << 16, 3)
    while not data.endswith(b"\n"):
        more = conn.recv(1 << 16)
        if not more:
            break
        data += more
    request = json.loads(data)
    env = {k: v for k, v in request["env"].items() if k not in shell_variables}
    if env != startup_env or len(fds) != 3:
        conn.sendall(b"cold\n")
    elif os.fork() == 0:
        server.close()
        _serve_one(conn, fds, request)
    conn.close()
    for fd in fds:
        os.close(fd)
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass
"""

# The client: sends its own stdin, stdout, stderr, working directory,
# environment and arguments; exits with the run's code. ``python -I -S``
# (no site-packages) starts in a few milliseconds.
_CLIENT = r"""
import json, os, socket, sys

path, args = sys.argv[1], sys.argv[2:]
request = {"args": args, "cwd": os.getcwd(), "env": dict(os.environ)}
conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
conn.connect(path)
socket.send_fds(conn, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
reply = conn.makefile("rb")
first = reply.readline()
if first == b"cold\n":
    os.execv(sys.executable, [sys.executable, "-m", "mlpipe", *args])
code = reply.readline()
if not code:
    os.write(2, b"tests/_cli.py: the forked mlpipe run died without an exit code\n")
    sys.exit(70)
sys.exit(int(code))
"""

_servers = {}


def _key(env, preload):
    return preload, tuple(sorted((k, v) for k, v in env.items() if k not in SHELL_VARIABLES))


def _server(env, preload):
    """The socket path of this process's server for ``env``, started once."""
    key = _key(env, preload)
    if key in _servers:
        return _servers[key][1]
    folder = tempfile.mkdtemp(prefix="mlpipe-cli-")
    path = os.path.join(folder, "socket")
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVER, path, ",".join(preload), ",".join(SHELL_VARIABLES)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        env=env,
        cwd=folder,
    )
    line = process.stdout.readline()
    if line != b"ready\n":
        process.kill()
        raise RuntimeError(f"the mlpipe test server did not start: {line!r}")

    def stop():
        process.kill()
        process.wait()
        process.stdout.close()
        for name in os.listdir(folder):
            os.unlink(os.path.join(folder, name))
        os.rmdir(folder)

    atexit.register(stop)
    _servers[key] = (process, path)
    return path


def _text(data):
    # as subprocess's text=True: the locale's encoding, universal newlines
    return io.TextIOWrapper(io.BytesIO(data)).read()


def run(args, *, cwd=None, env=None, timeout=300, preload=PRELOAD):
    """``python -m mlpipe *args`` in a forked warm process.

    Returns
    -------
    subprocess.CompletedProcess
        As ``subprocess.run(..., capture_output=True, text=True)`` gives.
    """
    args = [str(a) for a in args]
    env = dict(os.environ if env is None else env)
    cwd = os.getcwd() if cwd is None else str(cwd)
    command = [sys.executable, "-m", "mlpipe", *args]
    path = _server(env, tuple(preload))
    with (
        open(os.devnull, "rb") as stdin,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn,
    ):
        conn.settimeout(timeout)
        conn.connect(path)
        request = {"args": args, "cwd": cwd, "env": env}
        socket.send_fds(
            conn,
            [json.dumps(request).encode() + b"\n"],
            [stdin.fileno(), out.fileno(), err.fileno()],
        )
        reply = conn.makefile("rb")
        started = time.monotonic()
        first = b""
        try:
            first = reply.readline()
            if first == b"cold\n":
                return subprocess.run(
                    command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
                )
            code = reply.readline()
        except TimeoutError:
            if first:
                os.kill(int(first), 9)
            raise subprocess.TimeoutExpired(command, time.monotonic() - started) from None
        if not code:
            raise RuntimeError(f"the forked run of {command} died without an exit code")
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(command, int(code), _text(out.read()), _text(err.read()))


def shell_function(env, preload=PRELOAD):
    """A bash function ``mlpipe`` that runs ``python -m mlpipe`` warm, for
    scripts run with ``env``."""
    path = _server(env, tuple(preload))
    client = _CLIENT.replace("'", "'\\''")
    return f"mlpipe() {{ \"{sys.executable}\" -I -S -c '{client}' '{path}' \"$@\"; }}"
