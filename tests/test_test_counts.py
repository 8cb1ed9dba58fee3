"""How setup/test.sh counts the tests: a skipped, missing or crashed test is never a pass."""

import importlib.util
import os
import xml.etree.ElementTree as ET

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytestmark = pytest.mark.pure


def _load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "setup", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


odoo_test_counts = _load("odoo_test_counts")
junit_counts = _load("junit_counts")

HEAD = "2026-11-30 04:56:14,649 16784 INFO ml_test"
ERROR = "2026-11-30 04:56:14,649 16784 ERROR ml_test"


def started(addon, test, file="test_x"):
    return f"{HEAD} odoo.addons.{addon}.tests.{file}: Starting {test} ... \n"


def result(failed, errors, total):
    return (
        f"{HEAD} odoo.tests.result: {failed} failed, {errors} error(s) of {total} tests"
        " when loading database 'ml_test' \n"
    )


def three_addons(extra_bot_tests=""):
    """A run where each addon ran one test, plus what the case adds to the bot addon."""
    return (
        started("messenger_leads", "TestSla.test_deadline")
        + started("messenger_leads_bot", "TestWebhook.test_secret")
        + extra_bot_tests
        + started("messenger_leads_reports", "TestFunnel.test_rates")
    )


def test_a_clean_run_counts_every_test_of_every_addon():
    counts = odoo_test_counts.count(three_addons() + result(0, 0, 3))
    assert (counts.passed, counts.failed, counts.skipped) == (3, 0, 0)
    assert counts.problems == []
    assert [counts.ran(addon) for addon in odoo_test_counts.ADDONS] == [1, 1, 1]


def test_a_tour_skipped_without_chrome_is_no_pass():
    # what Odoo 18 logs when Chrome is not on PATH (HttpCase.browser_js raises SkipTest)
    tour = (
        started("messenger_leads_bot", "TestDiscussTour.test_open_lead", "test_discuss_tour")
        + f"{HEAD} odoo.addons.messenger_leads_bot.tests.test_discuss_tour: skipped"
        " TestDiscussTour.test_open_lead : Chrome executable not found \n"
    )
    counts = odoo_test_counts.count(three_addons(tour) + result(0, 0, 4))
    assert (counts.passed, counts.failed, counts.skipped) == (3, 0, 1)
    assert counts.skips == [
        ("messenger_leads_bot", "TestDiscussTour.test_open_lead", "Chrome executable not found")
    ]
    assert any("skipped" in problem for problem in counts.problems)


def test_a_class_skipped_in_set_up_class_is_counted_and_its_addon_ran_nothing():
    text = (
        started("messenger_leads", "TestSla.test_deadline")
        + started("messenger_leads_bot", "TestWebhook.test_secret")
        + f"{HEAD} odoo.tests.suite: skipped setUpClass"
        " (odoo.addons.messenger_leads_reports.tests.test_exports.TestExports) : no browser \n"
        + result(0, 0, 2)
    )
    counts = odoo_test_counts.count(text)
    assert (counts.passed, counts.skipped) == (2, 1)
    assert counts.skips[0][0] == "messenger_leads_reports"
    assert "messenger_leads_reports ran no test" in counts.problems
    assert counts.failed == 1


def test_an_addon_that_ran_no_test_fails_the_run_though_the_others_passed():
    text = (
        started("messenger_leads", "TestSla.test_deadline")
        + started("messenger_leads_reports", "TestFunnel.test_rates")
        + result(0, 0, 2)
    )
    counts = odoo_test_counts.count(text)
    assert (counts.passed, counts.failed) == (2, 1)
    assert counts.problems == ["messenger_leads_bot ran no test"]


def test_only_the_named_addons_must_run():
    text = started("messenger_leads_bot", "TestWebhook.test_secret") + result(0, 0, 1)
    counts = odoo_test_counts.count(text, ("messenger_leads_bot",))
    assert (counts.passed, counts.failed, counts.problems) == (1, 0, [])


def test_failures_and_errors_are_counted_per_addon():
    failing = (
        started("messenger_leads_bot", "TestWebhook.test_replay")
        + f"{ERROR} odoo.addons.messenger_leads_bot.tests.test_x: FAIL: TestWebhook.test_replay\n"
        + "Traceback (most recent call last):\nAssertionError: 1 != 2\n"
        + started("messenger_leads_bot", "TestWebhook.test_crash")
        + f"{ERROR} odoo.addons.messenger_leads_bot.tests.test_x: ERROR: TestWebhook.test_crash\n"
    )
    counts = odoo_test_counts.count(three_addons(failing) + result(1, 1, 5))
    assert (counts.passed, counts.failed, counts.skipped) == (3, 2, 0)
    assert counts.failures["messenger_leads_bot"] == 2


def test_a_crashed_install_is_a_failure():
    text = (
        started("messenger_leads", "TestSla.test_deadline")
        + "2026-11-30 04:56:14,649 16784 CRITICAL ml_test odoo.modules.module:"
        " Couldn't load module messenger_leads_bot\n"
    )
    counts = odoo_test_counts.count(text)
    assert counts.passed == 0
    assert counts.failed >= 1
    assert any("crashed" in problem for problem in counts.problems)


def test_a_module_that_failed_to_load_fails_a_run_that_reached_its_result():
    text = (
        three_addons()
        + f"{ERROR} odoo.modules.loading: Failed to load registry\n"
        + result(0, 0, 3)
    )
    assert odoo_test_counts.count(text).failed == 1


def test_the_script_prints_passed_failed_skipped(tmp_path, capsys):
    log = tmp_path / "install.log"
    log.write_text(three_addons() + result(0, 0, 3))
    odoo_test_counts.main(str(log))
    out, err = capsys.readouterr()
    assert out.split() == ["3", "0", "0"]
    assert "messenger_leads_bot: 1 run, 0 failed, 0 skipped" in err


def junit(tmp_path, tests, failures=0, errors=0, skipped=0):
    path = tmp_path / "pytest.xml"
    suite = ET.Element(
        "testsuite",
        tests=str(tests),
        failures=str(failures),
        errors=str(errors),
        skipped=str(skipped),
    )
    root = ET.Element("testsuites")
    root.append(suite)
    ET.ElementTree(root).write(path)
    return str(path)


def test_no_pytest_report_is_a_failure(tmp_path, capsys):
    junit_counts.main(str(tmp_path / "pytest.xml"))
    assert capsys.readouterr().out.split() == ["0", "1", "0"]


def test_pytest_skips_are_counted_apart(tmp_path, capsys):
    junit_counts.main(junit(tmp_path, tests=5, failures=1, skipped=2))
    assert capsys.readouterr().out.split() == ["2", "1", "2"]
