"""Each addon's README.rst is what setup/gen_readme.py makes of its manifest and readme/*.md
fragments: a fragment edited without the README regenerated fails here."""

import difflib
import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.pure


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "setup" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen_readme = _load("gen_readme")
ADDONS = gen_readme.addon_dirs(ROOT)
COMMAND = ".venv/bin/python setup/gen_readme.py"


def test_every_addon_of_the_repository_has_a_readme():
    assert {addon.name for addon in ADDONS} >= {
        "messenger_leads",
        "messenger_leads_bot",
        "messenger_leads_reports",
    }


@pytest.mark.parametrize("addon", ADDONS, ids=lambda addon: addon.name)
def test_committed_readme_is_the_generated_one(addon):
    readme = addon / "README.rst"
    expected = gen_readme.render(addon)
    committed = readme.read_text(encoding="utf-8") if readme.exists() else ""
    if committed != expected:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                expected.splitlines(keepends=True),
                f"{addon.name}/README.rst (committed)",
                f"{addon.name}/README.rst (generated)",
                n=1,
            )
        )
        pytest.fail(
            f"{addon.name}/README.rst is not what its manifest and readme/*.md fragments make: "
            f"run `{COMMAND}` and commit the README.rst it writes (never edit README.rst by "
            f"hand: edit readme/*.md).\n{diff[:3000]}",
            pytrace=False,
        )


def test_a_fragment_edit_changes_the_readme(tmp_path):
    """The check above compares something: what a fragment says reaches the README, and its
    source digest changes with it."""
    addon = tmp_path / "messenger_leads"
    addon.mkdir()
    shutil.copy(ROOT / "messenger_leads" / "__manifest__.py", addon)
    shutil.copytree(ROOT / "messenger_leads" / "readme", addon / "readme")
    before = gen_readme.render(addon)
    with (addon / "readme" / "USAGE.md").open("a", encoding="utf-8") as usage:
        usage.write("\nA sentence only this test writes.\n")
    after = gen_readme.render(addon)
    assert "A sentence only this test writes." in after
    assert "A sentence only this test writes." not in before
    digest = next(line for line in before.splitlines() if "source digest" in line)
    assert digest not in after


def test_a_misnamed_fragment_is_refused(tmp_path):
    addon = tmp_path / "messenger_leads"
    addon.mkdir()
    shutil.copy(ROOT / "messenger_leads" / "__manifest__.py", addon)
    shutil.copytree(ROOT / "messenger_leads" / "readme", addon / "readme")
    (addon / "readme" / "CONFIGURATION.md").write_text("Never shown.\n", encoding="utf-8")
    with pytest.raises(gen_readme.ReadmeError, match=r"CONFIGURATION\.md: not a readme fragment"):
        gen_readme.render(addon)
