#!/usr/bin/env python3
"""Writes a compact Fashion-MNIST subset for the web build (python3 standard library only).

Reads the gzipped idx files of Debian's dataset-fashion-mnist package and writes the first TRAIN
training and the first TEST test images with their labels as smaller, valid gzipped idx files under the
same names, so that core/datasets.cpp reads the output directory exactly as it reads the package's.
The output is reproducible (no time stamp or file name in the gzip header) and replaced atomically,
so two builds (presets wasm and wasm-mt) may write the same site directory.

    scripts/fashion_mnist_subset.py --source /usr/share/datasets/fashion-mnist \\
        --out build/wasm/site/data/fashion-mnist --train 5000 --test 1000
"""
import argparse
import gzip
import os
import struct
import sys

# (file stem, which count applies, number of dimensions)
FILES = [
    ("train-images-idx3-ubyte", "train", 3),
    ("train-labels-idx1-ubyte", "train", 1),
    ("t10k-images-idx3-ubyte", "test", 3),
    ("t10k-labels-idx1-ubyte", "test", 1),
]


def read_head(path, count, ndims):
    """The header dimensions and the bytes of the first `count` items of an idx.gz file."""
    with gzip.open(path, "rb") as f:
        magic = f.read(4)
        if len(magic) != 4 or magic[0] != 0 or magic[1] != 0 or magic[2] != 0x08 or magic[3] != ndims:
            raise ValueError(f"{path}: not an unsigned-byte idx file with {ndims} dimension(s)")
        dims = list(struct.unpack(">" + "I" * ndims, f.read(4 * ndims)))
        if count > dims[0]:
            raise ValueError(f"{path}: holds {dims[0]} items, {count} were asked for")
        item = 1
        for d in dims[1:]:
            item *= d
        body = f.read(count * item)
        if len(body) != count * item:
            raise ValueError(f"{path}: shorter than its header says")
    return dims, body


def write_idx_gz(path, dims, body):
    header = bytes([0, 0, 0x08, len(dims)]) + struct.pack(">" + "I" * len(dims), *dims)
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as f:
            f.write(header)
            f.write(body)
    os.replace(temporary, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="/usr/share/datasets/fashion-mnist", help="the package's directory")
    parser.add_argument("--out", required=True, help="output directory (created if needed)")
    parser.add_argument("--train", type=int, default=5000, help="training images to keep (the first ones)")
    parser.add_argument("--test", type=int, default=1000, help="test images to keep (the first ones)")
    args = parser.parse_args()
    if args.train < 1 or args.test < 1:
        parser.error("--train and --test must be positive")
    os.makedirs(args.out, exist_ok=True)
    total = 0
    for stem, which, ndims in FILES:
        source = os.path.join(args.source, stem + ".gz")
        if not os.path.exists(source):
            print(f"fashion_mnist_subset.py: {source} is missing: install Debian's dataset-fashion-mnist package",
                  file=sys.stderr)
            return 1
        count = args.train if which == "train" else args.test
        try:
            dims, body = read_head(source, count, ndims)
        except (OSError, ValueError, EOFError) as e:
            print(f"fashion_mnist_subset.py: {e}", file=sys.stderr)
            return 1
        dims[0] = count
        target = os.path.join(args.out, stem + ".gz")
        write_idx_gz(target, dims, body)
        total += os.path.getsize(target)
    print(f"fashion_mnist_subset.py: {args.train} training and {args.test} test images, {total} bytes in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
