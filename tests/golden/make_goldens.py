#!/usr/bin/python3
"""Write the golden files that tests/unit/test_pbjson.c checks against.

For every message type of keyuan.v1 this builds one message with a
non-default value in every field, then writes <Type>.json (the proto3 JSON
mapping as python's json_format prints it) and <Type>.bin (the binary
encoding). Envelope gets one pair per body: Envelope_<body>.json/.bin.
timestamps.json and doubles.json hold edge values of the two mappings
that python computes independently of our C code.

Run from anywhere with /usr/bin/python3; it needs protoc and
python3-protobuf. Re-run it after changing the protos and check in the
result.
"""
import atexit
import importlib
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PROTO_DIR = os.path.join(ROOT, "proto")


def load_modules():
    """Generates python classes from proto/ into a temporary directory."""
    out = tempfile.mkdtemp(prefix="keyuan-goldens-")
    atexit.register(shutil.rmtree, out, True)
    protos = sorted(
        os.path.join(PROTO_DIR, "keyuan", "v1", name)
        for name in os.listdir(os.path.join(PROTO_DIR, "keyuan", "v1"))
        if name.endswith(".proto"))
    subprocess.run(["protoc", "-I" + PROTO_DIR, "--python_out=" + out]
                   + protos, check=True)
    subprocess.run(["protoc", "-I" + HERE, "--python_out=" + out,
                    os.path.join(HERE, "pbjson_test.proto")], check=True)
    sys.path.insert(0, out)
    names = ["common", "lead", "flow", "control", "envelope"]
    pb = {n: importlib.import_module("keyuan.v1.%s_pb2" % n) for n in names}
    pb["test"] = importlib.import_module("pbjson_test_pb2")
    return pb


def ts(msg, seconds, nanos=0):
    msg.seconds = seconds
    msg.nanos = nanos


def civil_date(pb, year=1988, month=2, day=29):
    return pb["common"].CivilDate(year=year, month=month, day=day,
                                  lunar=True, leap_month=True)


def needs(pb):
    c = pb["common"]
    return c.Needs(
        purpose=c.PURPOSE_SCHOOL_DISTRICT, bedrooms=3, living_rooms=2,
        area_min_m2=89, area_max_m2=120,
        region_codes=["110108", "110105"],
        budget_min_wan=650, budget_max_wan=4294967295,
        floor_preference="中高层，不要顶楼",
        orientation_preference="南北通透",
        decoration_preference="精装 ✨",
        priorities=["学区", "地铁", "物业 🏠"],
        timeline_months=3, stage=c.STAGE_COMPARING)


def next_step(pb):
    step = pb["common"].NextStep(action="周六带看两套：海淀黄庄 🏫")
    ts(step.due_at, 1717200000, 500000000)
    return step


def contacts(pb):
    return pb["common"].Contacts(
        mobile="+86 138-0013-8000", wechat_id="wx_zhang_😀",
        email="zhang.san@example.cn", others=["QQ 12345", "座机 010-6275"],
        mobile_e164="+8613800138000")


def household(pb):
    c = pb["common"]
    return c.Household(size=4, children=[c.Child(age=6, note="明年上小学"),
                                         c.Child(age=0, note="")])


def decision(pb):
    return pb["common"].Decision(decision_maker="配偶",
                                 influencers=["父母", "朋友 👫"])


def consent(pb):
    m = pb["common"].Consent(contact_allowed=True, do_not_disturb=True,
                             note="电话中口头同意")
    ts(m.recorded_at, 1714550400, 5)
    return m


def profile(pb):
    m = pb["common"].Profile(
        name="李😀é", age=36, occupation="工程师",
        employer="某某科技 🚀", lifestyle="周末带孩子去公园", hobbies=["钓鱼", "摄影"])
    m.birthday.CopyFrom(civil_date(pb))
    m.household.CopyFrom(household(pb))
    m.contacts.CopyFrom(contacts(pb))
    m.needs.CopyFrom(needs(pb))
    m.decision.CopyFrom(decision(pb))
    m.consent.CopyFrom(consent(pb))
    return m


