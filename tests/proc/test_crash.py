"""Crash test: SIGKILL each service in turn, mid-stream, while its outbox
holds messages; restart it; in the end every distinct phone is exactly one
customer and exactly one speed-to-lead reminder line in the sink."""
import collections
import random
import re
import signal
import time
import unittest

import harness
from pusher import Pusher

FAST = {"scheduler": ["--speed-to-lead-s", "0", "--work-start", "00:00",
                      "--work-end", "24:00"]}


def make_leads(n_people, n_events, rng):
    """Events for n_people distinct phones, some from several sources, in
    several spellings of the same number."""
    leads = []
    for i in range(n_events):
        person = i if i < n_people else rng.randrange(n_people)
        digits = "1390000%04d" % person
        spelled = rng.choice([digits, "+86 " + digits,
                              "%s-%s-%s" % (digits[:3], digits[3:7],
                                            digits[7:]),
                              "0086" + digits])
        leads.append({"source": rng.choice(["anjuke", "beike", "58"]),
                      "sourceEventId": "ev-%d" % i,
                      "contacts": {"mobile": spelled},
                      "needs": {"budgetMaxWan": 300 + person % 500,
                                "timelineMonths": 1 + person % 9,
                                "regionCodes": ["110105"]}})
    return leads


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.rng = random.Random(20261204)
        self.c = harness.Cluster(extra=FAST).start()

    def tearDown(self):
        self.c.close()

    def outbox_or_backlog(self, name):
        st = self.c.status(name)
        if name != "notifier":
            return st.outbox_size
        counters = {c.name: c.value for c in st.counters}
        return counters.get("pending", 0)

    def kill_when_loaded(self, name):
        """Holds the next service still (SIGSTOP) so that name's outbox
        fills, waits a random moment, kills name with SIGKILL while the
        outbox is shown non-empty, then lets everything run again."""
        order = harness.SERVICES  # notifier, scheduler, grading, intake
        nxt = order[order.index(name) - 1] if name != "notifier" else None
        if nxt:
            self.c.procs[nxt].send_signal(signal.SIGSTOP)
        try:
            try:
                self.c.wait_for(lambda: self.outbox_or_backlog(name) > 0,
                                timeout=20 if nxt else 3,
                                what=name + " backlog")
            except TimeoutError:
                # The notifier has no outbox, and its file sink drains in
                # microseconds: then it dies at a random point instead.
                if nxt:
                    raise
            time.sleep(self.rng.uniform(0.0, 0.2))
            self.c.kill(name)
        finally:
            if nxt:
                self.c.procs[nxt].send_signal(signal.SIGCONT)
        self.c.start(name)

    def test_kill_each_service_mid_stream(self):
        n_people = 400
        leads = make_leads(n_people, 1500, self.rng)
        pusher = Pusher(self.c.endpoint("intake"), leads, pace=0.006)
        pusher.start()
        for name in ["intake", "grading", "scheduler", "notifier"]:
            time.sleep(self.rng.uniform(0.1, 0.4))
            self.kill_when_loaded(name)
        pusher.join(120)
        self.assertFalse(pusher.is_alive(), "pusher never finished")
        self.assertIsNone(pusher.error)

        self.c.wait_for(lambda: len(self.c.sink_lines()) >= n_people,
                        timeout=60, what="all reminders")
        time.sleep(2.0)  # anything doubled would show up by now
        lines = self.c.sink_lines()
        reminder_ids = [re.search(r"reminder=(\d+)", l).group(1)
                        for l in lines]
        customers = [re.search(r"customer=(\d+)", l).group(1) for l in lines]
        self.assertEqual(len(lines), n_people)
        self.assertEqual(len(set(reminder_ids)), n_people)
        self.assertEqual(len(set(customers)), n_people,
                         collections.Counter(customers).most_common(3))
        self.assertEqual(self.c.counter("intake", "customers"), n_people)
        accepted = {r.customer_id for r in pusher.replies.values()}
        self.assertEqual(len(accepted), n_people)
        self.assertEqual(set(str(c) for c in accepted), set(customers))


if __name__ == "__main__":
    unittest.main()
