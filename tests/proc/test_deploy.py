"""deploy/: docker-compose accepts the file, and every flag and KEYUAN_*
setting it uses exists in the program it is given to (checked against the
programs' --help), so a renamed option cannot break the deployment
silently. No Docker engine is needed: nothing is built or started.
"""
import os
import re
import shlex
import shutil
import subprocess
import unittest

from tests.proc import harness

DEPLOY = os.path.join(harness.ROOT, "deploy")
COMPOSE = os.path.join(DEPLOY, "docker-compose.yml")
DOCKERFILE = os.path.join(DEPLOY, "Dockerfile")
SERVICES = harness.SERVICES

RUNTIME_PACKAGES = ["libzmq5", "libprotobuf-c1", "liblmdb0", "libcurl4",
                    "libjansson4", "libsodium23", "libutf8proc2", "tzdata"]


def compose(*args):
    return subprocess.run(["docker-compose", "-f", COMPOSE] + list(args),
                          capture_output=True, text=True)


def help_text(program):
    path = os.path.join(harness.BIN, program)
    if not os.access(path, os.X_OK):
        return None
    r = subprocess.run([path, "--help"], capture_output=True, text=True)
    return r.stdout + r.stderr


def flags(words):
    return [w.split("=", 1)[0] for w in words if w.startswith("--")]


def env_flag(name):
    """KEYUAN_WORK_START -> --work-start, as common/config.h maps them."""
    return "--" + name[len("KEYUAN_"):].lower().replace("_", "-")


def has_flag(text, flag):
    return re.search(r"(^|\s)%s(\s|=|$)" % re.escape(flag), text,
                     re.M) is not None


class ComposeFile(unittest.TestCase):

    def setUp(self):
        if shutil.which("docker-compose") is None:
            self.skipTest("docker-compose is not installed "
                          "(scripts/install-deps.sh installs it)")

    def config(self):
        try:
            import yaml
        except ImportError:
            self.skipTest("python3-yaml is missing")
        r = compose("config")
        self.assertEqual(r.returncode, 0, r.stderr)
        return yaml.safe_load(r.stdout)

    def test_compose_accepts_the_file(self):
        r = compose("config", "-q")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_each_service_is_complete(self):
        cfg = self.config()
        self.assertEqual(sorted(cfg["services"]), sorted(SERVICES))
        volumes = {}
        for name, svc in cfg["services"].items():
            with self.subTest(service=name):
                self.assertEqual(svc["command"][0], "keyuan-" + name)
                self.assertIn("healthcheck", svc)
                self.assertIn(svc.get("restart"), ("always",
                                                   "unless-stopped"))
                self.assertIn("stop_grace_period", svc)
                state = [v for v in svc["volumes"]
                         if v.endswith(":/var/lib/keyuan/" + name + ":rw")]
                self.assertEqual(len(state), 1, svc["volumes"])
                volumes[state[0].split(":")[0]] = name
        self.assertEqual(len(volumes), len(SERVICES))
        self.assertEqual(set(volumes), set(cfg["volumes"]))

    def test_flags_exist_in_the_programs(self):
        cfg = self.config()
        for name, svc in cfg["services"].items():
            program = svc["command"][0]
            text = help_text(program)
            if text is None:
                self.skipTest("%s is not built" % program)
            used = flags(svc["command"][1:])
            used += [env_flag(k) for k in svc.get("environment", {})
                     if k.startswith("KEYUAN_")]
            for flag in used:
                with self.subTest(program=program, flag=flag):
                    self.assertTrue(has_flag(text, flag),
                                    "%s --help has no %s" % (program, flag))

    def health_command(self, svc):
        """The check's shell command and the words of its keyuanctl part."""
        test = svc["healthcheck"]["test"]
        self.assertEqual(test[0], "CMD-SHELL")
        words = shlex.split(test[1].split("|")[0])
        self.assertEqual(words[0], "keyuanctl")
        return test[1], words[1:]

    def test_health_checks_use_real_keyuanctl_flags(self):
        cfg = self.config()
        text = help_text("keyuanctl")
        if text is None:
            self.skipTest("keyuanctl is not built")
        for name, svc in cfg["services"].items():
            _, words = self.health_command(svc)
            sub = [w for w in words if not w.startswith("-")][0]
            self.assertTrue(re.search(r"\b%s\b" % sub, text),
                            "keyuanctl has no command " + sub)
            r = subprocess.run([os.path.join(harness.BIN, "keyuanctl"),
                                sub, "--help"], capture_output=True,
                               text=True)
            for flag in flags(words):
                with self.subTest(service=name, flag=flag):
                    self.assertTrue(has_flag(r.stdout + r.stderr, flag),
                                    "keyuanctl %s has no %s" % (sub, flag))

    def test_health_checks_tell_up_from_down(self):
        """Each check, run against real services on test ports."""
        cfg = self.config()
        if help_text("keyuanctl") is None or any(
                help_text("keyuan-" + s) is None for s in SERVICES):
            self.skipTest("binaries are not built")
        cluster = harness.Cluster()
        self.addCleanup(shutil.rmtree, cluster.tmp, True)
        self.addCleanup(cluster.close)
        cluster.start()

        def check(name):
            command, _ = self.health_command(cfg["services"][name])
            command = re.sub(r"tcp://127\.0\.0\.1:\d+",
                             cluster.endpoint(name), command)
            command = command.replace(
                "keyuanctl", os.path.join(harness.BIN, "keyuanctl"), 1)
            return subprocess.run(["sh", "-c", command],
                                  capture_output=True).returncode

        for name in SERVICES:
            self.assertEqual(check(name), 0, name + " up")
        cluster.stop("intake")
        self.assertNotEqual(check("intake"), 0, "intake down")
        self.assertEqual(check("grading"), 0, "grading up")


class Dockerfile(unittest.TestCase):

    def setUp(self):
        with open(DOCKERFILE, encoding="utf-8") as f:
            self.text = f.read()

    def test_debian_12_multi_stage(self):
        bases = re.findall(r"^FROM\s+(\S+)", self.text, re.M)
        self.assertEqual(len(bases), 2)
        for b in bases:
            self.assertTrue(b.startswith("debian:12"), b)

    def test_runtime_is_small_and_unprivileged(self):
        runtime = self.text[self.text.rindex("\nFROM "):]
        for p in RUNTIME_PACKAGES:
            self.assertRegex(runtime, r"\b%s\b" % re.escape(p))
        self.assertNotIn("-dev", runtime)
        users = re.findall(r"^USER\s+(\S+)", runtime, re.M)
        self.assertEqual(len(users), 1)
        self.assertNotIn(users[0], ("root", "0"))
        self.assertIn("/usr/local/bin", runtime)
        self.assertIn("/etc/keyuan", runtime)


if __name__ == "__main__":
    unittest.main()
