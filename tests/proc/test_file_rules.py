"""Rules that hold for the file as a whole, not only for each event."""
import json
import unittest

import harness
from harness import keyuanctl, control_pb2

REJECTED = control_pb2.REPLY_STATUS_REJECTED


class FileRulesTest(unittest.TestCase):
    def setUp(self):
        self.c = harness.Cluster().start("intake")
        self.id = self.c.push_lead(
            source="p", sourceEventId="base", contacts={"mobile":
                                                        "13800138650"},
            needs={"budgetMaxWan": 700, "areaMaxM2": 90}).customer_id

    def tearDown(self):
        self.c.close()

    def show(self):
        r = keyuanctl("show", str(self.id), "--json", cluster=self.c)
        return json.loads(r.stdout.splitlines()[0])

    def test_a_lead_cannot_leave_min_above_max(self):
        r = self.c.push_lead(source="q", sourceEventId="min",
                             contacts={"mobile": "13800138650"},
                             needs={"budgetMinWan": 99999})
        self.assertEqual((r.status, r.code, r.field),
                         (REJECTED, "invalid_range", "needs.budgetMinWan"))
        self.assertIn("700", r.message)
        needs = self.show()["profile"]["needs"]
        self.assertNotIn("budgetMinWan", needs)

    def test_a_contact_change_cannot_leave_min_above_max(self):
        r = keyuanctl("log", "contact", "--customer", str(self.id),
                      "--channel", "phone", "--summary", "s",
                      "--set", "needs.areaMinM2=500", "--event-id", "x1",
                      cluster=self.c, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("invalid_range", r.stdout + r.stderr)
        self.assertEqual(self.show()["contactCount"]
                         if "contactCount" in self.show() else 0, 0)

    def test_contact_without_time_is_logged_now_and_shown(self):
        env = harness.pb.Envelope()
        harness.json_format.ParseDict(
            {"source": "crm", "sourceEventId": "x2", "customerId": self.id,
             "channel": "CHANNEL_PHONE", "summary": "聊了预算",
             "nextStep": {"action": "周六带看",
                          "dueAt": "2026-12-12T02:00:00Z"}}, env.contact)
        r = self.c.request("intake", env).reply
        self.assertEqual(r.status, control_pb2.REPLY_STATUS_ACCEPTED)
        view = self.show()
        self.assertIn("contactedAt", view["contacts"][0])
        human = keyuanctl("show", str(self.id), cluster=self.c).stdout
        row = [l for l in human.splitlines() if "聊了预算" in l]
        self.assertEqual(len(row), 1, human)
        self.assertIn("周六带看", row[0])


if __name__ == "__main__":
    unittest.main()
