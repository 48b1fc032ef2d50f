#!/usr/bin/env python3
"""The peer for bench/embed.sh: the same texts through sentence-transformers
(PyTorch, CPU, same model directory, batch size 32). Prints one line:
    pytorch <median sentences/s> <runs>
"""
import statistics
import sys
import time

import torch
from sentence_transformers import SentenceTransformer


def main() -> None:
    model_dir, texts_file, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(texts_file, encoding="utf-8") as f:
        texts = [line.rstrip("\n").replace("\\n", "\n") for line in f]
    model = SentenceTransformer(model_dir, device="cpu")
    model.encode(texts[:64], batch_size=32)  # warm-up
    rates = []
    for _ in range(runs):
        t = time.perf_counter()
        model.encode(texts, batch_size=32, normalize_embeddings=True)
        rates.append(len(texts) / (time.perf_counter() - t))
    print(f"pytorch {statistics.median(rates):.1f} {runs} threads={torch.get_num_threads()}")


if __name__ == "__main__":
    main()
