#!/usr/bin/env python3
"""make-demo-data.py - builds the data keyuan ships for `make demo`.

  data/market_figures.csv   per-district figures computed from the Lianjia
                            listing samples in ../shared/data/housing (which
                            have no licence: we ship figures, never rows)
  data/demo_listings.csv    synthetic listings drawn from those figures alone
  data/sample_leads.jsonl   fictional buyer leads, proto3 JSON of LeadEvent
  data/sample_leads.csv     more of them, as a portal's Chinese CSV export

Every output is stable: the random numbers come from a seeded generator and
the leads are written out below, so running the script again gives the same
bytes. The leads' budgets are set from the market figures (a factor of the
market price of the wanted home) so that the demo shows every grade.

Usage: scripts/make-demo-data.py [--housing CSV] [--out DIR]
       scripts/make-demo-data.py --listings-only --out DIR
(--listings-only rebuilds the listings and leads from an existing
market_figures.csv in DIR, without the unlicensed sample.)
"""
import argparse
import csv
import io
import json
import math
import os
import random
import statistics
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
HOUSING = os.path.join(ROOT, "..", "shared", "data", "housing",
                       "cn_housing_listings_sample.csv")

SEED = 20261204
DEMO_LISTINGS = 300        # about this many synthetic listings
DEMO_MIN_PER_DISTRICT = 4

FIGURE_COLUMNS = [
    "city", "district", "district_code", "snapshot", "listings",
    "unit_price_p25", "unit_price_median", "unit_price_p75",
    "area_p25_m2", "area_median_m2", "area_p75_m2", "total_price_median_wan",
    "bedrooms_1_share", "bedrooms_2_share", "bedrooms_3_share",
    "bedrooms_4_share", "bedrooms_5plus_share",
    "decoration_fine_share", "decoration_simple_share",
    "decoration_bare_share", "decoration_other_share",
    "building_slab_share", "building_tower_share", "building_mixed_share",
    "build_year_p25", "build_year_median", "build_year_p75",
    "total_floors_p25", "total_floors_median", "total_floors_p75",
]

# The sample's words for decoration and building type, and our column keys.
DECORATIONS = [("fine", "精装"), ("simple", "简装"), ("bare", "毛坯"),
               ("other", "其他")]
BUILDINGS = [("slab", "板楼"), ("tower", "塔楼"), ("mixed", "板塔结合")]

FIGURES_HEADER = """\
# keyuan demo market figures, one line per district, computed by
# scripts/make-demo-data.py from the Lianjia (链家) second-hand listing
# samples described in ../shared/data/README.md: Beijing, scraped 2021-11
# (memwins/bj-house-price-prediction lianjia.csv, 1,511-row sample) and
# Shenzhen, scraped 2018-09 (diaoxinqiang/real_estate_crawler lianjia.csv,
# 1,500-row sample). That data has no licence ("仅供学习使用"), so this
# file holds aggregate figures only: no listing row, community name or id
# of the source is included. Prices are asking prices of their snapshot
# month, not today's market.
# Units: unit prices yuan/m2 (quartiles, linear interpolation), areas m2,
# total price 万元; *_share = fraction of the district's listings;
# decoration fine/simple/bare/other = 精装/简装/毛坯/其他; building
# slab/tower/mixed = 板楼/塔楼/板塔结合. 亦庄开发区 is not an
# administrative district and has no code.
"""

LISTING_COLUMNS = [
    "row_id", "city", "district", "district_code", "bizcircle", "community",
    "layout", "bedrooms", "living_rooms", "area_m2", "total_price_wan",
    "unit_price_yuan_m2", "unit_price_derived", "floor_level",
    "total_floors", "orientation", "decoration", "building_type",
    "elevator", "build_year", "source", "snapshot",
]

# Generic orientation mix of Chinese flats; written by us, not measured.
ORIENTATIONS = [("南北", 34), ("南", 22), ("东南", 13), ("西南", 8),
                ("东", 4), ("西", 3), ("北", 5), ("东西", 3), ("东北", 4),
                ("西北", 4)]

# Storeys a building of each type usually has.
FLOOR_RANGES = {"板楼": (3, 18), "塔楼": (12, 40), "板塔结合": (8, 34)}


# ---- figures from the real sample ------------------------------------------

