"""The customer file: every handbook field, its history, and merges.

Each handbook field goes in through a lead and through a ProfileUpdate
(set by path and cleared by path) and comes out of `show` as it went in;
every change is in the file's history with the event that made it; text
survives byte for byte; and merging two files then unmerging restores both
stored records exactly, while a lead for the merged phone lands on the file
kept.
"""
import copy
import json
from datetime import datetime
import time
import unittest

import harness
from harness import pb, control_pb2, json_format

ACCEPTED = control_pb2.REPLY_STATUS_ACCEPTED
DUPLICATE = control_pb2.REPLY_STATUS_DUPLICATE
REJECTED = control_pb2.REPLY_STATUS_REJECTED

# Every field of the handbook, as a lead or a profile carries it.
PROFILE = {
    "name": "王\U0001F600e\u0301小明",
    "age": 36,
    "birthday": {"year": 1988, "month": 4, "day": 30, "lunar": True,
                 "leapMonth": True},
    "household": {"size": 4, "children": [{"age": 6, "note": "明年上小学"},
                                          {"age": 2}]},
    "occupation": "软件工程师",
    "employer": "某某科技 🚀",
    "contacts": {"mobile": "+86 138-0013-8800", "wechatId": "wx_wang_😀",
                 "email": "wang@example.cn", "others": ["QQ 12345"]},
    "needs": {"purpose": "PURPOSE_SCHOOL_DISTRICT", "bedrooms": 3,
              "livingRooms": 2, "areaMinM2": 89, "areaMaxM2": 120,
              "regionCodes": ["110108", "110105"], "budgetMinWan": 650,
              "budgetMaxWan": 800, "floorPreference": "中高层",
              "orientationPreference": "南北通透",
              "decorationPreference": "精装", "priorities": ["学区", "地铁"],
              "timelineMonths": 3, "stage": "STAGE_COMPARING"},
    "decision": {"decisionMaker": "配偶", "influencers": ["父母"]},
    "lifestyle": "周末带孩子去公园 🌳",
    "hobbies": ["钓鱼", "摄影"],
    "consent": {"contactAllowed": True, "doNotDisturb": True,
                "recordedAt": "2026-05-01T01:30:00Z", "note": "电话中同意"},
}


def with_e164(profile, e164="+8613800138800"):
    out = copy.deepcopy(profile)
    out["contacts"]["mobileE164"] = e164
    return out


class FileCase(unittest.TestCase):
    """A cluster of intake alone, and the requests the tests send."""

    services = ("intake",)

    def setUp(self):
        self.c = harness.Cluster()
        for s in self.services:
            self.c.start(s)

    def tearDown(self):
        self.c.close()

    def lead(self, event_id, source="portal", **fields):
        return self.c.push_lead(source=source, sourceEventId=event_id,
                                **fields)

    def update(self, event_id, customer_id, profile=None, paths=(),
               expect=ACCEPTED):
        env = pb.Envelope()
        body = {"source": "agent-app", "sourceEventId": event_id,
                "customerId": str(customer_id), "paths": list(paths)}
        if profile is not None:
            body["profile"] = profile
        json_format.ParseDict(body, env.profile_update)
        r = self.c.request("intake", env).reply
        self.assertEqual(r.status, expect, r)
        return r

    def contact(self, event_id, customer_id, **fields):
        env = pb.Envelope()
        body = {"source": "agent-app", "sourceEventId": event_id,
                "customerId": str(customer_id), "agentId": "a01"}
        body.update(fields)
        json_format.ParseDict(body, env.contact)
        r = self.c.request("intake", env).reply
        self.assertEqual(r.status, ACCEPTED, r)
        return r

    def view(self, customer_id=0, mobile=""):
        env = pb.Envelope()
        env.customer_query.customer_id = customer_id
        env.customer_query.mobile = mobile
        reply = self.c.request("intake", env)
        self.assertEqual(reply.WhichOneof("body"), "customer_view", reply)
        return json_format.MessageToDict(reply.customer_view)

    def ctl(self, *args, check=True):
        return harness.keyuanctl(*args, cluster=self.c, check=check)

    def show_json(self, customer_id):
        return json.loads(self.ctl("show", str(customer_id), "--json").stdout)


