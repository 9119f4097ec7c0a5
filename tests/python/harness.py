# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The ampsd authors
"""harness: real ampsim + ampsd processes for the binding's unittests.

Each Env has a private temporary directory with ampsim's transaction
log, ampsd's configuration, socket, state directory and both logs.
Processes are started by path from the build tree, stopped by pid
(SIGTERM, then SIGKILL after a bounded wait) and never by name.  Every
wait is bounded and fails saying what did not happen.  Logs are kept
and their tails printed when a test failed; a sanitizer report in them
fails the test (the --enable-asan pass).
"""

import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

# Where the trees are, as tests/dirs.sh finds them.
S = os.environ.get("top_srcdir") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
B = os.environ.get("top_builddir") or (
    os.path.join(S, "build") if os.path.isfile(
        os.path.join(S, "build", "Makefile")) else S)
AMPSIM = os.path.join(B, "ampsim", "ampsim")
AMPSD = os.path.join(B, "daemon", "ampsd")
ASAN = os.environ.get("AMPSD_ASAN") == "1"
SAN_RE = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error:")
PY = os.environ.get("PYTHON") or sys.executable


def wait_until(cond, seconds, what):
    """Poll cond every 20 ms for at most seconds; fail naming what."""
    end = time.monotonic() + seconds
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= end:
            raise AssertionError("timed out after %.1f s waiting for %s"
                                 % (seconds, what))
        time.sleep(0.02)


def read_line(stream, seconds, what):
    """One line from a child's pipe, waiting at most seconds: a child
    that hangs fails the test, naming what did not come, instead of
    hanging it.  Reads the fd a byte at a time, so nothing is left in
    the stream's buffer for a later communicate().  "" at end of file."""
    fd = stream.fileno()
    end = time.monotonic() + seconds
    line = b""
    while not line.endswith(b"\n"):
        left = end - time.monotonic()
        r = select.select([fd], [], [], max(left, 0))[0] if left > 0 else []
        if not r:
            raise AssertionError("timed out after %.1f s waiting for %s"
                                 " (got %r)" % (seconds, what, line))
        c = os.read(fd, 1)
        if not c:
            break
        line += c
    return line.decode()


def child_env(extra=None):
    """Environment for the daemons: the sanitizer defaults of lib.sh,
    not the Python process's preload and log redirection."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("LSAN_OPTIONS", None)
    if ASAN:
        env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1"
    if extra:
        env.update(extra)
    return env


def py_env():
    """Environment for Python children (examples, second programs)."""
    return dict(os.environ)


class Env:
    """One ampsim and one ampsd in a temporary directory."""

    def __init__(self, sim_args=(), conf_extra="", socket_mode=None):
        for p in (AMPSIM, AMPSD):
            if not os.access(p, os.X_OK):
                raise unittest.SkipTest("%s not built" % p)
        self.T = tempfile.mkdtemp(prefix="ampsd-py.")
        self.procs = {}
        self.failed = False
        self.sim_args = list(sim_args)
        self.conf_extra = conf_extra
        self.socket_mode = socket_mode
        self.sock = os.path.join(self.T, "ampsd.sock")
        try:
            self.start_ampsim()
            self.write_conf()
            self.start_ampsd()
        except BaseException:
            self.failed = True
            self.stop()
            raise

    # -- processes -------------------------------------------------------
    def _spawn(self, name, argv):
        log = open(os.path.join(self.T, name + ".log"), "ab")
        p = subprocess.Popen(argv, stdout=log, stderr=log,
                             stdin=subprocess.DEVNULL, env=child_env())
        log.close()
        self.procs[name] = p
        return p

    def start_ampsim(self):
        portfile = os.path.join(self.T, "sim.port")
        self._spawn("ampsim", [AMPSIM, "-p", "0", "--port-file", portfile,
                               "--admin-port", "0", "-d",
                               os.path.join(self.T, "txlog"),
                               "--ack-conflation", "20"] + self.sim_args)

        def ports():
            try:
                with open(portfile) as f:
                    lines = f.read().split()
                return lines if lines else None
            except OSError:
                return None
        lines = wait_until(ports, 10, "ampsim's port file")
        self.simport = int(lines[0])
        self.adminport = int([x for x in lines
                              if x.startswith("admin=")][0][6:])

    def write_conf(self):
        with open(os.path.join(self.T, "ampsd.conf"), "w") as f:
            f.write("""socket "%s"%s;
