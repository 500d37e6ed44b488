"""keyuanctl refuses what intake would silently drop, and skips what is
not a row at all."""
import json
import os
import shutil
import tempfile
import unittest

import harness
from harness import keyuanctl


class KeyuanctlLimitsTest(unittest.TestCase):
    def setUp(self):
        self.c = harness.Cluster().start("intake")
        self.dir = tempfile.mkdtemp(prefix="keyuan-limits-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def tearDown(self):
        self.c.close()

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_event_over_the_size_cap_is_refused_before_sending(self):
        rows = [{"source": "t", "sourceEventId": "big%d" % i,
                 "contacts": {"mobile": "1380013871%d" % i},
                 "note": "x" * (70000 if i == 1 else 10)} for i in range(3)]
        path = self.write("big.jsonl",
                          "\n".join(json.dumps(r) for r in rows) + "\n")
        r = keyuanctl("push", "leads", path, cluster=self.c)
        self.assertIn("rejected locally too_large", r.stdout)
        self.assertIn("created 2", r.stdout)
        self.assertIn("unanswered 0", r.stdout)
        self.assertEqual(self.c.counter("intake", "customers"), 2)

    def test_blank_rows_are_skipped(self):
        path = self.write("blank.csv",
                          "source,source_event_id,mobile\n"
                          "p,e1,13800138721\n,,\n  , ,\n\n"
                          "p,e2,13800138722\n,,\n")
        r = keyuanctl("push", "leads", path, cluster=self.c)
        self.assertIn("rows 2: created 2", r.stdout)
        self.assertIn("rejected 0", r.stdout)


if __name__ == "__main__":
    unittest.main()
