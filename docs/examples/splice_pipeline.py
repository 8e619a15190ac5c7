"""A tiny splice-site pipeline in the seed's style, built on polars.

It makes its own synthetic genome and annotation (no downloads), runs a toy "base model"
that scores candidate splice sites, and writes the seed's artifacts through the artifact
manager:

- ``full_splice_positions_enhanced.tsv`` — every scored candidate with its label,
- ``full_splice_errors.tsv`` — false positives and false negatives,
- ``analysis_sequences_<chrom>.tsv`` — sequence windows around the true sites,
- ``training_data/features.parquet`` — features and labels for a meta-model.

The genome is the expensive part (in real life: downloads and base-model inference), so it
is a *shared build*: production keeps it as a cache; a test session builds it once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from artifact_manager import ArtifactManager, ArtifactSettings

WINDOW = 5
#: The project's data root. Code and data live together, so the path is fixed relative to
#: this file rather than to wherever pytest happens to be started.
DATA_ROOT = Path(__file__).resolve().parent / "data"


@dataclass
class SpliceAIConfig(ArtifactSettings):
    """A workflow config with the artifact integration in one line (the mix-in)."""

    n_genes: int = 12
    seed: int = 7
    threshold: float = 0.5
    source: str = "ensembl"
    build: str = "GRCh37"
    base_model: str = "spliceai"
    data_root: Path = DATA_ROOT


def make_genome(n_genes: int, seed: int) -> pl.DataFrame:
    """Synthetic genes: id, chromosome, strand, sequence and exon boundaries."""
    rng = random.Random(seed)
    rows = []
    for index in range(n_genes):
        exons, position = [], 20
        for _ in range(rng.randint(2, 4)):
            start = position + rng.randint(10, 30)
            end = start + rng.randint(15, 40)
            exons.append((start, end))
            position = end
        bases = [rng.choice("ACGT") for _ in range(position + 30)]
        for start, end in exons:  # canonical AG|exon|GT around each exon
            bases[start - 2 : start] = list("AG")
            bases[end : end + 2] = list("GT")
        rows.append(
            {
                "gene_id": f"GENE{index:03d}",
                "chrom": f"chr{1 + index % 3}",
                "strand": rng.choice("+-"),
                "sequence": "".join(bases),
                "donors": [end for _, end in exons],
                "acceptors": [start for start, _ in exons],
            }
        )
    return pl.DataFrame(rows)


def score_sites(genome: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The toy base model: every GT/AG dinucleotide is a candidate; true sites score high."""
    rng = random.Random(seed + 1)
    rows = []
    for gene in genome.iter_rows(named=True):
        sequence = gene["sequence"]
        truth = {("donor", p) for p in gene["donors"]} | {
            ("acceptor", p) for p in gene["acceptors"]
        }
        for position in range(2, len(sequence) - 2):
            for kind, motif, site in (("donor", "GT", position), ("acceptor", "AG", position)):
                window = (
                    sequence[position : position + 2]
                    if kind == "donor"
                    else sequence[position - 2 : position]
                )
                if window != motif:
                    continue
                label = (kind, site) in truth
                score = rng.uniform(0.55, 0.99) if label else rng.uniform(0.0, 0.7)
                rows.append(
                    {
                        "gene_id": gene["gene_id"],
                        "chrom": gene["chrom"],
                        "position": site,
                        "splice_type": kind,
                        "score": round(score, 4),
                        "label": label,
                    }
                )
    return pl.DataFrame(rows)


def build_genome(config: SpliceAIConfig, manager: ArtifactManager) -> pl.DataFrame:
    """The shared build: production artifacts are the cache (fast path), else build it."""
    path = manager.get_or_build(
        "genome.parquet", lambda _path: make_genome(config.n_genes, config.seed)
    )
    return pl.read_parquet(path)


def run_pipeline(config: SpliceAIConfig, genome: pl.DataFrame | None = None) -> ArtifactManager:
    """Run every stage; returns the manager whose dirs hold the artifacts."""
    manager = config.get_artifact_manager()
    if genome is None:
        genome = build_genome(config, manager)
    scored = score_sites(genome, config.seed).with_columns(
        predicted=pl.col("score") >= config.threshold
    )
    manager.write_table(scored, "full_splice_positions_enhanced.tsv", force=True)
    errors = scored.filter(pl.col("predicted") != pl.col("label")).with_columns(
        error_type=pl.when(pl.col("predicted")).then(pl.lit("FP")).otherwise(pl.lit("FN"))
    )
    manager.write_table(errors, "full_splice_errors.tsv", force=True)
    windows = genome.explode("donors").select(
        "gene_id",
        "chrom",
        pl.col("donors").alias("position"),
        pl.col("sequence").str.slice(pl.col("donors") - WINDOW, 2 * WINDOW).alias("window"),
    )
    for (chrom,), part in windows.partition_by("chrom", as_dict=True).items():
        manager.write_table(part, f"analysis_sequences_{chrom}.tsv", force=True)
    features = scored.select("position", "score", pl.col("label").cast(pl.Int8))
    training = manager.get_training_data_dir(create=True) / "features.parquet"
    features.write_parquet(training)
    return manager


def write_legacy_summary(errors: pl.DataFrame) -> Path:
    """A stage from before the artifact manager: it writes to a hard-coded production path."""
    path = DATA_ROOT / "ensembl/GRCh37/spliceai_eval/meta_models/legacy_summary.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    errors.group_by("error_type").len().write_csv(path, separator="\t")
    return path
