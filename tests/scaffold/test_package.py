"""``nango-scripts templates package``: a project's integration folder -> a wheel, checked
member by member, then installed into a fresh virtual environment where its templates are
listed, enabled and run offline from the pack's own cassettes, one of them winning a clash
with a built-in template.

The sample project is the built-in ``stripe`` folder with its sync renamed
``acme-customers`` (recordings renamed with it) and its action ``create-customer`` left
with the built-in name, on purpose: that one clashes.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from nango_scripts._template_index import Pack, fingerprint, read_index
from nango_scripts.cli.main import cli
from nango_scripts.engine import index_document

PACK = Path(__file__).resolve().parents[2] / "templates"
CONSOLE_SCRIPT = Path(sys.executable).parent / "nango-scripts"
WHEEL_NAME = "acme_pack-1.2.3-py3-none-any.whl"
ACME_DESCRIPTION = "Create a customer in Stripe, the Acme way."


def make_project(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "nango.toml").write_text('[integrations.stripe]\nprovider = "stripe"\n')
    stripe = root / "stripe"
    shutil.copytree(PACK / "stripe", stripe)
    sync = stripe / "syncs" / "customers.py"
    sync.write_text(sync.read_text().replace('name="customers"', 'name="acme-customers"'))
    for path in sorted((stripe / "tests").rglob("customers*")):
        renamed = path.with_name(path.name.replace("customers", "acme-customers", 1))
        path.rename(renamed)
        if renamed.parent.name == "snapshots":
            snapshot = json.loads(renamed.read_text())
            snapshot["script"] = "acme-customers"
            renamed.write_text(json.dumps(snapshot, indent=2) + "\n")
    action = stripe / "actions" / "create_customer.py"
    text = action.read_text()
    assert 'description="Create a customer in Stripe."' in text
    action.write_text(text.replace("Create a customer in Stripe.", ACME_DESCRIPTION))
    # local leftovers that must stay out of the wheel
    (stripe / "syncs" / "__pycache__").mkdir()
    (stripe / "syncs" / "__pycache__" / "customers.cpython-311.pyc").write_bytes(b"junk")
    (stripe / ".nango").mkdir()
    (stripe / ".nango" / "state.db").write_bytes(b"junk")
    return root


def invoke(project: Path, *args: str) -> Result:
    env = {"NANGO_SCRIPTS_PROJECT": str(project), "NANGO_SCRIPTS_DATABASE_URL": None}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def package(project: Path, *extra: str) -> Result:
    return invoke(
        project, "templates", "package", "--name", "acme-pack", "--version", "1.2.3", *extra
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = make_project(tmp_path_factory.mktemp("package") / "proj")
    done = package(project)
    assert done.exit_code == 0, done.output
    built = project / "dist" / WHEEL_NAME
    assert f"Built {built} (2 templates of stripe)." in done.stdout
    assert f"pip install {built}" in done.stdout
    return built


# --------------------------------------------------------------------------- the wheel


def test_the_wheel_holds_the_pack_package_and_its_dist_info(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        read = archive.read
        assert {n for n in names if not n.startswith("acme_pack/")} == {
            "acme_pack-1.2.3.dist-info/METADATA",
            "acme_pack-1.2.3.dist-info/WHEEL",
            "acme_pack-1.2.3.dist-info/entry_points.txt",
            "acme_pack-1.2.3.dist-info/top_level.txt",
            "acme_pack-1.2.3.dist-info/RECORD",
        }
        # the integration folder as it is in the project, minus the local leftovers
        stripe = wheel.parents[1] / "stripe"
        expected = {
            "acme_pack/__init__.py",
            "acme_pack/index.json",
            *(
                f"acme_pack/stripe/{p.relative_to(stripe).as_posix()}"
                for p in stripe.rglob("*")
                if p.is_file() and not {"__pycache__", ".nango"} & set(p.parts)
            ),
        }
        assert "acme_pack/stripe/tests/cassettes/acme-customers@later.yaml" in expected
        assert {n for n in names if n.startswith("acme_pack/")} == expected
        assert not any("__pycache__" in n or ".nango" in n for n in names)
        source = read("acme_pack/stripe/syncs/customers.py").decode()
        assert 'name="acme-customers"' in source

        metadata = read("acme_pack-1.2.3.dist-info/METADATA").decode().splitlines()
        assert "Name: acme-pack" in metadata
        assert "Version: 1.2.3" in metadata
        assert "Requires-Dist: nango-scripts" in metadata
        wheel_file = read("acme_pack-1.2.3.dist-info/WHEEL").decode().splitlines()
        assert {"Root-Is-Purelib: true", "Tag: py3-none-any"} <= set(wheel_file)
        assert read("acme_pack-1.2.3.dist-info/entry_points.txt").decode() == (
            "[nango_scripts.templates]\nacme-pack = acme_pack\n"
        )
        assert read("acme_pack-1.2.3.dist-info/top_level.txt").decode() == "acme_pack\n"


def test_the_wheel_record_lists_every_member_with_a_valid_hash(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        rows = list(
            csv.reader(io.StringIO(archive.read("acme_pack-1.2.3.dist-info/RECORD").decode()))
        )
        assert sorted(row[0] for row in rows) == sorted(archive.namelist())
        for path, digest, size in rows:
            if path.endswith("/RECORD"):
                assert (digest, size) == ("", "")
                continue
            data = archive.read(path)
            algorithm, _, encoded = digest.partition("=")
            assert algorithm == "sha256", path
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert encoded == expected.decode(), path
            assert int(size) == len(data), path


def test_the_wheel_carries_an_up_to_date_index(wheel: Path, tmp_path: Path) -> None:
    """So that ``templates list`` reads it instead of importing the pack's templates."""
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path)
    folder = tmp_path / "acme_pack"
    index = json.loads((folder / "index.json").read_text())
    assert index["fingerprint"] == fingerprint(folder)
    assert index == index_document(folder)
    assert [(r["provider"], r["name"]) for r in index["templates"]] == [
        ("stripe", "acme-customers"),
        ("stripe", "create-customer"),
    ]


