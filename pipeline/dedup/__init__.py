"""Paragraph deduplication at corpus scale, in plain numpy.

normalise -> tokens (hashes of normalised words) -> shingle hashes -> MinHash signatures
(bit-identical to datasketch's "affine32" scheme) -> LSH band keys grouped into candidate pairs
-> exact Jaccard of each candidate's shingle sets -> union-find clusters -> survivor policy.
The stage module `pipeline.stages.dedup` wires these together.
"""
