"""Writes each addon's README.rst from its manifest and its readme/*.md fragments, in the layout
OCA's oca-gen-addon-readme gives its addons: title, badges, description, table of contents, one
section per fragment, bug tracker, credits. The fragments are GitHub-flavoured Markdown turned
into reStructuredText by pandoc (pypandoc_binary, setup/requirements-test.txt), as OCA does.

    .venv/bin/python setup/gen_readme.py               # every addon of the repository
    .venv/bin/python setup/gen_readme.py ADDON_DIR...  # these addons

The pre-commit hook `gen-readme` runs it; tests/test_readme.py fails when a committed README.rst
is not what it makes.
"""

import argparse
import ast
import hashlib
import json
import re
import sys
from pathlib import Path

import pypandoc
from docutils.core import publish_string
from docutils.utils import SystemMessage
from jinja2 import Environment, FileSystemLoader, StrictUndefined

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = "gen_readme.rst.jinja"
FRAGMENTS_DIR = "readme"
# The fragments OCA knows, in the README's order: (name, section title, heading level). The
# description comes first, untitled; contributors and other credits go under *Credits*.
FRAGMENTS = (
    ("DESCRIPTION", "", 2),
    ("CONTEXT", "Use Cases / Context", 2),
    ("INSTALL", "Installation", 2),
    ("CONFIGURE", "Configuration", 2),
    ("USAGE", "Usage", 2),
    ("DEVELOP", "Development", 2),
    ("ROADMAP", "Known issues / Roadmap", 2),
    ("HISTORY", "Changelog", 2),
    ("CONTRIBUTORS", "Contributors", 3),
    ("CREDITS", "Other credits", 3),
)
# Raw HTML off (the README is rendered where it is not allowed), and no automatic heading
# anchors (pylint-odoo calls them unreferenced targets)
PANDOC_FORMAT = "gfm-raw_html-gfm_auto_identifiers"
# The manifest's keys the README shows. The source digest covers only these and the fragments
# (OCA's covers the whole manifest): a new data file in a manifest changes no README.rst.
MANIFEST_KEYS = (
    "name",
    "version",
    "license",
    "development_status",
    "author",
    "website",
    "maintainers",
)
MATURITY_BADGES = {
    "alpha": ("maturity-Alpha-red", "Alpha"),
    "beta": ("maturity-Beta-yellow", "Beta"),
    "production/stable": ("maturity-Production%2FStable-green", "Production/Stable"),
    "mature": ("maturity-Mature-brightgreen", "Mature"),
}
LICENSE_PAGES = {
    "AGPL-3": "agpl-3.0-standalone.html",
    "GPL-3": "gpl-3.0-standalone.html",
    "LGPL-3": "lgpl-3.0-standalone.html",
}
# As PyPI's readme renderer checks a README: any docutils warning is an error (told in the
# exception, not on stderr)
RST_CHECKS = {
    "halt_level": 2,
    "file_insertion_enabled": False,
    "raw_enabled": False,
    "warning_stream": False,
}


class ReadmeError(Exception):
    """An addon's manifest or fragments cannot make a README."""


def addon_dirs(root=ROOT):
    """The installable addons of the repository, by name."""
    return [
        path.parent
        for path in sorted(root.glob("*/__manifest__.py"))
        if read_manifest(path.parent).get("installable", True)
    ]


def read_manifest(addon_dir):
    return ast.literal_eval((addon_dir / "__manifest__.py").read_text(encoding="utf-8"))


def fragment_paths(addon_dir):
    """{fragment name: its .md file} of the addon; anything else in readme/ is refused, so a
    misnamed fragment cannot silently drop out of the README."""
    known = {name for name, _title, _level in FRAGMENTS}
    folder = addon_dir / FRAGMENTS_DIR
    paths = {}
    for path in sorted(folder.iterdir() if folder.is_dir() else ()):
        if path.name.startswith("."):
            continue
        if path.suffix != ".md" or path.stem not in known:
            raise ReadmeError(
                f"{path.relative_to(addon_dir.parent)}: not a readme fragment; fragments are "
                f"Markdown files named {', '.join(sorted(known))} (.md)"
            )
        paths[path.stem] = path
    if "DESCRIPTION" not in paths:
        raise ReadmeError(f"{addon_dir.name}: no {FRAGMENTS_DIR}/DESCRIPTION.md")
    return paths