def test_package_out_writes_the_wheel_there(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    done = package(project, "--out", str(tmp_path / "wheels"))
    assert done.exit_code == 0, done.output
    assert (tmp_path / "wheels" / WHEEL_NAME).is_file()
    assert not (project / "dist").exists()


@pytest.mark.parametrize(
    ("name", "version", "message"),
    [
        ("1acme", "1.2.3", "pack name '1acme'"),
        ("acme pack", "1.2.3", "pack name 'acme pack'"),
        ("acme-pack", "one", "version 'one' is not a version"),
    ],
)
def test_package_refuses_a_bad_name_or_version(
    tmp_path: Path, name: str, version: str, message: str
) -> None:
    project = make_project(tmp_path / "proj")
    done = invoke(project, "templates", "package", "--name", name, "--version", version)
    assert done.exit_code == 2, done.output
    assert message in done.stderr
    assert not (project / "dist").exists()


def test_package_refuses_a_project_without_integration_folders(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "nango.toml").write_text("")
    done = package(project)
    assert done.exit_code != 0
    assert "no integration folder" in done.stderr
    assert not (project / "dist").exists()


def test_package_refuses_a_pack_that_does_not_compile(tmp_path: Path) -> None:
    project = make_project(tmp_path / "proj")
    (project / "stripe" / "syncs" / "broken.py").write_text("import nowhere_to_be_found\n")
    done = package(project)
    assert done.exit_code != 0
    assert "the pack does not compile" in done.stderr
    assert "broken.py" in done.stderr
    assert not (project / "dist").exists()


# --------------------------------------------------------------------------- installed


@dataclass
class Venv:
    """A fresh virtual environment with the pack installed; nango-scripts itself comes
    from the test's environment through a .pth file, so nothing is downloaded."""

    root: Path
    site_packages: Path
    env: dict[str, str]

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.root / "bin" / "nango-scripts"), *args],
            cwd=cwd or self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def json(self, *args: str, cwd: Path | None = None) -> Any:
        done = self.run(*args, "--json", cwd=cwd)
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout)


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without what would leak another project or environment in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NANGO_", "PIP_")) and k not in {"PYTHONPATH", "VIRTUAL_ENV"}
    }
    return {**env, "PIP_DISABLE_PIP_VERSION_CHECK": "1", **extra}


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    root = tmp_path_factory.mktemp("venv") / "env"
    env = clean_env()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, env=env)
    python = root / "bin" / "python"
    site_packages = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout.strip()
    )
    ours = sysconfig.get_paths()["purelib"]
    # addsitedir, not a bare path: it also runs the .pth files there (the editable install)
    (site_packages / "use_the_test_environment.pth").write_text(
        f"import site; site.addsitedir({ours!r})\n"
    )
    # pip comes from our environment too, and installs into the fresh one's prefix
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (site_packages / "acme_pack" / "stripe" / "models.py").is_file()
    # the launcher pip writes for a console script: nango-scripts installed in this venv
    launcher = root / "bin" / "nango-scripts"
    launcher.write_text(
        f"#!{python}\nimport sys\nfrom nango_scripts.cli.main import main\nsys.exit(main())\n"
    )
    launcher.chmod(0o755)
    return Venv(root, site_packages, env)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """A project with no scripts of its own and a Stripe integration called pay."""
    root = tmp_path / "app"
    root.mkdir()
    (root / "nango.toml").write_text('[integrations.pay]\nprovider = "stripe"\n')
    return root


