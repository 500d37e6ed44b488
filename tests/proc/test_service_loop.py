"""What every service gets from the common loop: idle cost, ownership of
its store, refusal of forged link messages, and honest health."""
import os
import subprocess
import time
import unittest

import zmq

import harness
from harness import pb, control_pb2


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ServiceLoopTest(unittest.TestCase):
    def setUp(self):
        self.c = harness.Cluster()

    def tearDown(self):
        self.c.close()

    def test_idle_services_do_not_spin(self):
        self.c.start()
        time.sleep(0.5)
        before = {s: cpu_seconds(p.pid) for s, p in self.c.procs.items()}
        time.sleep(2.0)
        for s, p in self.c.procs.items():
            used = cpu_seconds(p.pid) - before[s]
            self.assertLess(used, 0.2, "%s used %.2f s CPU idle" % (s, used))

    def test_second_process_on_same_store_is_refused(self):
        self.c.start("intake")
        args = self.c.args("intake")
        args[args.index("--bind") + 1] = "tcp://127.0.0.1:%d" % \
            harness.free_port()
        r = subprocess.run(args, capture_output=True, text=True, timeout=10)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("store_in_use", r.stderr)

    def test_forged_link_message_is_refused_not_dropped(self):
        self.c.start("intake")
        env = pb.Envelope(seq=5, sender="grading", epoch=1)
        env.lead.source = "p"
        env.lead.source_event_id = "forged"
        env.lead.contacts.mobile = "13800138500"
        r = self.c.request("intake", env)
        self.assertEqual(r.reply.status, control_pb2.REPLY_STATUS_REJECTED)
        self.assertEqual(r.reply.code, "not_a_link")
        self.assertEqual(self.c.counter("intake", "customers"), 0)

    def test_link_from_an_unexpected_sender_is_refused(self):
        self.c.start("grading")
        env = pb.Envelope(seq=1, sender="someone", epoch=1)
        env.customer.customer_id = 1
        r = self.c.request("grading", env)
        self.assertEqual(r.reply.code, "not_a_link")

    def test_stuck_link_makes_the_sender_unhealthy(self):
        self.c.extra = {"intake": ["--unhealthy-after-ms", "500"]}
        self.c.start("intake")  # grading never starts: the link is stuck
        self.assertTrue(self.c.status("intake").healthy)
        r = self.c.push_lead(source="p", sourceEventId="h1",
                             contacts={"mobile": "13800138501"})
        self.assertEqual(r.status, control_pb2.REPLY_STATUS_ACCEPTED)
        time.sleep(0.8)
        st = self.c.status("intake")
        self.assertFalse(st.healthy)
        self.assertGreaterEqual(st.outbox_oldest_age_ms, 500)
        self.c.start("grading")  # grading's downstream is down; no matter
        self.c.wait_for(lambda: self.c.status("intake").healthy, timeout=10,
                        what="intake healthy again")


if __name__ == "__main__":
    unittest.main()


class IndexKeyTest(unittest.TestCase):
    """intake refuses to run with an index key its store was not made
    with: it would find no one and create every customer again."""

    def setUp(self):
        self.c = harness.Cluster().start("intake")

    def tearDown(self):
        self.c.close()

    def start_fails(self, needle):
        r = subprocess.run(self.c.args("intake"), capture_output=True,
                           text=True, timeout=10)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(needle, r.stderr)

    def test_missing_or_other_key_is_refused(self):
        first = self.c.push_lead(source="p", sourceEventId="k1",
                                 contacts={"mobile": "13800138800"})
        self.c.stop("intake")
        key = os.path.join(self.c.tmp, "intake", "index.key")
        os.rename(key, key + ".saved")
        self.start_fails("index_key_missing")
        with open(key, "wb") as f:
            f.write(os.urandom(32))
        self.start_fails("index_key_mismatch")
        os.rename(key + ".saved", key)
        self.c.start("intake")
        again = self.c.push_lead(source="q", sourceEventId="k2",
                                 contacts={"mobile": "13800138800"})
        self.assertEqual(again.customer_id, first.customer_id)
        self.assertFalse(again.created)


class LinkAckTest(unittest.TestCase):
    """Acks name the sender's own epoch and numbering, batch after batch."""

    def setUp(self):
        self.c = harness.Cluster().start("grading")
        self.sock = self.c.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(self.c.endpoint("grading"))

    def tearDown(self):
        self.sock.close()
        self.c.close()

    def send(self, epoch, seq):
        env = pb.Envelope(seq=seq, sender="intake", epoch=epoch)
        env.customer.customer_id = 1000 + seq
        self.sock.send(env.SerializeToString())

    def last_ack(self):
        ack = None
        while self.sock.poll(500):
            env = pb.Envelope()
            env.ParseFromString(self.sock.recv())
            ack = env.ack
        return ack

    def test_new_epoch_is_acked_from_its_own_start(self):
        for seq in range(1, 6):
            self.send(7, seq)
        ack = self.last_ack()
        self.assertEqual((ack.epoch, ack.seq), (7, 5))
        self.send(8, 1)  # the sender's store was made anew
        ack = self.last_ack()
        self.assertEqual((ack.epoch, ack.seq), (8, 1))
