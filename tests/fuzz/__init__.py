"""A mutation fuzzer for every file format glassnet reads (issue 13).

- `corpus`: small valid seed files of each format, built in a folder (checkpoints by
  gn.save and torch.save, IDX raw and gzip, CIFAR batches, PNG and JPEG via Pillow);
- `mutators`: from a seed's bytes, a mutant and a sentence saying what was changed:
  blind byte mutations and, per format, mutations that know its structure (`zipmut`
  for ZIP archives, `gnmut` for a checkpoint's JSON and `.npy` members, `picklemut`
  for pickles, `imagemut` for PNG and JPEG);
- `runner`: loads mutants in child processes (`worker`) under an address-space limit
  and a timeout, and classifies each outcome (same, changed, refused, or a failure);
  it also runs the `glassnet` command on hostile files and checks its contract.

`tests/fuzz/test_fuzz.py` runs a fixed-seed sample; `benchmarks/fuzz.py` runs for
minutes and keeps every failing input.
"""
