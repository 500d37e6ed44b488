"""keyuanctl's imports of customer files, contact logs and agents.

Against a fake intake (a ROUTER in this file that records what it gets):
the same table saved as UTF-8, UTF-8 with BOM, GBK, GB18030 and UTF-16
"Unicode text" sends the same events; every column of the customer file
lands in its LeadEvent field; bad values are refused locally, per row,
with the line and the column; `log contact` builds its ContactLog (event
ids, --set changes); `agents` prints what intake lists.

Against the real services: a GBK file and a BOM UTF-8 file with the same
rows make identical customer files (two clusters, compared field by
field but for ids and times), the new columns are in the stored file,
the counts keyuanctl prints equal intake's counters, and contact logs are
appended once however often they are sent.

Files in other encodings are written at test time by Python's codecs from
the text here; nothing binary is checked in.
"""
import csv
import io
import json
import os
import re
import shutil
import tempfile
import unittest


import harness
from harness import pb, control_pb2, json_format

LEAD_COUNTS = re.compile(
    r"^rows (\d+): created (\d+), updated (\d+), duplicate (\d+), "
    r"rejected (\d+) \((\d+) locally\), unanswered (\d+)$", re.M)
CONTACT_COUNTS = re.compile(
    r"^rows (\d+): logged (\d+), duplicate (\d+), "
    r"rejected (\d+) \((\d+) locally\), unanswered (\d+)$", re.M)


def counts(regex, keys, out):
    m = regex.search(out)
    assert m, "no counts line in:\n" + out
    return dict(zip(keys, map(int, m.groups())))


def lead_counts(out):
    return counts(LEAD_COUNTS, ["rows", "created", "updated", "duplicate",
                                "rejected", "local", "unanswered"], out)


def contact_counts(out):
    return counts(CONTACT_COUNTS, ["rows", "logged", "duplicate", "rejected",
                                   "local", "unanswered"], out)


# The customer file's columns, as a Chinese agency's spreadsheet names
# them. Every character can be written in GBK, as Excel does in China.
HEADER = ("来源,来源编号,时间,姓名,手机,微信,购房目的,室,厅,意向区域,"
          "最高预算(万),年龄,家庭人数,子女年龄,职业,工作单位,决策人,参考意见,"
          "生活习惯,爱好,同意联系,免打扰,生日,关注点,楼层,朝向,装修,备注")
ROWS = [
    # line 2
    "imp,im-1,2026-05-01 09:30,张三,{m}01,zs{m}01,改善,3,2,110105;110108,"
    "650,35岁,4,5;9,教师,市第一中学,配偶,父母、朋友,早睡早起,游泳；读书,是,"
    "否,农历1990-闰04-12,学区|交通,中楼层,南北,精装,\"周末看房,要南北通透\"",
    # lines 3-4: a line break inside the note
    "imp,im-2,2026-05-02 10:00,李四,{m}02,,学区,2,1,440305,300,41,3,12,"
    "工程师,某科技公司,本人,,喜欢安静,篮球,yes,no,1985-10-01,地段,高楼层,"
    "朝南,简装,\"说\"\"再看看\"\"\n下周回电\"",
    # line 5: refused locally, age
    "imp,im-3,,王五,{m}03,,,,,,,三十,,,,,,,,,,,,,,,,",
    # line 6: refused locally, birthday
    "imp,im-4,,赵六,{m}04,,,,,,,,,,,,,,,,,,1990-02-30,,,,,",
    # line 7: refused locally, consent
    "imp,im-5,,钱七,{m}05,,,,,,,,,,,,,,,,也许,,,,,,,",
    # line 8: refused by intake: not a phone number
    "imp,im-6,,孙八,12345,,,,,,,,,,,,,,,,,,,,,,,",
    # line 9: the same person as line 2, by phone
    "imp,im-7,2026-05-03 11:00,,{m}01,,,,,,,,,,,,,,,,,,,,,,,",
]
LOCAL_REJECTS = [
    (5, "im-3", "invalid_number", "age", "年龄"),
    (6, "im-4", "invalid_date", "birthday", "生日"),
    (7, "im-5", "invalid_bool", "consent.contactAllowed", "同意联系"),
]


