"""keyuanctl against the real services, and its client against a fake intake.

The real cluster checks what operators see: the counts line of a push adds
up to the rows of the file and matches what intake answered, `show` finds
what was pushed, the whole shared listing sample goes through, `status`
and `clock` talk to all four services. The fake intake (a ROUTER in this
file) checks the client itself: resends of unanswered requests, the window
of requests in flight, giving up on a service that is down.
"""
import csv
import json
import os
import re
import shutil
import tempfile
import time
import unittest


import harness
from harness import pb, control_pb2

SAMPLE = os.path.join(harness.SHARED, "data", "housing",
                      "cn_housing_listings_sample.csv")

LEAD_COUNTS = re.compile(
    r"^rows (\d+): created (\d+), updated (\d+), duplicate (\d+), "
    r"rejected (\d+) \((\d+) locally\), unanswered (\d+)$", re.M)
LISTING_COUNTS = re.compile(
    r"^rows (\d+): accepted (\d+), duplicate (\d+), "
    r"rejected (\d+) \((\d+) locally\), unanswered (\d+)$", re.M)


def lead_counts(out):
    m = LEAD_COUNTS.search(out)
    assert m, "no counts line in:\n" + out
    keys = ["rows", "created", "updated", "duplicate", "rejected", "local",
            "unanswered"]
    return dict(zip(keys, map(int, m.groups())))


def listing_counts(out):
    m = LISTING_COUNTS.search(out)
    assert m, "no counts line in:\n" + out
    keys = ["rows", "accepted", "duplicate", "rejected", "local",
            "unanswered"]
    return dict(zip(keys, map(int, m.groups())))


def json_lines(out):
    return [json.loads(line) for line in out.splitlines() if line.strip()]


