"""Follow-ups through the whole pipeline, on the test clock: a contact the
agent logs satisfies the first-contact reminder."""
import json
import unittest

import harness
from harness import keyuanctl


class FollowupTest(unittest.TestCase):
    def setUp(self):
        self.c = harness.Cluster(test_clock=True).start()
        self.c.set_clock("2026-12-07T02:00:00Z",  # Monday 10:00 Shanghai
                         services=("intake", "grading", "scheduler"))

    def tearDown(self):
        self.c.close()

    def planned(self, customer_id):
        r = keyuanctl("reminders", "--customer", str(customer_id),
                      "--planned", "--json", cluster=self.c)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def test_logged_contact_cancels_the_first_contact_reminder(self):
        lead = self.c.push_lead(source="p", sourceEventId="f1",
                                contacts={"mobile": "13800138660"})
        cid = lead.customer_id
        self.c.wait_for(lambda: any(r["kind"] == "REMINDER_KIND_SPEED_TO_LEAD"
                                    for r in self.planned(cid)),
                        what="speed-to-lead planned")
        keyuanctl("log", "contact", "--customer", str(cid), "--channel",
                  "phone", "--summary", "first call", "--at",
                  "2026-12-07T02:05:00Z", "--event-id", "c1", cluster=self.c)
        self.c.wait_for(lambda: not any(
            r["kind"] == "REMINDER_KIND_SPEED_TO_LEAD"
            for r in self.planned(cid)), what="speed-to-lead cancelled")
        self.c.set_clock("2026-12-07T03:00:00Z")
        self.c.wait_for(lambda: self.c.counter("scheduler", "pending") >= 1,
                        what="cadence still planned")
        self.assertEqual(self.c.sink_lines(), [])


if __name__ == "__main__":
    unittest.main()
