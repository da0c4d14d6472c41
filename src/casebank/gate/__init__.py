"""The gate: policy, the ship / hold / block verdict, the gate diff, review, bank integrity."""