def lead_event(pb):
    m = pb["lead"].LeadEvent(
        source="贝壳-表单", source_event_id="evt-0001", name="张三",
        note="想要学区房，孩子明年上小学 👶", agent_id="agent-007", age=35,
        occupation="教师", employer="第一中学", lifestyle="喜欢安静",
        hobbies=["跑步"])
    ts(m.occurred_at, 1714550400)
    m.contacts.CopyFrom(contacts(pb))
    m.needs.CopyFrom(needs(pb))
    m.birthday.CopyFrom(civil_date(pb))
    m.household.CopyFrom(household(pb))
    m.decision.CopyFrom(decision(pb))
    m.consent.CopyFrom(consent(pb))
    return m


def profile_update(pb):
    m = pb["lead"].ProfileUpdate(
        source="agent-app", source_event_id="pu-7",
        customer_id=18446744073709551615, agent_id="agent-007",
        paths=["needs.budgetMaxWan", "household", "hobbies"])
    ts(m.occurred_at, 1714550400, 1)
    m.profile.CopyFrom(profile(pb))
    return m


def contact_log(pb):
    m = pb["lead"].ContactLog(
        source="agent-app", source_event_id="log-42",
        customer_id=18446744073709551615, agent_id="agent-007",
        channel=pb["common"].CHANNEL_WECHAT,
        summary="聊了预算和学区", feedback="觉得价格偏高 😅")
    ts(m.contacted_at, 1714636800, 123000000)
    m.next_step.CopyFrom(next_step(pb))
    m.changes.needs.budget_max_wan = 800
    m.changes.hobbies.append("看展 🎨")
    m.change_paths.extend(["needs.budgetMaxWan", "hobbies"])
    return m


def listing_event(pb):
    m = pb["lead"].ListingEvent(
        source="feed", source_event_id="lst-9", listing_id="BJ-HD-0001",
        city="北京", district="海淀", district_code="110108",
        bizcircle="黄庄", community="华清嘉园", bedrooms=3, living_rooms=1,
        area_m2=89.7, total_price_wan=1035.5, unit_price_yuan_m2=0.1,
        floor_level="中楼层", total_floors=18, orientation="南 北",
        decoration="简装", building_type="板楼", build_year=2001,
        withdrawn=True)
    ts(m.listed_at, -86400, 1000)
    return m


def customer_snapshot(pb):
    m = pb["flow"].CustomerSnapshot(
        customer_id=9007199254740993, agent_id="agent-007", is_new=True,
        cause="lead", do_not_disturb=True, merged_into=2 ** 63 + 1)
    m.needs.CopyFrom(needs(pb))
    ts(m.created_at, 1714550400)
    ts(m.updated_at, 1714550401, 1)
    ts(m.last_contact_at, 0, 999999999)
    m.next_step.CopyFrom(next_step(pb))
    m.birthday.CopyFrom(civil_date(pb))
    return m


def grade_result(pb):
    c = pb["common"]
    m = pb["flow"].GradeResult(
        customer_id=12345678901234567890, agent_id="agent-007",
        grade=c.GRADE_A, previous_grade=c.GRADE_LEAD, rule="a_ready_buyer",
        reasons=["预算明确：650–800 万", "3 个月内购房", "区域有匹配房源 ✅"],
        is_new=True, do_not_disturb=True, merged_into=1)
    ts(m.graded_at, 1714550400, 120000000)
    ts(m.created_at, 1714550400)
    ts(m.last_contact_at, 1714550400, 456000)
    m.next_step.CopyFrom(next_step(pb))
    m.birthday.CopyFrom(civil_date(pb, 1990, 8, 15))
    return m


def reminder(pb):
    m = pb["flow"].Reminder(
        reminder_id=18446744073709551614, customer_id=1, agent_id="a-1",
        kind=pb["flow"].REMINDER_KIND_BIRTHDAY, grade=pb["common"].GRADE_B,
        cycle=4294967295, text="张三明天生日 🎂，记得送上祝福")
    ts(m.due_at, 1717200000)
    ts(m.fired_at, 1717200000, 7)
    return m


