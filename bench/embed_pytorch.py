#!/usr/bin/env python3
"""The peer for bench/embed.sh: the same texts through sentence-transformers
(PyTorch, CPU, same model directory). Prints two lines, medians over runs:
    batched <sentences/s>      model.encode(texts, batch_size=32)
    one_at_a_time <sentences/s> model.encode(text) per text, as a per-row caller does
and a last line: threads <torch threads>
"""
import statistics
import sys
import time

import torch
from sentence_transformers import SentenceTransformer


def rate(texts, run) -> float:
    t = time.perf_counter()
    run()
    return len(texts) / (time.perf_counter() - t)


def main() -> None:
    model_dir, texts_file, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(texts_file, encoding="utf-8") as f:
        texts = [line.rstrip("\n").replace("\\n", "\n") for line in f]
    model = SentenceTransformer(model_dir, device="cpu")
    model.encode(texts[:64], batch_size=32)  # warm-up
    batched = [rate(texts, lambda: model.encode(texts, batch_size=32, normalize_embeddings=True)) for _ in range(runs)]
    single = [
        rate(texts, lambda: [model.encode(t, normalize_embeddings=True) for t in texts]) for _ in range(runs)
    ]
    print(f"batched {statistics.median(batched):.1f}")
    print(f"one_at_a_time {statistics.median(single):.1f}")
    print(f"threads {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