class ProfileFieldsTest(FileCase):
    def test_every_field_round_trips_through_a_lead(self):
        r = self.lead("all-1", note="来自表单 ✍️", **PROFILE)
        self.assertTrue(r.created)
        view = self.view(r.customer_id)
        self.assertEqual(view["profile"], with_e164(PROFILE))
        self.assertEqual(view["note"], "来自表单 ✍️")
        self.assertEqual(view["sources"], ["portal"])
        self.assertTrue(view["agentReason"])  # which rule: test_agents.py

    def test_each_field_set_and_cleared_by_path(self):
        cid = self.lead("p-0", contacts={"mobile": "13800138801"}).customer_id
        base = self.view(cid)["profile"]
        for i, (field, value) in enumerate(PROFILE.items()):
            if field == "contacts":
                continue  # the file's identity: below
            self.update("set-%d" % i, cid, {field: value}, [field])
            self.assertEqual(self.view(cid)["profile"].get(field), value,
                             field)
            self.update("clear-%d" % i, cid, {}, [field])
            self.assertNotIn(field, self.view(cid)["profile"], field)
        self.assertEqual(self.view(cid)["profile"], base)

    def test_nested_paths_and_contacts(self):
        cid = self.lead("n-0", contacts={"mobile": "13800138802"},
                        needs={"budgetMaxWan": 300, "bedrooms": 2}).customer_id
        self.update("n-1", cid, {"needs": {"budgetMaxWan": 450}},
                    ["needs.budgetMaxWan"])
        self.update("n-2", cid, {}, ["needs.bedrooms"])
        self.update("n-3", cid, {"contacts": {"mobile": "139 0013 9802",
                                              "wechatId": "wx_n"}},
                    ["contacts.mobile", "contacts.wechat_id"])
        profile = self.view(cid)["profile"]
        self.assertEqual(profile["needs"], {"budgetMaxWan": 450})
        self.assertEqual(profile["contacts"], {
            "mobile": "139 0013 9802", "mobileE164": "+8613900139802",
            "wechatId": "wx_n"})
        # The new number and WeChat id find the file; so does the old one.
        for mobile in ("13900139802", "13800138802"):
            self.assertEqual(self.view(mobile=mobile)["customerId"],
                             str(cid))

    def test_update_without_paths_merges_non_empty_fields(self):
        cid = self.lead("m-0", contacts={"mobile": "13800138803"},
                        occupation="教师", hobbies=["跑步"]).customer_id
        self.update("m-1", cid, {"occupation": "", "employer": "第一中学",
                                 "hobbies": ["游泳"]})
        profile = self.view(cid)["profile"]
        self.assertEqual(profile["occupation"], "教师")  # empty: no change
        self.assertEqual(profile["employer"], "第一中学")
        self.assertEqual(profile["hobbies"], ["游泳"])

    def test_bad_updates_are_rejected_naming_the_field(self):
        cid = self.lead("b-0", contacts={"mobile": "13800138804"}).customer_id
        for paths, code in ((["nope"], "invalid_path"),
                            (["contacts.mobileE164"], "invalid_path"),
                            (["household.children.age"], "invalid_path")):
            r = self.update("b-" + paths[0], cid, {}, paths, expect=REJECTED)
            self.assertEqual((r.code, r.field), (code, "paths"))
        r = self.update("b-x", cid, {"contacts": {"mobile": "12345"}},
                        ["contacts.mobile"], expect=REJECTED)
        self.assertEqual((r.code, r.field),
                         ("invalid_phone", "profile.contacts.mobile"))
        r = self.update("b-y", cid, {"hobbies": ["x" * 33]}, expect=REJECTED)
        self.assertEqual((r.code, r.field), ("too_long", "profile.hobbies"))
        r = self.update("b-z", 12345, {"age": 3}, expect=REJECTED)
        self.assertEqual((r.code, r.field), ("not_found", "customerId"))

    def test_update_retried_changes_nothing_twice(self):
        cid = self.lead("r-0", contacts={"mobile": "13800138805"}).customer_id
        self.update("r-1", cid, {"age": 40}, ["age"])
        self.update("r-2", cid, {"age": 41}, ["age"])
        again = self.update("r-1", cid, {"age": 40}, ["age"],
                            expect=DUPLICATE)
        self.assertEqual(again.customer_id, cid)
        self.assertEqual(self.view(cid)["profile"]["age"], 41)


