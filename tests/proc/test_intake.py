"""intake on its own: replies, identity, first answers, bad input."""
import signal
import subprocess
import time
import unittest

import zmq

import harness
from harness import pb, control_pb2

ACCEPTED = control_pb2.REPLY_STATUS_ACCEPTED
DUPLICATE = control_pb2.REPLY_STATUS_DUPLICATE
REJECTED = control_pb2.REPLY_STATUS_REJECTED


class IntakeTest(unittest.TestCase):
    def setUp(self):
        self.c = harness.Cluster().start("intake")

    def tearDown(self):
        self.c.close()

    def lead(self, event_id, mobile=None, source="portal", **extra):
        contacts = {"mobile": mobile} if mobile else {}
        contacts.update(extra.pop("contacts", {}))
        return self.c.push_lead(source=source, sourceEventId=event_id,
                                contacts=contacts, **extra)

    def test_lead_from_python_gets_accepted_reply(self):
        r = self.lead("e1", "13800138000", name="示例客户",
                      needs={"budgetMaxWan": 300, "regionCodes": ["110105"]})
        self.assertEqual(r.status, ACCEPTED)
        self.assertTrue(r.created)
        self.assertNotEqual(r.customer_id, 0)

    def test_phone_variants_are_one_customer(self):
        first = self.lead("v0", "13800138000")
        for i, form in enumerate(["+86 138 0013 8000", "0086-138-0013-8000",
                                  "(+86)13800138000", "８６13800138000",
                                  "138\u30000013\u30008000"]):
            r = self.lead("v%d" % (i + 1), form)
            self.assertEqual(r.status, ACCEPTED, form)
            self.assertFalse(r.created, form)
            self.assertEqual(r.customer_id, first.customer_id, form)
        other = self.lead("v9", "13800138001")
        self.assertTrue(other.created)
        self.assertNotEqual(other.customer_id, first.customer_id)

    def test_same_name_alone_does_not_merge(self):
        a = self.lead("n1", "13800138010", name="张伟")
        b = self.lead("n2", "13800138011", name="张伟")
        self.assertTrue(a.created and b.created)
        self.assertNotEqual(a.customer_id, b.customer_id)

    def test_wechat_or_email_find_the_customer(self):
        a = self.lead("w1", "13800138020",
                      contacts={"wechatId": "wx_demo_20"})
        b = self.lead("w2", source="wechat_mini",
                      contacts={"wechatId": "wx_demo_20",
                                "email": "Demo20@Example.com"})
        c = self.lead("w3", source="mail", contacts={"email":
                                                     "demo20@example.com"})
        self.assertEqual(a.customer_id, b.customer_id)
        self.assertEqual(a.customer_id, c.customer_id)

    def test_identity_conflict_is_counted_and_logged_once(self):
        a = self.lead("ic1", "13800138030")
        b = self.lead("ic2", source="wechat_mini",
                      contacts={"wechatId": "wx_conflict"})
        both = self.lead("ic3", "13800138030",
                         contacts={"wechatId": "wx_conflict"})
        self.assertNotEqual(a.customer_id, b.customer_id)
        self.assertEqual(both.customer_id, a.customer_id)  # the phone wins
        again = self.lead("ic4", source="wechat_mini",
                          contacts={"wechatId": "wx_conflict"})
        self.assertEqual(again.customer_id, b.customer_id)
        self.assertEqual(self.c.counter("intake", "identity_conflicts"), 1)
        self.assertEqual(self.c.log("intake").count(
            "event=identity_conflict"), 1)

    def test_spaces_around_wechat_or_email_are_the_same_customer(self):
        a = self.lead("sp1", contacts={"email": "sp@x.cn"})
        b = self.lead("sp2", contacts={"email": " SP@x.cn\u3000"})
        self.assertEqual(b.customer_id, a.customer_id)
        c = self.lead("sp3", contacts={"wechatId": "wxsp1"})
        d = self.lead("sp4", contacts={"wechatId": " wxsp1\u3000"})
        self.assertEqual(d.customer_id, c.customer_id)
        self.assertFalse(d.created)

    def test_retry_gets_first_answer_across_restarts(self):
        first = self.lead("r1", "13800138030", needs={"budgetMaxWan": 200})
        again = self.lead("r1", "13800138030", needs={"budgetMaxWan": 999})
        self.assertEqual(again.status, DUPLICATE)
        self.assertEqual(again.customer_id, first.customer_id)
        self.assertTrue(again.created)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            self.c.stop("intake", sig=sig)
            self.c.start("intake")
            again = self.lead("r1", "13800138030")
            self.assertEqual(again.status, DUPLICATE)
            self.assertEqual(again.customer_id, first.customer_id)
        view = self.show(first.customer_id)
        self.assertEqual(view.profile.needs.budget_max_wan, 200)  # unchanged
        self.assertEqual(self.c.counter("intake", "customers"), 1)

    def show(self, customer_id=0, mobile=""):
        env = pb.Envelope()
        env.customer_query.customer_id = customer_id
        env.customer_query.mobile = mobile
        return self.c.request("intake", env).customer_view

    def test_show_by_any_phone_form(self):
        r = self.lead("s1", "13800138040", name="李\U0001F600e\u0301")
        view = self.show(mobile="+86 138-0013-8040")
        self.assertEqual(view.customer_id, r.customer_id)
        self.assertEqual(view.profile.contacts.mobile_e164, "+8613800138040")
        self.assertEqual(view.profile.name,
                         "李\U0001F600e\u0301")  # byte for byte

    def test_rejections_name_the_field(self):
        cases = [
            ({"sourceEventId": "b1", "contacts": {"mobile": "13800138000"}},
             "missing_field", "source"),
            ({"source": "p", "contacts": {"mobile": "13800138000"}},
             "missing_field", "sourceEventId"),
            ({"source": "p", "sourceEventId": "b3"},
             "missing_field", "contacts"),
            ({"source": "p", "sourceEventId": "b4",
              "contacts": {"mobile": "12345"}},
             "invalid_phone", "contacts.mobile"),
            ({"source": "p", "sourceEventId": "b5", "name": "x" * 65,
              "contacts": {"mobile": "13800138000"}},
             "too_long", "name"),
            ({"source": "p", "sourceEventId": "b6",
              "contacts": {"mobile": "13800138000"},
              "needs": {"regionCodes": ["北京"]}},
             "invalid_region", "needs.regionCodes"),
            ({"source": "p", "sourceEventId": "b7",
              "contacts": {"mobile": "13800138000"},
              "needs": {"budgetMinWan": 500, "budgetMaxWan": 300}},
             "invalid_range", "needs.budgetMinWan"),
        ]
        for fields, code, field in cases:
            r = self.c.push_lead(**fields)
            self.assertEqual(r.status, REJECTED, fields)
            self.assertEqual((r.code, r.field), (code, field), fields)
            self.assertIn(field, r.message)
        bad = self.lead("b8", "23800138000")
        self.assertEqual(bad.message, "contacts.mobile: not a mainland "
                         "mobile or landline number")
        self.assertEqual(self.c.counter("intake", "customers"), 0)

    def test_control_characters_are_refused_except_in_free_text(self):
        forged = self.c.push_lead(
            source="x\nts=2026 level=error svc=intake event=forged",
            sourceEventId="cc1", contacts={"mobile": "13800138111"})
        self.assertEqual((forged.status, forged.code, forged.field),
                         (REJECTED, "control_character", "source"))
        esc = self.lead("cc2", "13800138112", name="\x1b[31mRED\x1b[0m\x07")
        self.assertEqual((esc.code, esc.field),
                         ("control_character", "name"))
        c1 = self.lead("cc3", "13800138113", name="a\u0085b")
        self.assertEqual(c1.code, "control_character")
        for i, hidden in enumerate(["\u202e", "\u200b", "\ufeff", "\u2028",
                                    "\u2066"]):
            r = self.lead("cc5-%d" % i, "13800138115", name="张" + hidden)
            self.assertEqual(r.code, "control_character", repr(hidden))
        zwj = self.lead("cc6", "13800138116",
                        name="家\U0001F468\u200d\U0001F469\u200d\U0001F467")
        self.assertEqual(zwj.status, ACCEPTED)
        para = self.lead("cc7", "13800138117", note="一段\u2029二段")
        self.assertEqual(para.status, ACCEPTED)
        ok = self.lead("cc4", "13800138114", note="第一行\n第二行\tok")
        self.assertEqual(ok.status, ACCEPTED)
        self.assertNotIn("event=forged", self.c.log("intake"))

    def test_listing_ranges_match_what_grading_keeps(self):
        cases = [({"areaM2": 0.0001, "totalPriceWan": 300}, "areaM2"),
                 ({"areaM2": 1e308, "totalPriceWan": 300}, "areaM2"),
                 ({"areaM2": 80, "totalPriceWan": 0}, "totalPriceWan"),
                 ({"areaM2": 80, "totalPriceWan": 300,
                   "unitPriceYuanM2": -5}, "unitPriceYuanM2")]
        for i, (fields, field) in enumerate(cases):
            env = pb.Envelope()
            harness.json_format.ParseDict(
                dict(source="feed", listingId="L%d" % i, **fields),
                env.listing)
            r = self.c.request("intake", env).reply
            self.assertEqual((r.status, r.field), (REJECTED, field), fields)
        env = pb.Envelope()
        harness.json_format.ParseDict({"source": "feed", "listingId": "ok",
                                       "areaM2": 1, "totalPriceWan": 1},
                                      env.listing)
        self.assertEqual(self.c.request("intake", env).reply.status, ACCEPTED)

    def test_name_at_limit_is_accepted(self):
        r = self.lead("l1", "13800138050", name="名" * 64)
        self.assertEqual(r.status, ACCEPTED)

    def test_rejected_event_can_come_again_corrected(self):
        bad = self.lead("c1", "1380013")
        self.assertEqual(bad.status, REJECTED)
        good = self.lead("c1", "13800138060")
        self.assertEqual(good.status, ACCEPTED)

    def test_invalid_utf8_rejected(self):
        env = pb.Envelope()
        env.lead.source = "p"
        env.lead.source_event_id = "u1"
        env.lead.name = "AAAA"
        env.lead.contacts.mobile = "13800138070"
        raw = env.SerializeToString().replace(b"AAAA", b"\xff\xfe\xfd\xfc")
        reply = self.raw_request(raw)
        self.assertEqual(reply.reply.status, REJECTED)
        self.assertEqual(reply.reply.field, "name")
        self.assertEqual(reply.reply.code, "invalid_utf8")

    def test_nul_inside_text_rejected(self):
        """protobuf-c cuts a string at a NUL, so "wx\\0one" and "wx\\0two"
        would have been one WeChat id, and two event ids one event."""
        def raw_lead(event_id, stand_in, real, **contacts):
            env = pb.Envelope()
            env.lead.source = "p"
            env.lead.source_event_id = event_id
            for key, value in contacts.items():
                setattr(env.lead.contacts, key, value)
            return env.SerializeToString().replace(stand_in, real)

        for raw, field in [
                (raw_lead("n1", b"wxQone", b"wx\0one", wechat_id="wxQone"),
                 "contacts.wechatId"),
                (raw_lead("evQone", b"evQone", b"ev\0one",
                          mobile="13700001111"), "sourceEventId"),
                (raw_lead("n3", b"\0", b"\0", wechat_id="\0"),
                 "contacts.wechatId")]:
            reply = self.raw_request(raw).reply
            self.assertEqual((reply.status, reply.code, reply.field),
                             (REJECTED, "invalid_utf8", field))
            self.assertIn("NUL", reply.message)
        update = pb.Envelope()
        update.profile_update.source = "p"
        update.profile_update.source_event_id = "u-nul"
        update.profile_update.customer_id = 1
        update.profile_update.paths.append("nameQx")
        reply = self.raw_request(update.SerializeToString().replace(
            b"nameQx", b"name\0x")).reply
        self.assertEqual((reply.code, reply.field), ("invalid_utf8", "paths"))
        self.assertEqual(self.c.counter("intake", "customers"), 0)
        self.assertEqual(self.c.counter("intake", "requests_with_nul"), 4)

    def test_region_codes_must_name_a_division(self):
        r = self.lead("rg1", "13800138090", needs={"regionCodes": ["110105",
                                                                   "110199"]})
        self.assertEqual((r.status, r.code, r.field),
                         (REJECTED, "invalid_region", "needs.regionCodes"))
        ok = self.lead("rg2", "13800138090",
                       needs={"regionCodes": ["110105", "440300"]})
        self.assertEqual(ok.status, ACCEPTED)

    def test_unreadable_region_list_stops_the_start(self):
        args = self.c.args("intake")
        args[args.index("--bind") + 1] = "tcp://127.0.0.1:%d" % \
            harness.free_port()
        args[args.index("--state-dir") + 1] += "-other"
        r = subprocess.run(args + ["--regions", "/nonexistent/r.csv"],
                           capture_output=True, text=True, timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("regions_unusable", r.stdout + r.stderr)
        self.assertIn("/nonexistent/r.csv", r.stdout + r.stderr)

    def dealer_replies(self, payload, n):
        """Sends payload on a DEALER and returns the first n replies."""
        sock = self.c.ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.c.endpoint("intake"))
        sock.send_multipart([b"", payload])
        replies = []
        while len(replies) < n:
            self.assertTrue(sock.poll(5000), "no reply")
            reply = pb.Envelope()
            reply.ParseFromString(sock.recv_multipart()[-1])
            replies.append(reply)
        sock.close()
        return replies

    def test_nul_inside_a_batch_of_requests_rejected(self):
        batch = pb.Envelope()
        for i, name in enumerate([b"wx\0one", b"wx\0two"]):
            item = pb.Envelope(request_id=10 + i)
            item.lead.source = "p"
            item.lead.source_event_id = "bn%d" % i
            item.lead.contacts.wechat_id = "wxQQQQ"
            batch.batch.items.append(
                item.SerializeToString().replace(b"wxQQQQ", name[:6]))
        replies = self.dealer_replies(batch.SerializeToString(), 2)
        self.assertEqual(sorted(r.request_id for r in replies), [10, 11])
        for r in replies:
            self.assertEqual((r.reply.code, r.reply.field),
                             ("invalid_utf8", "contacts.wechatId"))
        self.assertEqual(self.c.counter("intake", "customers"), 0)

    def test_malformed_reply_carries_no_earlier_request_id(self):
        big = pb.Envelope(request_id=77)
        big.lead.source = "p"
        big.lead.source_event_id = "big"
        big.lead.note = "x" * 70000
        self.assertEqual(self.raw_request(big.SerializeToString())
                         .reply.code, "too_large")
        reply = self.raw_request(b"\xff\xff\xff not protobuf")
        self.assertEqual((reply.reply.code, reply.request_id),
                         ("malformed", 0))

    def raw_request(self, raw):
        sock = self.c.ctx.socket(zmq.REQ)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.c.endpoint("intake"))
        sock.send(raw)
        self.assertTrue(sock.poll(5000))
        reply = pb.Envelope()
        reply.ParseFromString(sock.recv())
        sock.close()
        return reply

    def test_time_out_of_range_is_rejected_not_fatal(self):
        """A Timestamp proto3 cannot write used to abort intake, for new
        and known customers alike; a source that resends what was not
        answered then kept it down."""
        first = self.lead("t0", "13611120001")
        self.assertEqual(first.status, ACCEPTED)
        for n, (mobile, seconds, nanos) in enumerate([
                ("13611120001", 253402300800, 0),
                ("13611120002", -62135596801, 0),
                ("13611120003", 0, 2000000000)]):
            env = pb.Envelope()
            env.lead.source = "portal"
            env.lead.source_event_id = "t%d" % (n + 1)
            env.lead.contacts.mobile = mobile
            env.lead.consent.recorded_at.seconds = seconds
            env.lead.consent.recorded_at.nanos = nanos
            reply = self.raw_request(env.SerializeToString())
            self.assertEqual(reply.reply.status, REJECTED)
            self.assertEqual(reply.reply.code, "out_of_range")
            self.assertEqual(reply.reply.field, "consent.recordedAt")
        self.assertEqual(self.lead("t9", "13611120009").status, ACCEPTED)

    def test_garbage_gets_malformed(self):
        reply = self.raw_request(b"\xff\xff\xff not protobuf")
        self.assertEqual(reply.reply.code, "malformed")

    def test_oversized_message_gets_too_large(self):
        big = pb.Envelope(request_id=77)
        big.lead.source = "p"
        big.lead.source_event_id = "big"
        big.lead.note = "x" * (100 * 1024)  # over 64 KiB, under 4 times
        reply = self.raw_request(big.SerializeToString())
        self.assertEqual(reply.request_id, 77)
        self.assertEqual((reply.reply.status, reply.reply.code),
                         (REJECTED, "too_large"))
        self.assertIn("at most 65536", reply.reply.message)
        self.assertEqual(self.c.counter("intake", "requests_too_large"), 1)
        r = self.lead("after-big", "13800138080")
        self.assertEqual(r.status, ACCEPTED)

    def test_huge_cap_starts_and_answers(self):
        """Four times --max-msg-bytes used to overflow (UBSan stopped
        intake); the hard limit now stops at what an int64 holds."""
        self.c.stop("intake")
        self.c.extra["intake"] = ["--max-msg-bytes", "3000000000000000000"]
        self.c.start("intake")
        self.assertEqual(self.lead("huge-cap", "13800138082").status,
                         ACCEPTED)

    def test_giant_message_drops_only_that_sender(self):
        big = pb.Envelope()
        big.lead.source = "p"
        big.lead.source_event_id = "giant"
        big.lead.note = "x" * (300 * 1024)  # over 4 times 64 KiB
        watch = StatusWatch(self.c)  # stays connected: no disconnects
        before = watch.settled("disconnects")
        sock = self.c.ctx.socket(zmq.REQ)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.c.endpoint("intake"))
        sock.send(big.SerializeToString())
        self.assertFalse(sock.poll(500))  # dropped, never answered
        # Counted while the sender is still open: intake dropped it.
        self.c.wait_for(lambda: watch.counter("disconnects") == before + 1,
                        timeout=5, what="the drop to be counted")
        sock.close()
        watch.close()
        r = self.lead("after-giant", "13800138081")
        self.assertEqual(r.status, ACCEPTED)

    def test_simultaneous_events_for_a_new_phone_make_one_file(self):
        """Many sources report one new person at the same moment: the
        events land in one batch, and still make exactly one file."""
        socks = []
        for i in range(8):
            s = self.c.ctx.socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 0)
            s.connect(self.c.endpoint("intake"))
            socks.append(s)
        time.sleep(0.2)  # all connected before anything is sent
        for i, s in enumerate(socks):
            env = pb.Envelope()
            env.request_id = i + 1
            env.lead.source = "src%d" % i
            env.lead.source_event_id = "same-moment"
            env.lead.contacts.mobile = ["13800138099", "+86 138 0013 8099",
                                        "0086-13800138099"][i % 3]
            s.send(env.SerializeToString())
        replies = []
        for s in socks:
            self.assertTrue(s.poll(5000))
            r = pb.Envelope()
            r.ParseFromString(s.recv())
            replies.append(r.reply)
            s.close()
        self.assertEqual(len({r.customer_id for r in replies}), 1)
        self.assertEqual(sum(r.created for r in replies), 1)
        self.assertEqual(self.c.counter("intake", "customers"), 1)

    def test_outbox_holds_snapshots_while_grading_is_down(self):
        for i in range(5):
            self.lead("o%d" % i, "1380013809%d" % i)
        self.assertEqual(self.c.status("intake").outbox_size, 5)