state-directory "%s";
log stderr;
connection "main" {
	client-name "py-%d";
	server "tcp://127.0.0.1:%d/amps/json";
	reconnect exponential initial 50ms max 1s factor 2 give-up never;
	%s
}
""" % (self.sock, " mode " + self.socket_mode if self.socket_mode else "",
                os.path.join(self.T, "state"), os.getpid(),
                self.simport, self.conf_extra))

    def ready_count(self):
        try:
            with open(os.path.join(self.T, "ampsd.log"), "rb") as f:
                return f.read().count(b"-> ready")
        except OSError:
            return 0

    def start_ampsd(self):
        before = self.ready_count()
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self._spawn("ampsd", [AMPSD, "-f", "-v", "-c",
                              os.path.join(self.T, "ampsd.conf")])
        wait_until(lambda: os.path.exists(self.sock), 20, "ampsd's socket")
        wait_until(lambda: self.ready_count() > before, 20,
                   "ampsd to connect to ampsim (ready)")

    def stop_proc(self, name, sig=signal.SIGTERM):
        p = self.procs.pop(name, None)
        if p is None:
            return
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(10 if ASAN else 5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)

    def stop_ampsd(self, sig=signal.SIGTERM):
        self.stop_proc("ampsd", sig)

    def admin(self, line):
        """One line to ampsim's admin channel; returns the reply."""
        with socket.create_connection(("127.0.0.1", self.adminport),
                                      timeout=10) as s:
            s.sendall(line.encode() + b"\n")
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
        reply = buf.decode().strip()
        if not reply.startswith("ok"):
            raise AssertionError("ampsim admin %r: %s" % (line, reply))
        return reply

    def user_env(self):
        """Environment for a child run as another user: copies of the
        AMPS package and libampsipc in a directory under T that the
        user can enter (the build tree may be in a 0700 directory, such
        as root's home), never a looser mode on the build tree."""
        ub = os.path.join(self.T, "ubin")
        if not os.path.isdir(ub):
            shutil.copytree(os.path.join(B, "python", "pkg", "AMPS"),
                            os.path.join(ub, "py", "AMPS"))
            lib = os.path.join(ub, "lib")
            os.makedirs(lib)
            libs = os.path.join(B, "libampsipc", ".libs")
            for f in os.listdir(libs):
                if f.startswith("libampsipc.so"):
                    shutil.copy(os.path.join(libs, f), lib,
                                follow_symlinks=False)
            for d, _, files in os.walk(ub):
                os.chmod(d, 0o755)
                for f in files:
                    if not os.path.islink(os.path.join(d, f)):
                        os.chmod(os.path.join(d, f), 0o755)
            os.chmod(self.T, 0o755)
        return {"PYTHONPATH": os.path.join(ub, "py"),
                "LD_LIBRARY_PATH": os.path.join(ub, "lib")}

    def uri(self, connection=None):
        u = "ampsd://" + self.sock
        if connection:
            u += "?connection=" + connection
        return u

    def san_reports(self):
        bad = []
        for n in os.listdir(self.T):
            if n.endswith(".log"):
                with open(os.path.join(self.T, n), "rb") as f:
                    if SAN_RE.search(f.read().decode(errors="replace")):
                        bad.append(n)
        return bad

    def stop(self):
        for name in list(self.procs):
            self.stop_proc(name)
        bad = self.san_reports() if os.path.isdir(self.T) else []
        if self.failed or bad:
            for n in sorted(os.listdir(self.T)):
                if n.endswith(".log"):
                    with open(os.path.join(self.T, n), "rb") as f:
                        tail = f.read().decode(errors="replace")
                    print("---- %s (tail)\n%s" % (
                        n, "\n".join(tail.splitlines()[-25:])),
                        file=sys.stderr)
            print("logs kept in", self.T, file=sys.stderr)
        else:
            shutil.rmtree(self.T, ignore_errors=True)
        if bad:
            raise AssertionError("sanitizer report in %s" % bad)


class EnvTestCase(unittest.TestCase):
    """A TestCase class sharing one Env; SIM_ARGS for ampsim."""

    SIM_ARGS = ()
    CONF_EXTRA = ""
    SOCKET_MODE = None

    @classmethod
    def setUpClass(cls):
        cls.env = Env(cls.SIM_ARGS, cls.CONF_EXTRA, cls.SOCKET_MODE)
        cls._failed = False

    @classmethod
    def tearDownClass(cls):
        cls.env.failed = cls.env.failed or cls._failed
        cls.env.stop()

    def run(self, result=None):
        r = super().run(result)
        if result is not None and (result.failures or result.errors):
            type(self)._failed = True
        return r

    def client(self, name=None):
        import AMPS
        c = AMPS.Client(name or self.id().rsplit(".", 1)[-1])
        c.connect(self.env.uri())
        c.logon()
        self.addCleanup(c.close)
        return c

    def run_py(self, code_or_path, *args, timeout=60, env=None, prefix=(),
               **kw):
        """Run a Python child (a file path or -c code) to its end."""
        argv = list(prefix) + [PY] + (
            [code_or_path] if code_or_path.endswith(".py")
            else ["-c", code_or_path]) + list(args)
        e = py_env()
        e["AMPSD_SOCKET"] = self.env.sock
        if env:
            e.update(env)
        return subprocess.run(argv, capture_output=True, text=True,
                              timeout=timeout, env=e, **kw)


def main():
    """unittest.main with a closing line the CI counts."""
    prog = unittest.main(exit=False, verbosity=2)
    r = prog.result
    failed = len(r.failures) + len(r.errors) + len(r.unexpectedSuccesses)
    passed = r.testsRun - failed - len(r.skipped)
    print("%d passed, %d failed, %d skipped" % (passed, failed,
                                                len(r.skipped)))
    if r.testsRun == 0:
        sys.exit(77)
    sys.exit(1 if failed else 0)
