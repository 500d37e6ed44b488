"""intake's quarantine: rejected events kept, listed, shown, replayed."""
import json
import os
import signal
import subprocess
import unittest

import harness
from harness import pb, control_pb2, json_format

ACCEPTED = control_pb2.REPLY_STATUS_ACCEPTED
DUPLICATE = control_pb2.REPLY_STATUS_DUPLICATE
REJECTED = control_pb2.REPLY_STATUS_REJECTED


def lead_envelope(event_id, mobile, **extra):
    env = pb.Envelope()
    json_format.ParseDict(dict(source="portal", sourceEventId=event_id,
                               contacts={"mobile": mobile}, **extra),
                          env.lead)
    return env


class QuarantineTest(unittest.TestCase):
    def setUp(self):
        self.c = harness.Cluster().start("intake")

    def tearDown(self):
        self.c.close()

    # ---- helpers -----------------------------------------------------

    def send(self, env):
        return self.c.request("intake", env).reply

    def bad_lead(self, event_id, request_id=0, **extra):
        """Sends a lead with a bad mobile; returns the event's bytes, which
        do not include the client's request id."""
        env = lead_envelope(event_id, "12345", **extra)
        env.request_id = request_id
        reply = self.c.request("intake", env)
        self.assertEqual(reply.request_id, request_id)
        self.assertEqual((reply.reply.status, reply.reply.code),
                         (REJECTED, "invalid_phone"))
        env.request_id = 0
        return env.SerializeToString()

    def entries(self, after=0, limit=0):
        env = pb.Envelope()
        env.quarantine_query.after_id = after
        env.quarantine_query.limit = limit
        return list(self.c.request("intake", env).quarantine_list.events)

    def replay(self, qid, corrected=None):
        env = pb.Envelope()
        env.quarantine_replay.quarantine_id = qid
        if corrected is not None:
            env.quarantine_replay.envelope = corrected.SerializeToString()
        return self.send(env)

    def customer_of(self, mobile):
        env = pb.Envelope()
        env.customer_query.mobile = mobile
        return self.c.request("intake", env).customer_view.customer_id

    def ctl(self, *args, check=True):
        return harness.keyuanctl("quarantine", *args, cluster=self.c,
                                 check=check)

    # ---- tests -------------------------------------------------------

    def test_rejected_lead_is_listed_with_code_and_field(self):
        sent = self.bad_lead("q1")
        self.assertEqual(self.send(lead_envelope("ok", "13800138000")).status,
                         ACCEPTED)
        lookup = pb.Envelope()
        lookup.customer_query.customer_id = 999  # refused, but a query
        self.assertEqual(self.send(lookup).status, REJECTED)

        [e] = self.entries()
        self.assertEqual((e.reply.code, e.reply.field),
                         ("invalid_phone", "contacts.mobile"))
        self.assertEqual(e.envelope, sent)  # byte for byte
        self.assertFalse(e.HasField("replay_reply"))
        table = self.ctl("list").stdout
        self.assertIn("invalid_phone", table)
        self.assertIn("contacts.mobile", table)
        self.assertIn(str(e.quarantine_id), table)
        self.assertEqual(self.c.counter("intake", "quarantined"), 1)

    def test_show_gives_the_event_back_byte_for_byte(self):
        sent = self.bad_lead("q2", request_id=77, name="李\U0001F600e\u0301",
                             note="全角　１２３")
        [e] = self.entries()
        out = self.ctl("show", str(e.quarantine_id), "--json").stdout
        shown = json.loads(out)
        self.assertEqual(shown["reply"]["code"], "invalid_phone")
        back = pb.Envelope()
        json_format.ParseDict(shown["envelope"], back)
        self.assertEqual(back.SerializeToString(), sent)
        text = self.ctl("show", str(e.quarantine_id)).stdout
        self.assertIn("李\U0001F600e\u0301", text)

    def test_unchanged_replay_is_rejected_again_without_new_entry(self):
        self.bad_lead("q3")
        [e] = self.entries()
        r = self.replay(e.quarantine_id)
        self.assertEqual((r.status, r.code), (REJECTED, "invalid_phone"))
        r = self.ctl("replay", str(e.quarantine_id), check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("invalid_phone", r.stderr)
        [again] = self.entries()
        self.assertEqual(again.quarantine_id, e.quarantine_id)
        self.assertEqual(again.replay_reply.status, REJECTED)
        self.assertEqual(again.envelope, e.envelope)  # as received
        self.assertIn("rejected again", self.ctl("list").stdout)

    def test_corrected_replay_creates_the_customer(self):
        self.bad_lead("q4", name="王")
        [e] = self.entries()
        path = os.path.join(self.c.tmp, "fixed.json")
        with open(path, "w", encoding="utf-8") as f:  # the bare lead
            json.dump({"source": "portal", "sourceEventId": "q4",
                       "name": "王", "contacts": {"mobile": "13800138044"}},
                      f, ensure_ascii=False)
        r = self.ctl("replay", str(e.quarantine_id), "--file", path)
        self.assertIn("accepted", r.stdout)

        customer = self.customer_of("13800138044")
        self.assertNotEqual(customer, 0)
        [done] = self.entries()
        self.assertEqual(done.replay_reply.status, ACCEPTED)
        self.assertTrue(done.replay_reply.created)
        self.assertEqual(done.replay_reply.customer_id, customer)
        self.assertIn("yes", self.ctl("list").stdout)
        again = self.replay(e.quarantine_id)
        self.assertEqual((again.status, again.code),
                         (REJECTED, "already_replayed"))

    def test_corrected_envelope_over_the_protocol(self):
        self.bad_lead("q5")
        [e] = self.entries()
        r = self.replay(e.quarantine_id, lead_envelope("q5", "13800138055"))
        self.assertEqual(r.status, ACCEPTED)
        self.assertTrue(r.created)
        self.assertEqual(r.customer_id, self.customer_of("13800138055"))
        self.assertEqual(len(self.entries()), 1)

    def test_replay_of_an_event_accepted_meanwhile_is_duplicate(self):
        self.bad_lead("q6")
        [e] = self.entries()
        first = self.send(lead_envelope("q6", "13800138066"))
        self.assertEqual(first.status, ACCEPTED)
        r = self.replay(e.quarantine_id, lead_envelope("q6", "13800138067"))
        self.assertEqual(r.status, DUPLICATE)
        self.assertEqual(r.customer_id, first.customer_id)
        self.assertEqual(self.customer_of("13800138067"), 0)  # not applied
        [done] = self.entries()
        self.assertEqual(done.replay_reply.status, DUPLICATE)

    def test_quarantine_survives_restart(self):
        sent = self.bad_lead("q7")
        for sig in (signal.SIGTERM, signal.SIGKILL):
            self.c.stop("intake", sig=sig)
            self.c.start("intake")
            [e] = self.entries()
            self.assertEqual(e.envelope, sent)
        r = self.replay(e.quarantine_id, lead_envelope("q7", "13800138077"))
        self.assertEqual(r.status, ACCEPTED)

    def test_paging_and_unknown_ids(self):
        for i in range(3):
            self.bad_lead("p%d" % i)
        page = self.entries(limit=2)
        self.assertEqual(len(page), 2)
        rest = self.entries(after=page[-1].quarantine_id)
        self.assertEqual(len(rest), 1)
        ids = [e.quarantine_id for e in page + rest]
        self.assertEqual(ids, sorted(ids))
        self.assertEqual(len(set(ids)), 3)
        out = self.ctl("list", "--after", str(ids[0]), "--json").stdout
        self.assertEqual([json.loads(line)["quarantineId"]
                          for line in out.splitlines()],
                         [str(i) for i in ids[1:]])

        self.assertEqual(self.replay(12345).code, "not_found")
        r = self.ctl("show", "12345", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not_found", r.stderr)

    def test_hiding_characters_are_shown_escaped(self):
        """A rejected event may be made to reorder or hide text on the
        operator's screen: keyuanctl writes such characters as escapes."""
        env = lead_envelope("rlo1", "13800138099",
                            name="abc\u202edef\u200bghi\u0085")
        self.assertEqual(self.send(env).code, "control_character")
        [e] = self.entries()
        for out in (self.ctl("show", str(e.quarantine_id)).stdout,
                    self.ctl("list", "--json").stdout):
            for raw in ("\u202e", "\u200b", "\u0085"):
                self.assertNotIn(raw, out)
            self.assertIn("abc\\u202Edef\\u200Bghi\\u0085", out)
        # In JSON the escapes read back as the characters themselves.
        self.assertIn("abc\u202edef\u200bghi\u0085",
                      json.dumps(json.loads(self.ctl("list", "--json").stdout),
                                 ensure_ascii=False))

    def test_corrected_envelope_with_nul_is_refused(self):
        self.bad_lead("nulfix")
        [e] = self.entries()
        fixed = lead_envelope("nulfix", "13800138066", name="evQil")
        raw = fixed.SerializeToString().replace(b"evQil", b"ev\0il")
        env = pb.Envelope()
        env.quarantine_replay.quarantine_id = e.quarantine_id
        env.quarantine_replay.envelope = raw
        r = self.send(env)
        self.assertEqual((r.status, r.code, r.field),
                         (REJECTED, "invalid_utf8", "name"))
        self.assertEqual(self.c.counter("intake", "customers"), 0)

    def test_a_replay_cannot_replay_a_replay(self):
        self.bad_lead("r1")
        [e] = self.entries()
        nested = pb.Envelope()
        nested.quarantine_replay.quarantine_id = e.quarantine_id
        r = self.replay(e.quarantine_id, nested)
        self.assertEqual((r.status, r.code), (REJECTED, "unsupported"))
        self.assertEqual(len(self.entries()), 1)


class QuarantineCapTest(unittest.TestCase):
    """A source that keeps sending bad events cannot fill the store: past
    --quarantine-max the oldest entries go, and are counted."""

    def setUp(self):
        self.c = harness.Cluster(extra={"intake": ["--quarantine-max", "3"]})
        self.c.start("intake")

    def tearDown(self):
        self.c.close()

    def test_oldest_entries_go_past_the_cap(self):
        for i in range(5):
            reply = self.c.request("intake", lead_envelope("cap%d" % i,
                                                           "12345")).reply
            self.assertEqual(reply.code, "invalid_phone")
        env = pb.Envelope()
        env.quarantine_query.SetInParent()
        kept = self.c.request("intake", env).quarantine_list.events
        ids = [pb.Envelope.FromString(e.envelope).lead.source_event_id
               for e in kept]
        self.assertEqual(ids, ["cap2", "cap3", "cap4"])
        self.assertEqual(self.c.counter("intake", "quarantine_dropped"), 2)
        self.assertEqual(self.c.counter("intake", "quarantine"), 3)

    def test_a_lower_cap_applies_at_restart(self):
        for i in range(3):
            self.c.request("intake", lead_envelope("low%d" % i, "12345"))
        self.c.stop("intake")
        self.c.extra["intake"] = ["--quarantine-max", "1"]
        self.c.start("intake")
        env = pb.Envelope()
        env.quarantine_query.SetInParent()
        kept = self.c.request("intake", env).quarantine_list.events
        self.assertEqual(
            [pb.Envelope.FromString(e.envelope).lead.source_event_id
             for e in kept], ["low2"])

    def test_a_cap_below_one_is_refused(self):
        r = subprocess.run(self.c.args("intake")[:1] +
                           ["--quarantine-max", "0"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--quarantine-max", r.stderr)


if __name__ == "__main__":
    unittest.main()