def source_digest(addon_dir, manifest, paths):
    """sha256 of what the README is made from: the manifest's keys it shows and the fragments."""
    digest = hashlib.sha256()
    shown = {key: manifest[key] for key in MANIFEST_KEYS if key in manifest}
    digest.update(json.dumps(shown, sort_keys=True).encode())
    for path in sorted(paths.values()):
        digest.update(path.relative_to(addon_dir).as_posix().encode())
        digest.update(path.read_bytes())
    return f"sha256:{digest.hexdigest()}"


def to_rst(path, level):
    """A Markdown fragment as reStructuredText; its `##` headings sit under the README section
    of the fragment's level."""
    text = pypandoc.convert_file(
        str(path),
        "rst",
        format=PANDOC_FORMAT,
        extra_args=[f"--shift-heading-level-by={level - 2}"],
        sandbox=True,
    )
    return text.rstrip("\n") + "\n"


def github_project(manifest, addon_name):
    """(organisation, repository) of the manifest's GitHub website."""
    match = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+)/?", manifest.get("website", ""))
    if not match:
        raise ReadmeError(f"{addon_name}: the manifest's website is not a GitHub repository")
    return match.groups()


def badges(manifest, org, repo, branch, addon_name):
    """(image, target, text) of each badge: maturity, license, repository."""
    found = []
    status = manifest.get("development_status", "Beta").lower()
    if status in MATURITY_BADGES:
        image, text = MATURITY_BADGES[status]
        found.append(
            (
                f"https://img.shields.io/badge/{image}.png",
                "https://odoo-community.org/page/development-status",
                text,
            )
        )
    license_ = manifest.get("license")
    if license_ in LICENSE_PAGES:
        found.append(
            (
                f"https://img.shields.io/badge/license-{license_.replace('-', '--')}-blue.png",
                f"http://www.gnu.org/licenses/{LICENSE_PAGES[license_]}",
                f"License: {license_}",
            )
        )
    shield = f"{org}%2F{repo}".replace("-", "--")
    found.append(
        (
            f"https://img.shields.io/badge/github-{shield}-lightgray.png?logo=github",
            f"https://github.com/{org}/{repo}/tree/{branch}/{addon_name}",
            f"{org}/{repo}",
        )
    )
    return found


def render(addon_dir):
    """The README.rst text the addon's manifest and fragments make."""
    addon_dir = Path(addon_dir)
    manifest = read_manifest(addon_dir)
    paths = fragment_paths(addon_dir)
    org, repo = github_project(manifest, addon_dir.name)
    branch = ".".join(manifest["version"].split(".")[:2])
    fragments = {name: to_rst(paths[name], level) for name, _t, level in FRAGMENTS if name in paths}
    environment = Environment(
        loader=FileSystemLoader(Path(__file__).parent),
        keep_trailing_newline=True,
        undefined=StrictUndefined,
        autoescape=False,  # reStructuredText, not HTML
    )
    text = environment.get_template(TEMPLATE).render(
        addon_name=addon_dir.name,
        authors=[author.strip() for author in manifest.get("author", "").split(",")],
        badges=badges(manifest, org, repo, branch, addon_dir.name),
        branch=branch,
        description=fragments["DESCRIPTION"],
        digest=source_digest(addon_dir, manifest, paths),
        sections=[
            (title, fragments[name])
            for name, title, level in FRAGMENTS[1:]
            if level == 2 and name in fragments
        ],
        credits=[
            (title, fragments[name])
            for name, title, level in FRAGMENTS
            if level == 3 and name in fragments
        ],
        maintainers=manifest.get("maintainers", []),
        name=manifest["name"],
        org=org,
        repo=repo,
    )
    check_rst(text, addon_dir.name)
    return text


def check_rst(text, addon_name):
    try:
        publish_string(text, writer_name="html", settings_overrides=RST_CHECKS)
    except SystemMessage as error:
        raise ReadmeError(f"{addon_name}: the README.rst made is not valid: {error}") from error


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("addons", nargs="*", type=Path, help="addon folders (default: all)")
    args = parser.parse_args(argv)
    changed = 0
    try:
        for addon_dir in args.addons or addon_dirs():
            readme = addon_dir / "README.rst"
            text = render(addon_dir)
            if not readme.exists() or readme.read_text(encoding="utf-8") != text:
                readme.write_text(text, encoding="utf-8")
                print(f"wrote {readme}")
                changed += 1
    except ReadmeError as error:
        sys.exit(f"error: {error}")
    return changed


if __name__ == "__main__":
    main()
