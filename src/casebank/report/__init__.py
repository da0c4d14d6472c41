"""Reports: the verdict and the evidence rendered for people and tools.

- ``terminal``: the summary table printed at the end of ``casebank run`` (worst first).
- ``junit``: JUnit XML, one testcase per case, for any CI.
- ``markdown``, ``annotations``, ``verdict_text``, ``sanitize``: the gate's verdict for the
  PR comment, check-run annotations and the terminal.
"""