def ack(pb):
    return pb["flow"].Ack(seq=4294967296, epoch=18446744073709551615)


def reply(pb):
    return pb["control"].Reply(
        status=pb["control"].REPLY_STATUS_REJECTED, code="invalid_phone",
        message="手机号不是有效的中国大陆号码", field="contacts.mobile",
        customer_id=77, created=True)


def status_request(pb):
    return pb["control"].StatusRequest()


def counter(pb, name="leads_accepted", value=18446744073709551615):
    return pb["control"].Counter(name=name, value=value)


def status_reply(pb):
    m = pb["control"].StatusReply(
        service="intake", healthy=True, outbox_size=3,
        outbox_oldest_age_ms=9007199254740993, test_clock=True)
    ts(m.started_at, 1714550400)
    ts(m.now, 1714550460, 250000000)
    m.counters.extend([counter(pb), counter(pb, "队列 📬", 1)])
    return m


def customer_query(pb):
    return pb["control"].CustomerQuery(customer_id=42, mobile="13800138000",
                                       contact_limit=5, change_limit=1000)


def field_change(pb):
    return pb["control"].FieldChange(path="profile.needs.budgetMaxWan",
                                     old_json="650", new_json="800")


def change(pb):
    m = pb["control"].Change(change_id=18446744073709551615, source="58同城",
                             source_event_id="e-9", kind="lead")
    ts(m.at, 1714550400, 123000000)
    cleared = pb["control"].FieldChange(path="profile.hobbies",
                                        old_json='["钓鱼"]')
    m.fields.extend([field_change(pb), cleared])
    return m


def file_fields(pb, m):
    """The fields CustomerView and CustomerFile share."""
    m.customer_id = 18446744073709551615
    m.agent_id = "agent-007"
    m.agent_reason = "round_robin"
    m.sources.extend(["贝壳", "58同城"])
    ts(m.created_at, 1714550400)
    ts(m.updated_at, 1714550400, 100)
    m.contact_count = 12
    ts(m.last_contact_at, 1714636800)
    m.next_step.CopyFrom(next_step(pb))
    m.merged_into = 9007199254740993
    m.merged_from.extend([1, 18446744073709551614])
    return m


def customer_view(pb):
    m = file_fields(pb, pb["control"].CustomerView(note="喜欢安静 🌙"))
    m.profile.CopyFrom(profile(pb))
    m.contacts.extend([contact_log(pb)])
    m.changes.extend([change(pb)])
    return m


def customer_file(pb):
    m = file_fields(pb, pb["control"].CustomerFile())
    m.profile.needs.CopyFrom(needs(pb))
    m.profile.consent.CopyFrom(consent(pb))
    return m


def customer_person(pb):
    m = pb["control"].CustomerPerson(note="喜欢安静 🌙")
    m.profile.CopyFrom(profile(pb))
    m.profile.ClearField("needs")
    m.profile.ClearField("consent")
    return m


def merge_request(pb):
    return pb["control"].MergeRequest(keep_id=1, merge_id=2 ** 64 - 1,
                                      operator_id="运营-王")


def unmerge_request(pb):
    return pb["control"].UnmergeRequest(merge_id=2 ** 64 - 1,
                                        operator_id="ops")


def merge_record(pb):
    m = pb["control"].MergeRecord(
        keep_id=1, merge_id=2 ** 64 - 1, operator_id="运营-王",
        keep_file=b"\x08\x01", keep_person=b"", merge_file=b"\xff\x00",
        merge_person=b"\x12\x03abc", keep_file_after=b"\x08\x01\x60\x02",
        keep_person_after=b"\x12", ident_keys=[b"\x00" * 32, b"\xfe" * 32])
    ts(m.merged_at, 1714550400, 999)
    m.keep_changes.extend([field_change(pb)])
    return m


def reminder_query(pb):
    return pb["control"].ReminderQuery(
        customer_id=42, agent_id="agent-007", include_planned=True, limit=50)


