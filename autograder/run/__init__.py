"""A class run on the host: the listed pipeline, discovery, intake, the fingerprint, pools (local or Dask) and grader processes."""
