"""``course doctor``'s checks for what the browser runs: ipywidgets' JupyterLab extension
(required: without it the playground and progress bars are dead text) and Chromium and
playwright for the browser tests (optional). No browser is started here."""

import json
import os

import pytest

from course_lib import doctor

MANAGER = doctor.WIDGETS_EXTENSION


def install_extension(folder, version, name=MANAGER):
    """A labextensions folder holding a (fake) federated extension ``name`` of ``version``."""
    package = folder / name
    package.mkdir(parents=True)
    package.joinpath("package.json").write_text(json.dumps(
        {"name": name, "version": version, "jupyterlab": {"_build": {"load": "static/remoteEntry.js"}}}))
    return folder


@pytest.fixture
def user_config(tmp_path, monkeypatch):
    """An empty Jupyter user config folder, so that only what a test writes there is read."""
    folder = tmp_path / "jupyter-config"
    (folder / "labconfig").mkdir(parents=True)
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(folder))
    return folder


def test_the_installed_course_has_the_widgets_extension_enabled():
    check = doctor.check_widgets_extension()
    assert check.ok and check.required, check.detail


def test_the_widgets_extension_found_and_enabled_passes(tmp_path, user_config):
    check = doctor.check_widgets_extension([install_extension(tmp_path / "ext", "5.0.16")])
    assert check.ok
    assert f"{MANAGER} 5.0.16 in {tmp_path / 'ext'}" in check.detail


def test_a_missing_widgets_extension_fails_and_says_how_to_install(tmp_path, user_config):
    (tmp_path / "ext").mkdir()
    check = doctor.check_widgets_extension([tmp_path / "ext"])
    assert not check.ok and check.required
    assert f"not found in {tmp_path / 'ext'}" in check.detail
    assert "pip install -e ." in check.fix


def test_a_widgets_extension_for_ipywidgets_7_fails(tmp_path, user_config):
    check = doctor.check_widgets_extension([install_extension(tmp_path / "ext", "3.1.0")])
    assert not check.ok and check.required
    assert "is for ipywidgets 7" in check.detail and "pip install -U jupyterlab_widgets" in check.fix


def test_the_first_copy_on_the_path_is_the_one_checked(tmp_path, user_config):
    old, new = install_extension(tmp_path / "user", "3.1.0"), install_extension(tmp_path / "env", "5.0.16")
    check = doctor.check_widgets_extension([old, new])
    assert not check.ok and str(old) in check.fix


@pytest.mark.parametrize("entry", [MANAGER, f"{MANAGER}:plugin"])
def test_a_disabled_widgets_extension_fails_and_says_how_to_enable_it(tmp_path, user_config, entry):
    (user_config / "labconfig" / "page_config.json").write_text(json.dumps({"disabledExtensions": {entry: True}}))
    check = doctor.check_widgets_extension([install_extension(tmp_path / "ext", "5.0.16")])
    assert not check.ok and check.required
    assert f"is disabled ({entry})" in check.detail
    assert check.fix == f"jupyter labextension enable {MANAGER}"


@pytest.mark.parametrize("pattern, hit", [
    (MANAGER, True),                          # the extension
    (f"{MANAGER}:plugin", True),              # one of its plugins
    ("@jupyter-widgets/.*", True),            # a regex, as JupyterLab reads entries
    ("@jupyterlab/notebook-extension", False),
    ("[unclosed", False),                     # not a regex: only an equal name would count
])
def test_which_disabled_entries_hit_the_widgets_extension(pattern, hit):
    assert doctor.disables(pattern, MANAGER) is hit


def executable(path, mode=0o755):
    path.write_text("#!/bin/sh\n")
    os.chmod(path, mode)
    return path


def test_chromium_is_looked_for_where_course_chromium_points(tmp_path, monkeypatch):
    browser = executable(tmp_path / "chromium")
    monkeypatch.setenv("COURSE_CHROMIUM", str(browser))
    chromium, _ = doctor.check_browser()
    assert chromium.ok and chromium.detail == str(browser)


def test_without_course_chromium_debians_chromium_is_looked_for(monkeypatch):
    monkeypatch.delenv("COURSE_CHROMIUM", raising=False)
    assert doctor.chromium_wanted() == "/usr/bin/chromium"


def test_a_file_that_cannot_run_is_no_chromium(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CHROMIUM", str(executable(tmp_path / "chromium", mode=0o644)))
    assert doctor.chromium_path() is None


def test_a_missing_chromium_is_optional_and_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CHROMIUM", str(tmp_path / "nowhere"))
    chromium, _ = doctor.check_browser()
    assert not chromium.ok and not chromium.required
    assert str(tmp_path / "nowhere") in chromium.detail and "apt-get install -y chromium" in chromium.fix


def test_a_missing_playwright_is_optional_and_says_how_to_install(monkeypatch):
    find_spec = doctor.importlib.util.find_spec
    monkeypatch.setattr(doctor.importlib.util, "find_spec",
                        lambda name, *args: None if name == "playwright" else find_spec(name, *args))
    _, playwright = doctor.check_browser()
    assert not playwright.ok and not playwright.required
    assert "pip install" in playwright.fix and "playwright" in playwright.fix