@pytest.mark.slow
def test_the_installed_pack_is_listed_beside_the_builtin_one(venv: Venv, app: Path) -> None:
    done = venv.run("templates", "list", "--json", cwd=app)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    packs = {p["name"]: p for p in document["packs"]}
    assert sorted(packs) == ["acme-pack", "builtin"]
    assert packs["acme-pack"]["version"] == "1.2.3"
    assert Path(packs["acme-pack"]["folder"]) == venv.site_packages / "acme_pack"
    rows = {(r["provider"], r["name"]): r for r in document["templates"]}
    acme = rows["stripe", "acme-customers"]
    assert (acme["pack"], acme["pack_version"], acme["kind"]) == ("acme-pack", "1.2.3", "sync")
    assert acme["models"] == ["Customer"]
    assert rows["stripe", "customers"]["pack"] == "builtin"
    assert rows["github", "issues"]["pack"] == "builtin"
    assert len([r for r in document["templates"] if r["pack"] == "builtin"]) > 30

    # the clash: the installed pack's create-customer wins over the built-in one, and says so
    clash = rows["stripe", "create-customer"]
    assert (clash["pack"], clash["pack_version"]) == ("acme-pack", "1.2.3")
    assert clash["description"] == ACME_DESCRIPTION
    assert (
        len(
            [
                r
                for r in document["templates"]
                if r["name"] == "create-customer" and r["provider"] == "stripe"
            ]
        )
        == 1
    )
    [sentence] = document["clashes"]
    assert "stripe/create-customer" in sentence
    assert "pack acme-pack 1.2.3 is used" in sentence
    assert "builtin" in sentence
    assert f"Note: {sentence}" in done.stderr

    human = venv.run("templates", "list", "--provider", "stripe", cwd=app)
    assert human.returncode == 0, human.stderr
    lines = {
        line.split()[0]: line for line in human.stdout.splitlines() if line.startswith("stripe/")
    }
    assert lines["stripe/acme-customers"].endswith("acme-pack 1.2.3")
    assert lines["stripe/create-customer"].endswith("acme-pack 1.2.3")
    assert lines["stripe/customers"].endswith("builtin 0.1.0")
    assert "Note: template stripe/create-customer" in human.stderr

    # the index came with the wheel: listing reads it instead of importing the pack
    installed = Pack("acme-pack", "1.2.3", venv.site_packages / "acme_pack")
    assert read_index(installed) is not None

    # the pack went into the fresh environment only
    ours = subprocess.run(
        [str(CONSOLE_SCRIPT), "templates", "list", "--provider", "stripe"],
        cwd=app,
        env=venv.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ours.returncode == 0, ours.stderr
    assert "acme" not in ours.stdout + ours.stderr


@pytest.mark.slow
def test_the_installed_pack_wins_the_clash_when_shown_and_run(venv: Venv, app: Path) -> None:
    shown = venv.json("templates", "show", "stripe/create-customer", cwd=app)
    assert (shown["pack"], shown["pack_version"]) == ("acme-pack", "1.2.3")
    assert shown["description"] == ACME_DESCRIPTION
    assert Path(shown["file"]).is_relative_to(venv.site_packages / "acme_pack")

    ran = venv.json("dryrun", "create-customer", "c1", "--integration", "pay", "--replay", cwd=app)
    assert ran["script"] == "create-customer"
    recorded = json.loads(
        (venv.site_packages / "acme_pack/stripe/tests/snapshots/create-customer.json").read_text()
    )
    assert ran["output"] == recorded["output"]


@pytest.mark.slow
def test_an_enabled_pack_template_runs_offline_from_the_pack_cassette(
    venv: Venv, app: Path
) -> None:
    enabled = venv.run("templates", "enable", "pay", "acme-customers", cwd=app)
    assert enabled.returncode == 0, enabled.stderr
    assert "Enabled stripe/acme-customers for integration pay." in enabled.stdout

    [script] = venv.json("compile", cwd=app)["scripts"]
    assert (script["integration"], script["name"]) == ("pay", "acme-customers")
    assert script["template"] == "acme-pack:stripe/acme-customers"

    # no cassette in the project, no connection, no network: the pack's recording
    assert not (app / "pay").exists()
    ran = venv.json("dryrun", "acme-customers", "c1", "--replay", cwd=app)
    recorded = json.loads(
        (venv.site_packages / "acme_pack/stripe/tests/snapshots/acme-customers.json").read_text()
    )
    assert ran["script"] == "acme-customers"
    assert ran["models"]["Customer"]["saved"] == recorded["models"]["Customer"]["saved"]
    assert len(ran["models"]["Customer"]["saved"]) == 5

    later = venv.json("dryrun", "acme-customers", "c1", "--replay", "--variant", "later", cwd=app)
    assert (
        later["models"]
        == json.loads(
            (
                venv.site_packages / "acme_pack/stripe/tests/snapshots/acme-customers@later.json"
            ).read_text()
        )["models"]
    )


@pytest.mark.slow
def test_the_installed_pack_passes_its_own_check(venv: Venv) -> None:
    """Every cassette the wheel carries replays to its snapshot where it was installed."""
    done = venv.run("templates", "check", str(venv.site_packages / "acme_pack"))
    assert done.returncode == 0, done.stdout + done.stderr
