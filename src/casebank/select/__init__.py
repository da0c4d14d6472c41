"""Which cases a run covers: ``--select`` filters, the changed suite of a pull request, shards."""