def reminder_list(pb):
    second = reminder(pb)
    second.reminder_id = 2
    second.kind = pb["flow"].REMINDER_KIND_LISTING_MATCH
    return pb["control"].ReminderList(reminders=[reminder(pb), second])


def clock_set(pb):
    m = pb["control"].ClockSet()
    ts(m.now, 1735689599, 999000000)
    return m


def agent(pb):
    return pb["control"].Agent(id="a01", name="演示经纪人一", team="north",
                               active=True, working_hours="09:00-21:00")


def agent_query(pb):
    return pb["control"].AgentQuery()


def agent_list(pb):
    m = pb["control"].AgentList()
    m.agents.append(agent(pb))
    m.agents.add(id="a04", team="south")
    return m


def quarantined_event(pb):
    m = pb["control"].QuarantinedEvent(
        quarantine_id=2 ** 63, envelope=b"\x52\x03\x0a\x01\x70\xff")
    ts(m.received_at, 1714550400, 5000000)
    m.reply.CopyFrom(reply(pb))
    m.replay_reply.status = pb["control"].REPLY_STATUS_DUPLICATE
    return m


def quarantine_query(pb):
    return pb["control"].QuarantineQuery(after_id=10, limit=50,
                                         quarantine_id=2 ** 64 - 1)


def quarantine_list(pb):
    m = pb["control"].QuarantineList()
    m.events.append(quarantined_event(pb))
    m.events.add(quarantine_id=1)
    return m


def quarantine_replay(pb):
    return pb["control"].QuarantineReplay(quarantine_id=7,
                                          envelope=b"\x00\x01\xfe")


def grade_query(pb):
    return pb["control"].GradeQuery(customer_id=2 ** 64 - 1, limit=3)


def grade_history(pb):
    m = pb["control"].GradeHistory()
    m.grades.append(grade_result(pb))
    m.grades.add(customer_id=1, grade=pb["common"].GRADE_LEAD)
    return m


def civil_date_golden(pb):
    return civil_date(pb, -1, 12, 31)


def test_all(pb):
    """Every field kind of pbjson_test.proto, label set in the oneof."""
    return pb["test"].TestAll(
        blob=bytes([0xfb, 0xff, 0xbf, 0x00, 0x01]), big=-5, small=-300,
        ratio=0.1, codes=[1, 300, 4294967295], label="标签 🏷", maybe=0,
        blobs=[b"", b"\xff\xfe", "ü".encode()], stamp=18446744073709551615,
        bigs=[-9223372036854775808, 9223372036854775807, 0], ratio2=-2.5e-5)


def envelope_batch(pb):
    items = [pb["envelope"].Envelope(seq=n, sender="grading", epoch=9)
             for n in (1, 2)]
    items[0].grade.CopyFrom(grade_result(pb))
    items[1].ack.CopyFrom(ack(pb))
    return pb["flow"].EnvelopeBatch(
        items=[e.SerializeToString() for e in items] + [b""])


def test_all_count(pb):
    """The other oneof member, set to its default value."""
    return pb["test"].TestAll(count=0, ratio=3.4028234663852886e38)


SAMPLES = {
    "LeadEvent": lead_event, "ContactLog": contact_log,
    "ListingEvent": listing_event, "CustomerSnapshot": customer_snapshot,
    "GradeResult": grade_result, "Reminder": reminder, "Ack": ack,
    "Reply": reply, "StatusRequest": status_request,
    "StatusReply": status_reply, "Counter": counter,
    "CustomerQuery": customer_query, "CustomerView": customer_view,
    "ReminderQuery": reminder_query, "ReminderList": reminder_list,
    "ClockSet": clock_set, "Needs": needs, "NextStep": next_step,
    "Profile": profile, "ProfileUpdate": profile_update,
    "FieldChange": field_change, "Change": change,
    "CustomerFile": customer_file, "CustomerPerson": customer_person,
    "MergeRequest": merge_request, "UnmergeRequest": unmerge_request,
    "MergeRecord": merge_record,
    "Agent": agent, "AgentQuery": agent_query, "AgentList": agent_list,
    "QuarantinedEvent": quarantined_event,
    "QuarantineQuery": quarantine_query, "QuarantineList": quarantine_list,
    "QuarantineReplay": quarantine_replay,
    "GradeQuery": grade_query, "GradeHistory": grade_history,
    "CivilDate": civil_date_golden, "Contacts": contacts,
    "EnvelopeBatch": envelope_batch,
    "TestAll": test_all, "TestAll_count": test_all_count,
}

