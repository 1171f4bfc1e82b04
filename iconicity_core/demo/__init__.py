"""The offline demo: real freely licensed references shipped by installed packages, simulated models."""
