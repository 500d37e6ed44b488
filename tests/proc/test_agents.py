"""Agents from config/agents.json: listed by keyuanctl, and new customers
assigned by the operator's rules with the reason kept in the file."""
import json
import unittest

import harness
from harness import keyuanctl


class AgentsTest(unittest.TestCase):
    def setUp(self):
        self.c = harness.Cluster().start("intake")

    def tearDown(self):
        self.c.close()

    def lead(self, event_id, mobile, source="58", region=None):
        needs = {"regionCodes": [region]} if region else {}
        return self.c.push_lead(source=source, sourceEventId=event_id,
                                contacts={"mobile": mobile}, needs=needs)

    def show(self, customer_id):
        r = keyuanctl("show", str(customer_id), "--json", cluster=self.c)
        return json.loads(r.stdout.splitlines()[0])

    def test_keyuanctl_lists_agents_and_teams(self):
        r = keyuanctl("agents", "--json", cluster=self.c)
        agents = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual([a["id"] for a in agents],
                         ["a01", "a02", "a03", "a04"])
        self.assertEqual(agents[2]["team"], "south")
        self.assertFalse(agents[3].get("active", False))

    def test_rules_decide_and_the_reason_is_kept(self):
        walk_in = self.lead("r1", "13800138901", source="walk_in",
                            region="440305")
        south = self.lead("r2", "13800138902", region="440305")
        view = self.show(walk_in.customer_id)
        self.assertEqual(view["agentId"], "a01")
        self.assertIn("rule 1", view["agentReason"])
        view = self.show(south.customer_id)
        self.assertEqual(view["agentId"], "a03")  # a04 is inactive
        self.assertEqual(view["agentReason"],
                         "rule 2 (region 4403 -> team south)")

    def test_no_rule_means_turns_over_active_agents(self):
        ids = [self.lead("t%d" % i, "1380013891%d" % i,
                         region="310101").customer_id for i in range(6)]
        agents = [self.show(i)["agentId"] for i in ids]
        self.assertEqual(sorted(set(agents)), ["a01", "a02", "a03"])
        self.assertEqual(agents[:3], agents[3:])
        self.assertEqual(self.show(ids[0])["agentReason"], "round robin")


if __name__ == "__main__":
    unittest.main()