class HistoryTest(FileCase):
    def test_history_says_what_when_and_which_event(self):
        t0 = time.time()
        cid = self.lead("h-1", contacts={"mobile": "13800138810"},
                        needs={"budgetMaxWan": 300}).customer_id
        self.lead("h-2", source="58", contacts={"mobile": "138 0013 8810"},
                  needs={"budgetMaxWan": 400})
        self.update("h-3", cid, {"age": 33}, ["age"])
        self.contact("h-4", cid, channel="CHANNEL_PHONE", summary="聊预算",
                     contactedAt="2026-05-02T02:00:00Z",
                     nextStep={"action": "周六看房",
                               "dueAt": "2026-05-09T02:00:00Z"},
                     changes={"needs": {"bedrooms": 3}},
                     changePaths=["needs.bedrooms"])
        self.lead("h-5", contacts={"mobile": "13800138810"})  # no news
        t1 = time.time()

        changes = self.view(cid)["changes"]
        self.assertEqual([(c["kind"], c.get("source"), c["sourceEventId"])
                          for c in changes],
                         [("contact", "agent-app", "h-4"),
                          ("profile", "agent-app", "h-3"),
                          ("lead", "58", "h-2"), ("lead", "portal", "h-1")])
        for c in changes:  # when intake changed the file
            at = datetime.fromisoformat(c["at"].replace("Z", "+00:00"))
            self.assertTrue(t0 - 1 <= at.timestamp() <= t1 + 1, c["at"])
        fields = {f["path"]: (f.get("oldJson", ""), f.get("newJson", ""))
                  for f in changes[2]["fields"]}
        self.assertEqual(fields, {
            "profile.needs.budgetMaxWan": ("300", "400"),
            "sources": ('["portal"]', '["portal","58"]')})
        fields = {f["path"]: (f.get("oldJson", ""), f.get("newJson", ""))
                  for f in changes[0]["fields"]}
        self.assertEqual(fields["profile.needs.bedrooms"], ("", "3"))
        self.assertEqual(fields["nextStep.action"], ("", '"周六看房"'))
        self.assertEqual(fields["lastContactAt"],
                         ("", '"2026-05-02T02:00:00Z"'))
        self.assertEqual(fields["contactCount"], ("", "1"))

        view = self.view(cid)
        self.assertEqual(view["contactCount"], 1)
        self.assertEqual(view["nextStep"]["action"], "周六看房")
        self.assertEqual(view["contacts"][0]["summary"], "聊预算")


class TextTest(FileCase):
    NAME = "李\U0001F600e\u0301"          # emoji, e + combining acute
    LIFE = "👨‍👩‍👧 周末 a\u0308 ok"     # ZWJ family, a + diaeresis

    def test_text_survives_intake_to_show_byte_for_byte(self):
        r = self.lead("t-1", name=self.NAME, lifestyle=self.LIFE,
                      hobbies=["🎣", "e\u0301"],
                      contacts={"mobile": "13800138820"})
        view = self.show_json(r.customer_id)
        self.assertEqual(view["profile"]["name"].encode(),
                         self.NAME.encode())
        self.assertEqual(view["profile"]["lifestyle"].encode(),
                         self.LIFE.encode())
        self.assertEqual(view["profile"]["hobbies"], ["🎣", "e\u0301"])
        text = self.ctl("show", str(r.customer_id)).stdout
        self.assertIn("name:", text)
        self.assertIn(self.NAME, text)

    def test_same_name_in_another_form_is_no_change(self):
        r = self.lead("t-2", name=self.NAME,
                      contacts={"mobile": "13800138821"})
        # NFC form with spaces around: the same name, kept as received.
        self.lead("t-3", name=" 李\U0001F600\u00e9 ",
                  contacts={"mobile": "13800138821"})
        view = self.view(r.customer_id)
        self.assertEqual(view["profile"]["name"], self.NAME)
        self.assertEqual(len(view["changes"]), 1)

    def test_blank_text_changes_nothing(self):
        """Text that is only white space says nothing: neither a new file
        nor a known one keeps it, and it never overwrites what is there."""
        r = self.lead("t-b1", name="张三", occupation="医生", note="买学区房",
                      contacts={"mobile": "13800138831"})
        self.lead("t-b2", source="other", name="   ", occupation="\u3000",
                  note="\u00a0 ", contacts={"mobile": "13800138831"})
        view = self.view(r.customer_id)
        self.assertEqual(view["profile"]["name"], "张三")
        self.assertEqual(view["profile"]["occupation"], "医生")
        self.assertEqual(view["note"], "买学区房")
        newest = [f["path"] for f in view["changes"][0]["fields"]]
        self.assertEqual(newest, ["sources"])
        n = self.lead("t-b3", name=" ", note="\n\t",
                      contacts={"mobile": "13800138832"})
        view = self.view(n.customer_id)
        self.assertNotIn("name", view.get("profile", {}))
        self.assertNotIn("note", view)

    def test_name_alone_never_merges(self):
        a = self.lead("t-4", name=self.NAME,
                      contacts={"mobile": "13800138822"})
        b = self.lead("t-5", name=" 李\U0001F600\u00e9",
                      contacts={"mobile": "13800138823"})
        self.assertTrue(a.created and b.created)
        self.assertNotEqual(a.customer_id, b.customer_id)