class StatusWatch:
    """Asks a service's status on one connection kept open, so that asking
    adds nothing to its count of disconnects."""

    def __init__(self, cluster, name="intake"):
        self.sock = cluster.ctx.socket(zmq.REQ)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(cluster.endpoint(name))

    def counter(self, name):
        env = pb.Envelope()
        env.status_request.SetInParent()
        self.sock.send(env.SerializeToString())
        if not self.sock.poll(3000):
            raise TimeoutError("no status reply")
        reply = pb.Envelope()
        reply.ParseFromString(self.sock.recv())
        return {c.name: c.value for c in reply.status.counters}.get(name, 0)

    def settled(self, name):
        """The counter once earlier clients' disconnects have come in."""
        last = self.counter(name)
        for _ in range(30):
            time.sleep(0.3)
            now = self.counter(name)
            if now == last:
                return now
            last = now
        raise TimeoutError("%s does not settle" % name)

    def close(self):
        self.sock.close()


class PythonClientExampleTest(unittest.TestCase):
    """The example in docs/examples works as documented."""

    def test_example_pushes_a_lead(self):
        import os
        import subprocess
        c = harness.Cluster().start("intake")
        try:
            script = os.path.join(harness.ROOT, "docs", "examples",
                                  "push_lead.py")
            r = subprocess.run(["/usr/bin/python3", script,
                                c.endpoint("intake")],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("REPLY_STATUS_ACCEPTED", r.stdout)
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main()
