"""Process-level test harness: starts the real keyuan services on loopback.

Each Cluster gets its own temporary state directory and free TCP ports, so
tests never touch ./var or each other. Messages are built with classes that
protoc generates from proto/ at import time, the way any outside client
would (see docs/protocol.md).
"""
import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import zmq

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("KEYUAN_BIN", os.path.join(ROOT, "build", "bin"))
SHARED = os.environ.get("KEYUAN_SHARED",
                        os.path.abspath(os.path.join(ROOT, "..", "shared")))


def _generate_python_classes():
    out = tempfile.mkdtemp(prefix="keyuan-py-")
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    protos = [os.path.join("keyuan", "v1", f)
              for f in sorted(os.listdir(os.path.join(ROOT, "proto", "keyuan",
                                                      "v1")))]
    subprocess.run(["protoc", "-I", os.path.join(ROOT, "proto"),
                    "-I", "/usr/include", "--python_out", out] + protos,
                   check=True)
    sys.path.insert(0, out)


_generate_python_classes()
from keyuan.v1 import envelope_pb2 as pb  # noqa: E402
from keyuan.v1 import lead_pb2, control_pb2, flow_pb2, common_pb2  # noqa
from google.protobuf import json_format  # noqa: E402

SERVICES = ["notifier", "scheduler", "grading", "intake"]
DOWNSTREAM = {"intake": "grading", "grading": "scheduler",
              "scheduler": "notifier"}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def link_items(payload):
    """The envelopes of one link message: an outbox batches what waits."""
    env = pb.Envelope()
    env.ParseFromString(payload)
    if env.WhichOneof("body") != "batch":
        return [env]
    items = []
    for raw in env.batch.items:
        item = pb.Envelope()
        item.ParseFromString(raw)
        items.append(item)
    return items


class FakeService(threading.Thread):
    """A ROUTER on a free loopback port, in a thread of its own, that a
    test puts in place of a service. Each Envelope that arrives goes to
    `reply(ident, env)`, which returns the Envelope to answer with, or
    None to answer nothing."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = zmq.Context.instance().socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.port = self.sock.bind_to_random_port("tcp://127.0.0.1")
        self.endpoint = "tcp://127.0.0.1:%d" % self.port
        self.stop_flag = False

    def reply(self, ident, env):
        raise NotImplementedError

    def run(self):
        while not self.stop_flag:
            if not self.sock.poll(50):
                continue
            ident, payload = self.sock.recv_multipart()
            env = pb.Envelope()
            env.ParseFromString(payload)
            out = self.reply(ident, env)
            if out is not None:
                self.sock.send_multipart([ident, out.SerializeToString()])

    def close(self):
        self.stop_flag = True
        self.join(2)
        self.sock.close()


class Cluster:
    """The four services, started in order notifier -> intake."""

    def __init__(self, test_clock=False, extra=None, tmp=None):
        self.tmp = tmp or tempfile.mkdtemp(prefix="keyuan-test-")
        self.test_clock = test_clock
        self.extra = extra or {}
        self.ports = {s: free_port() for s in SERVICES}
        self.procs = {}
        self.sink = os.path.join(self.tmp, "sink.log")
        self.ctx = zmq.Context.instance()

    def endpoint(self, name):
        return "tcp://127.0.0.1:%d" % self.ports[name]

    def args(self, name):
        exe = os.path.join(BIN, "keyuan-" + name)
        a = [exe, "--state-dir", os.path.join(self.tmp, name),
             "--bind", self.endpoint(name)]
        if name in DOWNSTREAM:
            a += ["--downstream", self.endpoint(DOWNSTREAM[name])]
        if self.test_clock:
            a += ["--test-clock"]
        if name == "notifier":
            a += ["--sink", "file:" + self.sink]
        return a + list(self.extra.get(name, []))

    def start(self, name=None):
        for s in ([name] if name else SERVICES):
            with open(os.path.join(self.tmp, s + ".log"), "ab") as log:
                self.procs[s] = subprocess.Popen(self.args(s), stdout=log,
                                                 stderr=log)
        try:
            for s in ([name] if name else SERVICES):
                self.wait_ready(s)
        except Exception:
            self.close()  # setUp failed: tearDown will not run
            raise
        return self

    def wait_ready(self, name, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.procs[name].poll() is not None:
                raise RuntimeError("%s exited with %s; log:\n%s" % (
                    name, self.procs[name].returncode, self.log(name)))
            try:
                self.status(name, timeout_ms=300)
                return
            except TimeoutError:
                pass
        raise TimeoutError("%s did not answer status" % name)

    def log(self, name):
        with open(os.path.join(self.tmp, name + ".log"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, name=None, sig=signal.SIGTERM, timeout=10.0):
        for s in ([name] if name else list(reversed(SERVICES))):
            p = self.procs.get(s)
            if p is None or p.poll() is not None:
                continue
            p.send_signal(sig)
            p.wait(timeout)
            if sig == signal.SIGTERM and p.returncode != 0:
                raise RuntimeError("%s exited %s on SIGTERM:\n%s" % (
                    s, p.returncode, self.log(s)))

    def kill(self, name):
        self.stop(name, sig=signal.SIGKILL)

    def request(self, name, env, timeout_ms=5000):
        """Sends one Envelope on a REQ socket and returns the reply."""
        sock = self.ctx.socket(zmq.REQ)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.endpoint(name))
        try:
            sock.send(env.SerializeToString())
            if not sock.poll(timeout_ms):
                raise TimeoutError("no reply from " + name)
            reply = pb.Envelope()
            reply.ParseFromString(sock.recv())
            return reply
        finally:
            sock.close()

    def status(self, name, timeout_ms=3000):
        env = pb.Envelope()
        env.status_request.SetInParent()
        return self.request(name, env, timeout_ms).status

    def counter(self, name, counter):
        for c in self.status(name).counters:
            if c.name == counter:
                return c.value
        return 0

    def push_lead(self, **fields):
        env = pb.Envelope()
        json_format.ParseDict(fields, env.lead)
        return self.request("intake", env).reply

    def set_clock(self, rfc3339, services=("scheduler",)):
        for s in services:
            env = pb.Envelope()
            env.clock_set.now.FromJsonString(rfc3339)
            r = self.request(s, env).reply
            assert r.status == control_pb2.REPLY_STATUS_ACCEPTED, r

    def sink_lines(self):
        if not os.path.exists(self.sink):
            return []
        with open(self.sink, encoding="utf-8") as f:
            return [line for line in f.read().split("\n") if line]

    def wait_for(self, predicate, timeout=20.0, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        raise TimeoutError("timed out waiting for " + what)

    def close(self):
        try:
            self.stop()
        finally:
            for p in self.procs.values():
                if p.poll() is None:
                    p.kill()
                    p.wait()
            if not os.environ.get("KEYUAN_KEEP_TMP"):
                shutil.rmtree(self.tmp, ignore_errors=True)


def keyuanctl(*args, cluster=None, check=True, input=None):
    """Runs keyuanctl against cluster's endpoints; returns CompletedProcess."""
    env = dict(os.environ)
    if cluster:
        for s in SERVICES:
            env["KEYUAN_%s" % s.upper()] = cluster.endpoint(s)
    r = subprocess.run([os.path.join(BIN, "keyuanctl")] + list(args),
                       capture_output=True, text=True, env=env, input=input)
    if check and r.returncode != 0:
        raise RuntimeError("keyuanctl %s failed (%d):\n%s%s" % (
            " ".join(args), r.returncode, r.stdout, r.stderr))
    return r