def table(mobile_prefix="138003001"):
    """The table, its mobiles mobile_prefix + two digits."""
    rows = [r.format(m=mobile_prefix) for r in ROWS]
    return HEADER + "\r\n" + "\r\n".join(rows) + "\r\n"


def as_tsv(text):
    """The table as Excel's "Unicode text" writes it: cells between tabs."""
    out = io.StringIO()
    w = csv.writer(out, delimiter="\t", lineterminator="\r\n")
    for row in csv.reader(io.StringIO(text, newline="")):
        w.writerow(row)
    return out.getvalue()


class Files:
    """A temporary folder for the files a test pushes."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="keyuanctl-import-")

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return path

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def encodings_of(text):
    """The same text as each encoding a spreadsheet may save it in."""
    return {
        "utf8": text.encode("utf-8"),
        "utf8bom": b"\xef\xbb\xbf" + text.encode("utf-8"),
        "gbk": text.encode("gbk"),
        "gb18030": text.encode("gb18030"),
        "utf16": b"\xff\xfe" + as_tsv(text).encode("utf-16-le"),
    }


# --- a fake intake ---------------------------------------------------------

class FakeIntake(harness.FakeService):
    """Records every Envelope and answers as intake would: leads and
    contacts are accepted once per (source, source event id) and
    duplicates after; an AgentQuery gets `agents`; anything else is
    rejected as unsupported."""

    def __init__(self, agents=()):
        super().__init__()
        self.agents = list(agents)
        self.received = []
        self.first = {}
        self.next_customer = 100

    def events(self, kind):
        return [getattr(e, kind) for e in self.received
                if e.WhichOneof("body") == kind]

    def answer(self, env):
        out = pb.Envelope(request_id=env.request_id)
        kind = env.WhichOneof("body")
        if kind == "agent_query":
            out.agent_list.agents.extend(self.agents)
            return out
        if kind not in ("lead", "contact"):
            out.reply.status = control_pb2.REPLY_STATUS_REJECTED
            out.reply.code = "unsupported"
            return out
        ev = getattr(env, kind)
        key = (kind, ev.source, ev.source_event_id)
        if key in self.first:
            out.reply.CopyFrom(self.first[key])
            out.reply.status = control_pb2.REPLY_STATUS_DUPLICATE
            return out
        out.reply.status = control_pb2.REPLY_STATUS_ACCEPTED
        if kind == "lead":
            self.next_customer += 1
            out.reply.customer_id = self.next_customer
            out.reply.created = True
        else:
            out.reply.customer_id = ev.customer_id
        self.first[key] = out.reply
        return out

    def reply(self, ident, env):
        self.received.append(env)
        return self.answer(env)


def as_dict(msg):
    return json_format.MessageToDict(msg)


class FakeIntakeCase(unittest.TestCase):
    def setUp(self):
        self.fake = FakeIntake(agents=[
            control_pb2.Agent(id="a01", name="王经理", team="north",
                              active=True, working_hours="09:00-21:00"),
            control_pb2.Agent(id="a02", name="Li", team="south")])
        self.fake.start()
        self.files = Files()

    def tearDown(self):
        self.fake.close()
        self.files.close()

    def ctl(self, *args, check=False):
        return harness.keyuanctl(*args, "--intake", self.fake.endpoint,
                                 check=check)


class ImportFakeIntakeTest(FakeIntakeCase):
    def push(self, name, data, kind="leads", *extra):
        path = self.files.write(name, data)
        start = len(self.fake.received)
        r = self.ctl("push", kind, path, *extra)
        sent = self.fake.received[start:]
        return r, sent

    def test_every_encoding_sends_the_same_events(self):
        text = table()
        sent = {}
        for enc, data in encodings_of(text).items():
            name = "leads-%s.%s" % (enc, "tsv" if enc == "utf16" else "csv")
            r, got = self.push(name, data)
            self.assertEqual(r.returncode, 0, r.stderr)
            n = lead_counts(r.stdout)
            self.assertEqual((n["rows"], n["local"]), (7, 3), enc)
            sent[enc] = [as_dict(e.lead) for e in got]
            if enc in ("gbk", "gb18030"):
                self.assertIn("GB18030", r.stderr)
            if enc == "utf16":
                self.assertIn("UTF-16LE", r.stderr)
        self.assertEqual(len(sent["utf8"]), 4)
        for enc in sent:
            self.assertEqual(sent[enc], sent["utf8"], enc)
        # The text is the text of the file, whatever its encoding.
        self.assertEqual(sent["gbk"][0]["name"], "张三")
        self.assertEqual(sent["gbk"][1]["note"], "说\"再看看\"\n下周回电")

    def test_gb18030_keeps_emoji_and_combining_marks(self):
        text = ("来源编号,姓名,手机,爱好\n"
                "em-1,Zoe\u0308 🏠,13800138999,\"🏊;读书\"\n")
        r, got = self.push("emoji.csv", text.encode("gb18030"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(got[0].lead.name, "Zoe\u0308 🏠")
        self.assertEqual(list(got[0].lead.hobbies), ["🏊", "读书"])

    def test_profile_columns_land_in_the_lead(self):
        r, got = self.push("leads.csv", table().encode("gbk"))
        lead = as_dict(got[0].lead)
        self.assertEqual(lead["age"], 35)
        self.assertEqual(lead["household"],
                         {"size": 4, "children": [{"age": 5}, {"age": 9}]})
        self.assertEqual(lead["occupation"], "教师")
        self.assertEqual(lead["employer"], "市第一中学")
        self.assertEqual(lead["decision"], {"decisionMaker": "配偶",
                                            "influencers": ["父母", "朋友"]})
        self.assertEqual(lead["lifestyle"], "早睡早起")
        self.assertEqual(lead["hobbies"], ["游泳", "读书"])
        self.assertEqual(lead["consent"], {
            "contactAllowed": True,
            "recordedAt": "2026-05-01T01:30:00Z"})
        self.assertEqual(lead["birthday"], {"year": 1990, "month": 4,
                                            "day": 12, "lunar": True,
                                            "leapMonth": True})
        self.assertEqual(lead["needs"]["priorities"], ["学区", "交通"])
        self.assertEqual(lead["needs"]["floorPreference"], "中楼层")
        self.assertEqual(lead["needs"]["orientationPreference"], "南北")
        self.assertEqual(lead["needs"]["decorationPreference"], "精装")
        self.assertEqual(lead["needs"]["regionCodes"], ["110105", "110108"])
        second = as_dict(got[1].lead)
        self.assertEqual(second["consent"]["contactAllowed"], True)
        self.assertNotIn("doNotDisturb", second["consent"])
        self.assertEqual(second["birthday"], {"year": 1985, "month": 10,
                                              "day": 1})
        self.assertNotIn("decision", as_dict(got[3].lead))  # line 9

    def test_bad_values_refused_per_row_with_line_and_column(self):
        r, got = self.push("leads.csv", table().encode("gbk"))
        for line, sid, code, field, column in LOCAL_REJECTS:
            self.assertRegex(
                r.stdout, r"(?m)^line %d \[%s\]: rejected locally %s at %s: "
                r"column \d+ \(%s\): " % (line, sid, code,
                                          re.escape(field), column))
        sent = [e.lead.source_event_id for e in got]
        self.assertEqual(sent, ["im-1", "im-2", "im-6", "im-7"])

        r = self.ctl("push", "leads", self.files.write(
            "j.csv", table().encode("gbk")), "--json")
        rows = [json.loads(x) for x in r.stdout.splitlines()]
        by_line = {x["line"]: x for x in rows if "line" in x}
        self.assertEqual(by_line[5]["field"], "age")
        self.assertTrue(by_line[5]["local"])
        self.assertIn("年龄", by_line[5]["message"])

    def test_push_contacts_csv_and_jsonl(self):
        text = ("来源编号,客户编号,方式,沟通时间,内容,客户反馈,下一步,"
                "下一步时间\n"
                "ct-1,42,微信,2026-05-01 09:30,介绍两套,嫌贵,约看房,"
                "2026-05-03 14:00\n"
                "ct-2,x,电话,,,,,\n"
                "ct-1,42,微信,2026-05-01 09:30,介绍两套,嫌贵,约看房,"
                "2026-05-03 14:00\n")
        r, got = self.push("contacts.csv", text.encode("gb18030"), "contacts")
        self.assertEqual(contact_counts(r.stdout), {
            "rows": 3, "logged": 1, "duplicate": 1, "rejected": 1,
            "local": 1, "unanswered": 0})
        self.assertRegex(r.stdout, r"line 3 \[ct-2\]: rejected locally "
                                   r"invalid_number at customerId")
        c = as_dict(got[0].contact)
        self.assertEqual(c, {
            "source": "csv", "sourceEventId": "ct-1", "customerId": "42",
            "channel": "CHANNEL_WECHAT",
            "contactedAt": "2026-05-01T01:30:00Z", "summary": "介绍两套",
            "feedback": "嫌贵", "nextStep": {
                "action": "约看房", "dueAt": "2026-05-03T06:00:00Z"}})

        lines = [{"source": "crm", "sourceEventId": "cj-1",
                  "customerId": "42", "channel": "CHANNEL_VISIT",
                  "summary": "看了两套", "changes": {
                      "needs": {"budgetMaxWan": 700}},
                  "changePaths": ["needs.budgetMaxWan"]},
                 {"sourceEventId": "cj-2", "customerId": "42",
                  "channel": "fax"}]
        r, got = self.push("c.jsonl", "\n".join(
            json.dumps(x, ensure_ascii=False) for x in lines), "contacts",
            "--source", "walk")
        n = contact_counts(r.stdout)
        self.assertEqual((n["logged"], n["local"]), (1, 1))
        self.assertEqual(as_dict(got[0].contact)["changePaths"],
                         ["needs.budgetMaxWan"])

    def test_log_contact_builds_the_contact_log(self):
        r = self.ctl("log", "contact", "--customer", "42", "--channel",
                     "微信", "--summary", "聊了预算", "--feedback", "想再看看",
                     "--next-step", "约周六看房", "--next-at",
                     "2026-05-09 10:00", "--at", "2026-05-06T20:15:00+08:00",
                     "--agent", "a01", "--event-id", "wx-1",
                     "--set", "needs.budget_max_wan=700",
                     "--set", "needs.regionCodes=[\"110105\",\"110108\"]",
                     "--set", "occupation=医生", "--set", "hobbies=[]")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("logged: customer 42", r.stdout)
        c = as_dict(self.fake.events("contact")[-1])
        self.assertEqual(c, {
            "source": "keyuanctl", "sourceEventId": "wx-1",
            "customerId": "42", "agentId": "a01",
            "contactedAt": "2026-05-06T12:15:00Z",
            "channel": "CHANNEL_WECHAT", "summary": "聊了预算",
            "feedback": "想再看看",
            "nextStep": {"action": "约周六看房",
                         "dueAt": "2026-05-09T02:00:00Z"},
            "changes": {"occupation": "医生", "needs": {
                "regionCodes": ["110105", "110108"], "budgetMaxWan": 700}},
            "changePaths": ["needs.budgetMaxWan", "needs.regionCodes",
                            "occupation", "hobbies"]})

        # No --event-id: one is made, printed, and a retry with it is a
        # duplicate.
        r = self.ctl("log", "contact", "--customer", "42", "--channel",
                     "phone", "--summary", "回电", "--json")
        out = json.loads(r.stdout)
        self.assertEqual(out["status"], "REPLY_STATUS_ACCEPTED")
        self.assertRegex(out["sourceEventId"],
                         r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-"
                         r"[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        r = self.ctl("log", "contact", "--customer", "42", "--channel",
                     "phone", "--summary", "回电", "--event-id",
                     out["sourceEventId"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("duplicate", r.stdout)

    def test_log_contact_usage_errors(self):
        base = ["log", "contact", "--customer", "42", "--channel", "sms",
                "--summary", "s"]
        for args in (["log"], ["log", "call"], base[:6],
                     base[:5] + ["fax"] + base[6:],
                     base + ["--next-step", "x"],
                     base + ["--next-at", "2026-05-09 10:00"],
                     base + ["--at", "soon"],
                     base + ["--set", "needs.nothing=1"],
                     base + ["--set", "needs.bedrooms=two"],
                     base + ["--set", "needs={}", "--set", "needs.bedrooms=2"],
                     base + ["extra"]):
            r = self.ctl(*args)
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
            self.assertTrue(r.stderr.strip(), args)
        self.assertEqual(self.fake.events("contact"), [])

    def test_agents_table_and_json(self):
        r = self.ctl("agents", check=True)
        lines = r.stdout.splitlines()
        self.assertRegex(lines[0], r"^ID +NAME +TEAM +ACTIVE +HOURS$")
        self.assertRegex(lines[1], r"^a01 +王经理 +north +yes +09:00-21:00$")
        self.assertRegex(lines[2], r"^a02 +Li +south +no +-$")
        rows = [json.loads(x) for x in
                self.ctl("agents", "--json", check=True).stdout.splitlines()]
        self.assertEqual(rows[0], {"id": "a01", "name": "王经理",
                                   "team": "north", "active": True,
                                   "workingHours": "09:00-21:00"})
        self.assertEqual(rows[1]["id"], "a02")


# --- the real services ------------------------------------------------------

VOLATILE = {"customerId", "createdAt", "updatedAt", "changeId", "at"}


def strip_volatile(obj):
    """A customer view without what differs between two clusters: ids
    and the times the services stamped, also in the file's history."""
    if isinstance(obj, dict):
        return {k: strip_volatile(v) for k, v in obj.items()
                if k not in VOLATILE}
    if isinstance(obj, list):
        return [strip_volatile(v) for v in obj
                if not (isinstance(v, dict) and v.get("path") in VOLATILE)]
    return obj


