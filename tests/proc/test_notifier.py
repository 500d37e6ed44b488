"""Process-level tests of keyuan-notifier.

The notifier runs alone: the tests play the scheduler, sending Reminder
link messages on a DEALER socket the way an outbox does (resending what is
not acked), and read what came out: the file sink, and the requests that
tests/proc/webhook_server.py recorded.

    /usr/bin/python3 -m unittest tests/proc/test_notifier.py
"""
import hashlib
import hmac
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import pb, flow_pb2, common_pb2, control_pb2  # noqa: E402
from harness import json_format  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LINE = re.compile(r'^(\S+) reminder=(\d+) kind=(\S+) '
                  r'agent=(\S+|"(?:[^"\\]|\\.)*") '
                  r'customer=(\d+) grade=(\S+) cycle=(\d+) text="(.*)"$')

# Curl would send loopback traffic through a proxy if one were configured.
for _var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
             "ALL_PROXY", "all_proxy"):
    os.environ.pop(_var, None)


def reminder(rid, text="新客户来电，请尽快回电", **fields):
    r = flow_pb2.Reminder(reminder_id=rid, customer_id=1000 + rid,
                          agent_id="a01",
                          kind=flow_pb2.REMINDER_KIND_SPEED_TO_LEAD,
                          grade=common_pb2.GRADE_A, cycle=1, text=text)
    r.due_at.FromJsonString("2026-12-04T01:15:00Z")
    r.fired_at.FromJsonString("2026-12-04T01:15:00.250Z")
    for k, v in fields.items():
        setattr(r, k, v)
    return r


class Link:
    """The scheduler's end of the link: numbered sends, acks, resends."""

    def __init__(self, ctx, endpoint, epoch=None):
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(endpoint)
        self.epoch = epoch or random.getrandbits(62) + 1
        self.acked = 0
        self.sent = {}

    def send(self, seq, rem):
        env = pb.Envelope(seq=seq, sender="scheduler", epoch=self.epoch)
        env.reminder.CopyFrom(rem)
        self.sent[seq] = env
        self.sock.send(env.SerializeToString())

    def read_acks(self, timeout_ms):
        """Reads acks for up to timeout_ms; returns the highest seen."""
        deadline = time.time() + timeout_ms / 1000.0
        while True:
            left = int((deadline - time.time()) * 1000)
            if left <= 0 or not self.sock.poll(left):
                return self.acked
            env = pb.Envelope()
            env.ParseFromString(self.sock.recv())
            if env.WhichOneof("body") == "ack" and \
                    env.ack.epoch == self.epoch:
                self.acked = max(self.acked, env.ack.seq)

    def deliver(self, pairs, timeout=20.0):
        """Sends (seq, reminder) pairs until all are acked (go-back-N)."""
        for seq, rem in pairs:
            self.send(seq, rem)
        last = max(seq for seq, _ in pairs)
        deadline = time.time() + timeout
        while self.read_acks(500) < last:
            if time.time() > deadline:
                raise TimeoutError("no ack for seq %d (have %d)" %
                                   (last, self.acked))
            for seq in sorted(self.sent):
                if self.acked < seq <= last:
                    self.sock.send(self.sent[seq].SerializeToString())
        return self.acked

    def close(self):
        self.sock.close()


