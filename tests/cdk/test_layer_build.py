"""layers/build.py: cached, content-addressed artifacts and a readable failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from pulse_cdk.packaging import load_layer_builder

REPO_ROOT = Path(__file__).resolve().parents[2]
build = load_layer_builder(REPO_ROOT)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    package = tmp_path / "shared" / "pulse"
    (package / "db" / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text('"""pulse"""\n')
    (package / "db" / "migrations" / "0001_init.sql").write_text("select 1;\n")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "functions" / "ingest").mkdir(parents=True)
    (tmp_path / "functions" / "ingest" / "handler.py").write_text("def lambda_handler(e, c): ...\n")
    return tmp_path


def test_code_layer_holds_the_pulse_package_with_sql_and_without_bytecode(project):
    built = build.build_code_layer(repo_root=project, out_root=project / "out")

    layer = built.path / "python" / "pulse"
    assert (layer / "__init__.py").is_file()
    assert (layer / "db" / "migrations" / "0001_init.sql").read_text() == "select 1;\n"
    assert not (layer / "__pycache__").exists()


def test_unchanged_sources_reuse_the_cached_build(project):
    first = build.build_code_layer(repo_root=project, out_root=project / "out")
    marker = first.path / "marker"
    marker.write_text("kept")

    second = build.build_code_layer(repo_root=project, out_root=project / "out")

    assert second == first
    assert marker.exists()


def test_changed_sources_build_under_a_new_key(project):
    first = build.build_code_layer(repo_root=project, out_root=project / "out")
    (project / "shared" / "pulse" / "ingest.py").write_text("X = 1\n")

    second = build.build_code_layer(repo_root=project, out_root=project / "out")

    assert second.key != first.key
    assert (second.path / "python" / "pulse" / "ingest.py").exists()


def test_function_bundle_keeps_the_functions_package_prefix(project):
    built = build.stage_function_code(repo_root=project, out_root=project / "out")

    assert (built.path / "functions" / "ingest" / "handler.py").is_file()


def test_dependency_layer_is_reused_while_the_runtime_requirements_are_unchanged(project):
    for name in ("uv.lock", "pyproject.toml", "README.md"):
        (project / name).write_bytes((REPO_ROOT / name).read_bytes())
    requirements = build.export_requirements(project)
    key = build._digest([build.BUILD_FORMAT.encode(), build._target_description("aws").encode(), requirements.encode()])
    cached = project / "out" / f"aws-{key[:16]}"
    cached.mkdir(parents=True)

    built = build.build_dependency_layer("aws", repo_root=project, out_root=project / "out")

    assert built.path == cached  # reused: nothing was installed
    assert "pydantic==" in requirements
    assert "pytest" not in requirements and "aws-cdk-lib" not in requirements


def test_aws_and_host_builds_never_share_a_cache_entry():
    assert build._target_description("host") != build._target_description("aws")


def test_missing_lock_is_a_clear_error(project):
    with pytest.raises(build.LayerBuildError, match=r"uv\.lock is missing"):
        build.build_dependency_layer("aws", repo_root=project, out_root=project / "out")


def test_failed_export_names_what_failed_and_how_to_fix_it(project, monkeypatch):
    (project / "uv.lock").write_text("not a lock\n")
    monkeypatch.setattr(build, "_find_uv", lambda _root: "false")

    with pytest.raises(build.LayerBuildError, match=r"(?s)could not export the runtime requirements.*uv lock"):
        build.build_dependency_layer("aws", repo_root=project, out_root=project / "out")


def test_failed_install_leaves_no_half_built_directory_and_suggests_the_host_target(project, monkeypatch):
    monkeypatch.setattr(build, "export_requirements", lambda _root: "pydantic==2.0\n")
    monkeypatch.setattr(build, "_find_uv", lambda _root: "false")
    (project / "uv.lock").write_text("version = 1\n")

    with pytest.raises(build.LayerBuildError, match=r"(?s)install the aws dependency wheels.*layer_platform=host"):
        build.build_dependency_layer("aws", repo_root=project, out_root=project / "out")
    assert list((project / "out").iterdir()) == []
