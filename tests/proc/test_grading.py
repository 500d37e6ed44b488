"""Process tests of keyuan-grading on its real link protocol.

grading runs alone. The test plays its neighbours: a DEALER socket is the
upstream intake, sending link messages Envelope{seq, sender, epoch, body}
and reading acks; a ROUTER bound where grading's --downstream points is the
scheduler, receiving each GradeResult and acking it.
"""
import csv
import os
import shutil
import random
import signal
import tempfile
import time
import unittest

import zmq

from harness import (Cluster, ROOT, SHARED, common_pb2, control_pb2,
                     flow_pb2, lead_pb2, link_items, pb)

SAMPLE = os.path.join(SHARED, "data", "housing",
                      "cn_housing_listings_sample.csv")
SHIPPED_RULES = os.path.join(ROOT, "config", "grading.rules")


class Link:
    """Fake intake (upstream) and fake scheduler (downstream) of grading."""

    def __init__(self, cluster):
        self.ctx = cluster.ctx
        self.epoch = random.getrandbits(63) + 1
        self.seq = 0
        self.applied = 0  # last GradeResult seq the fake scheduler took
        self.pending = []  # (route, envelope) received, not yet taken
        self.scheduler = self.ctx.socket(zmq.ROUTER)
        self.scheduler.setsockopt(zmq.LINGER, 0)
        self.scheduler.bind(cluster.endpoint("scheduler"))
        self.intake = self.ctx.socket(zmq.DEALER)
        self.intake.setsockopt(zmq.LINGER, 0)
        self.intake.connect(cluster.endpoint("grading"))

    def close(self):
        self.intake.close()
        self.scheduler.close()

    def send(self, field, body, seq=None):
        """Sends one link message; returns its sequence number."""
        if seq is None:
            self.seq += 1
            seq = self.seq
        env = pb.Envelope(seq=seq, sender="intake", epoch=self.epoch)
        getattr(env, field).CopyFrom(body)
        self.intake.send(env.SerializeToString())
        return seq

    def wait_ack(self, seq, timeout=20.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.intake.poll(100):
                continue
            env = pb.Envelope()
            env.ParseFromString(self.intake.recv())
            assert env.WhichOneof("body") == "ack", env
            assert env.ack.epoch == self.epoch, env
            if env.ack.seq >= seq:
                return env.ack.seq
        raise TimeoutError("no ack for seq %d" % seq)

    def next_grade(self, timeout=10.0):
        """Receives one GradeResult as the scheduler would, and acks it."""
        deadline = time.time() + timeout
        while True:
            while self.pending:
                ident, env = self.pending.pop(0)
                assert env.sender == "grading" and env.seq > 0, env
                ack = pb.Envelope()
                ack.ack.seq = env.seq
                ack.ack.epoch = env.epoch
                self.scheduler.send_multipart([ident, ack.SerializeToString()])
                # A resend after a restart is a repeat, as for the real one.
                if env.seq > self.applied:
                    self.applied = env.seq
                    return env.grade
            if not self.scheduler.poll(max(1, int((deadline - time.time()) *
                                                  1000))):
                break
            ident, payload = self.scheduler.recv_multipart()
            self.pending.extend((ident, e) for e in link_items(payload))
        raise TimeoutError("no GradeResult reached the scheduler")

    def no_grade(self, wait=0.7):
        try:
            self.next_grade(timeout=wait)
        except TimeoutError:
            return True
        return False


def snapshot(customer_id, **needs):
    snap = flow_pb2.CustomerSnapshot(customer_id=customer_id,
                                     agent_id="agent-7", is_new=True,
                                     cause="lead")
    snap.needs.CopyFrom(common_pb2.Needs(**needs))
    snap.created_at.FromMilliseconds(1767225600000)
    return snap


class GradingTest(unittest.TestCase):

    def start(self, rules=SHIPPED_RULES):
        self.cluster = Cluster(extra={"grading": ["--rules", rules]})
        self.addCleanup(self.cluster.close)
        self.link = Link(self.cluster)
        self.addCleanup(self.link.close)
        self.cluster.start("grading")

    def tmpdir(self):
        path = tempfile.mkdtemp(prefix="keyuan-rules-")
        self.addCleanup(shutil.rmtree, path, ignore_errors=True)
        return path

    def write_rules(self, path, text):
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)

    def counters(self):
        return {c.name: c.value
                for c in self.cluster.status("grading").counters}

    def test_rule_change_changes_grade_and_reason(self):
        path = os.path.join(self.tmpdir(),
                            "grading.rules")
        self.write_rules(path, "rule soon grade=B when timeline<=3\n"
                               "rule lead grade=LEAD\n")
        self.start(path)
        lead = snapshot(41, timeline_months=2, budget_min_wan=300,
                        budget_max_wan=350, region_codes=["110101"])
        lead.next_step.action = "周六看房"
        lead.next_step.due_at.FromMilliseconds(1767500000000)
        lead.birthday.CopyFrom(common_pb2.CivilDate(month=8, day=15,
                                                    lunar=True))
        lead.do_not_disturb = True

        seq = self.link.send("customer", lead)
        self.link.wait_ack(seq)
        g = self.link.next_grade()
        self.assertEqual(g.customer_id, 41)
        self.assertEqual(g.grade, common_pb2.GRADE_B)
        self.assertEqual(g.previous_grade, common_pb2.GRADE_UNSPECIFIED)
        self.assertEqual(g.rule, "soon")
        self.assertEqual(list(g.reasons), ["计划 2 个月内购买 (≤3 个月)"])
        # What the scheduler needs travels with the grade.
        self.assertEqual(g.agent_id, "agent-7")
        self.assertTrue(g.is_new)
        self.assertEqual(g.created_at.ToMilliseconds(), 1767225600000)
        self.assertEqual(g.next_step.action, "周六看房")
        self.assertEqual(g.next_step.due_at.ToMilliseconds(), 1767500000000)
        self.assertTrue(g.do_not_disturb)
        self.assertEqual((g.birthday.month, g.birthday.day,
                          g.birthday.lunar), (8, 15, True))
        self.assertGreater(g.graded_at.seconds, 0)

        # A repeat of the same sequence number is acked, not graded again.
        self.link.send("customer", lead, seq=seq)
        self.link.wait_ack(seq)
        self.assertTrue(self.link.no_grade())

        # The operator changes the rules and sends SIGHUP.
        self.write_rules(path, "rule soon grade=A when timeline<=1\n"
                               "rule priced grade=C when budget=clear\n"
                               "rule lead grade=LEAD\n")
        self.cluster.procs["grading"].send_signal(signal.SIGHUP)
        self.cluster.wait_for(
            lambda: "event=rules_reloaded" in self.cluster.log("grading"),
            what="rules reload")
        lead.is_new = False
        self.link.wait_ack(self.link.send("customer", lead))
        g = self.link.next_grade()
        self.assertEqual(g.grade, common_pb2.GRADE_C)
        self.assertEqual(g.previous_grade, common_pb2.GRADE_B)
        self.assertEqual(g.rule, "priced")
        self.assertEqual(list(g.reasons), ["预算 300–350 万，区间明确"])
        self.assertFalse(g.is_new)

        # Same grade again: the scheduler still hears of it.
        lead.next_step.action = "下周复访"
        self.link.wait_ack(self.link.send("customer", lead))
        g = self.link.next_grade()
        self.assertEqual((g.grade, g.previous_grade),
                         (common_pb2.GRADE_C, common_pb2.GRADE_C))
        self.assertEqual(g.next_step.action, "下周复访")

        c = self.counters()
        self.assertEqual(c["customers"], 1)
        self.assertEqual((c["grades_b"], c["grades_c"]), (0, 1))
        self.assertEqual(c["rules"], 3)

        # A broken file on SIGHUP is reported and the old rules stay.
        self.write_rules(path, "rule soon grade=A\nrule x grade=Q\n")
        self.cluster.procs["grading"].send_signal(signal.SIGHUP)
        self.cluster.wait_for(
            lambda: "event=rules_reload_failed" in self.cluster.log("grading"),
            what="reload failure")
        self.assertIn(path + ":2:", self.cluster.log("grading"))
        self.link.wait_ack(self.link.send("customer", lead))
        self.assertEqual(self.link.next_grade().rule, "priced")

    def test_restart_with_other_rules_file(self):
        tmp = self.tmpdir()
        first, second = (os.path.join(tmp, n) for n in ("1.rules", "2.rules"))
        self.write_rules(first, "rule any grade=C when needs=known\n"
                                "rule lead grade=LEAD\n")
        self.write_rules(second, "rule ok grade=B when budget=known\n"
                                 "rule lead grade=LEAD\n")
        self.start(first)
        snap = snapshot(7, budget_max_wan=500)
        self.link.wait_ack(self.link.send("customer", snap))
        g = self.link.next_grade()
        self.assertEqual((g.grade, g.rule), (common_pb2.GRADE_C, "any"))
        self.assertEqual(list(g.reasons), ["已了解的需求：预算"])

        self.cluster.stop("grading")
        self.cluster.extra["grading"] = ["--rules", second]
        self.cluster.start("grading")
        self.link.wait_ack(self.link.send("customer", snap))
        g = self.link.next_grade()
        self.assertEqual((g.grade, g.rule), (common_pb2.GRADE_B, "ok"))
        self.assertEqual(g.previous_grade, common_pb2.GRADE_C)
        self.assertEqual(list(g.reasons), ["预算上限 500 万，大致清楚"])

    def test_bad_rules_stop_the_start(self):
        path = os.path.join(self.tmpdir(),
                            "bad.rules")
        self.write_rules(path, "# fine\nrule a grade=A when timelin<=3\n"
                               "rule lead grade=LEAD\n")
        with self.assertRaises(RuntimeError) as ctx:
            self.start(path)
        self.assertIn(path + ":2: unknown fact 'timelin'", str(ctx.exception))
        self.assertNotEqual(self.cluster.procs["grading"].returncode, 0)

    def test_requests_other_than_status_are_unsupported(self):
        self.start()
        env = pb.Envelope(request_id=9)
        env.customer_query.customer_id = 1
        reply = self.cluster.request("grading", env)
        self.assertEqual(reply.request_id, 9)
        self.assertEqual(reply.reply.status,
                         control_pb2.REPLY_STATUS_REJECTED)
        self.assertEqual(reply.reply.code, "unsupported")

    def push_sample(self):
        """Sends every row of the listing sample as a ListingEvent."""
        rows = []
        with open(SAMPLE, encoding="utf-8") as f:
            for row in csv.DictReader(f):
                ev = lead_pb2.ListingEvent(
                    source="sample", source_event_id=row["row_id"],
                    listing_id=row["row_id"], city=row["city"],
                    district=row["district"],
                    district_code=row["district_code"],
                    bizcircle=row["bizcircle"], community=row["community"],
                    bedrooms=int(row["bedrooms"] or 0),
                    living_rooms=int(row["living_rooms"] or 0),
                    area_m2=float(row["area_m2"]),
                    total_price_wan=float(row["total_price_wan"]),
                    unit_price_yuan_m2=float(row["unit_price_yuan_m2"] or 0))
                last = self.link.send("listing", ev)
                rows.append(row)
        self.link.wait_ack(last, timeout=60)
        return rows

    def test_listing_sample_prices_customers(self):
        self.start()
        rows = self.push_sample()
        c = self.counters()
        self.assertEqual(c["listings"], len(rows))
        self.assertEqual(c["districts"],
                         len({r["district_code"] for r in rows
                              if r["district_code"]}))

        dongcheng = [r for r in rows if r["district_code"] == "110101"]
        prices = sorted(int(float(r["unit_price_yuan_m2"]) + 0.5)
                        for r in dongcheng)
        self.assertLessEqual(len(prices), 256)  # the sample holds them all
        n = len(prices)
        median = (prices[n // 2] if n % 2 else
                  (prices[n // 2 - 1] + prices[n // 2] + 1) // 2)

        # Far below the market in 东城: C, and the reason says by how much.
        self.link.wait_ack(self.link.send("customer", snapshot(
            1001, region_codes=["110101"], budget_min_wan=200,
            budget_max_wan=220, area_min_m2=60, area_max_m2=90,
            timeline_months=2, stage=common_pb2.STAGE_CLEAR_TARGET)))
        g = self.link.next_grade()
        self.assertEqual((g.grade, g.rule),
                         (common_pb2.GRADE_C, "c_far_budget"))
        gap = round((median * 60 / 10000 - 220) * 100 / 220)
        self.assertEqual(len(g.reasons), 1)
        self.assertIn("单价中位数 %d 元/㎡ × 60 ㎡" % median, g.reasons[0])
        self.assertIn("差距 %d%% (>30%%)" % gap, g.reasons[0])

        # Within budget, soon, clear target: A, with the listings that fit.
        fit = sum(1 for r in dongcheng
                  if float(r["total_price_wan"]) <= 750 and
                  60 <= float(r["area_m2"]) <= 90)
        self.assertGreater(fit, 0)
        self.link.wait_ack(self.link.send("customer", snapshot(
            1002, region_codes=["110101"], budget_min_wan=650,
            budget_max_wan=750, area_min_m2=60, area_max_m2=90,
            timeline_months=2, stage=common_pb2.STAGE_CLEAR_TARGET)))
        g = self.link.next_grade()
        self.assertEqual((g.grade, g.rule), (common_pb2.GRADE_A, "a_ready"))
        self.assertIn("意向区域有 %d 套在售房源符合预算和面积 (≥1 套)" % fit,
                      list(g.reasons))

        # A listing withdrawn shows in the next grade's count.
        gone = next(r for r in dongcheng
                    if float(r["total_price_wan"]) <= 750 and
                    60 <= float(r["area_m2"]) <= 90)
        self.link.wait_ack(self.link.send("listing", lead_pb2.ListingEvent(
            source="sample", source_event_id="w1", listing_id=gone["row_id"],
            withdrawn=True)))
        self.link.wait_ack(self.link.send("customer", snapshot(
            1002, region_codes=["110101"], budget_min_wan=650,
            budget_max_wan=750, area_min_m2=60, area_max_m2=90,
            timeline_months=2, stage=common_pb2.STAGE_CLEAR_TARGET)))
        g = self.link.next_grade()
        if fit > 1:
            self.assertIn("意向区域有 %d 套在售房源符合预算和面积 (≥1 套)"
                          % (fit - 1), list(g.reasons))
        c = self.counters()
        self.assertEqual(c["listings"], len(rows) - 1)
        self.assertEqual((c["grades_a"], c["grades_c"]), (1, 1))


if __name__ == "__main__":
    unittest.main()