class Files:
    """A temporary folder for the files a test pushes."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="keyuanctl-test-")

    def write(self, name, text, encoding="utf-8"):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding=encoding, newline="") as f:
            f.write(text)
        return path

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


# --- against the real services --------------------------------------------

class KeyuanctlClusterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = harness.Cluster().start()

    @classmethod
    def tearDownClass(cls):
        cls.c.close()

    def setUp(self):
        self.files = Files()

    def tearDown(self):
        self.files.close()

    def ctl(self, *args, check=True):
        return harness.keyuanctl(*args, cluster=self.c, check=check)

    def intake_counters(self):
        return {c.name: c.value for c in self.c.status("intake").counters}

    def test_push_jsonl_counts_match_intake_and_show_finds_lead(self):
        lines = [
            {"source": "portal", "sourceEventId": "jl-1", "name": "示例甲",
             "contacts": {"mobile": "13800138101"},
             "needs": {"purpose": "PURPOSE_UPGRADE", "budgetMaxWan": 420,
                       "regionCodes": ["110105"]}},
            {"source": "portal", "sourceEventId": "jl-2",
             "contacts": {"mobile": "+86 138 0013 8101"},
             "needs": {"bedrooms": 3}},
            {"source": "portal", "sourceEventId": "jl-3",
             "contacts": {"mobile": "12345"}},
            {"source": "portal", "sourceEventId": "jl-4",
             "contacts": {"mobile": "13800138102"}},
            {"source": "portal", "sourceEventId": "jl-1",
             "contacts": {"mobile": "13800138101"}},
        ]
        text = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines)
        text += '\n\n{"source": "portal", "sourceEventId": "jl-5", ' \
                '"needs": {"budgetMaxWan": "lots"}}\n'
        path = self.files.write("leads.jsonl", text)
        before = self.intake_counters()

        r = self.ctl("push", "leads", path)
        n = lead_counts(r.stdout)
        self.assertEqual(n, {"rows": 6, "created": 2, "updated": 1,
                             "duplicate": 1, "rejected": 2, "local": 1,
                             "unanswered": 0})
        self.assertRegex(r.stdout, r"line 3 \[jl-3\]: rejected \S+ at "
                                   r"contacts\.mobile")
        self.assertRegex(r.stdout, r"line 7 \[jl-5\]: rejected locally "
                                   r"invalid_json at needs\.budgetMaxWan")

        # What intake counted is what keyuanctl reported.
        after = self.intake_counters()
        delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        self.assertEqual(delta.get("customers_created"), n["created"])
        self.assertEqual(delta.get("customers_updated"), n["updated"])
        self.assertEqual(delta.get("duplicates"), n["duplicate"])
        self.assertEqual(delta.get("rejected"), n["rejected"] - n["local"])

        r = self.ctl("show", "--mobile", "13800138101")
        self.assertRegex(r.stdout, r"(?m)^name: +示例甲$")
        self.assertRegex(r.stdout, r"(?m)^needs\.budget_max_wan: +420$")
        self.assertRegex(r.stdout, r"(?m)^needs\.bedrooms: +3$")
        cid = re.search(r"(?m)^customer_id: +(\d+)$", r.stdout).group(1)
        view = json.loads(self.ctl("show", cid, "--json").stdout)
        self.assertEqual(view["customerId"], cid)
        self.assertEqual(view["profile"]["contacts"]["mobileE164"],
                         "+8613800138101")
        self.assertEqual(view["profile"]["needs"]["regionCodes"], ["110105"])

    def test_push_csv_chinese_headers(self):
        text = ("\ufeff来源,来源编号,时间,姓名,手机,微信,邮箱,购房目的,室,厅,"
                "最小面积,最大面积,意向区域,最低预算（万）,最高预算(万),"
                "购房时间(月),阶段,备注,经纪人\r\n"
                "58,zh-1,2026-05-01 09:30,张三,13900139201,zs_201,,改善,3,2,"
                "90,120,\"110105;110108\",500,650,3,目标明确,\"周末看房,\r\n"
                "要南北通透\",\r\n"
                "58,zh-2,,李四,13900139202,,,度假,2,,,,,,,,,,\r\n"
                "58,zh-3,,王五,13900139203,,,学区,2,1,,,,,abc,,,,\r\n"
                "58,zh-4,2026-05-02T10:00:00+08:00,赵六,13900139204,,,"
                "investment,,,,,440305|440304,,800,12,comparing,,\r\n")
        path = self.files.write("leads.csv", text)

        r = self.ctl("push", "leads", path)
        n = lead_counts(r.stdout)
        self.assertEqual(n, {"rows": 4, "created": 2, "updated": 0,
                             "duplicate": 0, "rejected": 2, "local": 2,
                             "unanswered": 0})
        self.assertRegex(r.stdout, r"line 4 \[zh-2\]: rejected locally "
                                   r"invalid_enum at needs\.purpose: .*度假")
        self.assertRegex(r.stdout, r"line 5 \[zh-3\]: rejected locally "
                                   r"invalid_number at needs\.budgetMaxWan")

        view = json.loads(self.ctl("show", "--mobile", "13900139201",
                                   "--json").stdout)
        self.assertEqual(view["profile"]["name"], "张三")
        self.assertEqual(view["sources"], ["58"])
        self.assertEqual(view["note"], "周末看房,\n要南北通透")
        self.assertEqual(view["profile"]["needs"], {
            "purpose": "PURPOSE_UPGRADE", "bedrooms": 3, "livingRooms": 2,
            "areaMinM2": 90, "areaMaxM2": 120,
            "regionCodes": ["110105", "110108"], "budgetMinWan": 500,
            "budgetMaxWan": 650, "timelineMonths": 3,
            "stage": "STAGE_CLEAR_TARGET"})
        view = json.loads(self.ctl("show", "--mobile", "13900139204",
                                   "--json").stdout)
        self.assertEqual(view["profile"]["needs"]["regionCodes"],
                         ["440305", "440304"])
        self.assertEqual(view["profile"]["needs"]["stage"], "STAGE_COMPARING")

        # Pushed again: every row intake saw is a duplicate.
        n = lead_counts(self.ctl("push", "leads", path).stdout)
        self.assertEqual((n["duplicate"], n["created"], n["local"]), (2, 0, 2))

    def test_push_json_lines_output(self):
        path = self.files.write("leads.csv", (
            "source,source_event_id,mobile,bedrooms\n"
            "web,js-1,13700137301,2\n"
            "web,js-2,13700137302,x\n"
            "web,js-1,13700137301,2\n"))
        r = self.ctl("push", "leads", path, "--json")
        rows = json_lines(r.stdout)
        summary = rows.pop()["summary"]
        self.assertEqual(summary, {"rows": 3, "created": 1, "updated": 0,
                                   "duplicate": 1, "rejected": 1,
                                   "rejectedLocally": 1, "unanswered": 0})
        by_line = {x["line"]: x for x in rows}
        self.assertEqual(sorted(by_line), [2, 3, 4])
        self.assertEqual(by_line[2]["status"], "REPLY_STATUS_ACCEPTED")
        self.assertTrue(by_line[2]["created"])
        self.assertEqual(by_line[2]["sourceEventId"], "js-1")
        self.assertEqual(by_line[3]["code"], "invalid_number")
        self.assertEqual(by_line[3]["field"], "needs.bedrooms")
        self.assertTrue(by_line[3]["local"])
        self.assertEqual(by_line[4]["status"], "REPLY_STATUS_DUPLICATE")
        self.assertEqual(by_line[4]["customerId"], by_line[2]["customerId"])

    def test_push_whole_listing_sample(self):
        with open(SAMPLE, encoding="utf-8", newline="") as f:
            ids = [row["row_id"] for row in csv.DictReader(f)]
        self.assertEqual(len(ids), 3011)

        r = self.ctl("push", "listings", SAMPLE, "--source", "lianjia")
        n = listing_counts(r.stdout)
        self.assertEqual(n["rows"], len(ids))
        self.assertEqual(n["unanswered"], 0)
        self.assertEqual(n["duplicate"], 0)
        self.assertEqual(n["accepted"] + n["rejected"], len(ids))
        rejected = re.findall(r"(?m)^line (\d+) \[(\w+)\]: rejected "
                              r"(?:locally )?(\S+).*: (.+)$", r.stdout)
        self.assertEqual(len(rejected), n["rejected"])
        for line, row_id, code, reason in rejected:
            self.assertEqual(ids[int(line) - 2], row_id)
            self.assertTrue(code and reason.strip())

        # Intake passed every accepted listing on to grading.
        self.c.wait_for(lambda: self.c.counter("grading", "listings") >=
                        n["accepted"], what="grading to hold the listings")

        # A second push changes nothing: intake answers duplicate.
        n2 = listing_counts(self.ctl("push", "listings", SAMPLE, "--source",
                                     "lianjia").stdout)
        self.assertEqual(n2["duplicate"], n["accepted"])
        self.assertEqual(n2["rows"], len(ids))

    def test_reminders_lists_planned_follow_ups(self):
        path = self.files.write("one.jsonl", json.dumps({
            "source": "portal", "sourceEventId": "rm-1",
            "contacts": {"mobile": "13600136401"},
            "needs": {"budgetMaxWan": 300}}) + "\n")
        self.ctl("push", "leads", path)
        cid = json.loads(self.ctl("show", "--mobile", "13600136401",
                                  "--json").stdout)["customerId"]

        def planned():
            r = self.ctl("reminders", "--planned", "--customer", cid,
                         "--json")
            return json_lines(r.stdout)
        self.c.wait_for(lambda: planned(), what="a planned reminder")
        for rem in planned():
            self.assertEqual(rem["customerId"], cid)
        table = self.ctl("reminders", "--planned", "--customer", cid).stdout
        self.assertRegex(table.splitlines()[0],
                         r"^ID +DUE +FIRED +KIND +AGENT +CUSTOMER +GRADE +TEXT$")
        self.assertIn(cid, table)
        states = {row.split()[2] for row in table.splitlines()[1:]}
        self.assertIn("planned", states)  # the cadence's next ones

    def test_status_shows_all_four(self):
        r = self.ctl("status")
        for name in ("intake", "grading", "scheduler", "notifier"):
            self.assertRegex(r.stdout, r"(?m)^%s +yes " % name)
        rows = json_lines(self.ctl("status", "--json").stdout)
        self.assertEqual([x["service"] for x in rows],
                         ["intake", "grading", "scheduler", "notifier"])
        self.assertTrue(all(x["healthy"] for x in rows))

    def test_show_writes_hidden_characters_as_escapes(self):
        """Free text may hold a carriage return, and text anywhere an
        invisible mark; neither reaches the terminal raw."""
        path = self.files.write("hidden.jsonl", json.dumps({
            "source": "portal", "sourceEventId": "hid-1",
            "contacts": {"mobile": "13600136499"},
            "note": "line1\rFAKE\u2028tail",
            "name": "王\u200e五"}) + "\n")
        self.ctl("push", "leads", path)
        out = self.ctl("show", "--mobile", "13600136499").stdout
        for raw in ("\r", "\u2028", "\u200e"):
            self.assertNotIn(raw, out)
        self.assertIn("line1\\u000DFAKE\\u2028tail", out)  # field block
        self.assertIn("王\\u200E五", out)
        history = out[out.index("history"):]
        self.assertIn("\\u2028", history)  # the history line, escaped too

    def test_show_unknown_customer_fails(self):
        r = self.ctl("show", "12345", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("keyuanctl show:", r.stderr)


class KeyuanctlServiceDownTest(unittest.TestCase):
    def test_status_marks_a_stopped_service_down(self):
        c = harness.Cluster().start()
        try:
            c.stop("notifier")
            t = time.time()
            r = harness.keyuanctl("status", cluster=c, check=False)
            self.assertLess(time.time() - t, 5)
            self.assertEqual(r.returncode, 1)
            self.assertRegex(r.stdout, r"(?m)^notifier +down ")
            self.assertRegex(r.stdout, r"(?m)^intake +yes ")
        finally:
            c.close()


class KeyuanctlClockTest(unittest.TestCase):
    def test_clock_set_and_advance(self):
        c = harness.Cluster(test_clock=True).start()
        try:
            r = harness.keyuanctl("clock", "set", "2031-05-01T09:00:00+08:00",
                                  cluster=c)
            self.assertIn("scheduler: clock set to 2031-05-01T01:00:00",
                          r.stdout)
            self.assertEqual(c.status("scheduler").now.ToJsonString(),
                             "2031-05-01T01:00:00Z")

            harness.keyuanctl("clock", "advance", "3d", cluster=c)
            self.assertEqual(c.status("scheduler").now.ToJsonString(),
                             "2031-05-04T01:00:00Z")

            harness.keyuanctl("clock", "advance", "90m", "--service", "all",
                              cluster=c)
            for s in ("intake", "grading", "scheduler", "notifier"):
                self.assertEqual(c.status(s).now.ToJsonString(),
                                 "2031-05-04T02:30:00Z", s)

            r = harness.keyuanctl("clock", "set", "2031-01-01T00:00:00Z",
                                  cluster=c, check=False)
            self.assertEqual(r.returncode, 1)  # time only moves forward
        finally:
            c.close()


# --- the client against a fake intake --------------------------------------

class FakeIntake(harness.FakeService):
    """Answers LeadEvents the way intake would, by rules: ids ending in
    'x' are rejected, a repeated id is a duplicate, a mobile seen before
    is an update. It ignores the first copy of every request whose id ends
    in 'd' (to make the client resend), and answers nothing at all while
    `silent` is set."""

    def __init__(self):
        super().__init__()
        self.silent = False
        self.received = []        # (time, request_id, source_event_id)
        self.answers = {}
        self.mobiles = set()
        self.dropped = set()

    def answer(self, ev):
        key = (ev.source, ev.source_event_id)
        if key in self.answers:
            first = self.answers[key]
            r = control_pb2.Reply(status=control_pb2.REPLY_STATUS_DUPLICATE,
                                  created=first.created)
            return r
        r = control_pb2.Reply(status=control_pb2.REPLY_STATUS_ACCEPTED)
        if ev.source_event_id.endswith("x"):
            r = control_pb2.Reply(status=control_pb2.REPLY_STATUS_REJECTED,
                                  code="fake_reject", field="sourceEventId",
                                  message="ids ending in x are refused")
        else:
            r.created = ev.contacts.mobile not in self.mobiles
            self.mobiles.add(ev.contacts.mobile)
        self.answers[key] = r
        return r

    def reply(self, ident, env):
        sid = env.lead.source_event_id
        self.received.append((time.time(), env.request_id, sid))
        if self.silent:
            return None
        if sid.endswith("d") and sid not in self.dropped:
            self.dropped.add(sid)
            return None
        out = pb.Envelope(request_id=env.request_id)
        out.reply.CopyFrom(self.answer(env.lead))
        return out


class KeyuanctlFakeIntakeTest(unittest.TestCase):
    def setUp(self):
        self.fake = FakeIntake()
        self.fake.start()
        self.files = Files()

    def tearDown(self):
        self.fake.close()
        self.files.close()

    def push(self, path, *extra):
        return harness.keyuanctl("push", "leads", path, "--intake",
                                 self.fake.endpoint, *extra, check=False)

    def leads_file(self, n, name="leads.csv"):
        rows = ["source_event_id,mobile"]
        for i in range(n):
            suffix = "x" if i % 10 == 3 else "d" if i % 7 == 0 else ""
            rows.append("e%d%s,1380000%04d" % (i, suffix, i % 50))
        return self.files.write(name, "\n".join(rows) + "\n")

    def test_counts_resends_and_request_ids(self):
        n = 1200
        path = self.leads_file(n)
        r = self.push(path, "--timeout", "500", "--attempts", "5")
        self.assertEqual(r.returncode, 0, r.stderr)
        counts = lead_counts(r.stdout)
        rejected = sum(1 for i in range(n) if i % 10 == 3)
        created = 50 - sum(1 for m in range(50)
                           if all(i % 10 == 3 for i in range(m, n, 50)))
        self.assertEqual(counts["rows"], n)
        self.assertEqual(counts["rejected"], rejected)
        self.assertEqual(counts["created"], created)
        self.assertEqual(counts["created"] + counts["updated"], n - rejected)
        self.assertEqual(counts["unanswered"], 0)
        self.assertEqual(len(re.findall(r"fake_reject", r.stdout)), rejected)
        # Dropped requests were sent again with the same request id.
        self.assertTrue(self.fake.dropped)
        ids = {}
        for _, rid, sid in self.fake.received:
            ids.setdefault(sid, set()).add(rid)
        for sid in self.fake.dropped:
            self.assertEqual(len(ids[sid]), 1, sid)
        self.assertEqual(len(set().union(*ids.values())), n)

    def test_window_bounds_requests_in_flight(self):
        self.fake.silent = True
        path = self.leads_file(500)
        r = self.push(path, "--window", "40", "--timeout", "700",
                      "--attempts", "1")
        first = [x for x in self.fake.received
                 if x[0] - self.fake.received[0][0] < 0.5]
        self.assertEqual(len(first), 40)
        self.assertEqual(r.returncode, 1)
        counts = lead_counts(r.stdout)
        self.assertEqual(counts["unanswered"], 500)
        # Only the 40 sent are listed; the rest are summed up.
        self.assertEqual(r.stdout.count("no answer from intake"), 40)
        self.assertIn("460 rows were not sent", r.stderr)

    def test_intake_down_gives_up_quickly(self):
        port = harness.free_port()
        path = self.leads_file(3000)
        t = time.time()
        r = harness.keyuanctl("push", "leads", path, "--timeout", "200",
                              "--attempts", "2", "--intake",
                              "127.0.0.1:%d" % port, check=False)
        self.assertLess(time.time() - t, 5)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(lead_counts(r.stdout)["unanswered"], 3000)
        self.assertIn("did not answer", r.stderr)

    def test_usage_errors_exit_2(self):
        for args in ([], ["nonsense"], ["push"], ["push", "leads"],
                     ["push", "houses", "x.csv"],
                     ["push", "leads", "x.txt"],
                     ["push", "leads", "/nonexistent/x.csv"],
                     ["push", "leads", "x.csv", "--window", "0"],
                     ["show"], ["show", "abc"], ["show", "1", "--mobile", "1"],
                     ["reminders", "--limit", "-3"],
                     ["clock", "advance", "soon"], ["clock", "set", "today"],
                     ["clock", "set", "2026-01-01T00:00:00Z", "--service",
                      "nobody"],
                     ["status", "--bogus"]):
            r = harness.keyuanctl(*args, check=False)
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
            self.assertTrue(r.stderr.strip(), args)
        for args in (["--help"], ["push", "--help"], ["help", "status"]):
            r = harness.keyuanctl(*args, check=False)
            self.assertEqual(r.returncode, 0, args)
            self.assertIn("usage: keyuanctl", r.stdout)

    def test_header_problems_are_usage_errors(self):
        path = self.files.write("bad.csv", "name,mobile\n张三,13800138000\n")
        r = self.push(path)
        self.assertEqual(r.returncode, 2)
        self.assertIn("source_event_id", r.stderr)
        self.assertEqual(self.fake.received, [])


if __name__ == "__main__":
    unittest.main()