class ImportClusterTest(unittest.TestCase):
    """Two clusters: one is fed the GBK file, the other the BOM UTF-8 one."""

    @classmethod
    def setUpClass(cls):
        cls.gbk = harness.Cluster().start()
        try:
            cls.bom = harness.Cluster().start()
        except Exception:
            cls.gbk.close()
            raise
        cls.files = Files()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.gbk.close()
            cls.bom.close()
        finally:
            cls.files.close()

    def ctl(self, cluster, *args, check=True):
        return harness.keyuanctl(*args, cluster=cluster, check=check)

    def counters(self, cluster):
        return {c.name: c.value for c in cluster.status("intake").counters}

    def view(self, cluster, mobile):
        return json.loads(self.ctl(cluster, "show", "--mobile", mobile,
                                   "--json").stdout)

    def test_gbk_and_bom_files_make_identical_files(self):
        text = table("139004001")
        paths = {"gbk": self.files.write("gbk.csv", text.encode("gbk")),
                 "bom": self.files.write("bom.csv", b"\xef\xbb\xbf" +
                                         text.encode("utf-8"))}
        outs = {}
        for name, cluster in (("gbk", self.gbk), ("bom", self.bom)):
            before = self.counters(cluster)
            r = self.ctl(cluster, "push", "leads", paths[name])
            n = lead_counts(r.stdout)
            self.assertEqual(n, {"rows": 7, "created": 2, "updated": 1,
                                 "duplicate": 0, "rejected": 4, "local": 3,
                                 "unanswered": 0}, r.stdout + r.stderr)
            after = self.counters(cluster)
            delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
            self.assertEqual(delta.get("customers_created"), n["created"])
            self.assertEqual(delta.get("customers_updated"), n["updated"])
            self.assertEqual(delta.get("duplicates", 0), n["duplicate"])
            self.assertEqual(delta.get("rejected"), n["rejected"] - n["local"])
            self.assertRegex(r.stdout, r"(?m)^line 8 \[im-6\]: rejected "
                                       r"\S+ at contacts\.mobile")
            for line, sid, code, field, column in LOCAL_REJECTS:
                self.assertRegex(r.stdout, r"(?m)^line %d \[%s\]: rejected "
                                           r"locally %s at %s: column \d+ "
                                           r"\(%s\)" % (line, sid, code,
                                                        re.escape(field),
                                                        column))
            outs[name] = r.stdout

        self.assertEqual(outs["gbk"], outs["bom"])
        for mobile in ("13900400101", "13900400102"):
            g = self.view(self.gbk, mobile)
            b = self.view(self.bom, mobile)
            self.assertEqual(strip_volatile(g), strip_volatile(b), mobile)

        # The new columns are in the stored file.
        p = self.view(self.gbk, "13900400101")["profile"]
        self.assertEqual(p["name"], "张三")
        self.assertEqual(p["age"], 35)
        self.assertEqual(p["household"],
                         {"size": 4, "children": [{"age": 5}, {"age": 9}]})
        self.assertEqual(p["occupation"], "教师")
        self.assertEqual(p["employer"], "市第一中学")
        self.assertEqual(p["decision"], {"decisionMaker": "配偶",
                                         "influencers": ["父母", "朋友"]})
        self.assertEqual(p["lifestyle"], "早睡早起")
        self.assertEqual(p["hobbies"], ["游泳", "读书"])
        self.assertTrue(p["consent"]["contactAllowed"])
        self.assertNotIn("doNotDisturb", p["consent"])
        self.assertEqual(p["birthday"], {"year": 1990, "month": 4, "day": 12,
                                         "lunar": True, "leapMonth": True})
        self.assertEqual(p["needs"]["priorities"], ["学区", "交通"])
        self.assertEqual(p["needs"]["floorPreference"], "中楼层")
        self.assertEqual(p["needs"]["orientationPreference"], "南北")
        self.assertEqual(p["needs"]["decorationPreference"], "精装")
        self.assertEqual(p["needs"]["budgetMaxWan"], 650)
        p = self.view(self.bom, "13900400102")["profile"]
        self.assertEqual(p["name"], "李四")
        self.assertEqual(p["age"], 41)
        self.assertEqual(p["birthday"], {"year": 1985, "month": 10, "day": 1})


class ContactLogClusterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = harness.Cluster().start()
        cls.files = Files()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.c.close()
        finally:
            cls.files.close()

    def ctl(self, *args, check=True):
        return harness.keyuanctl(*args, cluster=self.c, check=check)

    def contact_log(self):
        return self.c.counter("intake", "contact_log")

    def customer(self, mobile):
        r = self.c.push_lead(source="t", sourceEventId="lead-" + mobile,
                             contacts={"mobile": mobile})
        self.assertEqual(r.status, control_pb2.REPLY_STATUS_ACCEPTED, r)
        return str(r.customer_id)

    def test_log_contact_appends_once(self):
        cid = self.customer("13600136501")
        before = self.contact_log()
        args = ["log", "contact", "--customer", cid, "--channel", "电话",
                "--summary", "介绍了新房源", "--next-step", "发户型图",
                "--next-at", "2026-05-09 10:00", "--event-id", "call-1"]
        r = self.ctl(*args)
        self.assertIn("logged: customer %s" % cid, r.stdout)
        self.assertEqual(self.contact_log(), before + 1)

        r = self.ctl(*args)  # the retry: a duplicate, nothing appended
        self.assertIn("duplicate", r.stdout)
        self.assertEqual(self.contact_log(), before + 1)

        view = json.loads(self.ctl("show", cid, "--json").stdout)
        self.assertEqual(view.get("contactCount"), 1)

        # Without --event-id, the id made up is printed for a retry.
        r = self.ctl("log", "contact", "--customer", cid, "--channel",
                     "wechat", "--summary", "发了户型图")
        eid = re.search(r"event id (\S+)", r.stdout).group(1)
        self.assertEqual(self.contact_log(), before + 2)
        r = self.ctl("log", "contact", "--customer", cid, "--channel",
                     "wechat", "--summary", "发了户型图", "--event-id", eid)
        self.assertIn("duplicate", r.stdout)
        self.assertEqual(self.contact_log(), before + 2)

    def test_log_contact_set_changes_the_file(self):
        r = self.c.push_lead(source="t", sourceEventId="lead-set",
                             contacts={"mobile": "13600136503"},
                             needs={"budgetMaxWan": 300, "bedrooms": 2})
        cid = str(r.customer_id)
        self.ctl("log", "contact", "--customer", cid, "--channel", "到访",
                 "--summary", "看了两套", "--at", "2026-05-06 15:00",
                 "--set", "needs.budget_max_wan=450",
                 "--set", "hobbies=[\"钓鱼\"]", "--set", "needs.bedrooms=null",
                 "--event-id", "visit-1")
        view = json.loads(self.ctl("show", cid, "--json").stdout)
        self.assertEqual(view["profile"]["needs"].get("budgetMaxWan"), 450)
        self.assertNotIn("bedrooms", view["profile"]["needs"])  # cleared
        self.assertEqual(view["profile"]["hobbies"], ["钓鱼"])
        contact = view["contacts"][0]
        self.assertEqual(contact["contactedAt"], "2026-05-06T07:00:00Z")
        self.assertEqual(contact["channel"], "CHANNEL_VISIT")
        self.assertEqual(contact["changePaths"], [
            "needs.budgetMaxWan", "hobbies", "needs.bedrooms"])

    def test_log_contact_for_unknown_customer_is_refused(self):
        before = self.contact_log()
        r = self.ctl("log", "contact", "--customer", "999999", "--channel",
                     "sms", "--summary", "x", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("rejected", r.stderr)
        self.assertEqual(self.contact_log(), before)

    def test_push_contacts_counts_equal_the_contact_log(self):
        cid = self.customer("13600136502")
        lines = [{"source": "crm", "sourceEventId": "pc-%d" % i,
                  "customerId": cid, "channel": "CHANNEL_PHONE",
                  "summary": "第%d次" % i} for i in range(5)]
        lines.append({"source": "crm", "sourceEventId": "pc-x",
                      "customerId": "999999", "channel": "CHANNEL_SMS"})
        path = self.files.write("c.jsonl", "\n".join(
            json.dumps(x, ensure_ascii=False) for x in lines))
        before = self.contact_log()
        n = contact_counts(self.ctl("push", "contacts", path).stdout)
        self.assertEqual(n, {"rows": 6, "logged": 5, "duplicate": 0,
                             "rejected": 1, "local": 0, "unanswered": 0})
        self.assertEqual(self.contact_log(), before + n["logged"])
        n = contact_counts(self.ctl("push", "contacts", path).stdout)
        self.assertEqual((n["logged"], n["duplicate"]), (0, 5))
        self.assertEqual(self.contact_log(), before + 5)

    def test_agents_from_intake(self):
        r = self.ctl("agents", "--json", check=False)
        if "unsupported" in r.stderr:
            self.skipTest("intake does not answer agent_query yet")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(harness.ROOT, "config", "agents.json"),
                  encoding="utf-8") as f:
            want = json.load(f)["agents"]
        got = [json.loads(x) for x in r.stdout.splitlines()]
        self.assertEqual([a["id"] for a in got], [a["id"] for a in want])
        for a, w in zip(got, want):
            self.assertEqual(a["name"], w["name"])
            self.assertEqual(a.get("team", ""), w.get("team", ""))
            self.assertEqual(a.get("active", False), w.get("active", True))
            self.assertEqual(a.get("workingHours", ""),
                             w.get("workingHours", ""))


if __name__ == "__main__":
    unittest.main()
