"""The shipped demo data (data/): figures true to their source, listings
that copy no real row, leads that parse as LeadEvent, and - with the real
services - the import outcomes the sample leads were designed to give.

The outcomes are designed in scripts/make-demo-data.py and listed in
data/README.md: pushing sample_leads.jsonl then sample_leads.csv into an
empty intake creates 34 customer files, updates 4, answers 2 duplicates
and rejects 2 rows.
"""
import csv
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import unittest

from tests.proc import harness
from tests.proc.harness import json_format, lead_pb2

DATA = os.path.join(harness.ROOT, "data")
SCRIPT = os.path.join(harness.ROOT, "scripts", "make-demo-data.py")
HOUSING = os.path.join(harness.SHARED, "data", "housing",
                       "cn_housing_listings_sample.csv")

# What each file was designed to give: created, updated, duplicate, rejected.
EXPECTED = {"sample_leads.jsonl": (22, 2, 1, 1),
            "sample_leads.csv": (12, 2, 1, 1)}
DEMO_LISTINGS = 307

CSV_HEADERS = ["来源", "来源编号", "时间", "姓名", "手机", "微信", "邮箱",
               "购房目的", "室", "厅", "最小面积", "最大面积", "意向区域",
               "最低预算(万)", "最高预算(万)", "购房时间(月)", "阶段", "备注"]


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        lines = [line for line in f if not line.startswith("#")]
    return list(csv.DictReader(lines))


def figures():
    return read_csv(os.path.join(DATA, "market_figures.csv"))


