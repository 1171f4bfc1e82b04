"""The functional core: pure functions (numpy in, numbers out), doctested. No I/O, no models, no SQL.

``metrics`` CRA / VR / VI / CRT · ``similarity`` cosine kernels, cell matching, the stored float16
form · ``grid`` the authors' cell split · ``dedup`` pHash near-duplicates · ``sweeps`` metrics over
threshold grids · ``names`` slugs and column names.
"""
