"""Builds examples/data/chars.npz for char_rnn.glia: every window of 8 characters of TEXT, one-hot
encoded over ALPHABET (x: float32 [N, 8, 28]), and the character that follows it (y: int64 [N]); and
examples/data/char_codes.npz for char_embed.glia: the same windows as each character's index in
ALPHABET (x: float32 [N, 8]), the same y. The text is written for this example (no outside source).
Run: python3 examples/neural/make_char_data.py"""
import os

import numpy as np

ALPHABET = "abcdefghijklmnopqrstuvwxyz ."
TEXT = ("the cat sat on the mat. the dog sat on the log. the cat saw the dog. the dog saw the cat. "
        "a bird sat on the dog. the bird saw the cat on the mat. the cat ran to the log. the dog ran to the mat. "
        "the bird flew to the log. the cat and the dog sat on the mat. the bird sang. the dog ran. the cat sat. ")
T = 8


def main():
    idx = [ALPHABET.index(c) for c in TEXT * 3]
    n = len(idx) - T
    x = np.zeros((n, T, len(ALPHABET)), np.float32)
    y = np.zeros(n, np.int64)
    for i in range(n):
        for t in range(T):
            x[i, t, idx[i + t]] = 1.0
        y[i] = idx[i + T]
    data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
    np.savez_compressed(os.path.join(data, "chars.npz"), x=x, y=y)
    np.savez_compressed(os.path.join(data, "char_codes.npz"), x=np.argmax(x, axis=2).astype(np.float32), y=y)
    print(f"{data}/chars.npz, char_codes.npz: {n} windows")


if __name__ == "__main__":
    main()
