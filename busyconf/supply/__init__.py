"""Supply chain: what was built, provably (SBOMs, CVE applicability, reproducible rebuilds)."""
