"""An agent asks why a customer has the grade it has: keyuanctl grade shows
the grade, the rule, the reasons, and the grades before."""
import json
import unittest

import harness
from harness import keyuanctl


class GradeQueryTest(unittest.TestCase):
    def setUp(self):
        self.c = harness.Cluster().start()

    def tearDown(self):
        self.c.close()

    def grades(self, customer_id):
        r = keyuanctl("grade", str(customer_id), "--json", cluster=self.c,
                      check=False)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def test_grade_reasons_and_history(self):
        first = self.c.push_lead(source="p", sourceEventId="g1",
                                 contacts={"mobile": "13800138601"})
        self.c.wait_for(lambda: self.grades(first.customer_id), timeout=10,
                        what="first grade")
        self.assertEqual(self.grades(first.customer_id)[0]["grade"],
                         "GRADE_LEAD")
        self.c.push_lead(source="p", sourceEventId="g2",
                         contacts={"mobile": "13800138601"},
                         needs={"timelineMonths": 10, "budgetMaxWan": 300,
                                "regionCodes": ["110105"]})
        self.c.wait_for(lambda: len(self.grades(first.customer_id)) == 2,
                        timeout=10, what="second grade")
        newest, older = self.grades(first.customer_id)
        self.assertEqual(newest["grade"], "GRADE_C")
        self.assertEqual(newest["previousGrade"], "GRADE_LEAD")
        self.assertTrue(newest["reasons"])
        self.assertEqual(older["grade"], "GRADE_LEAD")

        human = keyuanctl("grade", str(first.customer_id),
                          cluster=self.c).stdout
        self.assertRegex(human, r"(?m)^\S+  C +rule %s$" % newest["rule"])
        self.assertIn("    - " + newest["reasons"][0], human)
        self.assertIn("earlier:", human)

    def test_unknown_customer_is_said_plainly(self):
        r = keyuanctl("grade", "12345", cluster=self.c, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no grade", r.stderr)


if __name__ == "__main__":
    unittest.main()