def quartiles(values):
    """p25, median, p75 with linear interpolation (numpy's default)."""
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], statistics.median(values), q[2]


def read_housing(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def share(rows, test):
    return "%.3f" % (sum(1 for r in rows if test(r)) / len(rows))


def bedroom_share(rows, k):
    def test(r):
        if not r["bedrooms"]:
            return False
        b = int(r["bedrooms"])
        return b >= 5 if k == 5 else b == k
    return share(rows, test)


def numbers(rows, column, kind=float):
    return [kind(r[column]) for r in rows if r[column] not in ("", None)]


def district_figures(key, rows):
    city, district, code = key
    unit = quartiles(numbers(rows, "unit_price_yuan_m2"))
    area = quartiles(numbers(rows, "area_m2"))
    year = quartiles(numbers(rows, "build_year", int))
    floors = quartiles(numbers(rows, "total_floors", int))
    fig = {
        "city": city, "district": district, "district_code": code,
        "snapshot": rows[0]["snapshot"], "listings": str(len(rows)),
        "unit_price_p25": "%d" % round(unit[0]),
        "unit_price_median": "%d" % round(unit[1]),
        "unit_price_p75": "%d" % round(unit[2]),
        "area_p25_m2": "%.1f" % area[0],
        "area_median_m2": "%.1f" % area[1],
        "area_p75_m2": "%.1f" % area[2],
        "total_price_median_wan":
            "%.1f" % statistics.median(numbers(rows, "total_price_wan")),
        "build_year_p25": "%d" % round(year[0]),
        "build_year_median": "%d" % round(year[1]),
        "build_year_p75": "%d" % round(year[2]),
        "total_floors_p25": "%d" % round(floors[0]),
        "total_floors_median": "%d" % round(floors[1]),
        "total_floors_p75": "%d" % round(floors[2]),
    }
    for k in range(1, 6):
        name = "bedrooms_%s_share" % ("5plus" if k == 5 else k)
        fig[name] = bedroom_share(rows, k)
    for key_, word in DECORATIONS:
        fig["decoration_%s_share" % key_] = share(
            rows, lambda r, w=word: r["decoration"] == w)
    for key_, word in BUILDINGS:
        fig["building_%s_share" % key_] = share(
            rows, lambda r, w=word: r["building_type"] == w)
    return fig


def market_figures(housing_rows):
    groups = {}
    for r in housing_rows:
        key = (r["city"], r["district"], r["district_code"])
        groups.setdefault(key, []).append(r)
    # Coded districts in code order, then the uncoded ones by name.
    order = sorted(groups, key=lambda k: (k[2] == "", k[2], k[0], k[1]))
    return [district_figures(k, groups[k]) for k in order]


def figures_text(figs):
    out = io.StringIO()
    out.write(FIGURES_HEADER)
    w = csv.DictWriter(out, FIGURE_COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(figs)
    return out.getvalue()


def read_figures(path):
    with open(path, encoding="utf-8", newline="") as f:
        lines = [line for line in f if not line.startswith("#")]
    return list(csv.DictReader(lines))


# ---- synthetic listings from the figures alone -----------------------------

def lognormal(rng, p25, median, p75):
    """A draw from the log-normal with this median and interquartile range."""
    sigma = (math.log(p75) - math.log(p25)) / 1.349
    return rng.lognormvariate(math.log(median), max(sigma, 0.01))


def pick(rng, weighted):
    values = [v for v, _ in weighted]
    weights = [w for _, w in weighted]
    if sum(weights) <= 0:
        return values[0]
    return rng.choices(values, weights)[0]


def district_counts(figs):
    coded = [f for f in figs if f["district_code"]]
    total = sum(int(f["listings"]) for f in coded)
    return [(f, max(DEMO_MIN_PER_DISTRICT,
                    round(int(f["listings"]) * DEMO_LISTINGS / total)))
            for f in coded]


def draw_rooms(rng, fig, n):
    """n bedroom counts from the district's shares, with living rooms."""
    shares = [(k, float(fig["bedrooms_%s_share" % ("5plus" if k == 5
                                                      else k)]))
              for k in range(1, 6)]
    return [pick(rng, shares) for _ in range(n)]


def living_rooms(rng, bedrooms):
    if bedrooms == 1:
        return 0 if rng.random() < 0.3 else 1
    if bedrooms == 2:
        return 1 if rng.random() < 0.85 else 2
    if bedrooms == 3:
        return 1 if rng.random() < 0.5 else 2
    return 2


def draw_areas(rng, fig, bedrooms):
    """Areas from the district's quartiles; larger flats get more rooms."""
    q = [float(fig[c]) for c in ("area_p25_m2", "area_median_m2",
                                 "area_p75_m2")]
    areas = sorted(min(600.0, max(18.0, lognormal(rng, *q)))
                   for _ in bedrooms)
    # Pair sorted areas with jittered bedroom ranks: a 1-room flat of
    # 200 m2 would look wrong, exact rank pairing would look too neat.
    ranked = sorted(bedrooms, key=lambda b: b * rng.uniform(0.8, 1.25))
    return list(zip(ranked, areas))


def unit_price(rng, fig):
    q = [float(fig[c]) for c in ("unit_price_p25", "unit_price_median",
                                 "unit_price_p75")]
    return min(q[2] * 3, max(q[0] / 3, lognormal(rng, *q)))


def build_year(rng, fig):
    p25, mid, p75 = (int(fig[c]) for c in ("build_year_p25",
                                           "build_year_median",
                                           "build_year_p75"))
    latest = int(fig["snapshot"][:4])
    year = round(rng.gauss(mid, max(1.0, (p75 - p25) / 1.349)))
    return min(latest, max(1955, year))


def storeys(rng, fig, building):
    q = [max(1.0, float(fig[c])) for c in ("total_floors_p25",
                                           "total_floors_median",
                                           "total_floors_p75")]
    lo, hi = FLOOR_RANGES[building]
    return min(hi, max(lo, round(lognormal(rng, *q))))


def listing_row(rng, fig, bedrooms, area, community):
    deco = pick(rng, [(w, float(fig["decoration_%s_share" % k]))
                      for k, w in DECORATIONS])
    building = pick(rng, [(w, float(fig["building_%s_share" % k]))
                          for k, w in BUILDINGS])
    floors = storeys(rng, fig, building)
    living = living_rooms(rng, bedrooms)
    total = area * unit_price(rng, fig) / 10000
    total = round(total) if total >= 100 else round(total, 1)
    return {
        "city": fig["city"], "district": fig["district"],
        "district_code": fig["district_code"], "bizcircle": "",
        "community": community,
        "layout": "%d室%d厅" % (bedrooms, living),
        "bedrooms": str(bedrooms), "living_rooms": str(living),
        "area_m2": "%.2f" % area, "total_price_wan": "%g" % total,
        "unit_price_yuan_m2": "%d" % round(total * 10000 / area),
        "unit_price_derived": "1",
        "floor_level": rng.choice(["低", "中", "高"]),
        "total_floors": str(floors),
        "orientation": pick(rng, ORIENTATIONS),
        "decoration": deco, "building_type": building,
        # Buildings of 7 or more storeys must have lifts (GB 50096).
        "elevator": "1" if floors >= 7 else "0",
        "build_year": str(build_year(rng, fig)),
        "source": "keyuan-demo", "snapshot": fig["snapshot"],
    }


def demo_listings(figs):
    rng = random.Random(SEED)
    rows = []
    community_no = 0
    for fig, n in district_counts(figs):
        first = community_no + 1
        community_no += max(2, n // 3)
        pairs = draw_areas(rng, fig, draw_rooms(rng, fig, n))
        for bedrooms, area in pairs:
            name = "示例小区%d" % rng.randint(first, community_no)
            rows.append(listing_row(rng, fig, bedrooms, area, name))
    for i, r in enumerate(rows, 1):
        r["row_id"] = "DEMO%04d" % i
    return rows


def listings_text(rows):
    out = io.StringIO()
    w = csv.DictWriter(out, LISTING_COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue()


# ---- fictional leads -------------------------------------------------------
#
# Each entry: (event, person, source, file, day-hh:mm, phone format, needs,
# extra). Persons 1..36 are fictional 示例客户NN with mobiles in the ranges
# used in examples (138 0013 8xxx, 139 0000 xxxx); 23 and 36 exist only in
# rejected rows, so 34 customer files result. The designed outcome of
# pushing sample_leads.jsonl then sample_leads.csv into an empty intake:
#   jsonl: 22 created, 2 updated (same person, another source), 1 duplicate
#          (the webhook delivered one event twice), 1 rejected (no source)
#   csv:   12 created, 2 updated, 1 duplicate (the export repeats an event
#          already pushed as JSON), 1 rejected (bad phone)
# tests/proc/test_demo_data.py checks exactly these numbers.

# needs: (purpose, bedrooms, area_min, area_max, regions, budget factor
# (budget max / market price of area_min in the first region; None: no
# budget), budget spread (min = max * (1 - spread)), timeline, stage)
NEEDS = {
    "a_chaoyang": ("own", 2, 70, 90, ["110105"], 1.15, 0.1, 2, "clear"),
    "a_haidian": ("school", 2, 60, 80, ["110108", "110102"], 1.1, 0.15, 1,
                  "clear"),
    "a_nanshan": ("upgrade", 3, 100, 130, ["440305"], 1.2, 0.1, 3, "clear"),
    "a_futian": ("own", 3, 85, 110, ["440304", "440303"], 1.05, 0.1, 2,
                 "clear"),
    "a_tongzhou": ("own", 2, 75, 95, ["110112", "110105"], 1.25, 0.15, 1,
                   "clear"),
    "a_baoan": ("own", 2, 70, 90, ["440306"], 1.1, 0.1, 3, "clear"),
    "a_daxing": ("upgrade", 3, 110, 140, ["110115"], 1.2, 0.15, 2, "clear"),
    "b_fengtai": ("own", 2, 65, 85, ["110106"], 1.0, 0.35, 5, "comparing"),
    "b_longgang": ("investment", 1, 40, 60, ["440307", "440309"], 1.1, 0.3,
                   4, "comparing"),
    "b_changping": ("upgrade", 3, 100, 130, ["110114"], 0.95, 0.3, 6,
                    "comparing"),
    "b_luohu": ("own", 2, 60, 80, ["440303"], 1.0, 0.25, 4, "clear"),
    "b_shunyi": ("upgrade", 4, 140, 180, ["110113"], 1.0, 0.3, 6,
                 "comparing"),
    "b_longhua": ("own", 3, 85, 100, ["440309"], 1.05, 0.2, 5,
                  "comparing"),
    "b_xicheng": ("school", 1, 40, 55, ["110102", "110101"], 0.9, 0.2, 4,
                  "clear"),
    "c_far_haidian": ("own", 3, 90, 120, ["110108"], 0.35, 0.2, 3,
                      "clear"),
    "c_far_nanshan": ("own", 3, 90, 110, ["440305", "440304"], 0.4, 0.25,
                      6, "just"),
    "c_late_fangshan": ("own", 2, 70, 90, ["110111"], 1.0, 0.2, 12,
                        "just"),
    "c_late_yantian": ("investment", 2, 60, 80, ["440308"], 1.1, 0.3, 10,
                       "just"),
    "c_vague": ("own", 0, 0, 0, ["110105"], None, 0, 9, "just"),
    "c_far_dongcheng": ("school", 2, 50, 70, ["110101"], 0.3, 0.3, 2,
                        "clear"),
}

PURPOSES = {"own": ("PURPOSE_OWN_HOME", "自住"),
            "upgrade": ("PURPOSE_UPGRADE", "改善"),
            "investment": ("PURPOSE_INVESTMENT", "投资"),
            "school": ("PURPOSE_SCHOOL_DISTRICT", "学区")}
STAGES = {"just": ("STAGE_JUST_LOOKING", "刚开始了解"),
          "clear": ("STAGE_CLEAR_TARGET", "目标明确"),
          "comparing": ("STAGE_COMPARING", "对比中")}

# (event id, person, source, file, "MM-DD hh:mm", phone format, needs key,
#  {wechat, email, note, no_phone}); an empty source sends none.
LEADS = [
    ("aj-20261120-0001", 1, "anjuke", "jsonl", "11-20 09:12", "plain",
     "a_chaoyang", {"note": "想看朝阳公园附近两居，周末可看房"}),
    ("bk-7731001", 2, "beike", "jsonl", "11-20 10:40", "plus_dash",
     "a_haidian", {"email": "demo02@example.com",
                   "note": "孩子明年上小学，只看对口学区"}),
    ("aj-20261120-0007", 3, "anjuke", "jsonl", "11-20 14:05", "plain",
     "a_nanshan", {}),
    ("58-0000912", 4, "58", "jsonl", "11-21 08:30", "fullwidth",
     "b_fengtai", {"note": "在比较丰台和大兴"}),
    ("wi-20261121-01", 5, "walk_in", "jsonl", "11-21 11:00", "spaces",
     "a_futian", {"note": "到店咨询，夫妻一起来"}),
    ("wx-mp-100021", 6, "wechat_mini", "jsonl", "11-21 21:47", "none",
     "c_vague", {"wechat": "demo_wx_06", "no_phone": True,
                 "note": "小程序留言：随便看看"}),
    ("bk-7731019", 7, "beike", "jsonl", "11-22 09:15", "plain",
     "b_longgang", {}),
    ("aj-20261122-0003", 8, "anjuke", "jsonl", "11-22 13:20", "0086",
     "c_far_haidian", {"note": "预算有限，希望海淀三居"}),
    ("58-0000977", 9, "58", "jsonl", "11-22 16:45", "plus_compact",
     "b_changping", {}),
    ("wi-20261123-02", 10, "walk_in", "jsonl", "11-23 10:10", "brackets",
     "a_tongzhou", {"email": "Demo10@Example.com"}),
    ("wx-mp-100044", 11, "wechat_mini", "jsonl", "11-23 20:02", "plain",
     "c_late_fangshan", {"wechat": "demo_wx_11"}),
    ("bk-7731040", 12, "beike", "jsonl", "11-24 09:00", "plain",
     "b_luohu", {}),
    ("aj-20261124-0011", 13, "anjuke", "jsonl", "11-24 11:35",
     "ideographic", "c_far_nanshan", {}),
    ("58-0001015", 14, "58", "jsonl", "11-24 15:50", "cc86_dash",
     "a_baoan", {"note": "首套，公积金贷款"}),
    ("wi-20261125-01", 15, "walk_in", "jsonl", "11-25 10:30", "plain",
     "b_shunyi", {"note": "想换大一点的，考虑顺义别墅区"}),
    ("bk-7731066", 16, "beike", "jsonl", "11-25 14:00", "plus_dash",
     "c_late_yantian", {}),
    ("wx-mp-100078", 17, "wechat_mini", "jsonl", "11-25 22:15", "none",
     None, {"wechat": "demo_wx_17", "no_phone": True,
            "note": "小程序登记，未填需求"}),
    ("aj-20261126-0002", 18, "anjuke", "jsonl", "11-26 09:40", "spaces",
     "a_daxing", {}),
    ("58-0001042", 19, "58", "jsonl", "11-26 12:25", "fullwidth_dash",
     "b_longhua", {}),
    ("bk-7731080", 20, "beike", "jsonl", "11-26 17:05", "plain",
     "b_xicheng", {"email": "demo20@example.com"}),
    ("wi-20261127-03", 21, "walk_in", "jsonl", "11-27 10:00", "plus_compact",
     "c_far_dongcheng", {"note": "老人陪同，想买学区小户型"}),
    ("aj-20261127-0009", 22, "anjuke", "jsonl", "11-27 15:30", "plain",
     "a_chaoyang", {}),
    # Person 3 again, from beike, phone written another way: updated.
    ("bk-7731102", 3, "beike", "jsonl", "11-28 09:20", "plus_dash",
     "a_nanshan", {"note": "贝壳上也留了电话"}),
    # Person 7 again, from 58 in full-width digits: updated.
    ("58-0001090", 7, "58", "jsonl", "11-28 11:45", "fullwidth",
     "b_longgang", {}),
    # The webhook delivered event aj-20261120-0007 a second time: duplicate.
    ("aj-20261120-0007", 3, "anjuke", "jsonl", "11-20 14:05", "plain",
     "a_nanshan", {}),
    # Entered by hand in a tool that sent no source: rejected with
    # missing_field. (keyuanctl gives CSV rows without one a default
    # source, so this case lives in the JSON file.)
    ("manual-0001", 23, "", "jsonl", "11-28 14:10", "plain", "b_fengtai",
     {}),

    ("58-0001123", 24, "58", "csv", "11-29 09:05", "plain", "a_futian", {}),
    ("aj-20261129-0001", 25, "anjuke", "csv", "11-29 10:30", "spaces",
     "b_luohu", {"note": "下班后联系"}),
    ("bk-7731150", 26, "beike", "csv", "11-29 13:15", "plus_dash",
     "a_haidian", {}),
    ("wi-20261130-01", 27, "walk_in", "csv", "11-30 10:00", "plain",
     "c_late_fangshan", {}),
    ("wx-mp-100120", 28, "wechat_mini", "csv", "11-30 20:40", "fullwidth",
     "b_longgang", {"wechat": "demo_wx_28"}),
    ("58-0001160", 29, "58", "csv", "12-01 09:30", "0086", "a_tongzhou", {}),
    ("aj-20261201-0006", 30, "anjuke", "csv", "12-01 11:20", "plain",
     "c_far_nanshan", {}),
    ("bk-7731177", 31, "beike", "csv", "12-01 15:00", "cc86_dash",
     "b_changping", {"email": "demo31@example.com"}),
    ("wi-20261202-02", 32, "walk_in", "csv", "12-02 10:45", "brackets",
     "a_baoan", {"note": "看了两套，想再比较一下物业"}),
    ("wx-mp-100151", 33, "wechat_mini", "csv", "12-02 21:10", "none",
     None, {"wechat": "demo_wx_33", "no_phone": True}),
    ("aj-20261203-0002", 34, "anjuke", "csv", "12-03 09:50", "plus_compact",
     "a_daxing", {}),
    ("bk-7731190", 35, "beike", "csv", "12-03 14:20", "plain",
     "b_xicheng", {}),
    # Person 12 (from JSON) again via the mini program: updated.
    ("wx-mp-100160", 12, "wechat_mini", "csv", "12-03 16:00", "0086",
     "b_luohu", {"wechat": "demo_wx_12"}),
    # Person 25 again from beike, written with +86: updated.
    ("bk-7731201", 25, "beike", "csv", "12-03 17:30", "plus_compact",
     "b_luohu", {}),
    # The export repeats an event the webhook already sent: duplicate.
    ("bk-7731019", 7, "beike", "csv", "11-22 09:15", "plain",
     "b_longgang", {}),
    # One digit short: rejected with invalid_phone.
    ("aj-20261203-0008", 36, "anjuke", "csv", "12-03 18:00", "short",
     "b_fengtai", {}),
]


def mobile_digits(person):
    """Fictional mobiles: 138 0013 8xxx for odd, 139 0000 xxxx for even."""
    if person % 2:
        return "13800138%03d" % person
    return "13900000%03d" % person


def fullwidth(s):
    """Digits and '-' as their full-width forms (U+FF10.., U+FF0D)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() or c == "-" else c
                   for c in s)


def phone(person, form):
    d = mobile_digits(person)
    a, b, c = d[:3], d[3:7], d[7:]
    forms = {
        "plain": d,
        "plus_dash": "+86 %s-%s-%s" % (a, b, c),
        "plus_compact": "+86" + d,
        "spaces": "%s %s %s" % (a, b, c),
        "0086": "0086 %s %s %s" % (a, b, c),
        "fullwidth": fullwidth(d),
        "fullwidth_dash": fullwidth("%s-%s-%s" % (a, b, c)),
        "brackets": "(+86) %s-%s-%s" % (a, b, c),
        "ideographic": "%s\u3000%s\u3000%s" % (a, b, c),
        "cc86_dash": "86-%s-%s-%s" % (a, b, c),
        "short": "%s-%s-%s" % (a, b, c[:-1]),
        "none": "",
    }
    return forms[form]


def round_budget(wan):
    step = 10 if wan >= 300 else 5
    return max(step, int(round(wan / step)) * step)


def needs_of(key, figs_by_code):
    """The Needs dict (proto3 JSON names) for a NEEDS key, or None."""
    if key is None:
        return None
    (purpose, beds, amin, amax, regions, factor, spread, months,
     stage) = NEEDS[key]
    n = {"purpose": PURPOSES[purpose][0]}
    if beds:
        n["bedrooms"] = beds
        n["livingRooms"] = 1 if beds <= 2 else 2
    if amin:
        n["areaMinM2"] = amin
        n["areaMaxM2"] = amax
    n["regionCodes"] = list(regions)
    if factor is not None:
        unit = int(figs_by_code[regions[0]]["unit_price_median"])
        top = round_budget(unit * amin * factor / 10000)
        n["budgetMinWan"] = round_budget(top * (1 - spread))
        n["budgetMaxWan"] = top
    n["timelineMonths"] = months
    n["stage"] = STAGES[stage][0]
    return n


def lead_event(lead, figs_by_code):
    event_id, person, source, _, when, form, needs_key, extra = lead
    ev = {}
    if source:
        ev["source"] = source
    ev["sourceEventId"] = event_id
    ev["occurredAt"] = "2026-%s:00+08:00" % when.replace(" ", "T")
    ev["name"] = "示例客户%02d" % person
    contacts = {}
    if not extra.get("no_phone"):
        contacts["mobile"] = phone(person, form)
    if "wechat" in extra:
        contacts["wechatId"] = extra["wechat"]
    if "email" in extra:
        contacts["email"] = extra["email"]
    ev["contacts"] = contacts
    needs = needs_of(needs_key, figs_by_code)
    if needs:
        ev["needs"] = needs
    if "note" in extra:
        ev["note"] = extra["note"]
    return ev


def leads_jsonl(events):
    return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events)


CSV_LEAD_COLUMNS = ["来源", "来源编号", "时间", "姓名", "手机", "微信", "邮箱",
                    "购房目的", "室", "厅", "最小面积", "最大面积", "意向区域",
                    "最低预算(万)", "最高预算(万)", "购房时间(月)", "阶段",
                    "备注"]


def sheet_time(ev):
    """RFC 3339 +08:00 as a spreadsheet writes it: 2026/11/29 9:05."""
    date, clock = ev["occurredAt"][:16].split("T")
    hour, minute = clock.split(":")
    return "%s %d:%s" % (date.replace("-", "/"), int(hour), minute)


def csv_lead_row(ev):
    n = ev.get("needs", {})
    c = ev["contacts"]
    purpose = {v[0]: v[1] for v in PURPOSES.values()}
    stage = {v[0]: v[1] for v in STAGES.values()}

    def num(k):
        return str(n[k]) if k in n else ""

    return [ev.get("source", ""), ev["sourceEventId"], sheet_time(ev),
            ev["name"], c.get("mobile", ""), c.get("wechatId", ""),
            c.get("email", ""), purpose.get(n.get("purpose"), ""),
            num("bedrooms"), num("livingRooms"), num("areaMinM2"),
            num("areaMaxM2"),
            ";".join(n.get("regionCodes", [])), num("budgetMinWan"),
            num("budgetMaxWan"), num("timelineMonths"),
            stage.get(n.get("stage"), ""), ev.get("note", "")]


def leads_csv(events):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_LEAD_COLUMNS)
    for ev in events:
        w.writerow(csv_lead_row(ev))
    return out.getvalue()


def sample_leads(figs):
    by_code = {f["district_code"]: f for f in figs if f["district_code"]}
    jsonl = [lead_event(x, by_code) for x in LEADS if x[3] == "jsonl"]
    rows = [lead_event(x, by_code) for x in LEADS if x[3] == "csv"]
    return leads_jsonl(jsonl), leads_csv(rows)


# ---- main ------------------------------------------------------------------

def write(path, text):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    print("wrote %s" % os.path.relpath(path))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--housing", default=HOUSING,
                    help="cn_housing_listings_sample.csv (not shipped)")
    ap.add_argument("--out", default=os.path.join(ROOT, "data"))
    ap.add_argument("--listings-only", action="store_true",
                    help="keep OUT/market_figures.csv; redo the rest")
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    fig_path = os.path.join(args.out, "market_figures.csv")
    if args.listings_only:
        figs = read_figures(fig_path)
    else:
        if not os.path.exists(args.housing):
            sys.exit("no housing sample at %s (see --housing)"
                     % args.housing)
        write(fig_path, figures_text(market_figures(
            read_housing(args.housing))))
        figs = read_figures(fig_path)

    write(os.path.join(args.out, "demo_listings.csv"),
          listings_text(demo_listings(figs)))
    jsonl, csv_text = sample_leads(figs)
    write(os.path.join(args.out, "sample_leads.jsonl"), jsonl)
    write(os.path.join(args.out, "sample_leads.csv"), csv_text)


if __name__ == "__main__":
    main()