class MergeTest(FileCase):
    def two_files(self):
        a = self.lead("a-1", name="张三", contacts={"mobile": "13800138830"},
                      needs={"budgetMaxWan": 300})
        b = self.lead("b-1", source="58", name="张三",
                      contacts={"mobile": "13900139830",
                                "email": "zs@example.cn"},
                      needs={"bedrooms": 2}, hobbies=["游泳"])
        self.contact("a-c", a.customer_id, summary="A 的电话")
        self.contact("b-c", b.customer_id, summary="B 的微信",
                     nextStep={"action": "回电",
                               "dueAt": "2026-06-01T02:00:00Z"})
        return a.customer_id, b.customer_id

    @staticmethod
    def stored(view):
        """The view without history, which merging adds to."""
        out = dict(view)
        out.pop("changes", None)
        return out

    def test_merge_then_unmerge_restores_both_exactly(self):
        a, b = self.two_files()
        before = {a: self.show_json(a), b: self.show_json(b)}

        self.ctl("merge", str(a), str(b))
        merged = self.show_json(a)
        self.assertEqual(merged["mergedFrom"], [str(b)])
        self.assertEqual(merged["sources"], ["portal", "58"])
        self.assertEqual(merged["contactCount"], 2)
        self.assertEqual(sorted(c["summary"] for c in merged["contacts"]),
                         ["A 的电话", "B 的微信"])
        self.assertEqual(merged["profile"]["needs"],
                         {"budgetMaxWan": 300, "bedrooms": 2})
        self.assertEqual(merged["profile"]["contacts"]["others"],
                         ["13900139830"])
        self.assertEqual(merged["nextStep"]["action"], "回电")
        self.assertEqual(self.show_json(b)["mergedInto"], str(a))
        self.assertEqual(self.view(mobile="13900139830")["customerId"],
                         str(a))

        again = self.ctl("merge", str(a), str(b)).stdout
        self.assertIn("already", again)

        self.ctl("unmerge", str(b))
        for cid in (a, b):
            after = self.show_json(cid)
            self.assertEqual(self.stored(after), self.stored(before[cid]))
            kinds = [c["kind"] for c in after["changes"]][:2]
            self.assertEqual(kinds, ["unmerge", "merge"])
        self.assertEqual(self.view(mobile="13900139830")["customerId"],
                         str(b))
        r = self.ctl("unmerge", str(b), check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not_merged", r.stderr)

    def test_lead_for_merged_phone_lands_on_the_file_kept(self):
        a, b = self.two_files()
        self.ctl("merge", str(a), str(b))
        r = self.lead("x-1", source="anjuke",
                      contacts={"mobile": "139 0013 9830"},
                      needs={"timelineMonths": 6})
        self.assertEqual(r.customer_id, a)
        self.assertFalse(r.created)
        c = self.contact("x-2", b, summary="记在合并的档案上")
        self.assertEqual(c.customer_id, a)
        before_b = self.show_json(b)

        self.ctl("unmerge", str(b))
        view_a, view_b = self.view(a), self.show_json(b)
        # b is as it was; what happened since the merge stays on a.
        self.assertEqual(self.stored(view_b)["profile"],
                         self.stored(before_b)["profile"])
        self.assertNotIn("mergedInto", view_b)
        self.assertEqual(view_a["sources"], ["portal", "anjuke"])
        self.assertEqual(view_a["profile"]["needs"],
                         {"budgetMaxWan": 300, "timelineMonths": 6})
        self.assertNotIn("others", view_a["profile"]["contacts"])
        self.assertNotIn("mergedFrom", view_a)
        self.assertEqual(sorted(x["summary"] for x in view_a["contacts"]),
                         ["A 的电话", "记在合并的档案上"])
        self.assertEqual(self.view(mobile="13900139830")["customerId"],
                         str(b))

    def test_merges_refused(self):
        a, b = self.two_files()
        cases = [((str(a), str(a)), "invalid_merge"),
                 ((str(a), "999"), "not_found"),
                 (("999", str(b)), "not_found")]
        for args, code in cases:
            r = self.ctl("merge", *args, check=False)
            self.assertEqual(r.returncode, 1, args)
            self.assertIn(code, r.stderr)
        self.ctl("merge", str(a), str(b))
        c = self.lead("c-1", contacts={"mobile": "13700137830"}).customer_id
        r = self.ctl("merge", str(c), str(b), "--json", check=False)
        self.assertEqual(json.loads(r.stdout)["code"], "already_merged")
        self.ctl("merge", str(c), str(a))
        r = self.ctl("unmerge", str(b), check=False)
        self.assertIn("keep_merged", r.stderr)
        self.ctl("unmerge", str(a))
        self.ctl("unmerge", str(b))


class ShowTest(FileCase):
    def test_show_prints_the_whole_file(self):
        r = self.lead("s-1", contacts={"mobile": "13800138840"}, **{
            k: v for k, v in PROFILE.items() if k != "contacts"})
        self.contact("s-2", r.customer_id, summary="第一次电话",
                     channel="CHANNEL_PHONE")
        out = self.ctl("show", "--mobile", "138 0013 8840").stdout
        for pattern in (r"(?m)^customer_id: +%d$" % r.customer_id,
                        r"(?m)^agent_reason: +\S.*$",
                        r"(?m)^sources: +portal$",
                        r"(?m)^name: +王",
                        r"(?m)^needs\.budget_max_wan: +800$",
                        r"(?m)^household\.size: +4$",
                        r"(?m)^contacts \(1 of 1, newest first\):$",
                        r"(?m)^WHEN +CHANNEL +AGENT +SUMMARY",
                        r"(?m)phone +a01 +第一次电话",
                        r"(?m)^history \(2 changes shown, newest first\):$",
                        r"(?m)  contact  agent-app/s-2$",
                        r'(?m)^  contactCount: - -> 1$'):
            self.assertRegex(out, pattern)
        view = json.loads(self.ctl("show", str(r.customer_id), "--json",
                                   "--changes", "1").stdout)
        self.assertEqual(len(view["changes"]), 1)


class MergeFollowUpsTest(FileCase):
    services = ("notifier", "scheduler", "grading", "intake")

    def planned(self, cid):
        r = self.ctl("reminders", "--planned", "--customer", str(cid),
                     "--json")
        return [json.loads(x) for x in r.stdout.splitlines() if x]

    def test_merged_file_loses_its_follow_ups(self):
        a = self.lead("f-1", contacts={"mobile": "13800138850"}).customer_id
        b = self.lead("f-2", contacts={"mobile": "13800138851"}).customer_id
        self.c.wait_for(lambda: self.planned(a) and self.planned(b),
                        what="follow-ups for both")
        self.ctl("merge", str(a), str(b))
        self.c.wait_for(lambda: not [x for x in self.planned(b)
                                     if "firedAt" not in x],
                        what="b's follow-ups to be cancelled")
        self.assertTrue(self.planned(a))
        self.ctl("unmerge", str(b))
        self.c.wait_for(lambda: self.planned(b), what="b's cadence again")


if __name__ == "__main__":
    unittest.main()
