"""Process tests of keyuan-scheduler on its real link protocol.

The scheduler runs alone on a test clock. The test plays its neighbours: a
DEALER socket is the upstream grading, sending link messages
Envelope{seq, sender, epoch, grade} and reading acks; a ROUTER bound where
the scheduler's --downstream points is the notifier, which applies each
Reminder in sequence order and acks it, as the real one does. What fired
is read back with ReminderQuery, the way keyuanctl asks.

A last test runs the whole cluster: a lead pushed into intake comes out of
the scheduler as one speed-to-lead reminder.
"""
import datetime
import os
import random
import signal
import time
import unittest

import zmq
from google.protobuf import timestamp_pb2

from harness import (BIN, Cluster, common_pb2, control_pb2, flow_pb2,
                     link_items, pb)

KIND = flow_pb2.ReminderKind
GRADE = common_pb2.Grade
DAY = datetime.timedelta(days=1)
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))  # no DST


def rfc3339(dt):
    return dt.astimezone(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


def shut_down(test, cluster):
    """Stops the cluster, failing the test when a sanitizer build reported
    anything on the way, and removes its files."""
    try:
        cluster.stop()
        for name in cluster.procs:
            log = cluster.log(name)
            for marker in ("runtime error:", "Sanitizer"):
                test.assertNotIn(marker, log, "%s log:\n%s" % (
                    name, log[-4000:]))
    finally:
        cluster.close()


class Neighbours:
    """Fake grading (upstream) and fake notifier (downstream)."""

    def __init__(self, cluster):
        self.ctx = cluster.ctx
        self.epoch = random.getrandbits(63) + 1
        self.seq = 0
        self.notifier = self.ctx.socket(zmq.ROUTER)
        self.notifier.setsockopt(zmq.LINGER, 0)
        self.notifier.bind(cluster.endpoint("notifier"))
        self.grading = self.ctx.socket(zmq.DEALER)
        self.grading.setsockopt(zmq.LINGER, 0)
        self.grading.connect(cluster.endpoint("scheduler"))
        self.acked = 0                 # highest seq the scheduler acked
        self.applied = {}              # notifier side: epoch -> last seq
        self.delivered = {}            # reminder_id -> (epoch, seq)
        self.reminders = []            # Reminder messages, applied order
        self.repeats = 0

    def close(self):
        self.grading.close()
        self.notifier.close()

    def send_grade(self, seq=None, **fields):
        if seq is None:
            self.seq += 1
            seq = self.seq
        env = pb.Envelope(seq=seq, sender="grading", epoch=self.epoch)
        env.grade.CopyFrom(flow_pb2.GradeResult(**fields))
        self.grading.send(env.SerializeToString())
        return seq

    def read_acks(self):
        while self.grading.poll(0):
            env = pb.Envelope()
            env.ParseFromString(self.grading.recv())
            assert env.WhichOneof("body") == "ack", env
            assert env.ack.epoch == self.epoch, env
            self.acked = max(self.acked, env.ack.seq)

    def pump_notifier(self, wait_ms=0):
        """Applies what arrived, in order, and acks like a receiver."""
        while self.notifier.poll(wait_ms):
            wait_ms = 0
            ident, data = self.notifier.recv_multipart()
            for env in link_items(data):
                self.take(ident, env)

    def take(self, ident, env):
        """Applies one link message unless it is a repeat, and acks."""
        assert env.sender == "scheduler", env
        last = self.applied.get(env.epoch, 0)
        if env.seq == last + 1:
            self.apply(env)
            last = env.seq
            self.applied[env.epoch] = last
        elif env.seq <= last:
            self.repeats += 1
        ack = pb.Envelope()
        ack.ack.seq = last
        ack.ack.epoch = env.epoch
        self.notifier.send_multipart([ident, ack.SerializeToString()])

    def apply(self, env):
        r = env.reminder
        key = (env.epoch, env.seq)
        # One reminder, one outbox entry: a reminder fired twice would
        # come with a second sequence number.
        first = self.delivered.setdefault(r.reminder_id, key)
        assert first == key, "reminder %d fired twice: %s and %s" % (
            r.reminder_id, first, key)
        self.reminders.append(r)

    def wait_acked(self, seq, timeout=20.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.read_acks()
            if self.acked >= seq:
                return
            time.sleep(0.02)
        raise TimeoutError("no ack for seq %d (last %d)" % (seq, self.acked))

    def wait_delivered(self, n, timeout=30.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.pump_notifier(50)
            if len(self.delivered) >= n:
                return
        raise TimeoutError("%d of %d reminders delivered" % (
            len(self.delivered), n))


class SchedulerTest(unittest.TestCase):
    """The scheduler alone, with fake neighbours."""

    def setUp(self):
        self.c = Cluster(test_clock=True)
        self.addCleanup(shut_down, self, self.c)  # also if start() fails
        self.c.start("scheduler")
        self.n = Neighbours(self.c)
        # Test clocks only move forward: start tomorrow 10:00 Shanghai.
        now = self.c.status("scheduler").now.ToDatetime(
            tzinfo=datetime.timezone.utc).astimezone(SHANGHAI)
        self.base = (now + DAY).replace(hour=10, minute=0, second=0,
                                        microsecond=0)
        self.set_clock(self.base)

    def tearDown(self):
        self.n.close()

    def set_clock(self, dt):
        self.c.set_clock(rfc3339(dt))

    def counter(self, name):
        return self.c.counter("scheduler", name)

    def query(self, **fields):
        env = pb.Envelope()
        env.reminder_query.CopyFrom(control_pb2.ReminderQuery(**fields))
        reply = self.c.request("scheduler", env)
        self.assertEqual(reply.WhichOneof("body"), "reminder_list", reply)
        return list(reply.reminder_list.reminders)

    def ts(self, dt):
        t = timestamp_pb2.Timestamp()
        t.FromDatetime(dt.astimezone(datetime.timezone.utc)
                       .replace(tzinfo=None))
        return t

    def grade_a(self, customer, contact, is_new=False, agent="a01",
                **extra):
        return self.n.send_grade(
            customer_id=customer, agent_id=agent, grade=GRADE.GRADE_A,
            is_new=is_new, created_at=self.ts(contact),
            last_contact_at=self.ts(contact), **extra)

    def advance(self, dt, fired_total):
        """Moves the clock to dt and checks that exactly fired_total
        reminders have fired by then."""
        self.set_clock(dt)
        self.c.wait_for(lambda: self.counter("fired") >= fired_total,
                        what="%d fired" % fired_total)
        time.sleep(0.2)  # one more tick: nothing else may fire
        self.assertEqual(self.counter("fired"), fired_total)

    # ---- tests --------------------------------------------------------

    def test_acks_and_repeats(self):
        for cust in (1, 2, 3):
            last = self.grade_a(cust, self.base)
        self.n.wait_acked(last)
        planned = self.counter("planned")
        self.assertEqual(planned, 3)

        # A repeat is acked again and changes nothing.
        self.grade_a(2, self.base + DAY, seq=2)
        self.n.wait_acked(last)
        time.sleep(0.2)
        self.assertEqual(self.counter("planned"), planned)
        self.assertEqual(self.counter("pending"), 3)

        # Unknown request bodies are refused by name.
        env = pb.Envelope()
        env.customer_query.customer_id = 1
        reply = self.c.request("scheduler", env).reply
        self.assertEqual(reply.status, control_pb2.REPLY_STATUS_REJECTED)
        self.assertEqual(reply.code, "unsupported")
        self.assertIn("customer_query", reply.message)

    def test_cadence_cycles_fire_once(self):
        customers = list(range(100, 130))
        for cust in customers:
            last = self.grade_a(cust, self.base, is_new=True)
        self.n.wait_acked(last)
        self.assertEqual(self.counter("pending"), 2 * len(customers))

        # Speed to lead: 15 minutes after creation.
        n = len(customers)
        self.advance(self.base + datetime.timedelta(minutes=15), n)
        # Two cadence cycles, three days apart, at 10:00 local.
        self.advance(self.base + 3 * DAY, 2 * n)
        self.advance(self.base + 3 * DAY + datetime.timedelta(hours=1),
                     2 * n)
        self.advance(self.base + 6 * DAY, 3 * n)
        self.n.wait_delivered(3 * n)
        time.sleep(1.5)  # past the resend timeout: only repeats may come
        self.n.pump_notifier(100)
        self.assertEqual(len(self.n.reminders), 3 * n)

        for cust in customers:
            fired = self.query(customer_id=cust, include_planned=True)
            kinds = [(r.kind, r.cycle, r.HasField("fired_at"))
                     for r in fired]
            self.assertEqual(sorted(kinds), sorted([
                (KIND.REMINDER_KIND_SPEED_TO_LEAD, 0, True),
                (KIND.REMINDER_KIND_CADENCE, 1, True),
                (KIND.REMINDER_KIND_CADENCE, 2, True),
                (KIND.REMINDER_KIND_CADENCE, 3, False)]), cust)
        texts = {r.text for r in self.n.reminders}
        self.assertIn("新客户 15 分钟内首次联系", texts)
        self.assertIn("A类客户定期跟进（第2次）", texts)
        due = {r.due_at.ToDatetime() for r in self.n.reminders
               if r.cycle == 2}
        self.assertEqual(due, {(self.base + 6 * DAY).astimezone(
            datetime.timezone.utc).replace(tzinfo=None)})

    def test_working_hours_and_next_step(self):
        evening = self.base.replace(hour=20, minute=50)
        self.set_clock(evening)
        step = common_pb2.NextStep(action="周六带看",
                                   due_at=self.ts(evening + 2 * DAY))
        last = self.n.send_grade(customer_id=7, agent_id="a02",
                                 grade=GRADE.GRADE_B, is_new=True,
                                 created_at=self.ts(evening),
                                 next_step=step)
        self.n.wait_acked(last)
        planned = {r.kind: r for r in self.query(customer_id=7,
                                                 include_planned=True)}
        # 21:05 is after hours: 09:00 the next morning.
        self.assertEqual(
            planned[KIND.REMINDER_KIND_SPEED_TO_LEAD].due_at.ToDatetime(),
            (self.base + DAY).replace(hour=9).astimezone(
                datetime.timezone.utc).replace(tzinfo=None))
        self.assertEqual(planned[KIND.REMINDER_KIND_NEXT_STEP].text,
                         "周六带看")

        self.advance((self.base + DAY).replace(hour=8, minute=59), 0)
        self.advance((self.base + DAY).replace(hour=9), 1)
        self.advance(evening + 2 * DAY, 2)
        listed = self.query(agent_id="a02")
        self.assertEqual([r.kind for r in listed],
                         [KIND.REMINDER_KIND_NEXT_STEP,
                          KIND.REMINDER_KIND_SPEED_TO_LEAD])
        self.assertEqual(self.query(agent_id="nobody"), [])

    def restart_mid_firing(self, sig, n_customers=600):
        """Plans n customers, fires their first cadence cycle, and stops
        the scheduler with sig right after the clock moved; then again
        for the second cycle. Returns the delivered reminders."""
        customers = list(range(1000, 1000 + n_customers))
        for cust in customers:
            last = self.grade_a(cust, self.base + datetime.timedelta(
                seconds=cust % 50))
        self.n.wait_acked(last)

        for cycle, at in ((1, self.base + 3 * DAY + DAY / 24),
                          (2, self.base + 6 * DAY + DAY / 24)):
            self.set_clock(at)
            self.n.pump_notifier(random.randint(0, 30))
            self.c.stop("scheduler", sig=sig)
            self.c.start("scheduler")
            self.c.wait_for(
                lambda: self.counter("fired") >= cycle * n_customers,
                what="cycle %d fired" % cycle)
            self.n.wait_delivered(cycle * n_customers)
        time.sleep(1.5)
        self.n.pump_notifier(100)

        self.assertEqual(self.counter("fired"), 2 * n_customers)
        self.assertEqual(self.counter("pending"), n_customers)
        self.assertEqual(len(self.n.reminders), 2 * n_customers)
        per = {}
        for r in self.n.reminders:
            per.setdefault(r.customer_id, []).append(r.cycle)
        self.assertEqual(set(per), set(customers))
        for cust, cycles in per.items():
            self.assertEqual(sorted(cycles), [1, 2], cust)
        for cust in random.sample(customers, 20):
            fired = [r for r in self.query(customer_id=cust)]
            self.assertEqual(sorted(r.cycle for r in fired), [1, 2])

    def test_restart_sigterm(self):
        self.restart_mid_firing(signal.SIGTERM)

    def test_restart_sigkill(self):
        self.restart_mid_firing(signal.SIGKILL)

    def test_notifier_away_then_back(self):
        """Reminders that fired while the notifier was away wait in the
        outbox and arrive once it is back."""
        self.n.notifier.close()
        last = self.grade_a(5, self.base)
        self.n.wait_acked(last)
        self.advance(self.base + 3 * DAY, 1)
        self.assertEqual(self.c.status("scheduler").outbox_size, 1)
        self.c.kill("scheduler")
        self.c.start("scheduler")
        self.n.notifier = self.c.ctx.socket(zmq.ROUTER)
        self.n.notifier.setsockopt(zmq.LINGER, 0)
        for _ in range(50):  # the old socket's port is freed lazily
            try:
                self.n.notifier.bind(self.c.endpoint("notifier"))
                break
            except zmq.ZMQError:
                time.sleep(0.1)
        self.n.wait_delivered(1)
        self.assertEqual(self.n.reminders[0].customer_id, 5)
        self.c.wait_for(
            lambda: self.c.status("scheduler").outbox_size == 0,
            what="outbox drained")


class LastStageTest(unittest.TestCase):
    """With --downstream "" reminders fire into the store only."""

    def test_no_downstream(self):
        c = Cluster(test_clock=True,
                    extra={"scheduler": ["--downstream", ""]})
        self.addCleanup(shut_down, self, c)
        c.start("scheduler")
        n = Neighbours(c)
        self.addCleanup(n.close)
        now = c.status("scheduler").now.ToDatetime()
        base = now.replace(hour=2, minute=0, second=0, microsecond=0) + DAY
        c.set_clock(rfc3339(base.replace(tzinfo=datetime.timezone.utc)))
        t = timestamp_pb2.Timestamp()
        t.FromDatetime(base)
        n.wait_acked(n.send_grade(customer_id=3, grade=GRADE.GRADE_A,
                                  last_contact_at=t))
        c.set_clock(rfc3339((base + 3 * DAY).replace(
            tzinfo=datetime.timezone.utc)))
        c.wait_for(lambda: c.counter("scheduler", "fired") == 1,
                   what="fired")
        self.assertEqual(c.status("scheduler").outbox_size, 0)
        self.assertIn("event=no_downstream", c.log("scheduler"))
        env = pb.Envelope()
        env.reminder_query.customer_id = 3
        listed = c.request("scheduler", env).reminder_list.reminders
        self.assertEqual([(r.kind, r.cycle) for r in listed],
                         [(KIND.REMINDER_KIND_CADENCE, 1)])


@unittest.skipUnless(all(os.path.exists(os.path.join(BIN, "keyuan-" + s))
                         for s in ("intake", "grading", "notifier")),
                     "the other services are not built")
class ClusterTest(unittest.TestCase):
    """All four services: a lead comes out as one speed-to-lead reminder."""

    def setUp(self):
        self.c = Cluster(test_clock=True)
        self.addCleanup(shut_down, self, self.c)  # also if start() fails
        self.c.start()

    def test_lead_to_reminder(self):
        services = ("intake", "grading", "scheduler", "notifier")
        now = max(self.c.status(s).now.ToDatetime() for s in services)
        base = now.replace(tzinfo=datetime.timezone.utc).astimezone(
            SHANGHAI) + DAY
        base = base.replace(hour=10, minute=0, second=0, microsecond=0)
        self.c.set_clock(rfc3339(base), services=services)

        reply = self.c.push_lead(source="portal", sourceEventId="s-1",
                                 contacts={"mobile": "13800138000"},
                                 needs={"budgetMaxWan": 500,
                                        "timelineMonths": 2})
        self.assertEqual(reply.status, control_pb2.REPLY_STATUS_ACCEPTED,
                         reply)
        cust = reply.customer_id

        def planned():
            env = pb.Envelope()
            env.reminder_query.customer_id = cust
            env.reminder_query.include_planned = True
            return list(self.c.request("scheduler", env)
                        .reminder_list.reminders)

        self.c.wait_for(lambda: any(
            r.kind == KIND.REMINDER_KIND_SPEED_TO_LEAD for r in planned()),
            what="speed-to-lead planned")
        self.c.set_clock(rfc3339(base + datetime.timedelta(minutes=16)),
                         services=services)
        self.c.wait_for(lambda: any(
            "customer=%d" % cust in line for line in self.c.sink_lines()),
            what="reminder in the sink")
        time.sleep(1.5)
        lines = [line for line in self.c.sink_lines()
                 if "customer=%d" % cust in line]
        self.assertEqual(len(lines), 1, lines)


if __name__ == "__main__":
    unittest.main()