class WebhookServer:
    """tests/proc/webhook_server.py in a subprocess."""

    def __init__(self, tmp, *args):
        self.record = os.path.join(tmp, "hooks-%d.jsonl" %
                                   random.getrandbits(32))
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "webhook_server.py"),
             "--record", self.record] + [str(a) for a in args],
            stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())
        self.url = "http://127.0.0.1:%d/hooks/keyuan" % self.port

    def requests(self):
        if not os.path.exists(self.record):
            return []
        with open(self.record, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def delivered_keys(self):
        return [r["headers"].get("Idempotency-Key") for r in self.requests()
                if r["status"] == 200]

    def close(self):
        self.proc.terminate()
        self.proc.wait(5)
        self.proc.stdout.close()


class NotifierCase(unittest.TestCase):
    """A lone notifier per test, on its own state directory and port."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="keyuan-notifier-")
        if not os.environ.get("KEYUAN_KEEP_TMP"):
            self.addCleanup(shutil.rmtree, self.tmp, True)

    def start(self, *args):
        self.cluster = harness.Cluster(
            extra={"notifier": [str(a) for a in args]}, tmp=self.tmp)
        self.addCleanup(self.cluster.close)
        self.cluster.start("notifier")
        self.link = Link(self.cluster.ctx, self.cluster.endpoint("notifier"))
        self.addCleanup(self.link.close)
        return self.cluster

    def restart(self, sig):
        c = self.cluster
        if sig == signal.SIGKILL:
            c.kill("notifier")
        else:
            c.stop("notifier")
        c.start("notifier")

    def counters(self):
        return {x.name: x.value for x in
                self.cluster.status("notifier").counters}

    def wait_counter(self, name, value, timeout=20.0):
        self.cluster.wait_for(lambda: self.counters().get(name, 0) >= value,
                              timeout, "%s >= %d" % (name, value))

    def server(self, *args):
        s = WebhookServer(self.tmp, *args)
        self.addCleanup(s.close)
        return s

    def assert_one_line_each(self, ids):
        got = [int(LINE.match(x).group(2)) for x in self.cluster.sink_lines()]
        self.assertEqual(sorted(got), sorted(ids))


class FileSinkTest(NotifierCase):
    def test_one_readable_line_per_reminder(self):
        c = self.start()
        rems = [reminder(100 + i) for i in range(1, 6)]
        rems[1].text = 'say "hi"\\ then\nnew line'
        rems[2].agent_id = "a 02"
        rems[3].grade = common_pb2.GRADE_LEAD
        rems[3].kind = flow_pb2.REMINDER_KIND_BIRTHDAY
        self.assertEqual(self.link.deliver(list(enumerate(rems, 1))), 5)
        c.wait_for(lambda: len(c.sink_lines()) == 5, what="5 lines")

        lines = c.sink_lines()
        self.assertEqual(
            lines[0], '2026-12-04T09:15:00+08:00 reminder=101 '
            'kind=speed_to_lead agent=a01 customer=1101 grade=A cycle=1 '
            'text="新客户来电，请尽快回电"')
        self.assertTrue(lines[1].endswith(
            r'text="say \"hi\"\\ then\nnew line"'), lines[1])
        self.assertIn('agent="a 02" ', lines[2])
        self.assertIn("kind=birthday", lines[3])
        self.assertIn("grade=lead", lines[3])
        for line in lines:
            self.assertRegex(line, LINE)
        self.wait_counter("file_delivered", 5)
        self.assertEqual(self.counters()["file_pending"], 0)

    def test_repeats_are_not_written_twice(self):
        c = self.start()
        self.link.deliver([(1, reminder(1)), (2, reminder(2))])
        c.wait_for(lambda: len(c.sink_lines()) == 2, what="2 lines")

        # The same sequence again (a resend), and the same reminder id
        # under a new sequence (a scheduler that fired it twice).
        self.link.send(2, reminder(2))
        self.link.deliver([(3, reminder(1)), (4, reminder(3))])
        c.wait_for(lambda: len(c.sink_lines()) == 3, what="3 lines")
        time.sleep(0.3)
        self.assert_one_line_each([1, 2, 3])
        counters = self.counters()
        self.assertGreaterEqual(counters["link_repeats"], 1)
        self.assertEqual(counters["reminders_repeated"], 1)
        self.assertEqual(counters["file_delivered"], 3)

    def test_kill_at_any_time_leaves_one_line_each(self):
        c = self.start()
        total, seq = 400, 0
        for round_ in range(5):
            batch = []
            for _ in range(total // 5):
                seq += 1
                batch.append((seq, reminder(seq, text="第%d条" % seq)))
            for s, r in batch:
                self.link.send(s, r)
            time.sleep(random.uniform(0.0, 0.05))
            c.kill("notifier")
            c.start("notifier")
            self.link.deliver(batch)
        c.wait_for(lambda: len(c.sink_lines()) >= total, what="all lines")
        self.wait_counter("file_delivered", total)
        self.assert_one_line_each(range(1, total + 1))

    def test_other_requests_are_unsupported(self):
        c = self.start()
        env = pb.Envelope()
        env.reminder_query.agent_id = "a01"
        reply = c.request("notifier", env).reply
        self.assertEqual(reply.status, control_pb2.REPLY_STATUS_REJECTED)
        self.assertEqual(reply.code, "unsupported")


class WebhookTest(NotifierCase):
    def start_with(self, server, *args):
        return self.start("--webhook", server.url, *args)

    def test_body_is_the_reminder_as_json_with_its_key(self):
        srv = self.server()
        self.start_with(srv, "--webhook-secret", "s3cret")
        rem = reminder(77, text="带看提醒")
        self.link.deliver([(1, rem)])
        self.cluster.wait_for(lambda: len(srv.requests()) == 1,
                              what="one POST")

        req = srv.requests()[0]
        self.assertEqual(req["method"], "POST")
        self.assertEqual(req["path"], "/hooks/keyuan")
        self.assertEqual(json.loads(req["body"]),
                         json_format.MessageToDict(rem))
        h = req["headers"]
        self.assertEqual(h["Content-Type"], "application/json")
        self.assertEqual(h["Idempotency-Key"], "77")
        self.assertEqual(h["X-Keyuan-Reminder-Id"], "77")
        want = hmac.new(b"s3cret", req["body"].encode("utf-8"),
                        hashlib.sha256).hexdigest()
        self.assertEqual(h["X-Keyuan-Signature"], want)
        self.wait_counter("webhook_delivered", 1)
        self.assertEqual(len(self.cluster.sink_lines()), 1)

    def test_503_is_retried_then_delivered(self):
        srv = self.server("--fail-first", 2)
        self.start_with(srv, "--retry-base-ms", 50, "--retry-max-ms", 200)
        self.link.deliver([(1, reminder(5))])
        self.wait_counter("webhook_delivered", 1)

        reqs = srv.requests()
        self.assertEqual([r["status"] for r in reqs], [503, 503, 200])
        self.assertEqual({r["headers"]["Idempotency-Key"] for r in reqs},
                         {"5"})
        self.assertEqual(len({r["body"] for r in reqs}), 1)
        # Waits grew: 50..50 ms, then 50..100 ms, never less than base.
        gaps = [b["time"] - a["time"] for a, b in zip(reqs, reqs[1:])]
        self.assertTrue(all(g >= 0.045 for g in gaps), gaps)
        counters = self.counters()
        self.assertEqual(counters["webhook_retrying"], 0)
        self.assertEqual(counters["webhook_dead"], 0)

    def test_retry_after_is_honoured(self):
        srv = self.server("--fail-first", 1, "--retry-after", 1)
        self.start_with(srv, "--retry-base-ms", 10)
        self.link.deliver([(1, reminder(6))])
        self.wait_counter("webhook_delivered", 1)
        reqs = srv.requests()
        self.assertEqual([r["status"] for r in reqs], [503, 200])
        self.assertGreaterEqual(reqs[1]["time"] - reqs[0]["time"], 0.95)

    def test_4xx_is_a_dead_letter(self):
        srv = self.server("--fail-first", 100, "--fail-status", 400)
        self.start_with(srv, "--retry-base-ms", 20)
        self.link.deliver([(1, reminder(9))])
        self.wait_counter("webhook_dead", 1)
        time.sleep(0.3)
        self.assertEqual(len(srv.requests()), 1)
        self.assertEqual(self.counters()["webhook_pending"], 0)
        # The file sink is another route: it still got its line.
        self.assert_one_line_each([9])

    def test_gives_up_after_max_attempts(self):
        srv = self.server("--fail-first", 100)
        self.start_with(srv, "--retry-base-ms", 10, "--retry-max-ms", 40,
                        "--max-attempts", 3)
        self.link.deliver([(1, reminder(11))])
        self.wait_counter("webhook_dead", 1)
        time.sleep(0.3)
        self.assertEqual(len(srv.requests()), 3)

    def test_unreachable_receiver_is_retried(self):
        port = harness.free_port()
        self.start("--webhook", "http://127.0.0.1:%d/x" % port,
                   "--retry-base-ms", 10000)
        self.link.deliver([(1, reminder(12))])
        self.wait_counter("webhook_retrying", 1)
        self.assertEqual(self.counters()["webhook_delivered"], 0)

    def test_no_duplicates_across_sigterm_restart(self):
        srv = self.server("--delay-ms", 20)
        self.start_with(srv)
        first = [(i, reminder(i)) for i in range(1, 31)]
        self.link.deliver(first)
        time.sleep(0.05)  # some POSTs are in flight now
        self.restart(signal.SIGTERM)
        second = [(i, reminder(i)) for i in range(31, 61)]
        self.link.deliver(second)
        self.wait_counter("webhook_delivered", 60, timeout=30)

        keys = srv.delivered_keys()
        self.assertEqual(len(keys), 60)
        self.assertEqual(len(set(keys)), 60)
        self.assertEqual(len(srv.requests()), 60)
        self.assert_one_line_each(range(1, 61))

    def test_no_duplicates_across_sigkill_restart(self):
        srv = self.server("--delay-ms", 20)
        self.start_with(srv)
        self.link.deliver([(i, reminder(i)) for i in range(1, 21)])
        self.wait_counter("webhook_delivered", 20)
        self.cluster.wait_for(lambda: len(srv.requests()) == 20,
                              what="20 POSTs")
        self.restart(signal.SIGKILL)
        time.sleep(0.5)
        # Everything committed before the kill stays delivered.
        self.assertEqual(len(srv.requests()), 20)
        self.assertEqual(self.counters()["webhook_delivered"], 20)
        self.assert_one_line_each(range(1, 21))

    def test_sigkill_in_flight_resends_with_the_same_key(self):
        srv = self.server("--delay-ms", 300)
        self.start_with(srv)
        pairs = [(i, reminder(i)) for i in range(1, 11)]
        self.link.deliver(pairs)
        self.cluster.wait_for(lambda: len(srv.requests()) >= 1,
                              what="a POST in flight")
        self.restart(signal.SIGKILL)
        self.wait_counter("webhook_delivered", 10)

        reqs = srv.requests()
        keys = [r["headers"]["Idempotency-Key"] for r in reqs]
        self.assertEqual(set(keys), {str(i) for i in range(1, 11)})
        # Only POSTs cut off by the kill are repeated, each with the same
        # key and body, so a receiver that dedupes on the key sees one.
        self.assertLessEqual(len(reqs) - 10, 16)
        bodies = {}
        for r in reqs:
            key = r["headers"]["Idempotency-Key"]
            self.assertEqual(bodies.setdefault(key, r["body"]), r["body"])
        self.assert_one_line_each(range(1, 11))


ALL_BUILT = all(os.path.exists(os.path.join(harness.BIN, "keyuan-" + name))
                for name in harness.SERVICES)
FAST = ["--speed-to-lead-s", "0", "--work-start", "00:00",
        "--work-end", "24:00"]


@unittest.skipUnless(ALL_BUILT, "needs all four services built")
class ClusterTest(unittest.TestCase):
    """A lead pushed into intake reaches the sink and the webhook once."""

    def test_lead_to_sink_and_webhook(self):
        tmp = tempfile.mkdtemp(prefix="keyuan-notifier-")
        if not os.environ.get("KEYUAN_KEEP_TMP"):
            self.addCleanup(shutil.rmtree, tmp, True)
        srv = WebhookServer(tmp)
        self.addCleanup(srv.close)
        c = harness.Cluster(tmp=tmp, extra={
            "scheduler": FAST, "notifier": ["--webhook", srv.url]})
        self.addCleanup(c.close)
        c.start()

        lead = dict(source="portal", sourceEventId="n-1",
                    contacts={"mobile": "13800138000"},
                    needs={"budgetMaxWan": 500, "timelineMonths": 2})
        reply = c.push_lead(**lead)
        self.assertEqual(reply.status, control_pb2.REPLY_STATUS_ACCEPTED)
        cust = str(reply.customer_id)
        c.wait_for(lambda: len(srv.delivered_keys()) >= 1, timeout=30,
                   what="the webhook POST")
        c.push_lead(**lead)  # a duplicate event changes nothing
        time.sleep(1.5)

        lines = c.sink_lines()
        self.assertEqual(len(lines), 1, lines)
        m = LINE.match(lines[0])
        self.assertEqual((m.group(3), m.group(5)), ("speed_to_lead", cust))
        reqs = srv.requests()
        self.assertEqual(len(reqs), 1)
        body = json.loads(reqs[0]["body"])
        self.assertEqual(body["customerId"], cust)
        self.assertEqual(body["kind"], "REMINDER_KIND_SPEED_TO_LEAD")
        self.assertEqual(reqs[0]["headers"]["Idempotency-Key"], m.group(2))
        self.assertNotIn("13800138000", c.log("notifier"))


if __name__ == "__main__":
    unittest.main()