def jsonl_events():
    with open(os.path.join(DATA, "sample_leads.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def sheet_time(text):
    """A spreadsheet's "2026/11/29 9:05", Beijing time, as RFC 3339."""
    t = datetime.datetime.strptime(text, "%Y/%m/%d %H:%M")
    return t.strftime("%Y-%m-%dT%H:%M:00+08:00")


def csv_events():
    """The CSV rows as LeadEvent JSON dicts, the way keyuanctl maps them."""
    purposes = {"自住": "PURPOSE_OWN_HOME", "改善": "PURPOSE_UPGRADE",
                "投资": "PURPOSE_INVESTMENT", "学区": "PURPOSE_SCHOOL_DISTRICT"}
    stages = {"刚开始了解": "STAGE_JUST_LOOKING", "目标明确": "STAGE_CLEAR_TARGET",
              "对比中": "STAGE_COMPARING"}
    numbers = [("室", "bedrooms"), ("厅", "livingRooms"),
               ("最小面积", "areaMinM2"), ("最大面积", "areaMaxM2"),
               ("最低预算(万)", "budgetMinWan"), ("最高预算(万)", "budgetMaxWan"),
               ("购房时间(月)", "timelineMonths")]
    events = []
    for r in read_csv(os.path.join(DATA, "sample_leads.csv")):
        needs = {k: int(r[h]) for h, k in numbers if r[h]}
        if r["意向区域"]:
            needs["regionCodes"] = r["意向区域"].split(";")
        if r["购房目的"]:
            needs["purpose"] = purposes[r["购房目的"]]
        if r["阶段"]:
            needs["stage"] = stages[r["阶段"]]
        contacts = {k: r[h] for h, k in [("手机", "mobile"),
                                         ("微信", "wechatId"),
                                         ("邮箱", "email")] if r[h]}
        ev = {"source": r["来源"], "sourceEventId": r["来源编号"],
              "occurredAt": sheet_time(r["时间"]), "name": r["姓名"],
              "contacts": contacts, "note": r["备注"]}
        if needs:
            ev["needs"] = needs
        events.append(ev)
    return events


def mobile_key(raw):
    """A small model of intake's normalisation, enough for the sample."""
    s = "".join(chr(ord(c) - 0xFEE0) if "\uff10" <= c <= "\uff19" else c
                for c in raw)
    digits = "".join(c for c in s if c.isdigit())
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    ok = len(digits) == 11 and digits[0] == "1" and digits[1] in "3456789"
    return "+86" + digits if ok else None


class Model:
    """What intake should answer, from the rules in DESIGN.md."""

    def __init__(self):
        self.seen = set()
        self.ids = {}
        self.customers = 0

    def push(self, ev):
        c = ev.get("contacts", {})
        mobile = c.get("mobile", "")
        if not ev.get("source") or (mobile and mobile_key(mobile) is None):
            return "rejected"
        if (ev["source"], ev["sourceEventId"]) in self.seen:
            return "duplicate"
        self.seen.add((ev["source"], ev["sourceEventId"]))
        keys = [k for k in (mobile and "m" + mobile_key(mobile),
                            c.get("wechatId") and "w" + c["wechatId"],
                            c.get("email") and "e" + c["email"].lower()) if k]
        found = [self.ids[k] for k in keys if k in self.ids]
        if found:
            who, outcome = found[0], "updated"
        else:
            self.customers += 1
            who, outcome = self.customers, "created"
        for k in keys:
            self.ids.setdefault(k, who)
        return outcome


def tally(outcomes):
    return tuple(outcomes.count(o)
                 for o in ("created", "updated", "duplicate", "rejected"))


class MarketFigures(unittest.TestCase):

    def setUp(self):
        if not os.path.exists(HOUSING):
            self.skipTest("no housing sample at %s" % HOUSING)
        with open(HOUSING, encoding="utf-8", newline="") as f:
            self.rows = list(csv.DictReader(f))

    def district_rows(self, fig):
        return [r for r in self.rows if r["city"] == fig["city"] and
                r["district"] == fig["district"]]

    def test_medians_match_the_source(self):
        figs = figures()
        self.assertEqual(sum(int(f["listings"]) for f in figs),
                         len(self.rows))
        for fig in figs:
            rows = self.district_rows(fig)
            unit = [float(r["unit_price_yuan_m2"]) for r in rows]
            area = [float(r["area_m2"]) for r in rows]
            q = statistics.quantiles(unit, n=4, method="inclusive")
            with self.subTest(district=fig["district"]):
                self.assertEqual(int(fig["listings"]), len(rows))
                self.assertEqual(int(fig["unit_price_median"]),
                                 round(statistics.median(unit)))
                self.assertEqual(int(fig["unit_price_p25"]), round(q[0]))
                self.assertEqual(int(fig["unit_price_p75"]), round(q[2]))
                self.assertAlmostEqual(float(fig["area_median_m2"]),
                                       statistics.median(area), places=1)
                twos = sum(1 for r in rows if r["bedrooms"] == "2")
                self.assertAlmostEqual(float(fig["bedrooms_2_share"]),
                                       twos / len(rows), places=3)

    def test_no_source_row_is_shipped(self):
        """Figures only: no community, business area or row id leaks."""
        with open(os.path.join(DATA, "market_figures.csv"),
                  encoding="utf-8") as f:
            text = f.read()
        communities = {r["community"] for r in self.rows if r["community"]}
        leaked = [c for c in communities if len(c) > 2 and c in text]
        self.assertEqual(leaked, [])
        self.assertNotIn("BJ0001", text)

    def test_demo_listings_copy_no_real_row(self):
        real = {(r["community"], float(r["area_m2"]),
                 float(r["total_price_wan"])) for r in self.rows}
        real_pairs = {(a, p) for _, a, p in real}
        demo = read_csv(os.path.join(DATA, "demo_listings.csv"))
        for r in demo:
            key = (r["community"], float(r["area_m2"]),
                   float(r["total_price_wan"]))
            self.assertNotIn(key, real, r["row_id"])
        same_numbers = sum(1 for r in demo
                           if (float(r["area_m2"]),
                               float(r["total_price_wan"])) in real_pairs)
        self.assertLess(same_numbers, 3, "area and price copied?")

    def test_script_output_is_stable(self):
        tmp = tempfile.TemporaryDirectory(prefix="keyuan-demo-data-")
        self.addCleanup(tmp.cleanup)
        out = tmp.name
        subprocess.run([sys.executable, SCRIPT, "--housing", HOUSING,
                        "--out", out], check=True, capture_output=True)
        for name in ("market_figures.csv", "demo_listings.csv",
                     "sample_leads.jsonl", "sample_leads.csv"):
            with open(os.path.join(out, name), "rb") as a, \
                    open(os.path.join(DATA, name), "rb") as b:
                self.assertEqual(a.read(), b.read(), name)


class DemoListings(unittest.TestCase):

    def test_shape(self):
        demo = read_csv(os.path.join(DATA, "demo_listings.csv"))
        with open(os.path.join(DATA, "demo_listings.csv"),
                  encoding="utf-8") as f:
            header = f.readline().strip().split(",")
        if os.path.exists(HOUSING):
            with open(HOUSING, encoding="utf-8") as f:
                self.assertEqual(header, f.readline().strip().split(","))
        codes = {f["district_code"] for f in figures() if f["district_code"]}
        self.assertEqual(len(demo), DEMO_LISTINGS)
        self.assertEqual({r["district_code"] for r in demo}, codes)
        for i, r in enumerate(demo, 1):
            self.assertEqual(r["row_id"], "DEMO%04d" % i)
            self.assertEqual(r["source"], "keyuan-demo")
            self.assertEqual(r["bizcircle"], "")
            self.assertTrue(r["community"].startswith("示例小区"))
            self.assertGreater(float(r["area_m2"]), 0)
            self.assertGreater(float(r["total_price_wan"]), 0)


class SampleLeads(unittest.TestCase):

    def test_jsonl_parses_as_lead_events(self):
        for ev in jsonl_events():
            msg = lead_pb2.LeadEvent()
            json_format.ParseDict(ev, msg)   # unknown fields fail here
            self.assertTrue(msg.source_event_id)

    def test_csv_headers_and_values(self):
        with open(os.path.join(DATA, "sample_leads.csv"),
                  encoding="utf-8") as f:
            self.assertEqual(f.readline().strip().split(","), CSV_HEADERS)
        for ev in csv_events():
            msg = lead_pb2.LeadEvent()
            json_format.ParseDict(ev, msg)

    def test_needs_name_districts_of_the_figures(self):
        codes = {f["district_code"] for f in figures()}
        for ev in jsonl_events() + csv_events():
            needs = ev.get("needs", {})
            for code in needs.get("regionCodes", []):
                self.assertIn(code, codes, ev["sourceEventId"])
            t = needs.get("timelineMonths")
            if t is not None:
                self.assertTrue(1 <= t <= 12)

    def test_designed_outcomes(self):
        model = Model()
        got = {"sample_leads.jsonl":
               tally([model.push(e) for e in jsonl_events()]),
               "sample_leads.csv":
               tally([model.push(e) for e in csv_events()])}
        self.assertEqual(got, EXPECTED)


def binaries_missing():
    names = ["keyuan-" + s for s in harness.SERVICES] + ["keyuanctl"]
    return [n for n in names
            if not os.access(os.path.join(harness.BIN, n), os.X_OK)]


class PushThroughServices(unittest.TestCase):
    """Pushes the demo data with keyuanctl into a fresh cluster."""

    def setUp(self):
        missing = binaries_missing()
        if missing:
            self.skipTest("binaries not built: " + " ".join(missing))
        extra = {"scheduler": ["--speed-to-lead-s", "1",
                               "--work-start", "00:00",
                               "--work-end", "24:00"]}
        self.cluster = harness.Cluster(extra=extra)
        self.addCleanup(shutil.rmtree, self.cluster.tmp, True)
        self.addCleanup(self.cluster.close)
        self.cluster.start()

    def push(self, kind, name):
        # CSV listings take their source from --source, not a column.
        args = ["--source", "keyuan-demo"] if kind == "listings" else []
        return harness.keyuanctl("push", kind, os.path.join(DATA, name),
                                 *args, cluster=self.cluster, check=False)

    def counters(self):
        c = self.cluster
        return tuple(c.counter("intake", n)
                     for n in ("customers_created", "customers_updated",
                               "duplicates", "rejected"))

    def test_push_gives_the_designed_counts(self):
        r = self.push("listings", "demo_listings.csv")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.cluster.counter("intake", "listings"),
                         DEMO_LISTINGS)

        total = (0, 0, 0, 0)
        for name in ("sample_leads.jsonl", "sample_leads.csv"):
            r = self.push("leads", name)
            total = tuple(a + b for a, b in zip(total, EXPECTED[name]))
            self.assertEqual(self.counters(), total,
                             name + "\n" + r.stdout + r.stderr)

    def test_every_new_customer_is_reminded_once(self):
        self.push("listings", "demo_listings.csv")
        for name in ("sample_leads.jsonl", "sample_leads.csv"):
            self.push("leads", name)
        created = sum(e[0] for e in EXPECTED.values())

        def speed_lines():
            return [line for line in self.cluster.sink_lines()
                    if "kind=speed_to_lead" in line]
        self.cluster.wait_for(lambda: len(speed_lines()) >= created,
                              timeout=30, what="speed-to-lead reminders")
        customers = {w for line in speed_lines() for w in line.split()
                     if w.startswith("customer=")}
        self.assertEqual(len(speed_lines()), created)
        self.assertEqual(len(customers), created)
        grades = {w.upper() for line in speed_lines() for w in line.split()
                  if w.startswith("grade=")}
        self.assertEqual(grades, {"GRADE=A", "GRADE=B", "GRADE=C",
                                  "GRADE=LEAD"})


if __name__ == "__main__":
    unittest.main()