# Envelope body field -> the sample that fills it.
BODIES = {
    "lead": lead_event, "listing": listing_event, "contact": contact_log,
    "customer": customer_snapshot, "grade": grade_result,
    "reminder": reminder, "ack": ack, "reply": reply,
    "status_request": status_request, "status": status_reply,
    "customer_query": customer_query, "customer_view": customer_view,
    "reminder_query": reminder_query, "reminder_list": reminder_list,
    "clock_set": clock_set, "profile_update": profile_update,
    "merge": merge_request, "unmerge": unmerge_request,
    "quarantine_query": quarantine_query, "quarantine_list": quarantine_list,
    "quarantine_replay": quarantine_replay, "agent_query": agent_query,
    "agent_list": agent_list, "grade_query": grade_query,
    "grade_history": grade_history, "batch": envelope_batch,
}


def write_pair(json_format, name, msg):
    text = json_format.MessageToJson(
        msg, preserving_proto_field_name=False, sort_keys=True,
        ensure_ascii=False)
    with open(os.path.join(HERE, name + ".json"), "w",
              encoding="utf-8") as f:
        f.write(text + "\n")
    with open(os.path.join(HERE, name + ".bin"), "wb") as f:
        f.write(msg.SerializeToString())


def envelope(pb, body, fill):
    env = pb["envelope"].Envelope(seq=18446744073709551615, sender="intake",
                                  epoch=1714550400123, request_id=7)
    getattr(env, body).CopyFrom(fill(pb))
    return env


def write_timestamps(json_format, pb):
    """Timestamp edge values: seconds, nanos and python's JSON string."""
    cases = [(0, 0), (0, 1), (0, 10), (0, 1000), (0, 1000000),
             (0, 100000000), (0, 999999999), (-1, 0), (-1, 999999999),
             (-62135596800, 0), (253402300799, 999999999),
             (951782400, 0), (1714550400, 120000), (-2208988800, 500)]
    out = []
    for seconds, nanos in cases:
        m = pb["common"].NextStep()
        ts(m.due_at, seconds, nanos)
        js = json.loads(json_format.MessageToJson(m))["dueAt"]
        out.append({"seconds": str(seconds), "nanos": nanos, "json": js})
    with open(os.path.join(HERE, "timestamps.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


def write_doubles(json_format, pb):
    """Doubles: their IEEE bits and python's JSON text for them."""
    values = [0.1, 1 / 3, 89.7, 1e16, 1e15, 1e21, 1.5e-7, 5e-324,
              2.2250738585072014e-308, 1.7976931348623157e308, -0.5,
              123456.789, 4.35, 2 ** 53 + 2.0, 100.0, float("inf"),
              float("-inf"), float("nan")]
    out = []
    for v in values:
        m = pb["lead"].ListingEvent(area_m2=v)
        text = json_format.MessageToJson(m, indent=None)
        js = text.split(":", 1)[1].strip()[:-1].strip()
        bits = struct.pack(">d", v).hex()
        if math.isnan(v):
            bits = "nan"
        out.append({"bits": bits, "json": js})
    with open(os.path.join(HERE, "doubles.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


def main():
    pb = load_modules()
    from google.protobuf import json_format
    for name, fill in SAMPLES.items():
        write_pair(json_format, name, fill(pb))
    for body, fill in BODIES.items():
        write_pair(json_format, "Envelope_" + body, envelope(pb, body, fill))
    write_timestamps(json_format, pb)
    write_doubles(json_format, pb)


if __name__ == "__main__":
    main()
